//===- WeightPacking.cpp - the cpu target's weight layouts ----------------===//
//
// The CPU matmul kernel's inner loop runs over contiguous output columns,
// so it wants a constant right-hand side as [K, N]. A weight that reaches
// it as [N, K] (matmul with transpose_rhs) gets layout "kn": its buffer
// becomes [K, N] and the launch is told so, while the value keeps its
// bytes; the transposition happens as the weight section is written
// (copyWeightBytesInLayout), so no transposed copy is ever held.
//
// The quantized matmul kernel (matmul_quant.h) reads its weight in panels
// of 16 output channels ("q8_n16..." or "q4_n16...", WeightData.h): signed
// values are stored unsigned (the launch's zero_offset undoes the bias),
// 8-bit ones four k to a 32-bit word, as AVX512-VNNI's vpdpbusd reads them.
//
//===----------------------------------------------------------------------===//

#include "backends/cpu/codegen/CpuTarget.h"
#include "dialects/Kernel/KernelOps.h"
#include "dialects/Kernel/WeightData.h"

using namespace mlir;
using namespace anvil::kernel;

namespace anvil::backend::cpu {

namespace {

/// Gives each matmul_quant launch's weight its panel layout: the weight
/// op itself when the launch is its only reader, else a copy of it (the
/// same value in another layout: one more region of the weight section).
void packQuantizedWeights(ModuleOp module) {
  SmallVector<LaunchOp> launches;
  module.walk([&](LaunchOp launch) {
    if (launch.getKernel() == "matmul_quant")
      launches.push_back(launch);
  });
  for (LaunchOp launch : launches) {
    auto weight = launch.getInputs()[1].getDefiningOp<WeightOp>();
    if (!weight || weight.getLayout())
      continue;
    DictionaryAttr params = launch.getParams();
    QuantPanelLayout layout;
    layout.bits = params.getAs<IntegerAttr>("bits").getInt();
    layout.kn = params.getAs<BoolAttr>("rhs_kn").getValue();
    layout.biased = params.getAs<IntegerAttr>("zero_offset").getInt() != 0;
    auto valueType = weight.getValue().getType().cast<ShapedType>();
    int64_t bytes = quantPanelStoredBytes(layout, valueType);
    if (bytes < 0)
      continue;
    OpBuilder b(weight);
    if (!weight->hasOneUse()) {
      auto copy = cast<WeightOp>(b.clone(*weight));
      launch->setOperand(1, copy);
      weight = copy;
    }
    weight.getResult().setType(
        MemRefType::get({bytes}, valueType.getElementType()));
    weight.setLayoutAttr(b.getStringAttr(quantPanelLayoutName(layout)));
  }
}

} // namespace

LogicalResult packCpuWeights(ModuleOp module) {
  packQuantizedWeights(module);
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
