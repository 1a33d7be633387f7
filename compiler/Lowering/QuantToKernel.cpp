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
    if (std::optional<ScalarQuant> scalar = scalarQuant(op))
      return lowerToLoop(op, *scalar);
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
  /// The one element of a constant.
  static std::optional<ConstantTensor> scalarConstant(Value v) {
    auto c = v.getDefiningOp<ConstantOp>();
    std::optional<ConstantTensor> t =
        c ? readConstant(c.getValue(), 1) : std::nullopt;
    if (!t || t->size() != 1)
      return std::nullopt;
    return t;
  }

  /// The loop computing what backends/cpu/kernels/quantize.h does per
  /// element, in the same float operations (so the same values):
  /// quantize: q = saturate(round_half_even(x / s) + z), NaN to the lowest;
  /// dequantize: (q - z) * s, with q - z exact in float.
  LogicalResult lowerToLoop(Operation *op, const ScalarQuant &scalar) {
    Location loc = op->getLoc();
    Value in = hooks.input(op->getOperand(0));
    Value out = hooks.alloc(op->getResult(0));
    auto loop = b.create<kernel::ElementwiseOp>(loc, ValueRange{in}, out);
    Type inType =
        signlessType(in.getType().cast<MemRefType>().getElementType());
    Type outType =
        signlessType(out.getType().cast<MemRefType>().getElementType());
    Block *block = b.createBlock(&loop.getBody(), {}, {inType}, {loc});
    Value x = block->getArgument(0);
    Type f32 = b.getF32Type();
    auto constant = [&](double v) {
      return anvil::scalarConstant(b, loc, f32, v);
    };
    Value s = constant(scalar.scale), z = constant(double(scalar.zeroPoint));
    Value result;
    if (isa<QuantizeOp>(op)) {
      unsigned bits = outType.getIntOrFloatBitWidth();
      double lo = scalar.isUnsigned ? 0 : -std::ldexp(1.0, bits - 1);
      double hi = scalar.isUnsigned ? std::ldexp(1.0, bits) - 1
                                    : std::ldexp(1.0, bits - 1) - 1;
      Value v = b.create<arith::DivFOp>(loc, x, s);
      v = b.create<math::RoundEvenOp>(loc, v);
      v = b.create<arith::AddFOp>(loc, v, z);
      Value loV = constant(lo), hiV = constant(hi);
      // !(v >= lo): lo (NaN too); v > hi: hi.
      v = b.create<arith::SelectOp>(
          loc, b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGE, v, loV),
          v, loV);
      v = b.create<arith::SelectOp>(
          loc, b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, v, hiV),
          hiV, v);
      result = convertScalar(b, loc, v, outType, false, scalar.isUnsigned);
    } else {
      Value v = convertScalar(b, loc, x, f32, scalar.isUnsigned, false);
      result =
          b.create<arith::MulFOp>(loc, b.create<arith::SubFOp>(loc, v, z), s);
    }
    b.create<kernel::YieldOp>(loc, result);
    b.setInsertionPoint(op);
    return success();
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
