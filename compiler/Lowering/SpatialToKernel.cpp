//===- SpatialToKernel.cpp - spatial ops to kernel launches ---------------===//
//
// anvil.resize -> `resize` (backends/cpu/kernels/resize.h), with the
// coordinate and nearest modes as the kernel's integer codes;
// anvil.conv_transpose -> `conv_transpose` (conv_transpose.h), 1 to 3
// spatial dims.
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/SpatialToKernel.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Kernel/KernelCatalog.h"
#include "dialects/Kernel/KernelOps.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace anvil::lowering {
namespace {

ArrayRef<int64_t> shapeOf(Value value) {
  return value.getType().cast<ShapedType>().getShape();
}

/// The spatial kernels take static sizes: a bounded dim is refused by name
/// rather than planned wrongly.
LogicalResult checkStatic(Operation *op) {
  for (Value v : op->getOperands())
    if (!v.getType().cast<ShapedType>().hasStaticShape())
      return op->emitOpError("needs static shapes: bounded dims through this "
                             "op are not supported yet");
  if (!op->getResult(0).getType().cast<ShapedType>().hasStaticShape())
    return op->emitOpError("needs a static result shape");
  return success();
}

LogicalResult lowerResize(ResizeOp op, OpBuilder &b, const BufferHooks &h) {
  if (failed(checkStatic(op)))
    return failure();
  int64_t rank = shapeOf(op.getInput()).size();
  if (rank > 8)
    return op.emitOpError("resizes at most 8 dims");
  kernel::ResizeLaunch l;
  l.rank = rank;
  l.in_shape = shapeOf(op.getInput());
  l.out_shape = shapeOf(op.getResult());
  l.scales = op.getScales();
  l.roi = op.getRoi();
  // Codes of backends/cpu/kernels/resize.h.
  l.mode = llvm::StringSwitch<int64_t>(op.getMode())
               .Case("nearest", 0)
               .Case("linear", 1)
               .Default(2);
  l.coord_mode =
      llvm::StringSwitch<int64_t>(op.getCoordinateTransformationMode())
          .Case("half_pixel", 0)
          .Case("half_pixel_symmetric", 1)
          .Case("pytorch_half_pixel", 2)
          .Case("align_corners", 3)
          .Case("asymmetric", 4)
          .Default(5);
  l.nearest_mode = llvm::StringSwitch<int64_t>(op.getNearestMode())
                       .Case("round_prefer_floor", 0)
                       .Case("round_prefer_ceil", 1)
                       .Case("floor", 2)
                       .Default(3);
  l.cubic_coeff_a = op.getCubicCoeffA().convertToDouble();
  l.exclude_outside = op.getExcludeOutside();
  l.antialias = op.getAntialias();
  l.extrapolation_value = op.getExtrapolationValue().convertToDouble();
  Value in = h.input(op.getInput());
  Value out = h.alloc(op.getResult());
  l.build(b, op.getLoc(), in, out);
  return success();
}

LogicalResult lowerConvTranspose(ConvTransposeOp op, OpBuilder &b,
                                 const BufferHooks &h) {
  if (failed(checkStatic(op)))
    return failure();
  ArrayRef<int64_t> in = shapeOf(op.getInput()), w = shapeOf(op.getWeight()),
                    out = shapeOf(op.getResult());
  int64_t spatial = in.size() - 2;
  if (spatial < 1 || spatial > 3)
    return op.emitOpError("only 1-D to 3-D transposed convolutions have a "
                          "kernel");
  kernel::ConvTransposeLaunch l;
  l.n = in[0];
  l.c = in[1];
  l.m = out[1];
  l.rank = spatial;
  l.in_dims = in.drop_front(2);
  l.out_dims = out.drop_front(2);
  l.kernel = w.drop_front(2);
  l.strides = op.getStrides();
  l.pads = op.getPads();
  l.dilations = op.getDilations();
  l.group = op.getGroup();
  l.has_bias = (bool)op.getBias();
  SmallVector<Value> ins{h.input(op.getInput()), h.input(op.getWeight())};
  if (op.getBias())
    ins.push_back(h.input(op.getBias()));
  Value o = h.alloc(op.getResult());
  l.build(b, op.getLoc(), ins, o);
  return success();
}

LogicalResult lowerGridSample(GridSampleOp op, OpBuilder &b,
                              const BufferHooks &h) {
  if (failed(checkStatic(op)))
    return failure();
  ArrayRef<int64_t> in = shapeOf(op.getInput()), out = shapeOf(op.getResult());
  int64_t spatial = in.size() - 2;
  if (spatial < 1 || spatial > 3)
    return op.emitOpError("only 1-D to 3-D grid sampling has a kernel");
  kernel::GridSampleLaunch l;
  l.n = in[0];
  l.c = in[1];
  l.rank = spatial;
  l.in_dims = in.drop_front(2);
  l.out_dims = out.drop_front(2);
  // Codes of backends/cpu/kernels/grid_sample.h.
  l.mode = llvm::StringSwitch<int64_t>(op.getMode())
               .Case("nearest", 0)
               .Case("linear", 1)
               .Default(2);
  l.padding = llvm::StringSwitch<int64_t>(op.getPaddingMode())
                  .Case("zeros", 0)
                  .Case("border", 1)
                  .Default(2);
  l.align_corners = op.getAlignCorners();
  SmallVector<Value> ins{h.input(op.getInput()), h.input(op.getGrid())};
  Value o = h.alloc(op.getResult());
  l.build(b, op.getLoc(), ins, o);
  return success();
}

LogicalResult lowerCol2Im(Col2ImOp op, OpBuilder &b, const BufferHooks &h) {
  if (failed(checkStatic(op)))
    return failure();
  ArrayRef<int64_t> out = shapeOf(op.getResult());
  int64_t spatial = out.size() - 2;
  if (spatial < 1 || spatial > 3)
    return op.emitOpError("only 1-D to 3-D images have a kernel");
  SmallVector<int64_t> counts;
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t span = op.getDilations()[i] * (op.getBlockShape()[i] - 1) + 1;
    counts.push_back((op.getImageShape()[i] + op.getPads()[i] +
                      op.getPads()[spatial + i] - span) /
                         op.getStrides()[i] +
                     1);
  }
  kernel::Col2imLaunch l;
  l.n = out[0];
  l.c = out[1];
  l.rank = spatial;
  l.image = op.getImageShape();
  l.block = op.getBlockShape();
  l.counts = counts;
  l.strides = op.getStrides();
  l.pads = op.getPads();
  l.dilations = op.getDilations();
  Value in = h.input(op.getInput());
  Value o = h.alloc(op.getResult());
  l.build(b, op.getLoc(), in, o);
  return success();
}

