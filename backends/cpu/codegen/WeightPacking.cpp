//===- WeightPacking.cpp - the cpu target's weight layouts ----------------===//
//
// The CPU matmul kernel's inner loop runs over contiguous output columns,
// so it wants a constant right-hand side as [K, N]. A weight that reaches
// it as [N, K] (matmul with transpose_rhs) gets layout "kn": its buffer
// becomes [K, N] and the launch is told so, while the value keeps its
// bytes; the transposition happens as the weight section is written
// (copyWeightBytesInLayout), so no transposed copy is ever held.
//
//===----------------------------------------------------------------------===//

#include "backends/cpu/codegen/CpuTarget.h"
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
    // Only plain [N, K] matrices that no other op reads, not laid out yet.
    if (type.getRank() != 2 || !weight->hasOneUse() || weight.getLayout())
      continue;
    int64_t n = type.getDimSize(0), k = type.getDimSize(1);
    weight.getResult().setType(MemRefType::get({k, n}, type.getElementType()));
    OpBuilder b(weight);
    weight.setLayoutAttr(b.getStringAttr(kWeightLayoutKN));
    NamedAttrList params(launch.getParams());
    params.set("transpose_rhs", b.getBoolAttr(false));
    launch.setParamsAttr(params.getDictionary(module.getContext()));
  }
  return success();
}

} // namespace anvil::backend::cpu
