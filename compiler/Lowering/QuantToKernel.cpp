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
#include "dialects/Kernel/KernelCatalog.h"
#include "dialects/Kernel/KernelOps.h"

#include "llvm/ADT/TypeSwitch.h"

#include <numeric>

using namespace mlir;

namespace anvil::lowering {
namespace {

int64_t product(ArrayRef<int64_t> dims) {
  return std::accumulate(dims.begin(), dims.end(), int64_t{1},
                         std::multiplies<int64_t>());
}

ArrayRef<int64_t> shapeOf(Value value) {
  return value.getType().cast<ShapedType>().getShape();
}

class QuantLowering {
public:
  QuantLowering(OpBuilder &b, const BufferHooks &hooks) : b(b), hooks(hooks) {}

  LogicalResult lower(Operation *op) {
    return llvm::TypeSwitch<Operation *, LogicalResult>(op)
        .Case([&](DequantizeOp d) {
          return lowerWithLayout<kernel::DequantizeLaunch>(
              d, shapeOf(d.getResult()));
        })
        .Case([&](QuantizeOp q) {
          return lowerWithLayout<kernel::QuantizeLaunch>(q,
                                                         shapeOf(q.getInput()));
        })
        .Case([&](QuantizePerTokenOp q) { return lowerPerToken(q); })
        .Default([](Operation *) { return failure(); });
  }

private:
  OpBuilder &b;
  const BufferHooks &hooks;

  /// Quantization kernels take static sizes for now: a bounded dim through
  /// a quantization op is refused by name rather than planned wrongly.
  LogicalResult checkStatic(Operation *op) {
    for (Value v : op->getOperands())
      if (!v.getType().cast<ShapedType>().hasStaticShape())
        return op->emitOpError("needs static shapes: bounded dims through "
                               "quantization ops are not supported yet");
    return success();
  }

  /// The layout parameters shared by dequantize and quantize, for values of
  /// logical `shape` (see backends/cpu/kernels/quantize.h).
  template <class Launch>
  void layoutParams(Launch &l, ArrayRef<int64_t> shape, Value scale,
                    int64_t axis, int64_t blockSize, int64_t bits,
                    bool isSigned) {
    int64_t scaleRank = shapeOf(scale).size();
    int64_t outer, size, inner, block, blocks;
    if (scaleRank == 0) {
      outer = 1, inner = 1, size = product(shape);
      block = std::max<int64_t>(size, 1), blocks = 1;
    } else {
      outer = product(shape.take_front(axis));
      size = shape[axis];
      inner = product(shape.drop_front(axis + 1));
      block = blockSize ? blockSize : 1;
      blocks = blockSize ? (size + blockSize - 1) / blockSize : size;
    }
    l.outer = outer;
    l.size = size;
    l.inner = inner;
    l.block = block;
    l.blocks = blocks;
    l.blocked = blockSize != 0;
    l.bits = bits;
    l.is_signed = isSigned;
    l.row = shape.empty() ? 1 : shape.back();
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
  LogicalResult lowerWithLayout(OpTy op, ArrayRef<int64_t> shape) {
    if (failed(checkStatic(op)))
      return failure();
    Launch l;
    layoutParams(l, shape, op.getScale(), op.getAxis(), op.getBlockSize(),
                 op.getBits(), op.getIsSigned());
    SmallVector<Value> ins = operandBuffers(op);
    Value out = hooks.alloc(op.getResult());
    l.build(b, op.getLoc(), ins, out);
    return success();
  }

  LogicalResult lowerPerToken(QuantizePerTokenOp op) {
    if (failed(checkStatic(op)))
      return failure();
    ArrayRef<int64_t> shape = shapeOf(op.getInput());
    int64_t cols = shape.back();
    kernel::QuantizePerTokenLaunch l;
    l.rows = cols ? product(shape) / cols : product(shape.drop_back());
    l.cols = cols;
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
