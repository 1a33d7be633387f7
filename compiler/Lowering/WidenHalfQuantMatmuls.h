//===- WidenHalfQuantMatmuls.h - W4A16/W8A16 onto the quantized kernel -*- C++
//-*-===//
//
// A float16 or bfloat16 model quantized in QDQ form (`DequantizeLinear` of
// an int4/int8 weight with float16 scales, read by a float16 `MatMul`:
// W4A16, W8A16) imports as a half-precision matmul of a dequantized
// constant. The quantized kernel (matmul_quant) takes float32 activations
// and scales, so before bufferization such a matmul is rewritten in
// float32 around the same integer weight:
//
//   y = cast<f16>(matmul(cast<f32>(x), dequantize(q, widen(scale), zp)))
//
// The scales widen at compile time (exactly: every float16 and bfloat16 is
// a float32); x is cast once per value however many matmuls read it. The
// product sums in float32 and rounds to the model's type once, as the
// float16 matmul it replaces did (there the dequantized weight was also
// rounded to float16 first; here it is not).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_LOWERING_WIDENHALFQUANTMATMULS_H
#define ANVIL_COMPILER_LOWERING_WIDENHALFQUANTMATMULS_H

#include "dialects/Anvil/AnvilOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace anvil::lowering {

/// Rewrites every 16-bit-float matmul of `func` whose right-hand side is an
/// anvil.dequantize of constant values with constant scales of the same
/// float type (and integer or no zero points) into the float32 form above,
/// where `kernelTakes` accepts the float32 matmul built; the others are
/// left as they are (their dequantized weight would otherwise be float32
/// at run time, twice the bytes). Never fails: a matmul it does not take
/// stays on the general matmul.
void widenHalfQuantMatmuls(
    mlir::func::FuncOp func,
    llvm::function_ref<bool(MatmulOp widened)> kernelTakes);

} // namespace anvil::lowering

#endif // ANVIL_COMPILER_LOWERING_WIDENHALFQUANTMATMULS_H
