//===- InferShapes.cpp - refine result types ------------------------------===//

#include "compiler/Transforms/Passes.h"

#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/ShapeUtils.h"

namespace anvil {
#define GEN_PASS_DEF_ANVILINFERSHAPES
#include "compiler/Transforms/Passes.h.inc"
} // namespace anvil

using namespace mlir;

namespace anvil {

LogicalResult refineResultTypes(InferShapeOpInterface op, bool &changed) {
  SmallVector<Type> inferred;
  if (failed(op.inferResultTypes(inferred)))
    return failure();
  // A negative static dim is wrapped shape arithmetic (a product past
  // int64): folders, planning and kernels would trust it. Sizes whose
  // product overflows are refused by the planner, with the flags to bind.
  for (Type type : inferred)
    if (auto ranked = type.dyn_cast<RankedTensorType>())
      for (int64_t dim : ranked.getShape())
        if (!ShapedType::isDynamic(dim) && dim < 0)
          return op->emitOpError()
                 << "result shape has negative dimension " << dim;
  for (auto [result, type] : llvm::zip(op->getResults(), inferred)) {
    Type joined = joinTypes(result.getType(), type);
    if (!joined)
      return op->emitOpError() << "result type " << result.getType()
                               << " contradicts the inferred " << type;
    if (joined != result.getType()) {
      result.setType(joined);
      changed = true;
    }
  }
  return success();
}

LogicalResult inferShapes(func::FuncOp func, bool &changed) {
  changed = false;
  WalkResult walk = func.walk([&](InferShapeOpInterface op) {
    return failed(refineResultTypes(op, changed)) ? WalkResult::interrupt()
                                                  : WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  // The signature follows what is returned.
  if (func.isExternal())
    return success();
  Operation *terminator = func.getBody().back().getTerminator();
  auto newType = FunctionType::get(func.getContext(), func.getArgumentTypes(),
                                   terminator->getOperandTypes());
  if (newType != func.getFunctionType()) {
    func.setType(newType);
    changed = true;
  }
  return success();
}

namespace {
struct InferShapesPass : impl::AnvilInferShapesBase<InferShapesPass> {
  void runOnOperation() override {
    bool changed;
    if (failed(inferShapes(getOperation(), changed)))
      signalPassFailure();
  }
};
} // namespace

} // namespace anvil
