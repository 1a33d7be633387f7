//===- DecomposeComposites.cpp - composites decomposed after folding ------===//
//
// onnx-mlir decomposes after shape inference for the same reason: an
// importer that demands static shapes refuses graphs whose shapes are
// computed (Shape/Gather/Concat) and bound only when that arithmetic folds.
//
//===----------------------------------------------------------------------===//

#include "compiler/Transforms/Passes.h"
#include "dialects/Anvil/AnvilComposites.h"
#include "dialects/Anvil/AnvilOps.h"

namespace anvil {
#define GEN_PASS_DEF_ANVILDECOMPOSECOMPOSITES
#include "compiler/Transforms/Passes.h.inc"
} // namespace anvil

using namespace mlir;

namespace anvil {
namespace {

struct DecomposeCompositesPass
    : impl::AnvilDecomposeCompositesBase<DecomposeCompositesPass> {
  void runOnOperation() override {
    SmallVector<OnnxAttentionOp> ops;
    getOperation().walk([&](OnnxAttentionOp op) { ops.push_back(op); });
    bool failedAny = false;
    for (OnnxAttentionOp op : ops) {
      // The result type as static as the operands now allow.
      bool changed = false;
      if (failed(refineResultTypes(op, changed))) {
        failedAny = true;
        continue;
      }
      OpBuilder builder(op);
      std::optional<double> scale;
      if (std::optional<APFloat> s = op.getScale())
        scale = s->convertToDouble();
      FailureOr<Value> result = buildOnnxAttention(
          builder, op.getLoc(), op.getQuery(), op.getKey(), op.getValue(),
          op.getMask(), op.getPastKey(), scale, op.getIsCausal(),
          [&] { return op.emitOpError(); });
      if (failed(result)) {
        failedAny = true;
        continue;
      }
      if (result->getType() != op.getType()) {
        op.emitOpError() << "decomposes to " << result->getType()
                         << ", not its result type " << op.getType();
        failedAny = true;
        continue;
      }
      op.replaceAllUsesWith(*result);
      op.erase();
    }
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
} // namespace anvil
