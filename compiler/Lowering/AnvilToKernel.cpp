//===- AnvilToKernel.cpp - bufferize anvil functions into kernel programs -===//
//
// Every tensor becomes a buffer: graph inputs and outputs become the
// function's arguments, intermediates `kernel.alloc`s, constants
// `kernel.weight`s. Reshapes become views of the same bytes; elementwise ops
// become one-op `kernel.elementwise` loops (fused later); data movement
// (transpose, slice, concat, split, expand) becomes strided copies; the rest
// become launches of the target's kernels with normalized parameters (the
// kernel library sees `outer/size/inner` extents, never ONNX axes), built
// through the kernel catalog's typed launches: integers, or size expressions
// over the function's bounded sizes where a parameter may depend on them.
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/IndexingToKernel.h"
#include "compiler/Lowering/Passes.h"
#include "compiler/Lowering/QuantToKernel.h"
#include "compiler/Lowering/ScalarOps.h"
#include "compiler/Lowering/SpatialToKernel.h"
#include "compiler/Lowering/SymbolicShapes.h"
#include "compiler/Lowering/WidenHalfMatmuls.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Anvil/ShapeUtils.h"
#include "dialects/Kernel/KernelCatalog.h"
#include "dialects/Kernel/KernelOps.h"
#include "dialects/Kernel/WeightData.h"

#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/TypeSwitch.h"

#include <array>
#include <functional>

namespace anvil {
#define GEN_PASS_DEF_CONVERTANVILTOKERNEL
#include "compiler/Lowering/Passes.h.inc"
} // namespace anvil

using namespace mlir;
using namespace anvil::kernel;

namespace anvil::lowering {
namespace {

/// Sizes are DimExprs: integers when static (they fold as int64_t math
/// would), expressions over the function's bounded sizes otherwise.
using Dims = SmallVector<DimExpr>;

bool isConstant(DimExpr e, int64_t value) {
  auto c = constantDim(e);
  return c && *c == value;
}

/// A splat element as an `arith.constant` (whose integers are signless).
Value scalarFromSplat(OpBuilder &b, Location loc, Attribute splat) {
  if (auto integer = splat.dyn_cast<IntegerAttr>())
    splat =
        IntegerAttr::get(signlessType(integer.getType()), integer.getValue());
  return b.create<arith::ConstantOp>(loc, cast<TypedAttr>(splat));
}

/// A matmul whose right-hand side is a dequantized constant weight, run
/// by the matmul_quant kernel on the quantized values (packed by the
/// target), so the float weight never exists at run time.
struct QuantMatmul {
  DequantizeOp weight;
  SliceOp tail;    // [N, K] of a dequantized [N, blocks * block] (MatMulNBits)
  bool kn = false; // the value is [K, N] (a QDQ MatMul without transpose)
  int64_t n = 0, k = 0, group = 0, scaleNStride = 0, scaleGStride = 0;
  int64_t zeroOffset = 0, kStored = 0;
  // W8A8: lhs = dequantize(quantize_per_token(x)): the kernel quantizes x.
  QuantizePerTokenOp perToken;
  DequantizeOp lhsDequantize;
  // Static QDQ activations: lhs = dequantize(quantize(x, s, z), s, z) per
  // tensor, 8 bits; the kernel quantizes x with s and z itself.
  QuantizeOp lhsQuantize;
  double lhsScale = 0;
  int64_t lhsZeroPoint = 0;
  bool lhsUnsigned = false;
  // ONNX Runtime's quantize_dynamic (DynamicQuantizeLinear + MatMulInteger,
  // as the importer writes it): an int32 matmul of sub(cast(q), cast(z)) by
  // cast(W), q = quantize(x, s, z) per tensor with s and z computed at run
  // time, W a constant int8 [K, N] (no weight zero point). The kernel reads
  // s and z (lhs_runtime) and writes the exact int32 product. QOperator
  // QLinearMatMul and QGemm give the same with constant s and z (the sub's
  // zero point a folded constant, or no sub where z is 0).
  SubOp intLhs;
  CastOp intLhsCast, intZeroCast, intWeight;
  // The weight's constant: int8, or (a small weight whose cast the folder
  // evaluated) wider integers that all fit int8.
  ConstantOp intWeightConstant;
};

/// The anvil.constant `v` is, possibly reshaped (MatMulNBits' B [N,
/// blocks, bytes] is read as [N, blocks * bytes]).
ConstantOp rootConstant(Value v) {
  while (v) {
    if (auto reshape = v.getDefiningOp<ReshapeOp>())
      v = reshape.getInput();
    else
      return v.getDefiningOp<ConstantOp>();
  }
  return ConstantOp();
}
bool isConstantValue(Value v) { return (bool)rootConstant(v); }

/// The one element of a constant (seen through reshapes).
std::optional<ConstantTensor> scalarConstant(Value v) {
  ConstantOp c = rootConstant(v);
  std::optional<ConstantTensor> t =
      c ? readConstant(c.getValue(), 1) : std::nullopt;
  if (!t || t->size() != 1)
    return std::nullopt;
  return t;
}
std::optional<double> scalarFloat(Value v) {
  std::optional<ConstantTensor> t = scalarConstant(v);
  if (!t || !t->isFloat)
    return std::nullopt;
  return t->floats[0];
}
std::optional<int64_t> scalarInt(Value v) {
  std::optional<ConstantTensor> t = scalarConstant(v);
  if (!t || t->isFloat)
    return std::nullopt;
  return t->ints[0];
}

/// Static QDQ activations into an 8-bit weight in one group along K:
/// `lhs` = dequantize(quantize(x, s, z), s, z) with one f32 scale s > 0
/// and one 8-bit zero point z (an absent one is 0), the same in both. Fills the
/// match's lhs fields and returns true if so.
bool matchStaticLhs(Value lhs, QuantMatmul &match) {
  auto ld = lhs.getDefiningOp<DequantizeOp>();
  auto qo = ld ? ld.getInput().getDefiningOp<QuantizeOp>() : QuantizeOp();
  if (!qo || ld.getBits() != 8 || qo.getBits() != 8 ||
      !qo.getInput().getType().cast<ShapedType>().getElementType().isF32() ||
      !qo.getScale().getType().cast<ShapedType>().getElementType().isF32() ||
      !ld.getScale().getType().cast<ShapedType>().getElementType().isF32())
    return false;
  auto storage = qo.getType().cast<ShapedType>().getElementType();
  std::optional<double> scale = scalarFloat(qo.getScale());
  if (!storage.isInteger(8) || !scale || !(*scale > 0) ||
      !std::isfinite(*scale) || scalarFloat(ld.getScale()) != scale)
    return false;
  // An absent zero point is 0 (canonicalization drops constant zeros, so
  // one side may have lost its zero point while the other kept it).
  auto zeroOf = [](Value zp) -> std::optional<int64_t> {
    return zp ? scalarInt(zp) : std::optional<int64_t>(0);
  };
  std::optional<int64_t> zero = zeroOf(qo.getZeroPoint());
  if (!zero || zeroOf(ld.getZeroPoint()) != zero)
    return false;
  match.lhsQuantize = qo;
  match.lhsDequantize = ld;
  match.lhsScale = *scale;
  match.lhsZeroPoint = *zero;
  match.lhsUnsigned = storage.isUnsignedInteger();
  return true;
}

/// A cast between integer types that keeps every value (at least as wide,
/// and unsigned to wider signed or signed to signed).
bool isWideningIntCast(CastOp cast) {
  auto from =
      getElementTypeOrSelf(cast.getInput().getType()).dyn_cast<IntegerType>();
  auto to = getElementTypeOrSelf(cast.getType()).dyn_cast<IntegerType>();
  return from && to && !to.isUnsigned() &&
         (from.isUnsigned() ? to.getWidth() > from.getWidth()
                            : to.getWidth() >= from.getWidth());
}

/// The int32 matmul of ORT's quantize_dynamic (see QuantMatmul::intLhs).
std::optional<QuantMatmul> matchIntegerMatmul(MatmulOp op) {
  auto result = op.getType().dyn_cast<ShapedType>();
  if (!result || !result.getElementType().isInteger(32) || op.getTransposeRhs())
    return std::nullopt;
  auto sub = op.getLhs().getDefiningOp<SubOp>();
  auto weightCast = op.getRhs().getDefiningOp<CastOp>();
  if (weightCast && !isWideningIntCast(weightCast))
    return std::nullopt;
  ConstantOp weight = (weightCast ? weightCast.getInput() : op.getRhs())
                          .getDefiningOp<ConstantOp>();
  if (!weight)
    return std::nullopt;
  // The activations: sub(cast(q), cast(z)) with z q's zero point
  // (quantize_dynamic's), sub(cast(q), c) with c a constant equal to q's
  // constant zero point (ONNX Runtime's QOperator QLinearMatMul, whose
  // zero point cast folded), or q itself when its zero point is a constant
  // 0 (the importer leaves a zero zero point out).
  CastOp qCast, zCast;
  QuantizeOp q;
  if (sub) {
    qCast = sub.getLhs().getDefiningOp<CastOp>();
    zCast = sub.getRhs().getDefiningOp<CastOp>();
    if (!qCast || !isWideningIntCast(qCast) ||
        (zCast && !isWideningIntCast(zCast)) ||
        getElementTypeOrSelf(sub.getType()).getIntOrFloatBitWidth() < 16)
      return std::nullopt;
    q = qCast.getInput().getDefiningOp<QuantizeOp>();
    if (!q || q.getBits() != 8 || !q.getZeroPoint())
      return std::nullopt;
    if (zCast) {
      if (zCast.getInput() != q.getZeroPoint())
        return std::nullopt;
    } else {
      std::optional<int64_t> given = scalarInt(sub.getRhs());
      if (!given || given != scalarInt(q.getZeroPoint()))
        return std::nullopt;
    }
  } else {
    q = op.getLhs().getDefiningOp<QuantizeOp>();
    if (!q || q.getBits() != 8 || !q.getZeroPoint() ||
        scalarInt(q.getZeroPoint()) != int64_t(0))
      return std::nullopt;
  }
  auto x = q.getInput().getType().dyn_cast<ShapedType>();
  auto scale = q.getScale().getType().cast<ShapedType>();
  auto zero = q.getZeroPoint().getType().cast<ShapedType>();
  if (!x || !x.hasRank() || x.getRank() < 1 ||
      x.isDynamicDim(x.getRank() - 1) || !x.getElementType().isF32() ||
      !scale.hasStaticShape() || scale.getNumElements() != 1 ||
      !scale.getElementType().isF32() || !zero.hasStaticShape() ||
      zero.getNumElements() != 1)
    return std::nullopt;
  auto w = weight.getType().dyn_cast<RankedTensorType>();
  if (!w || w.getRank() != 2 || !w.hasStaticShape() ||
      !w.getElementType().isa<IntegerType>() ||
      w.getElementType().isUnsignedInteger() ||
      w.getDimSize(0) != x.getDimSize(x.getRank() - 1) ||
      w.getDimSize(0) > (int64_t(1) << 31) / (255 * 255))
    return std::nullopt;
  if (!w.getElementType().isInteger(8)) {
    // A folded cast: every value must be an int8.
    std::optional<ConstantTensor> values = readConstant(weight.getValue());
    if (!values || !llvm::all_of(values->ints, [](int64_t v) {
          return v >= -128 && v <= 127;
        }))
      return std::nullopt;
  }
  QuantMatmul match;
  match.kn = true;
  match.k = w.getDimSize(0);
  match.n = w.getDimSize(1);
  match.group = match.k;
  match.zeroOffset = 128; // int8 stored biased
  match.kStored = quantPanelKStored(8, match.k);
  match.lhsQuantize = q;
  match.lhsUnsigned = getElementTypeOrSelf(q.getType()).isUnsignedInteger();
  match.intLhs = sub;
  match.intLhsCast = qCast;
  match.intZeroCast = zCast;
  match.intWeight = weightCast;
  match.intWeightConstant = weight;
  return match;
}

/// The fused form of `op`, if it has one (see QuantMatmul).
std::optional<QuantMatmul> matchQuantMatmul(MatmulOp op) {
  if (std::optional<QuantMatmul> integer = matchIntegerMatmul(op))
    return integer;
  QuantMatmul match;
  match.kn = !op.getTransposeRhs();
  Value rhs = op.getRhs();
  if (auto slice = rhs.getDefiningOp<SliceOp>()) {
    // Only [:, 0:K] of [N, K'] with step 1 (MatMulNBits' tail).
    auto starts = getConstantInts(slice.getStarts());
    auto axes = getConstantInts(slice.getAxes());
    auto steps = getConstantInts(slice.getSteps());
    if (match.kn || !starts || !axes || !steps || starts->size() != 1 ||
        (*starts)[0] != 0 || ((*axes)[0] != 1 && (*axes)[0] != -1) ||
        (*steps)[0] != 1)
      return std::nullopt;
    match.tail = slice;
    rhs = slice.getInput();
  }
  auto d = rhs.getDefiningOp<DequantizeOp>();
  if (!d || !isConstantValue(d.getInput()) || !isConstantValue(d.getScale()) ||
      (d.getZeroPoint() && !isConstantValue(d.getZeroPoint())))
    return std::nullopt;
  match.weight = d;
  auto q = d.getInput().getType().dyn_cast<RankedTensorType>();
  auto scale = d.getScale().getType().dyn_cast<RankedTensorType>();
  // The function's arguments are buffers already (rewriteSignature).
  auto lhs = op.getLhs().getType().dyn_cast<ShapedType>();
  auto w = op.getRhs().getType().dyn_cast<RankedTensorType>();
  auto result = op.getType().dyn_cast<RankedTensorType>();
  if (!q || !scale || !lhs || !w || !result || q.getRank() != 2 ||
      !q.hasStaticShape() || !scale.hasStaticShape() || w.getRank() != 2 ||
      !w.hasStaticShape() || !lhs.hasRank() || lhs.getRank() < 1 ||
      lhs.isDynamicDim(lhs.getRank() - 1) || !q.getElementType().isInteger(8) ||
      !scale.getElementType().isF32() || !lhs.getElementType().isF32() ||
      !result.getElementType().isF32())
    return std::nullopt;
  int64_t bits = d.getBits();
  if (bits != 8 && bits != 4)
    return std::nullopt;
  int64_t nAxis = match.kn ? 1 : 0, kAxis = match.kn ? 0 : 1;
  match.n = w.getDimSize(nAxis);
  match.k = w.getDimSize(kAxis);
  if (lhs.getShape().back() != match.k)
    return std::nullopt;
  int64_t axis = d.getAxis(), block = d.getBlockSize();
  if (scale.getRank() == 0) {
    match.group = match.k;
  } else if (block == 0 && scale.getRank() == 1 && axis == nAxis) {
    match.group = match.k, match.scaleNStride = 1;
  } else if (block > 0 && scale.getRank() == 2 && axis == kAxis) {
    match.group = block;
    match.scaleNStride = match.kn ? 1 : scale.getDimSize(1);
    match.scaleGStride = match.kn ? match.n : 1;
  } else {
    return std::nullopt; // a scale per input channel: not worth a kernel
  }
  bool isSigned =
      bits == 4 ? d.getIsSigned() : !q.getElementType().isUnsignedInteger();
  match.zeroOffset = isSigned ? (bits == 4 ? 8 : 128) : 0;
  // W8A8 / W4A8: the activation quantized per token, whole rows per scale.
  // 8-bit weights: one group (the kernel scales whole rows); 4-bit: groups
  // of a multiple of 8 k (the "q4_n16_k8" words never straddle one).
  if (auto ld = op.getLhs().getDefiningOp<DequantizeOp>()) {
    auto qpt = ld.getInput().getDefiningOp<QuantizePerTokenOp>();
    bool weightFits = bits == 8 ? match.group == match.k && !d.getZeroPoint()
                                : match.group % 8 == 0 && !match.tail;
    if (qpt && ld.getScale() == qpt.getScale() && !ld.getZeroPoint() &&
        ld.getBits() == 8 && (int64_t)ld.getBlockSize() == match.k &&
        (int64_t)ld.getAxis() == lhs.getRank() - 1 && weightFits &&
        qpt.getInput().getType().cast<ShapedType>().getElementType().isF32()) {
      match.perToken = qpt;
      match.lhsDequantize = ld;
    }
  }
  // Static activations: the int32 sums of (q - z)(u - z_w) must fit, K x
  // 255 x 255 below 2^31.
  // A sliced weight ([:, :K] of a longer row) is not taken: its packed
  // channel sums would cover the whole row.
  if (!match.perToken && bits == 8 && match.group == match.k && !match.tail &&
      match.k <= (int64_t(1) << 31) / (255 * 255))
    matchStaticLhs(op.getLhs(), match);
  // Values per output channel: 4-bit [N, K] rows hold two a byte; a 4-bit
  // [K, N] value is packed along N, so its rows are K.
  int64_t rowValues =
      bits == 4 && !match.kn ? 2 * q.getDimSize(1) : q.getDimSize(kAxis);
  match.kStored = quantPanelKStored(bits, rowValues);
  return match;
}

class FunctionBufferizer {
public:
  explicit FunctionBufferizer(func::FuncOp func)
      : func(func), b(func.getContext()), context(func.getContext()) {}