LogicalResult lowerMaxUnpool(MaxUnpoolOp op, OpBuilder &b,
                             const BufferHooks &h) {
  if (failed(checkStatic(op)))
    return failure();
  ArrayRef<int64_t> in = shapeOf(op.getInput()), out = shapeOf(op.getResult());
  if (in.size() > 5)
    return op.emitOpError("only 1-D to 3-D unpooling has a kernel");
  SmallVector<int64_t> unpooled{in[0], in[1]};
  unpooled.append(op.getUnpooled().begin(), op.getUnpooled().end());
  int64_t count = 1;
  for (int64_t d : in)
    count *= d;
  kernel::MaxUnpoolLaunch l;
  l.rank = (int64_t)in.size();
  l.count = count;
  l.unpooled = unpooled;
  l.out_shape = out;
  SmallVector<Value> ins{h.input(op.getInput()), h.input(op.getIndices())};
  Value o = h.alloc(op.getResult());
  l.build(b, op.getLoc(), ins, o);
  return success();
}

} // namespace

bool isSpatialOp(Operation *op) {
  return isa<ResizeOp, ConvTransposeOp, GridSampleOp, Col2ImOp, MaxUnpoolOp>(
      op);
}

LogicalResult lowerSpatialOp(Operation *op, OpBuilder &b,
                             const BufferHooks &hooks) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](ResizeOp r) { return lowerResize(r, b, hooks); })
      .Case([&](ConvTransposeOp c) { return lowerConvTranspose(c, b, hooks); })
      .Case([&](GridSampleOp g) { return lowerGridSample(g, b, hooks); })
      .Case([&](Col2ImOp c) { return lowerCol2Im(c, b, hooks); })
      .Case([&](MaxUnpoolOp m) { return lowerMaxUnpool(m, b, hooks); })
      .Default([](Operation *) { return failure(); });
}

} // namespace anvil::lowering
