//===- QuantizationParts.h - pieces shared by the quantized-op importers
//---===//
//
// Used by QuantizationOps.cpp (ONNX's quantization and integer ops, ONNX
// Runtime's MatMulNBits) and MicrosoftQLinearOps.cpp (ONNX Runtime's
// QOperator-format ops: QLinearAdd, QGemm, ...).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_IMPORT_ONNX_QUANTIZATIONPARTS_H
#define ANVIL_COMPILER_IMPORT_ONNX_QUANTIZATIONPARTS_H

#include "compiler/Import/Onnx/OnnxNodeContext.h"

namespace anvil::onnx_import {

/// An attribute that defaults to 0: left out when it is 0.
inline mlir::IntegerAttr optionalInt(mlir::Builder &b, int64_t value) {
  return value ? b.getI64IntegerAttr(value) : mlir::IntegerAttr();
}

/// Builds a sequence of ops; after the first failure every call returns
/// null and `failed()` says so (the failing op has reported its error).
class Chain {
public:
  explicit Chain(NodeContext &ctx) : ctx(ctx) {}

  template <typename OpTy, typename... Args>
  mlir::Value make(mlir::Type elementType, Args &&...args) {
    if (hasFailed)
      return mlir::Value();
    mlir::FailureOr<mlir::Value> v =
        ctx.create<OpTy>(elementType, std::forward<Args>(args)...);
    if (mlir::failed(v)) {
      hasFailed = true;
      return mlir::Value();
    }
    return *v;
  }
  /// `v` converted to `type` (itself when it has that type already).
  mlir::Value cast(mlir::Value v, mlir::Type type) {
    if (hasFailed || !v)
      return mlir::Value();
    return ctx.elementTypeOf(v) == type ? v : make<CastOp>(type, v);
  }
  mlir::Value reshape(mlir::Value v, llvm::ArrayRef<int64_t> shape) {
    if (hasFailed || !v)
      return mlir::Value();
    return make<ReshapeOp>(ctx.elementTypeOf(v), v, ctx.constantI64(shape));
  }
  /// v[..., 0:size] along `axis`.
  mlir::Value sliceTo(mlir::Value v, int64_t axis, int64_t size) {
    if (hasFailed || !v)
      return mlir::Value();
    return make<SliceOp>(ctx.elementTypeOf(v), v, ctx.constantI64({0}),
                         ctx.constantI64({size}), ctx.constantI64({axis}),
                         ctx.constantI64({1}));
  }
  mlir::Value gather(mlir::Value v, mlir::Value indices, int64_t axis) {
    if (hasFailed || !v)
      return mlir::Value();
    return make<GatherOp>(ctx.elementTypeOf(v), v, indices,
                          ctx.builder.getI64IntegerAttr(axis));
  }
  /// anvil.quantize to 8-bit `outType` (i8 or ui8): saturate(round(x /
  /// scale) + zero_point), per tensor when `scale` has rank 0.
  mlir::Value quantize(mlir::Type outType, mlir::Value x, mlir::Value scale,
                       mlir::Value zeroPoint, int64_t axis = 0) {
    mlir::Builder &b = ctx.builder;
    return make<QuantizeOp>(outType, x, scale, zeroPoint,
                            b.getI64IntegerAttr(8), optionalInt(b, axis),
                            mlir::IntegerAttr(), mlir::BoolAttr());
  }
  bool failed() const { return hasFailed; }

private:
  NodeContext &ctx;
  bool hasFailed = false;
};

/// (A - a_zero_point) x (B - b_zero_point) in i32, as MatMulInteger
/// defines it (8-bit a and b; zero points optional, A's per tensor or per
/// row, B's per tensor or per column).
mlir::FailureOr<mlir::Value> integerMatmul(NodeContext &ctx, mlir::Value a,
                                           mlir::Value aZero, mlir::Value b,
                                           mlir::Value bZero);

/// A 1-D or single-element scale or zero point of a per-tensor input as
/// rank 0 (null stays null); anything else is an error naming `what`.
mlir::FailureOr<mlir::Value> perTensor(NodeContext &ctx, mlir::Value v,
                                       llvm::StringRef what);

/// An 8-bit integer element type, or an error naming `what`.
mlir::LogicalResult check8Bit(NodeContext &ctx, mlir::Value v,
                              llvm::StringRef what);

/// saturate(round_half_even(float(acc) * (x_scale * w_scale / y_scale)) +
/// y_zero_point) in `outType`, as ONNX Runtime's integer kernels
/// requantize (the multiplier in float32).
mlir::Value requantize(NodeContext &ctx, Chain &c, mlir::Value acc,
                       mlir::Value xScale, mlir::Value wScale,
                       mlir::Value yScale, mlir::Value yZero,
                       mlir::Type outType);

} // namespace anvil::onnx_import

#endif // ANVIL_COMPILER_IMPORT_ONNX_QUANTIZATIONPARTS_H