  LogicalResult run();

private:
  func::FuncOp func;
  OpBuilder b;
  MLIRContext *context;
  DenseMap<Value, Value> buffers;
  std::optional<SymbolicShapes> shapes;
  /// Results of shape computations, which get no buffer.
  DenseSet<Value> shapeValues;
  bool shapeValueUsed = false;
  bool stateOrderBroken = false;

  void rewriteSignature(SmallVectorImpl<Value> &outputs);
  void bindOutputs(Operation *terminator, ArrayRef<Value> outputs);

  /// The dims of an anvil tensor.
  ArrayRef<DimExpr> shapeOf(Value tensor) { return shapes->dims(tensor); }
  DimExpr dim(int64_t value) { return dimConstant(context, value); }
  DimExpr product(ArrayRef<DimExpr> dims) { return productOf(context, dims); }
  Dims rowMajorStrides(ArrayRef<DimExpr> shape) {
    return anvil::rowMajorStrides(context, shape);
  }
  /// A dim a kernel needs at compile time (channels, heads, a window).
  FailureOr<int64_t> staticDim(Operation *op, DimExpr value, StringRef what) {
    if (auto c = constantDim(value))
      return *c;
    return op->emitOpError("needs a static ")
           << what << ", which depends on a bounded dim";
  }
  MemRefType bufferType(ArrayRef<DimExpr> dims, Type element) {
    return MemRefType::get(staticShape(dims), element);
  }
  MemRefType bufferType(Value tensor) {
    return bufferType(shapeOf(tensor),
                      tensor.getType().cast<ShapedType>().getElementType());
  }
  /// The buffer holding `tensor`; constants become weights on first use.
  Value input(Value tensor);
  Value alloc(Value result) {
    Value buffer =
        allocTemp(result.getLoc(), shapeOf(result),
                  result.getType().cast<ShapedType>().getElementType());
    buffers[result] = buffer;
    return buffer;
  }
  Value allocTemp(Location loc, ArrayRef<DimExpr> shape, Type element) {
    auto op = b.create<AllocOp>(loc, bufferType(shape, element));
    setBufferDims(op, shape);
    return op;
  }
  Value view(Location loc, Value source, ArrayRef<DimExpr> shape) {
    Type element = source.getType().cast<MemRefType>().getElementType();
    auto op = b.create<ViewOp>(loc, bufferType(shape, element), source);
    setBufferDims(op, shape);
    return op;
  }

