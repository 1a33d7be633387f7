//===- AnvilCanonicalization.cpp - canonical forms of anvil ops -----------===//
//
// The rewrites `-canonicalize` applies to the anvil dialect, so that the
// recognizers (compiler/Transforms/Recognize*.cpp) see one form of each
// computation instead of every order an exporter may write:
//
//   add/mul/max/min/and/or/xor(c, x)  -> op(x, c)      constants to the right
//   pow(x, 2)                         -> mul(x, x)
//   div(1, sqrt(y))                   -> rsqrt(y)
//   div(x, sqrt(y))                   -> mul(x, rsqrt(y))
//   mul(x, sigmoid(x))                -> silu(x)       either order
//   matmul(a, transpose_last2(b))     -> matmul(a, b) {transpose_rhs}
//   transpose(transpose(x))           -> transpose(x)  composed permutation
//   cast(cast(x)) through a wider type-> x, or one cast
//   attention(q, repeat_kv(k), ...)   -> attention(q, k, ...)  grouped heads
//
// MLIR 16's Commutative trait does not move constants (there is no
// foldCommutative before LLVM 17), hence the explicit pattern.
//
//===----------------------------------------------------------------------===//

#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/AnvilPatterns.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Anvil/ShapeUtils.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace anvil;

//===----------------------------------------------------------------------===//
// Helpers shared with the recognizers
//===----------------------------------------------------------------------===//

std::optional<double> anvil::getUniformConstant(Value value) {
  if (!value)
    return std::nullopt;
  auto constant = value.getDefiningOp<ConstantOp>();
  if (!constant)
    return std::nullopt;
  Attribute attr = constant.getValue();
  if (auto dense = attr.dyn_cast<DenseElementsAttr>();
      dense && dense.isSplat()) {
    Type element = dense.getElementType();
    if (element.isa<FloatType>())
      return dense.getSplatValue<APFloat>().convertToDouble();
    if (element.isa<IntegerType>())
      return (double)dense.getSplatValue<APInt>().getSExtValue();
    return std::nullopt;
  }
  std::optional<ConstantTensor> tensor = readConstant(attr);
  if (!tensor || tensor->size() == 0)
    return std::nullopt;
  double first = tensor->asDouble(0);
  for (int64_t i = 1; i < tensor->size(); ++i)
    if (tensor->asDouble(i) != first)
      return std::nullopt;
  return first;
}

bool anvil::isUniformConstant(Value value, double expected, double relTol) {
  std::optional<double> v = getUniformConstant(value);
  if (!v)
    return false;
  return std::abs(*v - expected) <= relTol * std::max(1.0, std::abs(expected));
}

bool anvil::hasFloatElements(Value value) {
  auto type = value.getType().dyn_cast<ShapedType>();
  return type && type.getElementType().isa<FloatType>();
}

namespace {

bool isConstant(Value value) {
  return value && matchPattern(value, m_Constant());
}

//===----------------------------------------------------------------------===//
// Commutative ops: constants to the right
//===----------------------------------------------------------------------===//

template <typename OpTy> struct ConstantToRight : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Value lhs = op.getLhs(), rhs = op.getRhs();
    if (!isConstant(lhs) || isConstant(rhs))
      return failure();
    // Broadcasting is symmetric, so the result type stays.
    rewriter.updateRootInPlace(op, [&] { op->setOperands({rhs, lhs}); });
    return success();
  }
};

//===----------------------------------------------------------------------===//
// pow, div, sqrt
//===----------------------------------------------------------------------===//

/// pow(x, 2) -> mul(x, x): exact, and what the norm recognizer matches.
struct PowTwoToMul : OpRewritePattern<PowOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PowOp op,
                                PatternRewriter &rewriter) const override {
    Value x = op.getLhs();
    if (x.getType() != op.getType() || !hasFloatElements(x) ||
        !isUniformConstant(op.getRhs(), 2.0, 0.0))
      return failure();
    rewriter.replaceOpWithNewOp<MulOp>(op, op.getType(), x, x);
    return success();
  }
};

/// div(1, sqrt(y)) -> rsqrt(y); div(x, sqrt(y)) -> mul(x, rsqrt(y)).
struct DivBySqrt : OpRewritePattern<DivOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DivOp op,
                                PatternRewriter &rewriter) const override {
    auto sqrt = op.getRhs().getDefiningOp<SqrtOp>();
    if (!sqrt || !hasFloatElements(op.getResult()))
      return failure();
    Value y = sqrt.getInput();
    if (isUniformConstant(op.getLhs(), 1.0, 0.0) &&
        op.getType() == sqrt.getType()) {
      rewriter.replaceOpWithNewOp<RsqrtOp>(op, op.getType(), y);
      return success();
    }
    Value rsqrt = rewriter.create<RsqrtOp>(op.getLoc(), sqrt.getType(), y);
    rewriter.replaceOpWithNewOp<MulOp>(op, op.getType(), op.getLhs(), rsqrt);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// silu
//===----------------------------------------------------------------------===//

struct MulSigmoidToSilu : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp op,
                                PatternRewriter &rewriter) const override {
    for (unsigned i = 0; i < 2; ++i) {
      Value x = op->getOperand(i);
      auto sigmoid = op->getOperand(1 - i).getDefiningOp<SigmoidOp>();
      if (!sigmoid || sigmoid.getInput() != x || x.getType() != op.getType() ||
          !hasFloatElements(x))
        continue;
      rewriter.replaceOpWithNewOp<SiluOp>(op, op.getType(), x);
      return success();
    }
    return failure();
  }
};

