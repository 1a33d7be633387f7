//===- QuantToKernel.cpp - quantization ops to kernel launches ------------===//
//
// The kernels see the logical values as [outer, size, inner] around the
// quantization axis and find each value's scale from `block`, `blocks` and
// `blocked` (see backends/cpu/kernels/quantize.h):
//
//   per tensor   block = size, blocks = 1     (every value uses scale 0)
//   per axis     block = 1,    blocks = size
//   blocked      block = block_size, blocks = ceil(size / block_size),
//                blocked = true (the scale spans outer and inner too)
//
// 4-bit values stay packed: the kernels get `bits = 4`, `is_signed` and the
// logical row length `row`, and unpack (or pack) nibbles as they go.
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/QuantToKernel.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Anvil/ElementwisePayload.h"
#include "dialects/ElementTypes.h"
#include "dialects/Kernel/KernelCatalog.h"
#include "dialects/Kernel/KernelOps.h"

#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <numeric>

using namespace mlir;

namespace anvil::lowering {
namespace {

class QuantLowering {
public:
  QuantLowering(OpBuilder &b, const BufferHooks &hooks)
      : b(b), hooks(hooks), context(b.getContext()) {}

  LogicalResult lower(Operation *op) {
    if (std::optional<ScalarQuant> scalar = scalarQuant(op)) {
      // A QDQ pair (dequantize(quantize(x, s, z), s, z)) is one float loop
      // from x; a quantize read only by such dequantizes (or by ones a
      // matmul_quant absorbed, which read x too) needs no loop at all.
      if (auto q = dyn_cast<QuantizeOp>(op))
        if (llvm::all_of(q->getUsers(), [&](Operation *user) {
              return isRoundTrip(user, q, *scalar);
            }))
          return success();
      if (auto d = dyn_cast<DequantizeOp>(op))
        if (auto q = d.getInput().getDefiningOp<QuantizeOp>())
          if (std::optional<ScalarQuant> qs = scalarQuant(q))
            if (isRoundTrip(d, q, *qs))
              return lowerRoundTrip(d, q, *qs);
      return lowerToLoop(op, *scalar);
    }
    return llvm::TypeSwitch<Operation *, LogicalResult>(op)
        .Case([&](DequantizeOp d) {
          return lowerWithLayout<kernel::DequantizeLaunch>(
              d, hooks.shapeOf(d.getResult()));
        })
        .Case([&](QuantizeOp q) {
          return lowerWithLayout<kernel::QuantizeLaunch>(
              q, hooks.shapeOf(q.getInput()));
        })
        .Case([&](QuantizePerTokenOp q) { return lowerPerToken(q); })
        .Default([](Operation *) { return failure(); });
  }

private:
  OpBuilder &b;
  const BufferHooks &hooks;
  MLIRContext *context;

  DimExpr product(ArrayRef<DimExpr> dims) { return productOf(context, dims); }

  /// A per-tensor quantize or dequantize between f32 and 8- or 16-bit
  /// integers, with a constant scale and zero point: the activations of a
  /// QDQ model. Such an op is elementwise, so it becomes a
  /// kernel.elementwise loop the fusion merges with its neighbours
  /// (anvil-fuse-elementwise) instead of a launch of its own.
  struct ScalarQuant {
    double scale = 0;
    int64_t zeroPoint = 0;
    bool isUnsigned = false; // the integer side
  };
  std::optional<ScalarQuant> scalarQuant(Operation *op) {
    Value scale, zeroPoint, integer, real;
    int64_t bits = 0;
    if (auto q = dyn_cast<QuantizeOp>(op)) {
      scale = q.getScale(), zeroPoint = q.getZeroPoint();
      integer = q.getResult(), real = q.getInput(), bits = q.getBits();
    } else if (auto d = dyn_cast<DequantizeOp>(op)) {
      scale = d.getScale(), zeroPoint = d.getZeroPoint();
      integer = d.getInput(), real = d.getResult(), bits = d.getBits();
    } else {
      return std::nullopt;
    }
    Type intType = integer.getType().cast<ShapedType>().getElementType();
    if (!real.getType().cast<ShapedType>().getElementType().isF32() ||
        !scale.getType().cast<ShapedType>().getElementType().isF32() ||
        (bits != 8 && bits != 16) || !intType.isInteger(bits))
      return std::nullopt;
    ScalarQuant scalar;
    scalar.isUnsigned = intType.isUnsignedInteger();
    std::optional<ConstantTensor> s = scalarConstant(scale);
    if (!s || !s->isFloat)
      return std::nullopt;
    scalar.scale = s->floats[0];
    if (zeroPoint) {
      std::optional<ConstantTensor> z = scalarConstant(zeroPoint);
      if (!z || z->isFloat)
        return std::nullopt;
      scalar.zeroPoint = z->ints[0];
    }
    return scalar;
  }
  /// Whether `user` is a dequantize of `q`'s result with the same scalar
  /// parameters as q's, `scalar`.
  bool isRoundTrip(Operation *user, QuantizeOp q, const ScalarQuant &scalar) {
    auto d = dyn_cast<DequantizeOp>(user);
    if (!d || d.getInput() != q.getResult())
      return false;
    std::optional<ScalarQuant> other = scalarQuant(d);
    return other && other->scale == scalar.scale &&
           other->zeroPoint == scalar.zeroPoint &&
           other->isUnsigned == scalar.isUnsigned;
  }