  /// dst[dst_offset + sum(i*dst_strides)] = src[src_offset +
  /// sum(i*src_strides)] over `shape`: transposes, slices, concatenation,
  /// splits, broadcasts.
  void copyStrided(Location loc, Value src, Value dst, ArrayRef<DimExpr> shape,
                   DimExpr srcOffset, ArrayRef<DimExpr> srcStrides,
                   DimExpr dstOffset, ArrayRef<DimExpr> dstStrides);
  /// A contiguous copy of `src` (of dims `srcShape`) with its dims permuted.
  Value transposed(Location loc, Value src, ArrayRef<DimExpr> srcShape,
                   ArrayRef<int64_t> perm);
  /// `src` (of dims `srcShape`) broadcast to `shape` (itself when it already
  /// has that shape).
  Value broadcastTo(Location loc, Value src, ArrayRef<DimExpr> srcShape,
                    ArrayRef<DimExpr> shape);

  LogicalResult lower(Operation *op);
  LogicalResult lowerElementwise(Operation *op);
  LogicalResult lowerView(Operation *op);
  LogicalResult lowerTranspose(TransposeOp op);
  LogicalResult lowerSlice(SliceOp op);
  LogicalResult lowerConcat(ConcatOp op);
  LogicalResult lowerSplit(SplitOp op);
  LogicalResult lowerMatmul(MatmulOp op);
  LogicalResult lowerQuantMatmul(MatmulOp op, QuantMatmul match);
  /// Matmuls lowered to matmul_quant, and the ops only they read (the
  /// weight's dequantize, the per-token quantization): not lowered.
  DenseMap<Operation *, QuantMatmul> quantMatmuls;
  DenseSet<Operation *> fusedAway;
  void findQuantMatmuls(ArrayRef<Operation *> ops);
  /// The extents around `axis` of op's first operand, for kernels that work
  /// along one axis: `outer`, `size`, `inner`.
  FailureOr<std::array<DimExpr, 3>> axisExtents(Operation *op, int64_t axis);
  template <class Launch>
  LogicalResult lowerAxisKernel(Operation *op, int64_t axis, Launch launch);
  LogicalResult lowerReduce(ReduceOp op);
  LogicalResult lowerLayerNorm(LayerNormOp op);
  LogicalResult lowerRmsNorm(RmsNormOp op);
  LogicalResult lowerGather(GatherOp op);
  LogicalResult lowerGatherElements(GatherElementsOp op);
  LogicalResult lowerScatterNd(ScatterNdOp op);
  LogicalResult lowerTrilu(TriluOp op);
  template <class Launch, class ConvLike>
  LogicalResult convLaunch(ConvLike op, Launch &l);
  LogicalResult lowerConv(ConvOp op);
  LogicalResult lowerConvInteger(ConvIntegerOp op);
  LogicalResult lowerPool(PoolOp op);
  LogicalResult lowerPad(PadOp op);
  LogicalResult lowerTile(TileOp op);
  LogicalResult lowerFill(FillOp op);
  LogicalResult lowerRange(RangeOp op);
  LogicalResult lowerAttention(AttentionOp op);
  LogicalResult lowerRope(RopeOp op);
  LogicalResult lowerKvWrite(KvWriteOp op);
  /// A fused rope's tables, appended to `ins`, and the kernel's rope_dim
  /// (0: none) and rope_rows.
  struct RopeOperands {
    int64_t dim = 0;
    DimExpr rows;
  };
  RopeOperands ropeOperands(Value cos, Value sin,
                            std::optional<uint64_t> ropeDim, int64_t headDim,
                            SmallVectorImpl<Value> &ins);
  LogicalResult lowerPagedAttention(PagedAttentionOp op);
};

void FunctionBufferizer::rewriteSignature(SmallVectorImpl<Value> &outputs) {
  Block &body = func.getBody().front();
  SmallVector<Type> argTypes;
  unsigned numSymbols = shapes->symbols().size();
  // A dynamic buffer argument carries its dims (kernel.dims); the dim names
  // the importer recorded are not needed any more.
  auto withDims = [&](DictionaryAttr attrs, ArrayRef<DimExpr> dims) {
    NamedAttrList list(attrs);
    list.erase(kDimNamesAttr);
    if (llvm::any_of(dims, [](DimExpr d) { return !constantDim(d); }))
      list.set(kDimsAttr,
               AffineMapAttr::get(dimsMap(context, numSymbols, dims)));
    return list.getDictionary(context);
  };
  SmallVector<DictionaryAttr> argAttrs;
  for (BlockArgument arg : body.getArguments()) {
    argAttrs.push_back(
        withDims(func.getArgAttrDict(arg.getArgNumber()), shapeOf(arg)));
    arg.setType(bufferType(arg));
    argTypes.push_back(arg.getType());
    buffers[arg] = arg;
  }
  Operation *terminator = body.getTerminator();
  for (unsigned i = 0; i < func.getNumResults(); ++i) {
    Value result = terminator->getOperand(i);
    MemRefType memref = bufferType(result);
    outputs.push_back(body.addArgument(memref, func.getLoc()));
    argTypes.push_back(memref);
    argAttrs.push_back(withDims(func.getResultAttrDict(i), shapeOf(result)));
  }
  // State arguments (`anvil.state`, the paged KV pools) come last among
  // the arguments: the ABI passes them apart from the inputs.
  int64_t numStates = 0;
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    bool state = func.getArgAttr(i, anvil::kStateAttr) != nullptr;
    if (!state && numStates) {
      func.emitError("state arguments must come after every input");
      stateOrderBroken = true;
    }
    numStates += state;
  }
  int64_t numInputs = func.getNumArguments() - numStates;
  func.setType(FunctionType::get(func.getContext(), argTypes, {}));
  for (auto [i, attrs] : llvm::enumerate(argAttrs))
    if (attrs)
      func.setArgAttrs(i, attrs);
  func->removeAttr(func.getResAttrsAttrName());
  func->setAttr(kNumInputsAttr, b.getI64IntegerAttr(numInputs));
  if (numStates)
    func->setAttr(kNumStatesAttr, b.getI64IntegerAttr(numStates));
  func->removeAttr(anvil::kSizesAttr);
  func->removeAttr(anvil::kDimValuesAttr);
  if (numSymbols)
    func->setAttr(kernel::kSizesAttr,
                  sizeSymbolsAttr(context, shapes->symbols()));
}

Value FunctionBufferizer::input(Value tensor) {
  if (Value buffer = buffers.lookup(tensor))
    return buffer;
  if (shapeValues.contains(tensor)) {
    // A shape computation read as data: its elements from the sizes.
    const SmallVector<DimExpr> *values = shapes->values(tensor);
    Value buffer = alloc(tensor);
    if (!values) {
      tensor.getDefiningOp()->emitOpError(
          "computes a shape from the bounded sizes that is read at run "
          "time, and its elements are not polynomials of the sizes");
      shapeValueUsed = true;
      return buffer;
    }
    SizeValuesLaunch l;
    l.count = (int64_t)values->size();
    l.values = *values;
    l.build(b, tensor.getLoc(), {}, buffer);
    return buffer;
  }
  auto constant = tensor.getDefiningOp<ConstantOp>();
  assert(constant && "operands are lowered before their users");
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(constant);
  Value weight = b.create<WeightOp>(constant.getLoc(), bufferType(tensor),
                                    constant.getValue(), IntegerAttr(),
                                    /*layout=*/StringAttr());
  buffers[tensor] = weight;
  return weight;
}

void FunctionBufferizer::copyStrided(Location loc, Value src, Value dst,
                                     ArrayRef<DimExpr> shape, DimExpr srcOffset,
                                     ArrayRef<DimExpr> srcStrides,
                                     DimExpr dstOffset,
                                     ArrayRef<DimExpr> dstStrides) {
  if (isConstant(product(shape), 0))
    return;
  CopyStridedLaunch l;
  l.rank = (int64_t)shape.size();
  l.shape = shape;
  l.src_offset = srcOffset;
  l.src_strides = srcStrides;
  l.dst_offset = dstOffset;
  l.dst_strides = dstStrides;
  l.build(b, loc, src, dst);
}

Value FunctionBufferizer::transposed(Location loc, Value src,
                                     ArrayRef<DimExpr> srcShape,
                                     ArrayRef<int64_t> perm) {
  auto type = src.getType().cast<MemRefType>();
  Dims shape, srcStrides;
  Dims strides = rowMajorStrides(srcShape);
  for (int64_t p : perm) {
    shape.push_back(srcShape[p]);
    srcStrides.push_back(strides[p]);
  }
  Value dst = allocTemp(loc, shape, type.getElementType());
  copyStrided(loc, src, dst, shape, dim(0), srcStrides, dim(0),
              rowMajorStrides(shape));
  return dst;
}

Value FunctionBufferizer::broadcastTo(Location loc, Value src,
                                      ArrayRef<DimExpr> srcShape,
                                      ArrayRef<DimExpr> shape) {
  auto type = src.getType().cast<MemRefType>();
  if (srcShape == shape)
    return src;
  if (product(srcShape) == product(shape))
    return view(loc, src, shape);
  Value dst = allocTemp(loc, shape, type.getElementType());
  auto copy = b.create<ElementwiseOp>(loc, ValueRange{src}, dst);
  Block *block = b.createBlock(&copy.getBody(), {},
                               {signlessType(type.getElementType())}, {loc});
  b.create<YieldOp>(loc, block->getArgument(0));
  b.setInsertionPointAfter(copy);
  return dst;
}

LogicalResult FunctionBufferizer::lowerElementwise(Operation *op) {
  Location loc = op->getLoc();
  Value result = op->getResult(0);
  // Splat constants become scalars inside the loop, not buffers.
  SmallVector<Value> ins;
  SmallVector<std::pair<bool, Attribute>> operandKinds;
  for (Value operand :
       op->getOperands().take_front(elementwiseDataOperands(op))) {
    auto constant = operand.getDefiningOp<ConstantOp>();
    auto dense = constant ? constant.getValue().dyn_cast<DenseElementsAttr>()
                          : DenseElementsAttr();
    if (dense && dense.isSplat()) {
      operandKinds.push_back({false, dense.getSplatValue<Attribute>()});
      continue;
    }
    operandKinds.push_back({true, Attribute()});
    ins.push_back(input(operand));
  }
  Value out = alloc(result);
  auto loop = b.create<ElementwiseOp>(loc, ins, out);
  SmallVector<Type> argTypes;
  for (Value in : ins)
    argTypes.push_back(
        signlessType(in.getType().cast<MemRefType>().getElementType()));
  SmallVector<Location> argLocs(argTypes.size(), loc);
  Block *block = b.createBlock(&loop.getBody(), {}, argTypes, argLocs);
  SmallVector<Value> scalars;
  unsigned next = 0;
  for (auto &[isBuffer, splat] : operandKinds) {
    if (isBuffer)
      scalars.push_back(block->getArgument(next++));
    else
      scalars.push_back(scalarFromSplat(b, loc, splat));
  }
  Value value = buildScalar(b, op, scalars);
  if (!value)
    return failure();
  b.create<YieldOp>(loc, value);
  b.setInsertionPoint(op);
  return success();
}

LogicalResult FunctionBufferizer::lowerView(Operation *op) {
  Value source = input(op->getOperand(0));
  Value result = op->getResult(0);
  if (source.getType() == bufferType(result) &&
      ArrayRef<DimExpr>(getBufferDims(source)) == shapeOf(result))
    buffers[result] = source;
  else
    buffers[result] = view(op->getLoc(), source, shapeOf(result));
  return success();
}

LogicalResult FunctionBufferizer::lowerTranspose(TransposeOp op) {
  ArrayRef<DimExpr> inShape = shapeOf(op.getInput());
  Dims strides = rowMajorStrides(inShape), srcStrides;
  for (int64_t p : op.getPerm())
    srcStrides.push_back(strides[p]);
  Value out = alloc(op.getResult());
  ArrayRef<DimExpr> outShape = shapeOf(op.getResult());
  copyStrided(op.getLoc(), input(op.getInput()), out, outShape, dim(0),
              srcStrides, dim(0), rowMajorStrides(outShape));
  return success();
}

LogicalResult FunctionBufferizer::lowerSlice(SliceOp op) {
  // Starts may be computed from the sizes; axes and steps are constants.
  auto exprsOf = [&](Value v) -> std::optional<Dims> {
    if (auto ints = getConstantInts(v)) {
      Dims exprs;
      for (int64_t i : *ints)
        exprs.push_back(dim(i));
      return exprs;
    }
    if (const SmallVector<DimExpr> *values = shapes->values(v))
      return *values;
    return std::nullopt;
  };
  auto constantsOf = [&](Value v) -> std::optional<SmallVector<int64_t>> {
    if (auto exprs = exprsOf(v))
      return constantDims(*exprs);
    return std::nullopt;
  };
  auto starts = exprsOf(op.getStarts());
  auto axes = constantsOf(op.getAxes());
  auto steps = constantsOf(op.getSteps());
  if (!starts || !axes || !steps)
    return op.emitOpError("needs starts that follow from the bounded sizes "
                          "and constant axes and steps to generate code; "
                          "bind the inputs they depend on");
  // Whether `e` >= 0 everywhere in the bounds (checked at their corners).
  auto nonNegative = [&](DimExpr e) {
    ArrayRef<SizeSymbol> symbols = shapes->symbols();
    SmallVector<int64_t> corner(symbols.size());
    for (uint64_t mask = 0; mask < (uint64_t(1) << symbols.size()); ++mask) {
      for (size_t i = 0; i < symbols.size(); ++i)
        corner[i] = (mask >> i) & 1 ? symbols[i].max : symbols[i].min;
      if (evaluateDim(e, corner) < 0)
        return false;
    }
    return true;
  };
  ArrayRef<DimExpr> inShape = shapeOf(op.getInput());
  ArrayRef<DimExpr> outShape = shapeOf(op.getResult());
  int64_t rank = inShape.size();
  Dims inStrides = rowMajorStrides(inShape);
  Dims srcStrides(inStrides);
  DimExpr offset = dim(0);
  for (size_t i = 0; i < axes->size(); ++i) {
    int64_t axis = (*axes)[i] < 0 ? (*axes)[i] + rank : (*axes)[i];
    int64_t step = (*steps)[i];
    DimExpr start = (*starts)[i];
    auto constantStart = constantDim(start);
    auto dimSize = constantDim(inShape[axis]);
    if (constantStart && dimSize) {
      int64_t s = *constantStart;
      if (s < 0)
        s += *dimSize;
      s = step > 0 ? std::clamp<int64_t>(s, 0, *dimSize)
                   : std::clamp<int64_t>(s, 0, *dimSize - 1);
      start = dim(s);
    } else if (!constantStart || *constantStart != 0) {
      // With bounded dims a start cannot be clamped at compile time: it
      // must lie inside the dim everywhere in the bounds (from the end
      // when it is negative everywhere).
      if (!nonNegative(start) && nonNegative(dim(0) - start - 1))
        start = inShape[axis] + start;
      DimExpr last = step > 0 ? inShape[axis] : inShape[axis] - 1;
      if (!nonNegative(start) || !nonNegative(last - start)) {
        std::string text;
        llvm::raw_string_ostream(text) << start;
        return op.emitOpError("needs a start (")
               << text << ", symbol i being size i) that stays inside its "
               << "dim over the bounded sizes";
      }
    }
    offset = offset + inStrides[axis] * start;
    srcStrides[axis] = inStrides[axis] * step;
  }
  Value out = alloc(op.getResult());
  copyStrided(op.getLoc(), input(op.getInput()), out, outShape, offset,
              srcStrides, dim(0), rowMajorStrides(outShape));
  return success();
}

LogicalResult FunctionBufferizer::lowerConcat(ConcatOp op) {
  ArrayRef<DimExpr> outShape = shapeOf(op.getResult());
  int64_t axis = *normalizeAxis(op.getAxis(), outShape.size());
  Dims outStrides = rowMajorStrides(outShape);
  Value out = alloc(op.getResult());
  DimExpr position = dim(0);
  for (Value in : op.getInputs()) {
    ArrayRef<DimExpr> shape = shapeOf(in);
    copyStrided(op.getLoc(), input(in), out, shape, dim(0),
                rowMajorStrides(shape), position * outStrides[axis],
                outStrides);
    position = position + shape[axis];
  }
  return success();
}

LogicalResult FunctionBufferizer::lowerSplit(SplitOp op) {
  ArrayRef<DimExpr> inShape = shapeOf(op.getInput());
  int64_t axis = *normalizeAxis(op.getAxis(), inShape.size());
  Dims inStrides = rowMajorStrides(inShape);
  Value in = input(op.getInput());
  DimExpr position = dim(0);
  for (Value result : op.getResults()) {
    ArrayRef<DimExpr> shape = shapeOf(result);
    Value out = alloc(result);
    copyStrided(op.getLoc(), in, out, shape, position * inStrides[axis],
                inStrides, dim(0), rowMajorStrides(shape));
    position = position + shape[axis];
  }
  return success();
}

void FunctionBufferizer::findQuantMatmuls(ArrayRef<Operation *> ops) {
  for (Operation *op : ops)
    if (auto matmul = dyn_cast<MatmulOp>(op))
      if (std::optional<QuantMatmul> match = matchQuantMatmul(matmul))
        quantMatmuls[op] = *match;
  // An op every reader of which is fused (or fused away) is not lowered. A
  // fused matmul counts only if it absorbed that very op (its weight, the
  // weight's slice, or its activations' dequantize): a dequantize shared
  // with a matmul that reads it as a tensor (ORT's quantize_static shares
  // one per producer) must keep its buffer.
  auto absorbs = [&](Operation *matmul, Operation *op) {
    auto it = quantMatmuls.find(matmul);
    if (it == quantMatmuls.end())
      return false;
    QuantMatmul &m = it->second;
    return op == m.tail.getOperation() || op == m.weight.getOperation() ||
           op == m.lhsDequantize.getOperation() ||
           op == m.intLhs.getOperation() || op == m.intWeight.getOperation() ||
           op == m.intWeightConstant.getOperation() ||
           // the integer path's quantize read by the matmul itself
           (m.intWeightConstant && op == m.lhsQuantize.getOperation());
  };
  std::function<bool(Operation *)> onlyFused = [&](Operation *op) {
    for (Operation *user : op->getUsers())
      if (!absorbs(user, op) &&
          !(isa<SliceOp, DequantizeOp, ReshapeOp, CastOp, SubOp>(user) &&
            onlyFused(user)))
        return false;
    return !op->use_empty();
  };
  for (auto &[op, match] : quantMatmuls) {
    for (Operation *candidate :
         {match.tail.getOperation(), match.weight.getOperation(),
          match.lhsDequantize.getOperation(), match.perToken.getOperation(),
          match.lhsQuantize.getOperation(), match.intLhs.getOperation(),
          match.intLhsCast.getOperation(), match.intZeroCast.getOperation(),
          match.intWeight.getOperation()})
      if (candidate && onlyFused(candidate))
        fusedAway.insert(candidate);
    // The reshapes of the packed values (the kernel reads the constant).
    if (!match.weight)
      continue;
    for (Value v = match.weight.getInput();
         auto reshape = v.getDefiningOp<ReshapeOp>(); v = reshape.getInput())
      if (onlyFused(reshape))
        fusedAway.insert(reshape);
  }
}

LogicalResult FunctionBufferizer::lowerQuantMatmul(MatmulOp op,
                                                   QuantMatmul match) {
  Value x = match.perToken      ? match.perToken.getInput()
            : match.lhsQuantize ? match.lhsQuantize.getInput()
                                : op.getLhs();
  ArrayRef<DimExpr> lhs = shapeOf(x);
  MatmulQuantLaunch l;
  l.m = product(lhs.drop_back());
  l.n = match.n;
  l.k = match.k;
  l.bits = match.intWeightConstant ? 8 : match.weight.getBits();
  l.group = match.group;
  l.k_stored = match.kStored;
  l.scale_n_stride = match.scaleNStride;
  l.scale_g_stride = match.scaleGStride;
  l.zero_offset = match.zeroOffset;
  l.rhs_kn = match.kn;
  l.quantize_lhs = match.perToken || match.lhsQuantize;
  l.lhs_scale = match.lhsScale;
  l.lhs_zero_point = match.lhsZeroPoint;
  l.lhs_unsigned = match.lhsUnsigned;
  l.lhs_runtime = (bool)match.intWeightConstant;
  // Marked by anvil-quantize-weights on its own symmetric int4 weights
  // (QuantizeWeights.cpp): the kernel may round float activations to bf16.
  l.lhs_bf16 = !*l.quantize_lhs && match.weight &&
               match.weight->hasAttr("anvil.lhs_bf16");
  if (match.intWeightConstant) {
    // No weight scale or zero point: 1 and 0 for the kernel, then the
    // activations' run-time scale and zero point.
    auto constant = [&](Type type, Attribute value) -> Value {
      auto tensor = RankedTensorType::get({1}, type);
      return b.create<WeightOp>(op.getLoc(), MemRefType::get({1}, type),
                                DenseElementsAttr::get(tensor, value),
                                IntegerAttr(), /*layout=*/StringAttr());
    };
    Type i8 = b.getIntegerType(8);
    Value weight = match.intWeightConstant.getResult();
    Value packed;
    auto weightType = weight.getType().cast<RankedTensorType>();
    if (weightType.getElementType().isInteger(8)) {
      packed = input(weight);
    } else { // the folded cast's values, back to int8
      std::optional<ConstantTensor> values =
          readConstant(match.intWeightConstant.getValue());
      SmallVector<int8_t> bytes(values->ints.begin(), values->ints.end());
      auto type = RankedTensorType::get(weightType.getShape(), i8);
      packed = b.create<WeightOp>(
          op.getLoc(), MemRefType::get(weightType.getShape(), i8),
          DenseElementsAttr::get(type, ArrayRef<int8_t>(bytes)), IntegerAttr(),
          /*layout=*/StringAttr());
    }
    SmallVector<Value> ins{input(x),
                           packed,
                           constant(b.getF32Type(), b.getF32FloatAttr(1.0f)),
                           constant(i8, b.getIntegerAttr(i8, 0)),
                           input(match.lhsQuantize.getScale()),
                           input(match.lhsQuantize.getZeroPoint())};
    l.build(b, op.getLoc(), ins, alloc(op.getResult()));
    return success();
  }
  // The packed values straight from their constant, whatever reshapes
  // they went through: the target lays them out (packWeights).
  Value q = match.weight.getInput();
  Value packed;
  if (q.getDefiningOp<ReshapeOp>()) {
    ConstantOp root = rootConstant(q);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(root);
    auto type = root.getType().cast<RankedTensorType>();
    packed = b.create<WeightOp>(
        root.getLoc(), MemRefType::get(type.getShape(), type.getElementType()),
        root.getValue(), IntegerAttr(), /*layout=*/StringAttr());
  } else {
    packed = input(q);
  }
  SmallVector<Value> ins{input(x), packed, input(match.weight.getScale())};
  if (Value zp = match.weight.getZeroPoint())
    ins.push_back(input(zp));
  Value out = alloc(op.getResult());
  l.build(b, op.getLoc(), ins, out);
  return success();
}

LogicalResult FunctionBufferizer::lowerMatmul(MatmulOp op) {
  auto quant = quantMatmuls.find(op);
  if (quant != quantMatmuls.end())
    return lowerQuantMatmul(op, quant->second);
  Dims lhs(shapeOf(op.getLhs())), rhs(shapeOf(op.getRhs()));
  bool transposeRhs = op.getTransposeRhs();
  // numpy promotes 1-D operands to matrices.
  if (lhs.size() == 1)
    lhs.insert(lhs.begin(), dim(1));
  if (rhs.size() == 1)
    rhs.insert(transposeRhs ? rhs.begin() : rhs.end(), dim(1));
  DimExpr m = lhs[lhs.size() - 2], k = lhs.back();
  DimExpr n = transposeRhs ? rhs[rhs.size() - 2] : rhs.back();
  ArrayRef<DimExpr> lhsBatch = ArrayRef<DimExpr>(lhs).drop_back(2);
  ArrayRef<DimExpr> rhsBatch = ArrayRef<DimExpr>(rhs).drop_back(2);
  Dims batch, lhsStrides, rhsStrides;
  if (rhsBatch.empty() || isConstant(product(rhsBatch), 1)) {
    // One weight matrix for every row: fold the batch into M.
    m = m * product(lhsBatch);
  } else {
    // The result's batch dims (numpy broadcasting over expressions).
    ArrayRef<DimExpr> outShape = shapeOf(op.getResult());
    batch.assign(outShape.begin(), outShape.end() - 2);
    if (!kernel::broadcastsTo(lhsBatch, batch) ||
        !kernel::broadcastsTo(rhsBatch, batch))
      return op.emitOpError("batch dims do not broadcast");
    lhsStrides = kernel::broadcastStrides(lhsBatch, batch.size(), m * k);
    rhsStrides = kernel::broadcastStrides(rhsBatch, batch.size(), k * n);
  }
  Value out = alloc(op.getResult());
  MatmulLaunch l;
  l.m = m, l.n = n, l.k = k;
  l.transpose_rhs = transposeRhs;
  l.batch_rank = (int64_t)batch.size();
  l.batch = batch;
  l.lhs_batch_strides = lhsStrides;
  l.rhs_batch_strides = rhsStrides;
  l.rhs_panel = 0; // the target's weight packing may choose panels
  l.build(b, op.getLoc(), {input(op.getLhs()), input(op.getRhs())}, out);
  return success();
}

FailureOr<std::array<DimExpr, 3>>
FunctionBufferizer::axisExtents(Operation *op, int64_t axis) {
  ArrayRef<DimExpr> shape = shapeOf(op->getOperand(0));
  auto normalized = normalizeAxis(axis, std::max<int64_t>(shape.size(), 1));
  if (!normalized)
    return op->emitOpError("axis ") << axis << " is out of range";
  int64_t a = *normalized;
  if (shape.empty())
    return std::array<DimExpr, 3>{dim(1), dim(1), dim(1)};
  return std::array<DimExpr, 3>{product(shape.take_front(a)), shape[a],
                                product(shape.drop_front(a + 1))};
}

/// Kernels that work along one axis get the extents around it.
template <class Launch>
LogicalResult FunctionBufferizer::lowerAxisKernel(Operation *op, int64_t axis,
                                                  Launch launch) {
  auto extents = axisExtents(op, axis);
  if (failed(extents))
    return failure();
  launch.outer = (*extents)[0];
  launch.size = (*extents)[1];
  launch.inner = (*extents)[2];
  Value in = input(op->getOperand(0));
  Value out = alloc(op->getResult(0));
  launch.build(b, op->getLoc(), in, out);
  return success();
}

LogicalResult FunctionBufferizer::lowerReduce(ReduceOp op) {
  ArrayRef<DimExpr> shape = shapeOf(op.getInput());
  int64_t rank = shape.size();
  SmallVector<bool> reduced(rank, op.getAxes().empty());
  for (int64_t axis : op.getAxes())
    reduced[*normalizeAxis(axis, rank)] = true;
  // Reduced dims must be one contiguous run; otherwise move them last.
  int64_t first = -1, last = -1;
  bool contiguous = true;
  for (int64_t i = 0; i < rank; ++i) {
    if (!reduced[i])
      continue;
    if (first < 0)
      first = i;
    else if (last != i - 1)
      contiguous = false;
    last = i;
  }
  Value in = input(op.getInput());
  DimExpr outer, size, inner;
  if (first < 0) {
    outer = product(shape), size = dim(1), inner = dim(1);
  } else if (contiguous) {
    outer = product(shape.take_front(first));
    size = product(shape.slice(first, last - first + 1));
    inner = product(shape.drop_front(last + 1));
  } else {
    SmallVector<int64_t> perm;
    for (int64_t i = 0; i < rank; ++i)
      if (!reduced[i])
        perm.push_back(i);
    outer = product(
        Dims(llvm::map_range(perm, [&](int64_t i) { return shape[i]; })));
    size = dim(1);
    for (int64_t i = 0; i < rank; ++i)
      if (reduced[i]) {
        perm.push_back(i);
        size = size * shape[i];
      }
    in = transposed(op.getLoc(), in, shape, perm);
    if (isConstant(outer, 0))
      size = dim(0);
    inner = dim(1);
  }
  Value out = alloc(op.getResult());
  ReduceLaunch l;
  l.kind = stringifyReduceKind(op.getKind());
  l.outer = outer, l.size = size, l.inner = inner;
  l.build(b, op.getLoc(), in, out);
  return success();
}

LogicalResult FunctionBufferizer::lowerLayerNorm(LayerNormOp op) {
  ArrayRef<DimExpr> shape = shapeOf(op.getInput());
  int64_t axis = *normalizeAxis(op.getAxis(), shape.size());
  ArrayRef<DimExpr> normShape = shape.drop_front(axis);
  SmallVector<Value> ins{input(op.getInput()),
                         broadcastTo(op.getLoc(), input(op.getScale()),
                                     shapeOf(op.getScale()), normShape)};
  if (op.getBias())
    ins.push_back(broadcastTo(op.getLoc(), input(op.getBias()),
                              shapeOf(op.getBias()), normShape));
  Value out = alloc(op.getResult());
  LayerNormLaunch l;
  l.outer = product(shape.take_front(axis));
  l.size = product(normShape);
  l.epsilon = op.getEpsilon().convertToDouble();
  l.has_bias = (bool)op.getBias();
  l.build(b, op.getLoc(), ins, out);
  return success();
}

LogicalResult FunctionBufferizer::lowerRmsNorm(RmsNormOp op) {
  ArrayRef<DimExpr> shape = shapeOf(op.getInput());
  ArrayRef<DimExpr> normShape = shape.take_back(1);
  Value scale = broadcastTo(op.getLoc(), input(op.getScale()),
                            shapeOf(op.getScale()), normShape);
  Value out = alloc(op.getResult());
  RmsNormLaunch l;
  l.outer = product(shape.drop_back(1));
  l.size = product(normShape);
  l.epsilon = op.getEpsilon().convertToDouble();
  l.unit_offset = op.getUnitOffset();
  l.build(b, op.getLoc(), {input(op.getInput()), scale}, out);
  return success();
}

LogicalResult FunctionBufferizer::lowerGather(GatherOp op) {
  ArrayRef<DimExpr> shape = shapeOf(op.getInput());
  int64_t axis = *normalizeAxis(op.getAxis(), shape.size());
  Value out = alloc(op.getResult());
  GatherLaunch l;
  l.outer = product(shape.take_front(axis));
  l.axis_size = shape[axis];
  l.inner = product(shape.drop_front(axis + 1));
  l.count = product(shapeOf(op.getIndices()));
  l.build(b, op.getLoc(), {input(op.getInput()), input(op.getIndices())}, out);
  return success();
}

LogicalResult FunctionBufferizer::lowerGatherElements(GatherElementsOp op) {
  ArrayRef<DimExpr> shape = shapeOf(op.getInput());
  int64_t axis = *normalizeAxis(op.getAxis(), shape.size());
  Value out = alloc(op.getResult());
  GatherElementsLaunch l;
  l.rank = (int64_t)shape.size();
  l.axis = axis;
  l.in_shape = shape;
  l.index_shape = shapeOf(op.getIndices());
  l.build(b, op.getLoc(), {input(op.getInput()), input(op.getIndices())}, out);
  return success();
}

LogicalResult FunctionBufferizer::lowerScatterNd(ScatterNdOp op) {
  ArrayRef<DimExpr> shape = shapeOf(op.getInput());
  ArrayRef<DimExpr> indexShape = shapeOf(op.getIndices());
  auto depth = indexShape.empty()
                   ? FailureOr<int64_t>(0)
                   : staticDim(op, indexShape.back(), "index tuple length");
  if (failed(depth))
    return failure();
  Value out = alloc(op.getResult());
  Location loc = op.getLoc();
  copyStrided(loc, input(op.getInput()), out, shape, dim(0),
              rowMajorStrides(shape), dim(0), rowMajorStrides(shape));
  ScatterNdLaunch l;
  l.depth = *depth;
  l.data_shape = shape;
  l.count = product(indexShape.drop_back(1));
  l.slice = product(shape.drop_front(*depth));
  l.reduction = op.getReduction();
  l.build(b, loc, {input(op.getIndices()), input(op.getUpdates())}, out);
  return success();
}

LogicalResult FunctionBufferizer::lowerTrilu(TriluOp op) {
  ArrayRef<DimExpr> shape = shapeOf(op.getInput());
  Value out = alloc(op.getResult());
  TriluLaunch l;
  l.batch = product(shape.drop_back(2));
  l.rows = shape[shape.size() - 2];
  l.cols = shape.back();
  l.k = op.getK();
  l.upper = op.getUpper();
  l.build(b, op.getLoc(), input(op.getInput()), out);
  return success();
}

/// Spatial parameters of conv and pool as 2-D (1-D gets a unit height).
struct Spatial2d {
  DimExpr h, w, oh, ow;
  int64_t kh, kw;
  SmallVector<int64_t> strides, pads, dilations;
};

std::optional<Spatial2d> spatial2d(ArrayRef<DimExpr> in, ArrayRef<DimExpr> out,
                                   ArrayRef<int64_t> kernel,
                                   ArrayRef<int64_t> strides,
                                   ArrayRef<int64_t> pads,
                                   ArrayRef<int64_t> dilations) {
  size_t dims = in.size() - 2;
  if (dims == 2)
    return Spatial2d{in[2],
                     in[3],
                     out[2],
                     out[3],
                     kernel[0],
                     kernel[1],
                     SmallVector<int64_t>(strides),
                     SmallVector<int64_t>(pads),
                     SmallVector<int64_t>(dilations)};
  if (dims == 1) {
    DimExpr one = dimConstant(in[0].getContext(), 1);
    return Spatial2d{one,
                     in[2],
                     one,
                     out[2],
                     1,
                     kernel[0],
                     {1, strides[0]},
                     {0, pads[0], 0, pads[1]},
                     {1, dilations[0]}};
  }
  return std::nullopt;
}

/// The fields conv2d and conv2d_integer launches share (sizes, window,
/// group) for `op`'s input [N, C, spatial...] and static weight.
template <class Launch, class ConvLike>
LogicalResult FunctionBufferizer::convLaunch(ConvLike op, Launch &l) {
  ArrayRef<DimExpr> in = shapeOf(op.getInput());
  auto w = constantDims(shapeOf(op.getWeight()));
  if (!w)
    return op.emitOpError("needs a static weight shape");
  auto channels = staticDim(op, in[1], "channel count");
  if (failed(channels))
    return failure();
  auto s = spatial2d(in, shapeOf(op.getResult()), ArrayRef(*w).drop_front(2),
                     op.getStrides(), op.getPads(), op.getDilations());
  if (!s)
    return op.emitOpError("only 1-D and 2-D convolutions have a kernel yet");
  l.n = in[0], l.c = *channels, l.h = s->h, l.w = s->w, l.m = (*w)[0];
  l.kh = s->kh, l.kw = s->kw, l.oh = s->oh, l.ow = s->ow;
  l.strides = s->strides;
  l.pads = s->pads;
  l.dilations = s->dilations;
  l.group = op.getGroup();
  return success();
}

LogicalResult FunctionBufferizer::lowerConv(ConvOp op) {
  Conv2dLaunch l;
  if (failed(convLaunch(op, l)))
    return failure();
  SmallVector<Value> ins{input(op.getInput()), input(op.getWeight())};
  if (op.getBias())
    ins.push_back(input(op.getBias()));
  Value out = alloc(op.getResult());
  l.has_bias = (bool)op.getBias();
  l.weight_panel = 0;     // the target's weight packing may choose panels
  l.weight_tile_rows = 0; // or row tiles
  l.in_nhwc = false;      // and channels-last chains (cpu)
  l.out_nhwc = false;
  l.build(b, op.getLoc(), ins, out);
  return success();
}

LogicalResult FunctionBufferizer::lowerConvInteger(ConvIntegerOp op) {
  Conv2dIntegerLaunch l;
  if (failed(convLaunch(op, l)))
    return failure();
  Value out = alloc(op.getResult());
  l.build(b, op.getLoc(),
          {input(op.getInput()), input(op.getWeight()),
           input(op.getInputZeroPoint())},
          out);
  return success();
}

LogicalResult FunctionBufferizer::lowerPool(PoolOp op) {
  ArrayRef<DimExpr> in = shapeOf(op.getInput());
  int64_t spatial = in.size() - 2;
  if (spatial < 1 || spatial > 3)
    return op.emitOpError("only 1-D to 3-D pooling has a kernel yet");
  SmallVector<int64_t> dilations(spatial, 1);
  if (op.getDilations())
    dilations.assign(op.getDilations()->begin(), op.getDilations()->end());
  Value out = alloc(op.getResult());
  PoolLaunch l;
  l.kind = stringifyPoolKind(op.getKind());
  l.outer = in[0] * in[1];
  l.rank = spatial;
  l.in_dims = in.drop_front(2);
  l.out_dims = shapeOf(op.getResult()).drop_front(2);
  l.kernel = op.getKernel();
  l.strides = op.getStrides();
  l.pads = op.getPads();
  l.dilations = dilations;
  l.count_include_pad = op.getCountIncludePad();
  l.build(b, op.getLoc(), input(op.getInput()), out);
  return success();
}

LogicalResult FunctionBufferizer::lowerPad(PadOp op) {
  ArrayRef<DimExpr> shape = shapeOf(op.getInput());
  Value out = alloc(op.getResult());
  PadLaunch l;
  l.rank = (int64_t)shape.size();
  l.in_shape = shape;
  l.out_shape = shapeOf(op.getResult());
  l.pads = op.getPads();
  l.mode = op.getMode();
  l.value = op.getValue().convertToDouble();
  l.build(b, op.getLoc(), input(op.getInput()), out);
  return success();
}

LogicalResult FunctionBufferizer::lowerTile(TileOp op) {
  ArrayRef<DimExpr> shape = shapeOf(op.getInput());
  Value out = alloc(op.getResult());
  TileLaunch l;
  l.rank = (int64_t)shape.size();
  l.in_shape = shape;
  l.out_shape = shapeOf(op.getResult());
  l.build(b, op.getLoc(), input(op.getInput()), out);
  return success();
}

LogicalResult FunctionBufferizer::lowerFill(FillOp op) {
  auto dense = op.getValue().dyn_cast<DenseElementsAttr>();
  if (!dense || !dense.isSplat())
    return op.emitOpError("needs a scalar fill value");
  Location loc = op.getLoc();
  Value out = alloc(op.getResult());
  auto loop = b.create<ElementwiseOp>(loc, ValueRange{}, out);
  b.createBlock(&loop.getBody());
  Value value = scalarFromSplat(b, loc, dense.getSplatValue<Attribute>());
  Type element = out.getType().cast<MemRefType>().getElementType();
  b.create<YieldOp>(loc, convertScalar(b, loc, value, signlessType(element),
                                       false, element.isUnsignedInteger()));
  b.setInsertionPoint(op);
  return success();
}

LogicalResult FunctionBufferizer::lowerRange(RangeOp op) {
  Value out = alloc(op.getResult());
  RangeLaunch l;
  l.count = product(shapeOf(op.getResult()));
  l.build(b, op.getLoc(), {input(op.getStart()), input(op.getDelta())}, out);
  return success();
}

LogicalResult FunctionBufferizer::lowerAttention(AttentionOp op) {
  ArrayRef<DimExpr> q = shapeOf(op.getQuery()), k = shapeOf(op.getKey()),
                    v = shapeOf(op.getValue());
  SmallVector<Value> ins{input(op.getQuery()), input(op.getKey()),
                         input(op.getValue())};
  // The mask's strides over [batch, q_heads, q_len, kv_len] (0: broadcast).
  Dims scores = {q[0], q[1], q[2], k[2]};
  Dims maskStrides(4, dim(0));
  if (Value mask = op.getMask()) {
    ArrayRef<DimExpr> m = shapeOf(mask);
    if (!kernel::broadcastsTo(m, scores))
      return op.emitOpError("mask of shape ")
             << formatShape(staticShape(m))
             << " does not broadcast to the scores "
             << formatShape(staticShape(scores));
    maskStrides = kernel::broadcastStrides(m, 4, dim(1));
    ins.push_back(input(mask));
  }
  auto qHeads = staticDim(op, q[1], "head count");
  auto kvHeads = staticDim(op, k[1], "head count");
  auto headDim = staticDim(op, q[3], "head size");
  auto valueDim = staticDim(op, v[3], "head size");
  if (failed(qHeads) || failed(kvHeads) || failed(headDim) || failed(valueDim))
    return failure();
  Value out = alloc(op.getResult());
  AttentionLaunch l;
  l.batch = q[0], l.q_heads = *qHeads, l.kv_heads = *kvHeads;
  l.q_len = q[2], l.kv_len = k[2], l.head_dim = *headDim;
  l.value_dim = *valueDim;
  l.scale = op.getScale().convertToDouble();
  l.causal = op.getCausal();
  l.has_mask = (bool)op.getMask();
  l.mask_strides = maskStrides;
  l.build(b, op.getLoc(), ins, out);
  return success();
}

LogicalResult FunctionBufferizer::lowerRope(RopeOp op) {
  ArrayRef<DimExpr> x = shapeOf(op.getInput());
  ArrayRef<DimExpr> c = shapeOf(op.getCos());
  if (c != shapeOf(op.getSin()))
    return op.emitOpError("needs cos and sin tables of one shape");
  // The tables' strides over the input's dims (their last dim is half the
  // rotated part, the whole head dim or rotary_dim, stride 1; 0 where they
  // broadcast).
  if (c.empty())
    return op.emitOpError("needs cos/sin tables of rank >= 1");
  Dims lead(x.drop_back()), tableLead(c.drop_back());
  if (!kernel::broadcastsTo(tableLead, lead))
    return op.emitOpError("cos/sin tables of shape ")
           << formatShape(staticShape(c)) << " do not broadcast to "
           << formatShape(staticShape(x));
  Dims strides = kernel::broadcastStrides(tableLead, lead.size(), c.back());
  strides.push_back(dim(1));
  Value out = alloc(op.getResult());
  RopeLaunch l;
  l.rank = (int64_t)x.size();
  l.shape = x;
  l.table_strides = strides;
  l.interleaved = op.getInterleaved();
  l.rotary_dim = (int64_t)op.getRotaryDim().value_or(0);
  l.build(b, op.getLoc(),
          {input(op.getInput()), input(op.getCos()), input(op.getSin())}, out);
  return success();
}

/// The pool is an in-out state argument: the write happens in its buffer,
/// and the op's result (the updated pool) is that same buffer. So are an
/// int8 pool's scales and the op's second result.
LogicalResult FunctionBufferizer::lowerKvWrite(KvWriteOp op) {
  auto isState = [&](Value v) {
    auto arg = v.dyn_cast<BlockArgument>();
    return arg && func.getArgAttr(arg.getArgNumber(), anvil::kStateAttr);
  };
  if (!isState(op.getPool()))
    return op.emitOpError("needs its pool to be a state argument of the "
                          "function (the runtime's KV pool)");
  if (op.getScales() && !isState(op.getScales()))
    return op.emitOpError("needs its scales to be a state argument of the "
                          "function (beside the runtime's KV pool)");
  ArrayRef<DimExpr> p = shapeOf(op.getPool()), rows = shapeOf(op.getRows());
  if (p.size() != 4 || rows.size() != 3)
    return op.emitOpError("needs a [blocks, block_size, heads, dim] pool and "
                          "[tokens, heads, dim] rows");
  auto blockSize = staticDim(op, p[1], "block size");
  auto heads = staticDim(op, p[2], "KV head count");
  auto headDim = staticDim(op, p[3], "head size");
  if (failed(blockSize) || failed(heads) || failed(headDim))
    return failure();
  Value buffer = input(op.getPool());
  SmallVector<Value, 4> ins{input(op.getRows()), input(op.getSlotMapping())};
  // A fused rope (anvil-fuse-rope): the tables follow, and the kernel
  // rotates each head's row before it stores it.
  RopeOperands rope = ropeOperands(op.getRopeCos(), op.getRopeSin(),
                                   op.getRopeDim(), *headDim, ins);
  if (op.getScales()) {
    Value scales = input(op.getScales());
    KvWriteInt8Launch l;
    l.tokens = rows[0];
    l.num_blocks = p[0];
    l.block_size = *blockSize;
    l.kv_heads = *heads;
    l.head_dim = *headDim;
    l.rope_dim = rope.dim;
    l.rope_interleaved = op.getRopeInterleaved();
    l.rope_rows = rope.rows;
    l.build(b, op.getLoc(), ins, {buffer, scales});
    buffers[op.getResult()] = buffer;
    buffers[op.getNewScales()] = scales;
    return success();
  }
  KvWriteLaunch l;
  l.tokens = rows[0];
  l.num_blocks = p[0];
  l.block_size = *blockSize;
  l.row_size = *heads * *headDim;
  l.head_dim = *headDim;
  l.rope_dim = rope.dim;
  l.rope_interleaved = op.getRopeInterleaved();
  l.rope_rows = rope.rows;
  l.build(b, op.getLoc(), ins, buffer);
  buffers[op.getResult()] = buffer;
  return success();
}

FunctionBufferizer::RopeOperands
FunctionBufferizer::ropeOperands(Value cos, Value sin,
                                 std::optional<uint64_t> ropeDim,
                                 int64_t headDim, SmallVectorImpl<Value> &ins) {
  RopeOperands rope;
  rope.rows = dim(0);
  if (!cos)
    return rope;
  ins.push_back(input(cos));
  ins.push_back(input(sin));
  rope.dim = ropeDim ? (int64_t)*ropeDim : headDim;
  rope.rows = shapeOf(cos)[0];
  return rope;
}

LogicalResult FunctionBufferizer::lowerPagedAttention(PagedAttentionOp op) {
  if (op.getSinks())
    return op.emitOpError("with attention sinks has no CPU kernel yet");
  ArrayRef<DimExpr> q = shapeOf(op.getQuery()), k = shapeOf(op.getKeyPool()),
                    v = shapeOf(op.getValuePool()),
                    tables = shapeOf(op.getBlockTables());
  if (q.size() != 3 || k.size() != 4 || v.size() != 4 || tables.size() != 2)
    return op.emitOpError("has operands of the wrong rank");
  auto qHeads = staticDim(op, q[1], "head count");
  auto kvHeads = staticDim(op, k[2], "KV head count");
  auto headDim = staticDim(op, q[2], "head size");
  auto valueDim = staticDim(op, v[3], "head size");
  auto blockSize = staticDim(op, k[1], "block size");
  auto maxBlocks = staticDim(op, tables[1], "block table width");
  if (failed(qHeads) || failed(kvHeads) || failed(headDim) ||
      failed(valueDim) || failed(blockSize) || failed(maxBlocks))
    return failure();
  if (*kvHeads <= 0 || *qHeads % *kvHeads)
    return op.emitOpError("needs a query head count that is a multiple of "
                          "the KV head count");
  Value out = alloc(op.getResult());
  PagedAttentionLaunch l;
  l.tokens = q[0];
  l.seqs = tables[0];
  l.num_blocks = k[0];
  l.q_heads = *qHeads;
  l.kv_heads = *kvHeads;
  l.head_dim = *headDim;
  l.value_dim = *valueDim;
  l.block_size = *blockSize;
  l.max_blocks = *maxBlocks;
  l.scale = op.getScale().convertToDouble();
  l.window = (int64_t)op.getWindow().value_or(0);
  l.softcap = op.getSoftcap() ? op.getSoftcap()->convertToDouble() : 0.0;
  SmallVector<Value, 9> ins{
      input(op.getQuery()),       input(op.getKeyPool()),
      input(op.getValuePool()),   input(op.getBlockTables()),
      input(op.getContextLens()), input(op.getPositions()),
      input(op.getSeqOfToken())};
  // int8 pools: their scales, then a fused rope's tables.
  if (op.getKeyScales()) {
    ins.push_back(input(op.getKeyScales()));
    ins.push_back(input(op.getValueScales()));
  }
  RopeOperands rope = ropeOperands(op.getRopeCos(), op.getRopeSin(),
                                   op.getRopeDim(), *headDim, ins);
  l.rope_dim = rope.dim;
  l.rope_interleaved = op.getRopeInterleaved();
  l.rope_rows = rope.rows;
  l.build(b, op.getLoc(), ins, out);
  return success();
}

LogicalResult FunctionBufferizer::lower(Operation *op) {
  if (isElementwise(op))
    return lowerElementwise(op);
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](ConstantOp) { return success(); }) // weights on first use
      .Case<ReshapeOp, FlattenOp, UnsqueezeOp, SqueezeOp>(
          [&](Operation *view) { return lowerView(view); })
      .Case([&](TransposeOp t) { return lowerTranspose(t); })
      .Case([&](SliceOp s) { return lowerSlice(s); })
      .Case([&](ConcatOp c) { return lowerConcat(c); })
      .Case([&](SplitOp s) { return lowerSplit(s); })
      .Case([&](MatmulOp m) { return lowerMatmul(m); })
      .Case([&](SoftmaxOp s) {
        SoftmaxLaunch l;
        l.log = s.getLog();
        return lowerAxisKernel(s, s.getAxis(), l);
      })
      .Case([&](ArgMaxOp a) {
        ArgReduceLaunch l;
        l.kind = "max";
        l.select_last_index = a.getSelectLastIndex();
        return lowerAxisKernel(a, a.getAxis(), l);
      })
      .Case([&](ArgMinOp a) {
        ArgReduceLaunch l;
        l.kind = "min";
        l.select_last_index = a.getSelectLastIndex();
        return lowerAxisKernel(a, a.getAxis(), l);
      })
      .Case([&](CumSumOp c) {
        CumsumLaunch l;
        l.exclusive = c.getExclusive();
        l.reverse = c.getReverse();
        return lowerAxisKernel(c, c.getAxis(), l);
      })
      .Case([&](ReduceOp r) { return lowerReduce(r); })
      .Case([&](LayerNormOp l) { return lowerLayerNorm(l); })
      .Case([&](RmsNormOp r) { return lowerRmsNorm(r); })
      .Case([&](GatherOp g) { return lowerGather(g); })
      .Case([&](GatherElementsOp g) { return lowerGatherElements(g); })
      .Case([&](ScatterNdOp s) { return lowerScatterNd(s); })
      .Case([&](TriluOp t) { return lowerTrilu(t); })
      .Case([&](ConvOp c) { return lowerConv(c); })
      .Case([&](ConvIntegerOp c) { return lowerConvInteger(c); })
      .Case([&](PoolOp p) { return lowerPool(p); })
      .Case([&](PadOp p) { return lowerPad(p); })
      .Case([&](TileOp t) { return lowerTile(t); })
      .Case([&](FillOp f) { return lowerFill(f); })
      .Case([&](RangeOp r) { return lowerRange(r); })
      .Case([&](AttentionOp a) { return lowerAttention(a); })
      .Case([&](RopeOp r) { return lowerRope(r); })
      .Case([&](KvWriteOp k) { return lowerKvWrite(k); })
      .Case([&](PagedAttentionOp a) { return lowerPagedAttention(a); })
      .Default([&](Operation *other) -> LogicalResult {
        if (isQuantOp(other)) // QuantToKernel.cpp
          return lowerQuantOp(other, b,
                              {[&](Value v) { return input(v); },
                               [&](Value v) { return alloc(v); },
                               [&](Value v) { return shapeOf(v); }});
        if (isIndexingOp(other)) // IndexingToKernel.cpp
          return lowerIndexingOp(other, b,
                                 {[&](Value v) { return input(v); },
                                  [&](Value v) { return alloc(v); },
                                  [&](Value v) { return shapeOf(v); },
                                  [&](Location loc, Value src, Value dst,
                                      ArrayRef<DimExpr> shape) {
                                    Dims strides = rowMajorStrides(shape);
                                    copyStrided(loc, src, dst, shape, dim(0),
                                                strides, dim(0), strides);
                                  }});
        if (isSpatialOp(other)) // SpatialToKernel.cpp
          return lowerSpatialOp(other, b,
                                {[&](Value v) { return input(v); },
                                 [&](Value v) { return alloc(v); },
                                 [&](Value v) { return shapeOf(v); }});
        return other->emitOpError("has no lowering to the kernel dialect yet");
      });
}

