//===- AnvilPatterns.h - matching helpers and shared patterns ----*- C++
//-*-===//
//
// What the canonicalization patterns (AnvilCanonicalization.cpp) and the
// recognizer passes (compiler/Transforms/Recognize*.cpp) share: reading a
// scalar constant operand, and the rewrites a recognizer reuses.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_DIALECTS_ANVIL_ANVILPATTERNS_H
#define ANVIL_DIALECTS_ANVIL_ANVILPATTERNS_H

#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Value.h"

#include <optional>

namespace anvil {

/// The value of a constant whose elements are all equal (a splat, or a
/// small tensor of one repeated value), as a double; nullopt otherwise.
std::optional<double> getUniformConstant(mlir::Value value);

/// True if `value` is such a constant and equals `expected` within a
/// relative tolerance (exporters write 1/sqrt(2) and friends as float32).
bool isUniformConstant(mlir::Value value, double expected,
                       double relTol = 1e-6);

/// True if the value's element type is a float type.
bool hasFloatElements(mlir::Value value);

/// `x * sigmoid(x)` (either operand order) → `anvil.silu x`.
void populateSiluPatterns(mlir::RewritePatternSet &patterns);

/// `attention(q, repeat_kv(k), repeat_kv(v))` → `attention(q, k, v)`: the
/// unsqueeze/expand/reshape that copies each KV head `q_heads/kv_heads`
/// times is what anvil.attention's grouped heads already do.
void populateAttentionRepeatKvPatterns(mlir::RewritePatternSet &patterns);

} // namespace anvil

#endif // ANVIL_DIALECTS_ANVIL_ANVILPATTERNS_H