  /// The one element of a constant.
  static std::optional<ConstantTensor> scalarConstant(Value v) {
    auto c = v.getDefiningOp<ConstantOp>();
    std::optional<ConstantTensor> t =
        c ? readConstant(c.getValue(), 1) : std::nullopt;
    if (!t || t->size() != 1)
      return std::nullopt;
    return t;
  }

  /// A kernel.elementwise loop from `in` (an op's data operand) into a new
  /// buffer for `result`; `body` builds the element from the loop's
  /// argument, with the scale and zero point as f32 constants.
  LogicalResult
  buildLoop(Operation *op, Value in, Value result, const ScalarQuant &scalar,
            llvm::function_ref<Value(Value x, Value s, Value z)> body) {
    Location loc = op->getLoc();
    Value inBuffer = hooks.input(in);
    Value out = hooks.alloc(result);
    auto loop = b.create<kernel::ElementwiseOp>(loc, ValueRange{inBuffer}, out);
    Type inType =
        signlessType(inBuffer.getType().cast<MemRefType>().getElementType());
    Block *block = b.createBlock(&loop.getBody(), {}, {inType}, {loc});
    Value s = constant(loc, scalar.scale);
    Value z = constant(loc, double(scalar.zeroPoint));
    b.create<kernel::YieldOp>(loc, body(block->getArgument(0), s, z));
    b.setInsertionPoint(op);
    return success();
  }
  Value constant(Location loc, double v) {
    return anvil::scalarConstant(b, loc, b.getF32Type(), v);
  }

  /// QuantizeLinear's integer as an f32 value, as
  /// backends/cpu/kernels/quantize.h computes it: saturate(round_half_even(x
  /// / s) + z) to the storage's range, NaN to the lowest value.
  Value quantized(Location loc, Value x, Value s, Value z, unsigned bits,
                  bool isUnsigned) {
    double lo = isUnsigned ? 0 : -std::ldexp(1.0, bits - 1);
    double hi =
        isUnsigned ? std::ldexp(1.0, bits) - 1 : std::ldexp(1.0, bits - 1) - 1;
    Value v = b.create<arith::DivFOp>(loc, x, s);
    v = b.create<math::RoundEvenOp>(loc, v);
    v = b.create<arith::AddFOp>(loc, v, z);
    Value loV = constant(loc, lo), hiV = constant(loc, hi);
    // !(v >= lo): lo (NaN too); v > hi: hi.
    v = b.create<arith::SelectOp>(
        loc, b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGE, v, loV), v,
        loV);
    return b.create<arith::SelectOp>(
        loc, b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, v, hiV),
        hiV, v);
  }

  /// Per-element loops with the kernels' float operations (so the same
  /// values): quantize stores quantized(x); dequantize computes (q - z) *
  /// s, q - z exact in f32.
  LogicalResult lowerToLoop(Operation *op, const ScalarQuant &scalar) {
    Location loc = op->getLoc();
    bool quantize = isa<QuantizeOp>(op);
    Value result = op->getResult(0);
    Type storage = signlessType(getElementTypeOrSelf(
        quantize ? result.getType() : op->getOperand(0).getType()));
    return buildLoop(
        op, op->getOperand(0), result, scalar,
        [&](Value x, Value s, Value z) -> Value {
          if (quantize)
            return convertScalar(b, loc,
                                 quantized(loc, x, s, z,
                                           storage.getIntOrFloatBitWidth(),
                                           scalar.isUnsigned),
                                 storage, false, scalar.isUnsigned);
          Value v = convertScalar(b, loc, x, b.getF32Type(), scalar.isUnsigned,
                                  false);
          return b.create<arith::MulFOp>(loc,
                                         b.create<arith::SubFOp>(loc, v, z), s);
        });
  }