void FunctionBufferizer::bindOutputs(Operation *terminator,
                                     ArrayRef<Value> outputs) {
  DenseSet<Operation *> claimed;
  for (auto [value, out] : llvm::zip(terminator->getOperands(), outputs)) {
    Value buffer = input(value);
    Value root = buffer;
    while (auto view = root.getDefiningOp<ViewOp>())
      root = view.getSource();
    auto allocOp = root.getDefiningOp<AllocOp>();
    if (allocOp && claimed.insert(allocOp).second) {
      // Compute straight into the output: the alloc becomes the output
      // (or a view of it, when the result was reshaped on the way out).
      b.setInsertionPoint(allocOp);
      Value replacement = out;
      SmallVector<DimExpr> dims = getBufferDims(allocOp);
      if (allocOp.getType() != out.getType() ||
          ArrayRef<DimExpr>(dims) != ArrayRef<DimExpr>(getBufferDims(out)))
        replacement = view(allocOp.getLoc(), out, dims);
      Value old = allocOp.getResult();
      old.replaceAllUsesWith(replacement);
      for (auto &entry : buffers)
        if (entry.second == old)
          entry.second = replacement;
      allocOp.erase();
      continue;
    }
    // Inputs, weights and results returned twice are copied.
    b.setInsertionPoint(terminator);
    Dims shape = getBufferDims(out);
    Dims strides = rowMajorStrides(shape);
    Value source = buffer.getType() == out.getType() &&
                           ArrayRef<DimExpr>(getBufferDims(buffer)) ==
                               ArrayRef<DimExpr>(shape)
                       ? buffer
                       : view(value.getLoc(), buffer, shape);
    copyStrided(value.getLoc(), source, out, shape, dim(0), strides, dim(0),
                strides);
  }
}

