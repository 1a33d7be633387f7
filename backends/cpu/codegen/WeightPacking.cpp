//===- WeightPacking.cpp - the cpu target's weight layouts ----------------===//
//
// A constant right-hand side of an f32 matmul (an f32, f16 or bf16 weight)
// gets the column-panel layout of the SIMD micro-kernel
// (backends/cpu/kernels/matmul_panels.h): 32 output columns per panel, K-major
// inside it, so the kernel streams one contiguous run per panel. A [N, K]
// weight (matmul with transpose_rhs) gets the same panels from its transpose
// ("nk_panels32"). Other element types keep the row-major kernel, which wants
// [K, N]: a [N, K] weight of those gets layout "kn". Either way the value keeps
// its bytes and the rearrangement happens as the weight section is written
// (copyWeightBytesInLayout), so no rearranged copy is ever held.
//
//===----------------------------------------------------------------------===//

#include "backends/cpu/codegen/CpuTarget.h"
#include "dialects/Kernel/KernelOps.h"
#include "dialects/Kernel/WeightData.h"

using namespace mlir;
using namespace anvil::kernel;

namespace anvil::backend::cpu {

namespace {
bool isF32(Value value) {
  return value.getType().cast<ShapedType>().getElementType().isF32();
}
/// f32, or a 16-bit float the panel kernel widens as it loads.
bool isPanelWeight(Value value) {
  Type element = value.getType().cast<ShapedType>().getElementType();
  return element.isF32() || element.isBF16() || element.isF16();
}
} // namespace

LogicalResult packCpuWeights(ModuleOp module) {
  SmallVector<LaunchOp> launches;
  module.walk([&](LaunchOp launch) {
    if (launch.getKernel() == "matmul")
      launches.push_back(launch);
  });
  for (LaunchOp launch : launches) {
    auto transposeRhs = launch.getParams().getAs<BoolAttr>("transpose_rhs");
    auto batchRank = launch.getParams().getAs<IntegerAttr>("batch_rank");
    auto weight = launch.getInputs()[1].getDefiningOp<WeightOp>();
    if (!transposeRhs || !weight)
      continue;
    auto type = weight.getType().cast<MemRefType>();
    // Only plain matrices that no other op reads, not laid out yet.
    if (type.getRank() != 2 || !weight->hasOneUse() || weight.getLayout())
      continue;
    bool transposed = transposeRhs.getValue();
    int64_t k = type.getDimSize(transposed ? 1 : 0);
    int64_t n = type.getDimSize(transposed ? 0 : 1);
    OpBuilder b(weight);
    NamedAttrList params(launch.getParams());
    bool panels = batchRank && batchRank.getInt() == 0 &&
                  isF32(launch.getInputs()[0]) && isPanelWeight(weight) &&
                  isF32(launch.getOutputs()[0]);
    if (panels) {
      weight.setLayoutAttr(b.getStringAttr(transposed ? kWeightLayoutNKPanels
                                                      : kWeightLayoutPanels));
      params.set("rhs_panel", b.getI64IntegerAttr(kWeightPanelWidth));
    } else if (transposed) {
      weight.setLayoutAttr(b.getStringAttr(kWeightLayoutKN));
    } else {
      continue;
    }
    weight.getResult().setType(MemRefType::get({k, n}, type.getElementType()));
    params.set("transpose_rhs", b.getBoolAttr(false));
    launch.setParamsAttr(params.getDictionary(module.getContext()));
  }
  return success();
}

} // namespace anvil::backend::cpu
