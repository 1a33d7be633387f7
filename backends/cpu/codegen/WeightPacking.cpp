//===- WeightPacking.cpp - the cpu target's weight layouts ----------------===//
//
// The CPU matmul kernel's inner loop runs over contiguous output columns,
// so it wants a constant right-hand side as [K, N]. Weights that reach it
// as [N, K] (matmul with transpose_rhs) are transposed once here, at
// compile time, and the launch is told so.
//
//===----------------------------------------------------------------------===//

#include "backends/cpu/codegen/CpuTarget.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Kernel/KernelOps.h"
#include "dialects/Kernel/WeightData.h"

using namespace mlir;
using namespace anvil::kernel;

namespace anvil::backend::cpu {

LogicalResult packCpuWeights(ModuleOp module) {
  SmallVector<LaunchOp> launches;
  module.walk([&](LaunchOp launch) {
    if (launch.getKernel() == "matmul")
      launches.push_back(launch);
  });
  for (LaunchOp launch : launches) {
    auto transposeRhs = launch.getParams().getAs<BoolAttr>("transpose_rhs");
    auto weight = launch.getInputs()[1].getDefiningOp<WeightOp>();
    if (!transposeRhs || !transposeRhs.getValue() || !weight)
      continue;
    auto type = weight.getType().cast<MemRefType>();
    // Only plain [N, K] matrices that no other op reads.
    if (type.getRank() != 2 || !weight->hasOneUse())
      continue;
    std::string bytes;
    if (!appendWeightBytes(weight.getValue(), bytes))
      continue;
    int64_t n = type.getDimSize(0), k = type.getDimSize(1);
    int64_t size = elementBytes(type.getElementType());
    std::string packed(bytes.size(), '\0');
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < k; ++j)
        std::memcpy(&packed[(j * n + i) * size], &bytes[(i * k + j) * size],
                    size);
    auto packedType = RankedTensorType::get({k, n}, type.getElementType());
    OpBuilder b(weight);
    auto packedWeight = b.create<WeightOp>(
        weight.getLoc(), MemRefType::get({k, n}, type.getElementType()),
        anvil::makeOwnedResource(packedType, std::move(packed), "packed"),
        IntegerAttr());
    launch->setOperand(1, packedWeight);
    weight.erase();
    NamedAttrList params(launch.getParams());
    params.set("transpose_rhs", b.getBoolAttr(false));
    launch.setParamsAttr(params.getDictionary(module.getContext()));
  }
  return success();
}

} // namespace anvil::backend::cpu