//===----------------------------------------------------------------------===//
// transposes
//===----------------------------------------------------------------------===//

/// True if `perm` swaps the last two dims and keeps the others.
bool swapsLastTwo(ArrayRef<int64_t> perm) {
  int64_t rank = perm.size();
  if (rank < 2)
    return false;
  for (int64_t i = 0; i < rank - 2; ++i)
    if (perm[i] != i)
      return false;
  return perm[rank - 2] == rank - 1 && perm[rank - 1] == rank - 2;
}

struct MatmulOfTransposedRhs : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getTransposeRhs())
      return failure();
    auto transpose = op.getRhs().getDefiningOp<TransposeOp>();
    if (!transpose || !swapsLastTwo(transpose.getPerm()))
      return failure();
    rewriter.replaceOpWithNewOp<MatmulOp>(op, op.getType(), op.getLhs(),
                                          transpose.getInput(), true);
    return success();
  }
};

/// dequantize(q, s, zp) with a constant zero point that is all zeros is
/// dequantize(q, s): an absent zero point is 0. (ONNX Runtime's
/// quantize_static writes symmetric int8 weights with an explicit zero
/// point 0; without it the quantized kernel can also take int8
/// activations per token.)
struct DequantizeOfZeroZeroPoint : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    auto zp = op.getZeroPoint() ? op.getZeroPoint().getDefiningOp<ConstantOp>()
                                : ConstantOp();
    if (!zp)
      return failure();
    Attribute value = zp.getValue();
    bool zero = false;
    if (auto dense = value.dyn_cast<DenseElementsAttr>();
        dense && dense.isSplat())
      zero = dense.getSplatValue<APInt>().isZero();
    else if (std::optional<ArrayRef<char>> bytes = rawConstantData(value))
      zero = !bytes->empty() &&
             llvm::all_of(*bytes, [](char byte) { return byte == 0; });
    if (!zero)
      return failure();
    rewriter.updateRootInPlace(op, [&] { op.getZeroPointMutable().clear(); });
    return success();
  }
};

struct TransposeOfTranspose : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<TransposeOp>();
    if (!inner)
      return failure();
    ArrayRef<int64_t> outerPerm = op.getPerm(), innerPerm = inner.getPerm();
    if (outerPerm.size() != innerPerm.size())
      return failure();
    // inner: dim i of t1 is dim innerPerm[i] of x; outer: dim i of the
    // result is dim outerPerm[i] of t1.
    SmallVector<int64_t> perm;
    for (int64_t p : outerPerm) {
      if (p < 0 || p >= (int64_t)innerPerm.size())
        return failure();
      perm.push_back(innerPerm[p]);
    }
    rewriter.replaceOpWithNewOp<TransposeOp>(op, op.getType(), inner.getInput(),
                                             perm);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// casts
//===----------------------------------------------------------------------===//

/// True if every value of element type `from` survives a trip through `to`.
bool castIsLossless(Type from, Type to) {
  if (from == to)
    return true;
  auto fromFloat = from.dyn_cast<FloatType>();
  auto toFloat = to.dyn_cast<FloatType>();
  if (fromFloat && toFloat)
    return toFloat.getWidth() > fromFloat.getWidth() &&
           toFloat.getFPMantissaWidth() >= fromFloat.getFPMantissaWidth() &&
           !(fromFloat.isBF16() && toFloat.isF16());
  auto fromInt = from.dyn_cast<IntegerType>();
  auto toInt = to.dyn_cast<IntegerType>();
  if (fromInt && toInt)
    return fromInt.getWidth() > 1 && !fromInt.isUnsigned() &&
           !toInt.isUnsigned() && toInt.getWidth() >= fromInt.getWidth();
  if (fromInt && toFloat)
    return fromInt.getWidth() > 1 && !fromInt.isUnsigned() &&
           (int64_t)toFloat.getFPMantissaWidth() > (int64_t)fromInt.getWidth();
  return false;
}

struct CastOfLosslessCast : OpRewritePattern<CastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CastOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<CastOp>();
    if (!inner)
      return failure();
    Value x = inner.getInput();
    Type source = getElementTypeOrSelf(x.getType());
    Type middle = getElementTypeOrSelf(inner.getType());
    if (!castIsLossless(source, middle))
      return failure();
    if (x.getType() == op.getType()) {
      rewriter.replaceOp(op, x);
      return success();
    }
    rewriter.replaceOpWithNewOp<CastOp>(op, op.getType(), x);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// attention: repeat_kv into grouped heads
//===----------------------------------------------------------------------===//

