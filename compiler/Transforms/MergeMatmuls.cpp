//===- MergeMatmuls.cpp - one matmul for projections of one input ---------===//
//
// The Q/K/V projections of an attention block (and the gate/up projections
// of an MLP) read the same activations: one matmul by the concatenated
// weights reads those activations once and makes one launch instead of
// several. Each output element stays one dot product over K of the same
// operands, so the merge is exact.
//
//===----------------------------------------------------------------------===//

#include "compiler/Transforms/Passes.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Kernel/WeightData.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

#include <tuple>

namespace anvil {
#define GEN_PASS_DEF_ANVILMERGEMATMULS
#include "compiler/Transforms/Passes.h.inc"
} // namespace anvil

using namespace mlir;

namespace anvil {
namespace {

/// The constant weight `matmul` multiplies by, when it can be merged: a
/// plain anvil.constant of static rank-2 shape with whole-byte elements
/// that nothing else reads. A weight with other readers is not packed in
/// panels (backends/cpu/codegen/WeightPacking.cpp), so its matmul runs the
/// row-major or dot kernel, whose sums need not round as the panel
/// kernel's FMA chains do: merged, its columns could change their bits.
ConstantOp mergeableWeight(MatmulOp matmul) {
  auto constant = matmul.getRhs().getDefiningOp<ConstantOp>();
  if (!constant || !constant->hasOneUse() || constant->hasAttr(kKeepFloatAttr))
    return nullptr;
  auto rhs = matmul.getRhs().getType().dyn_cast<RankedTensorType>();
  auto lhs = matmul.getLhs().getType().dyn_cast<RankedTensorType>();
  auto result = matmul.getResult().getType().dyn_cast<RankedTensorType>();
  if (!constant || !rhs || !lhs || !result || rhs.getRank() != 2 ||
      !rhs.hasStaticShape() || lhs.getRank() < 1 ||
      result.getRank() != lhs.getRank() ||
      rhs.getElementTypeBitWidth() % 8 != 0)
    return nullptr;
  return constant;
}

struct MergeMatmulsPass : impl::AnvilMergeMatmulsBase<MergeMatmulsPass> {
  void runOnOperation() override {
    // Groups keyed by what must agree: the input, its block, the weight's
    // orientation, element type and K, and the result's element type.
    using Key = std::tuple<Value, Block *, int64_t, Type, int64_t, Type>;
    llvm::MapVector<Key, SmallVector<MatmulOp>> groups;
    getOperation().walk([&](MatmulOp matmul) {
      if (!mergeableWeight(matmul))
        return;
      auto rhs = matmul.getRhs().getType().cast<RankedTensorType>();
      bool transposed = matmul.getTransposeRhs();
      int64_t k = rhs.getDimSize(transposed ? 1 : 0);
      groups[Key{matmul.getLhs(), matmul->getBlock(), int64_t(transposed),
                 rhs.getElementType(), k,
                 matmul.getResult()
                     .getType()
                     .cast<ShapedType>()
                     .getElementType()}]
          .push_back(matmul);
    });
    llvm::SetVector<Operation *> weights;
    for (auto &[key, matmuls] : groups) {
      if (matmuls.size() < 2)
        continue;
      if (failed(merge(matmuls, std::get<2>(key) != 0, weights)))
        return signalPassFailure();
    }
    // The originals: the artifact must not hold them beside their
    // concatenation.
    for (Operation *weight : weights)
      if (weight->use_empty())
        weight->erase();
  }

  LogicalResult merge(ArrayRef<MatmulOp> matmuls, bool transposed,
                      llvm::SetVector<Operation *> &weights) {
    // The merged matmul replaces the first of the group (the walk visits
    // them in order, and they share a block), so it dominates every use.
    MatmulOp first = matmuls.front();
    auto rhsType = first.getRhs().getType().cast<RankedTensorType>();
    int64_t k = rhsType.getDimSize(transposed ? 1 : 0);
    int64_t elementBytes = rhsType.getElementTypeBitWidth() / 8;
    SmallVector<int64_t> widths;
    SmallVector<ArrayRef<char>> views;
    SmallVector<std::string> storage(matmuls.size());
    int64_t n = 0;
    for (auto [i, matmul] : llvm::enumerate(matmuls)) {
      ConstantOp constant = mergeableWeight(matmul);
      auto type = constant.getType().cast<RankedTensorType>();
      widths.push_back(type.getDimSize(transposed ? 0 : 1));
      n += widths.back();
      ArrayRef<char> bytes;
      if (!kernel::viewWeightBytes(constant.getValue().cast<ElementsAttr>(),
                                   bytes, storage[i]))
        return constant.emitError("cannot read this weight's bytes");
      views.push_back(bytes);
      weights.insert(constant);
    }
    // [N, K] weights concatenate row blocks; [K, N] ones interleave rows.
    std::string bytes;
    bytes.reserve(n * k * elementBytes);
    if (transposed) {
      for (ArrayRef<char> view : views)
        bytes.append(view.data(), view.size());
    } else {
      for (int64_t row = 0; row < k; ++row)
        for (auto [view, width] : llvm::zip(views, widths))
          bytes.append(view.data() + row * width * elementBytes,
                       width * elementBytes);
    }
    OpBuilder b(first);
    Location loc = b.getFusedLoc(llvm::to_vector(
        llvm::map_range(matmuls, [](MatmulOp m) { return m.getLoc(); })));
    auto weightType = RankedTensorType::get(
        transposed ? ArrayRef<int64_t>{n, k} : ArrayRef<int64_t>{k, n},
        rhsType.getElementType());
    Value weight = b.create<ConstantOp>(
        loc, makeOwnedResource(weightType, std::move(bytes), "merged_weight"));
    auto resultType = first.getResult().getType().cast<RankedTensorType>();
    SmallVector<int64_t> shape(resultType.getShape());
    shape.back() = n;
    auto mergedType = RankedTensorType::get(shape, resultType.getElementType());
    Value merged = b.create<MatmulOp>(loc, mergedType, first.getLhs(), weight,
                                      b.getBoolAttr(transposed));
    llvm::DenseMap<int64_t, Value> indices;
    auto index = [&](int64_t value) -> Value {
      Value &constant = indices[value];
      if (!constant) {
        auto type = RankedTensorType::get({1}, b.getI64Type());
        constant = b.create<ConstantOp>(
            loc, DenseElementsAttr::get(type, ArrayRef<int64_t>{value})
                     .cast<ElementsAttr>());
      }
      return constant;
    };
    Value axis = index(-1), step = index(1);
    int64_t start = 0;
    for (size_t i = 0; i < matmuls.size(); ++i) {
      MatmulOp matmul = matmuls[i];
      int64_t width = widths[i];
      Value slice = b.create<SliceOp>(
          matmul.getLoc(), matmul.getResult().getType(), merged, index(start),
          index(start + width), axis, step);
      start += width;
      matmul.getResult().replaceAllUsesWith(slice);
    }
    for (MatmulOp matmul : matmuls)
      matmul.erase();
    return success();
  }
};

} // namespace
} // namespace anvil
