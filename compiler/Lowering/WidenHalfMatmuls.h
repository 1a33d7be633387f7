//===- WidenHalfMatmuls.h - 16-bit float matmuls onto the f32 kernels -*- C++
//-*-===//
//
// The matmul kernels multiply float32 activations: by float32, bfloat16 or
// float16 weights in packed panels (widened as they load), or by packed
// integer weights (matmul_quant, float32 scales). A float16 or bfloat16
// model's matmul of a constant weight would otherwise run the general
// kernel on 16-bit operands (measured 100x slower or worse). So before
// bufferization such a matmul is rewritten in float32 around the same
// weight:
//
//   y = cast<f16>(matmul(cast<f32>(x), w))                  w constant f16
//   y = cast<f16>(matmul(cast<f32>(x), dequantize(q, widen(scale), zp)))
//   y = cast<f16>(matmul(cast<f32>(a), cast<f32>(b)))      a, b not constant
//   y = cast<f16>(attention(cast<f32>(q), cast<f32>(k), cast<f32>(v)))
//   y = cast<f16>(conv(cast<f32>(x), w32, b32))     w32, b32: f32 copies
//
// The second form is W4A16/W8A16 (a QDQ `DequantizeLinear` of int4/int8
// values with float16 scales into a float16 `MatMul`). Scales widen at
// compile time (exactly: every float16 and bfloat16 is a float32); x is
// cast once per value however many matmuls read it. (A 16-bit weight that
// another op also reads, a tied embedding table, is not packed in panels
// and runs the general kernel, on float32 activations still.) The product sums
// in float32 and rounds to the model's type once (a dequantized weight is not
// rounded to float16 first, as the ONNX definition rounds it). The third
// form is attention's products in a float16 graph: the general kernel would
// convert every operand in its inner loop, the casts are linear in the
// operands' sizes and the product is not. The fourth is a fused attention
// (and its mask, when 16-bit) on the float32 attention kernel. The fifth is
// a convolution on the float32 kernels (conv_gemm.h, conv_depthwise.h; the
// 16-bit direct loop is 40x slower or worse): a constant weight and bias
// are copied to float32 at compile time, so the artifact stores them at
// twice their 16-bit size.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_LOWERING_WIDENHALFMATMULS_H
#define ANVIL_COMPILER_LOWERING_WIDENHALFMATMULS_H

#include "dialects/Anvil/AnvilOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace anvil::lowering {

/// Rewrites the 16-bit-float matmuls of `func` into the float32 forms
/// above: those whose right-hand side is a constant 2-D weight of their
/// float type, those of two non-constant operands of their float type
/// (attention's products), 16-bit anvil.attention ops, and those whose
/// right-hand side is an anvil.dequantize of
/// constant values with constant scales of that type (integer or no zero
/// points) where `kernelTakes` accepts the float32 matmul built (the others
/// are left as they are: their dequantized weight would otherwise be
/// float32 at run time, twice the bytes). Never fails.
void widenHalfMatmuls(mlir::func::FuncOp func,
                      llvm::function_ref<bool(MatmulOp widened)> kernelTakes);

} // namespace anvil::lowering

#endif // ANVIL_COMPILER_LOWERING_WIDENHALFMATMULS_H