/// One KV head copied to n heads by `tile(k, [1, n, 1, 1])` or
/// `expand(k, [B, n, S, D])` (multi-query attention written by hand): the
/// same as grouped heads of size n. (With more KV heads a tile interleaves
/// the copies, which is not grouping, so only one head is taken.)
Value stripSingleHeadCopies(Value value, int64_t &copies) {
  Operation *op = value.getDefiningOp();
  if (!op || !isa<TileOp, ExpandOp>(op))
    return {};
  Value kv = op->getOperand(0);
  auto kvType = kv.getType().dyn_cast<RankedTensorType>();
  auto result = value.getType().dyn_cast<RankedTensorType>();
  if (!kvType || !result || !kvType.hasStaticShape() ||
      !result.hasStaticShape() || kvType.getRank() != 4 ||
      result.getRank() != 4 || kvType.getDimSize(1) != 1)
    return {};
  for (int64_t d : {0, 2, 3})
    if (kvType.getDimSize(d) != result.getDimSize(d))
      return {};
  copies = result.getDimSize(1);
  return kv;
}

/// `reshape(expand(unsqueeze(k, [2]), [B, H, n, S, D]), [B, H*n, S, D])`:
/// returns k and sets `copies` to n, or a null value.
Value stripRepeatKv(Value value, int64_t &copies) {
  if (Value kv = stripSingleHeadCopies(value, copies))
    return kv;
  auto reshape = value.getDefiningOp<ReshapeOp>();
  if (!reshape)
    return {};
  auto expand = reshape.getInput().getDefiningOp<ExpandOp>();
  if (!expand)
    return {};
  auto unsqueeze = expand.getInput().getDefiningOp<UnsqueezeOp>();
  if (!unsqueeze || unsqueeze.getAxes().size() != 1 ||
      unsqueeze.getAxes()[0] != 2)
    return {};
  Value kv = unsqueeze.getInput();
  auto kvType = kv.getType().dyn_cast<RankedTensorType>();
  auto expanded = expand.getType().dyn_cast<RankedTensorType>();
  auto result = reshape.getType().dyn_cast<RankedTensorType>();
  if (!kvType || !expanded || !result || !kvType.hasStaticShape() ||
      !expanded.hasStaticShape() || !result.hasStaticShape() ||
      kvType.getRank() != 4 || expanded.getRank() != 5 || result.getRank() != 4)
    return {};
  ArrayRef<int64_t> k = kvType.getShape(), e = expanded.getShape(),
                    r = result.getShape();
  // The expand may only broadcast the new unit dim.
  if (e[0] != k[0] || e[1] != k[1] || e[3] != k[2] || e[4] != k[3])
    return {};
  if (r[0] != k[0] || r[1] != k[1] * e[2] || r[2] != k[2] || r[3] != k[3])
    return {};
  copies = e[2];
  return kv;
}

struct AttentionOfRepeatKv : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    int64_t keyCopies = 0, valueCopies = 0;
    Value key = stripRepeatKv(op.getKey(), keyCopies);
    Value value = stripRepeatKv(op.getValue(), valueCopies);
    if (!key || !value || keyCopies != valueCopies || keyCopies < 1)
      return failure();
    rewriter.updateRootInPlace(op, [&] {
      op.getKeyMutable().assign(key);
      op.getValueMutable().assign(value);
    });
    return success();
  }
};

} // namespace

void anvil::populateSiluPatterns(RewritePatternSet &patterns) {
  patterns.add<MulSigmoidToSilu>(patterns.getContext());
}

void anvil::populateAttentionRepeatKvPatterns(RewritePatternSet &patterns) {
  patterns.add<AttentionOfRepeatKv>(patterns.getContext());
}

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

void AddOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                        MLIRContext *context) {
  patterns.add<ConstantToRight<AddOp>>(context);
}
void MulOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                        MLIRContext *context) {
  patterns.add<ConstantToRight<MulOp>, MulSigmoidToSilu>(context);
}
void MaxOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                        MLIRContext *context) {
  patterns.add<ConstantToRight<MaxOp>>(context);
}
void MinOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                        MLIRContext *context) {
  patterns.add<ConstantToRight<MinOp>>(context);
}
void AndOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                        MLIRContext *context) {
  patterns.add<ConstantToRight<AndOp>>(context);
}
void OrOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                       MLIRContext *context) {
  patterns.add<ConstantToRight<OrOp>>(context);
}
void XorOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                        MLIRContext *context) {
  patterns.add<ConstantToRight<XorOp>>(context);
}
void PowOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                        MLIRContext *context) {
  patterns.add<PowTwoToMul>(context);
}
void DivOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                        MLIRContext *context) {
  patterns.add<DivBySqrt>(context);
}
void MatmulOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                           MLIRContext *context) {
  patterns.add<MatmulOfTransposedRhs>(context);
}
void DequantizeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                               MLIRContext *context) {
  patterns.add<DequantizeOfZeroZeroPoint>(context);
}
void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                              MLIRContext *context) {
  patterns.add<TransposeOfTranspose>(context);
}
void CastOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                         MLIRContext *context) {
  patterns.add<CastOfLosslessCast>(context);
}
void AttentionOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                              MLIRContext *context) {
  patterns.add<AttentionOfRepeatKv>(context);
}
