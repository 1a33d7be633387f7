//===- IndexingToKernel.cpp - indexing ops to kernel launches -------------===//
//
// GatherND: the kernel sees `batch` batches of `count` index tuples of
// `depth` entries, each copying a slice of `slice` contiguous elements.
// ScatterElements: the output is first filled with the input, then the
// kernel writes (or combines) one element per index. TopK: the axis kernel
// shape [outer, size, inner] with a static k.
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/IndexingToKernel.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Kernel/KernelCatalog.h"
#include "dialects/Kernel/KernelOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace anvil::lowering {
namespace {

/// The Ints params of these kernels hold at most this many dims.
constexpr int64_t kMaxRank = 8;

class IndexingLowering {
public:
  IndexingLowering(OpBuilder &b, const IndexingHooks &hooks)
      : b(b), hooks(hooks), context(b.getContext()) {}

  LogicalResult lower(Operation *op) {
    return llvm::TypeSwitch<Operation *, LogicalResult>(op)
        .Case([&](GatherNdOp g) { return lowerGatherNd(g); })
        .Case([&](ScatterElementsOp s) { return lowerScatterElements(s); })
        .Case([&](TopKOp t) { return lowerTopK(t); })
        .Default([](Operation *) { return failure(); });
  }

private:
  OpBuilder &b;
  const IndexingHooks &hooks;
  MLIRContext *context;

  DimExpr product(ArrayRef<DimExpr> dims) { return productOf(context, dims); }

  LogicalResult lowerGatherNd(GatherNdOp op) {
    ArrayRef<DimExpr> shape = hooks.shapeOf(op.getInput());
    ArrayRef<DimExpr> indexShape = hooks.shapeOf(op.getIndices());
    int64_t batchDims = op.getBatchDims();
    auto depth = constantDim(indexShape.back());
    if (!depth)
      return op.emitOpError(
          "needs a static index tuple length (the last dim of indices)");
    if (*depth > kMaxRank)
      return op.emitOpError() << "index tuples of " << *depth
                              << " entries exceed the kernel's " << kMaxRank;
    Value out = hooks.alloc(op.getResult());
    kernel::GatherNdLaunch l;
    l.depth = *depth;
    l.data_shape = shape.slice(batchDims, *depth);
    l.batch = product(shape.take_front(batchDims));
    l.count = product(indexShape.drop_front(batchDims).drop_back(1));
    l.slice = product(shape.drop_front(batchDims + *depth));
    l.build(b, op.getLoc(),
            {hooks.input(op.getInput()), hooks.input(op.getIndices())}, out);
    return success();
  }

  LogicalResult lowerScatterElements(ScatterElementsOp op) {
    ArrayRef<DimExpr> shape = hooks.shapeOf(op.getInput());
    if ((int64_t)shape.size() > kMaxRank)
      return op.emitOpError()
             << "rank " << shape.size() << " exceeds the kernel's " << kMaxRank;
    Value out = hooks.alloc(op.getResult());
    hooks.copy(op.getLoc(), hooks.input(op.getInput()), out, shape);
    kernel::ScatterElementsLaunch l;
    l.rank = (int64_t)shape.size();
    l.axis = op.getAxis();
    l.data_shape = shape;
    l.index_shape = hooks.shapeOf(op.getIndices());
    l.reduction = op.getReduction();
    l.build(b, op.getLoc(),
            {hooks.input(op.getIndices()), hooks.input(op.getUpdates())}, out);
    return success();
  }

  LogicalResult lowerTopK(TopKOp op) {
    ArrayRef<DimExpr> shape = hooks.shapeOf(op.getInput());
    int64_t axis = op.getAxis();
    kernel::TopKLaunch l;
    l.outer = product(shape.take_front(axis));
    l.size = shape[axis];
    l.inner = product(shape.drop_front(axis + 1));
    // k: a constant by now (or at least the results' static axis dim).
    std::optional<SmallVector<int64_t>> k = getConstantInts(op.getK());
    int64_t kValue =
        k && k->size() == 1
            ? (*k)[0]
            : op.getValues().getType().cast<ShapedType>().getDimSize(axis);
    if (kValue == ShapedType::kDynamic)
      return op.emitOpError(
          "needs a constant k; bind the model's dynamic dimensions so that "
          "it folds to one");
    l.k = kValue;
    l.largest = op.getLargest();
    Value in = hooks.input(op.getInput());
    Value values = hooks.alloc(op.getValues());
    // (k's own buffer is not needed: it is a compile-time constant.)
    Value indices = hooks.alloc(op.getIndices());
    l.build(b, op.getLoc(), in, {values, indices});
    return success();
  }
};

} // namespace

bool isIndexingOp(Operation *op) {
  return isa<GatherNdOp, ScatterElementsOp, TopKOp>(op);
}

LogicalResult lowerIndexingOp(Operation *op, OpBuilder &b,
                              const IndexingHooks &hooks) {
  return IndexingLowering(b, hooks).lower(op);
}

} // namespace anvil::lowering
