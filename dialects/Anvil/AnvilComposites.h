//===- AnvilComposites.h - decomposing imported composites -------*- C++
//-*-===//
//
// ONNX composites whose decomposition needs static shapes (Attention's
// causal mask and default scale) are imported as one op when their shapes
// are not known yet, and decomposed after shape folding by
// `anvil-decompose-composites`. The importer calls the same builder when
// the shapes are already static, so both paths give the same IR.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_DIALECTS_ANVIL_ANVILCOMPOSITES_H
#define ANVIL_DIALECTS_ANVIL_ANVILCOMPOSITES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <optional>

namespace anvil {

/// ONNX Attention (opset 23) on [batch, heads, seq, dim] operands whose
/// keys and values already include `pastKey`'s cached positions: pads the
/// additive `mask` (may be null) to the keys with -inf, adds the causal
/// mask when `causal` (query i sees keys up to past + i), and builds
/// anvil.attention with `scale` (default 1/sqrt(head_dim)). Needs static
/// query and key shapes, the mask's last dim and the past length; reports
/// what is missing through `emitError` and fails otherwise.
/// What buildOnnxAttention passes to anvil.attention: the additive mask
/// (null when none; padded to the keys, the causal part added) and the
/// scale.
struct OnnxAttentionMask {
  mlir::Value mask;
  double scale;
};

/// buildOnnxAttention's mask and scale alone, for the importer's unfused
/// attention (softcap, qk_matmul_output). Same shape requirements.
mlir::FailureOr<OnnxAttentionMask> buildOnnxAttentionMask(
    mlir::OpBuilder &builder, mlir::Location loc, mlir::Value query,
    mlir::Value key, mlir::Value mask, mlir::Value pastKey,
    std::optional<double> scale, bool causal,
    llvm::function_ref<mlir::InFlightDiagnostic()> emitError);

mlir::FailureOr<mlir::Value>
buildOnnxAttention(mlir::OpBuilder &builder, mlir::Location loc,
                   mlir::Value query, mlir::Value key, mlir::Value value,
                   mlir::Value mask, mlir::Value pastKey,
                   std::optional<double> scale, bool causal,
                   llvm::function_ref<mlir::InFlightDiagnostic()> emitError);

} // namespace anvil

#endif // ANVIL_DIALECTS_ANVIL_ANVILCOMPOSITES_H