  /// dequantize(quantize(x)) with the same scalar parameters: (quantized(x)
  /// - z) * s in f32 from x, the integer never stored (the values the two
  /// loops give: the integer converts to f32 exactly).
  LogicalResult lowerRoundTrip(DequantizeOp d, QuantizeOp q,
                               const ScalarQuant &scalar) {
    Location loc = d.getLoc();
    unsigned bits = getElementTypeOrSelf(q.getType()).getIntOrFloatBitWidth();
    return buildLoop(d, q.getInput(), d.getResult(), scalar,
                     [&](Value x, Value s, Value z) -> Value {
                       Value v =
                           quantized(loc, x, s, z, bits, scalar.isUnsigned);
                       return b.create<arith::MulFOp>(
                           loc, b.create<arith::SubFOp>(loc, v, z), s);
                     });
  }

  /// The layout parameters shared by dequantize and quantize, for values of
  /// logical `shape` (see backends/cpu/kernels/quantize.h). The extents
  /// are size expressions where a dim is bounded (a dynamic batch); the
  /// scale's shape is static, so a per-axis or blocked axis is too.
  template <class Launch>
  LogicalResult layoutParams(Operation *op, Launch &l, ArrayRef<DimExpr> shape,
                             Value scale, int64_t axis, int64_t blockSize,
                             int64_t bits, bool isSigned) {
    auto scaleType = scale.getType().cast<ShapedType>();
    if (!scaleType.hasStaticShape())
      return op->emitOpError("needs a scale of static shape");
    if (scaleType.getRank() == 0) {
      DimExpr size = product(shape);
      l.outer = 1, l.inner = 1, l.size = size;
      l.block = size, l.blocks = 1; // the kernel reads a block of 0 as 1
    } else {
      if (axis < 0 || axis >= (int64_t)shape.size())
        return op->emitOpError("has axis ") << axis << " out of range";
      std::optional<int64_t> size = constantDim(shape[axis]);
      if (!size)
        return op->emitOpError("needs a static size along its quantization "
                               "axis ")
               << axis;
      l.outer = product(shape.take_front(axis));
      l.size = *size;
      l.inner = product(shape.drop_front(axis + 1));
      l.block = blockSize ? blockSize : 1;
      l.blocks = blockSize ? (*size + blockSize - 1) / blockSize : *size;
    }
    l.blocked = blockSize != 0;
    l.bits = bits;
    l.is_signed = isSigned;
    l.row = shape.empty() ? DimExpr(dimConstant(context, 1)) : shape.back();
    return success();
  }

  SmallVector<Value> operandBuffers(Operation *op) {
    SmallVector<Value> ins;
    for (Value operand : op->getOperands())
      ins.push_back(hooks.input(operand));
    return ins;
  }

  /// dequantize and quantize: one launch over the values of logical
  /// `shape` (the float side's).
  template <class Launch, class OpTy>
  LogicalResult lowerWithLayout(OpTy op, ArrayRef<DimExpr> shape) {
    Launch l;
    if (failed(layoutParams(op, l, shape, op.getScale(), op.getAxis(),
                            op.getBlockSize(), op.getBits(), op.getIsSigned())))
      return failure();
    SmallVector<Value> ins = operandBuffers(op);
    Value out = hooks.alloc(op.getResult());
    l.build(b, op.getLoc(), ins, out);
    return success();
  }

  LogicalResult lowerPerToken(QuantizePerTokenOp op) {
    ArrayRef<DimExpr> shape = hooks.shapeOf(op.getInput());
    if (shape.empty())
      return op->emitOpError("needs at least one dim");
    kernel::QuantizePerTokenLaunch l;
    l.rows = product(shape.drop_back());
    l.cols = shape.back();
    Value in = hooks.input(op.getInput());
    Value q = hooks.alloc(op.getResult());
    Value scale = hooks.alloc(op.getScale());
    l.build(b, op.getLoc(), in, ValueRange{q, scale});
    return success();
  }
};

} // namespace

bool isQuantOp(Operation *op) {
  return isa<DequantizeOp, QuantizeOp, QuantizePerTokenOp>(op);
}

LogicalResult lowerQuantOp(Operation *op, OpBuilder &b,
                           const BufferHooks &hooks) {
  return QuantLowering(b, hooks).lower(op);
}

} // namespace anvil::lowering
