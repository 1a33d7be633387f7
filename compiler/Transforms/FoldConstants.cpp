//===- FoldConstants.cpp - fold shape arithmetic to constants -------------===//

#include "compiler/Transforms/Passes.h"
#include "dialects/Anvil/AnvilOps.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/FoldUtils.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace anvil {
#define GEN_PASS_DEF_ANVILFOLDCONSTANTS
#include "compiler/Transforms/Passes.h.inc"
} // namespace anvil

using namespace mlir;

namespace anvil {
namespace {

size_t countOps(func::FuncOp func) {
  size_t count = 0;
  func.walk([&](Operation *) { ++count; });
  return count;
}

LogicalResult sweep(func::FuncOp func) {
  OperationFolder folder(func.getContext());
  SmallVector<Operation *> ops;
  for (Block &block : func.getBody())
    for (Operation &op : block)
      ops.push_back(&op);
  for (Operation *op : ops) {
    bool changed = false;
    if (auto infer = dyn_cast<InferShapeOpInterface>(op))
      if (failed(refineResultTypes(infer, changed)))
        return failure();
    if (!op->hasTrait<OpTrait::ConstantLike>())
      (void)folder.tryToFold(op);
  }
  return success();
}

struct FoldConstantsPass : impl::AnvilFoldConstantsBase<FoldConstantsPass> {
  using AnvilFoldConstantsBase::AnvilFoldConstantsBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    // No patterns: the greedy driver folds every op and erases dead ones.
    FrozenRewritePatternSet noPatterns{RewritePatternSet(&getContext())};
    for (unsigned round = 0; round < maxIterations; ++round) {
      // One sweep in program order that refines each op's types and folds
      // it right away, so a shape computed in layer 1 reaches layer 32 in
      // the same round (refining all types first, then folding, needs a
      // round per layer on deep decoders).
      if (failed(sweep(func)))
        return signalPassFailure();
      bool refined = false;
      if (failed(inferShapes(func, refined)))
        return signalPassFailure();
      // MLIR 16's driver does not say whether it changed anything; folding
      // to constants erases the folded ops' inputs, so the op count tells.
      size_t before = countOps(func);
      (void)applyPatternsAndFoldGreedily(func, noPatterns);
      if (!refined && countOps(func) == before)
        return;
    }
  }
};

} // namespace
} // namespace anvil