LogicalResult FunctionBufferizer::run() {
  if (func.isExternal() || func->hasAttr(kNumInputsAttr))
    return success();
  // Every dim as an expression over the bounded sizes (integers when
  // static); a dim that does not follow from them is an error.
  auto analysis = SymbolicShapes::analyze(func);
  if (failed(analysis))
    return failure();
  shapes.emplace(std::move(*analysis));
  SmallVector<Value> outputs;
  rewriteSignature(outputs);
  if (stateOrderBroken)
    return failure();
  Block &body = func.getBody().front();
  SmallVector<Operation *> ops;
  for (Operation &op : body.without_terminator())
    ops.push_back(&op);
  bool ok = true;
  findQuantMatmuls(ops);
  for (Operation *op : ops) {
    b.setInsertionPoint(op);
    if (fusedAway.contains(op))
      continue;
    if (shapes->isShapeComputation(op)) {
      // Shapes computed from the sizes: the buffers' dims carry them.
      shapeValues.insert(op->result_begin(), op->result_end());
      continue;
    }
    if (succeeded(lower(op)))
      continue;
    // Keep going to report every op without a lowering: its users get
    // placeholder buffers (the pass fails anyway).
    ok = false;
    b.setInsertionPoint(op);
    for (Value result : op->getResults())
      if (!buffers.count(result))
        alloc(result);
  }
  if (!ok || shapeValueUsed)
    return failure();
  Operation *terminator = body.getTerminator();
  bindOutputs(terminator, outputs);
  if (shapeValueUsed)
    return failure();
  b.setInsertionPoint(terminator);
  b.create<func::ReturnOp>(terminator->getLoc());
  terminator->erase();
  for (Operation *op : llvm::reverse(ops))
    op->erase();
  // Views nothing reads (a reshape of a value that became an output buffer)
  // are dropped, innermost first.
  bool erased = true;
  while (erased) {
    erased = false;
    for (ViewOp view : llvm::make_early_inc_range(body.getOps<ViewOp>()))
      if (view->use_empty()) {
        view.erase();
        erased = true;
      }
  }
  return success();
}

struct ConvertAnvilToKernelPass
    : impl::ConvertAnvilToKernelBase<ConvertAnvilToKernelPass> {
  void runOnOperation() override {
    // Float16/bfloat16 matmuls (of constant 16-bit weights, of W4A16
    // weights the quantized kernel then takes, of two activations) and
    // attention in float32.
    widenHalfMatmuls(getOperation(), [](MatmulOp widened) {
      return matchQuantMatmul(widened).has_value();
    });
    if (failed(FunctionBufferizer(getOperation()).run()))
      signalPassFailure();
  }
};

} // namespace
} // namespace anvil::lowering
