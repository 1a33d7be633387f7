//===- ClampEpilogue.cpp - epilogues that only clamp ----------------------===//
//
// Recognizes a matmul/conv epilogue loop (anvil-fuse-matmul-epilogue) that
// only clamps its result in place: the emitter passes it to the kernels as
// a ClampEpilogue (backends/cpu/kernels/common.h), whose bounds they apply
// to their sums as they store them.
//
//===----------------------------------------------------------------------===//

#include "backends/cpu/codegen/ClampEpilogue.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <cmath>

using namespace mlir;
using namespace anvil::kernel;

namespace anvil::backend::cpu {

/// The bounds [lo, hi] when an epilogue only clamps a float result in
/// place: its one input is its output, and its body is max(x, lo), then
/// min(., hi), either alone, with constant bounds that are not NaN (the
/// lowering of Relu and Clip). max_nan(x, lo) and min_nan(., hi) are then
/// common.h's clamp_nan with those bounds, which kernels can apply to
/// their sums in registers (ClampEpilogue). The operand order matters:
/// max_nan(lo, x) gives x on ties (-0 for a Relu of -0), not lo.
std::optional<std::pair<double, double>>
clampEpilogueBounds(ElementwiseOp loop) {
  if (loop.getInputs().size() != 1 || loop.getInputs()[0] != loop.getOutput())
    return std::nullopt;
  auto type = loop.getOutput().getType().cast<MemRefType>();
  if (!type.getElementType().isF32())
    return std::nullopt;
  Block &body = loop.getBody().front();
  Value x = body.getArgument(0);
  double lo = -INFINITY, hi = INFINITY;
  bool haveMax = false, haveMin = false;
  // The bound operand as a finite-or-infinite constant, or nothing.
  auto bound = [](Value v) -> std::optional<double> {
    auto constant = v.getDefiningOp<arith::ConstantOp>();
    if (!constant)
      return std::nullopt;
    auto f = constant.getValue().dyn_cast<FloatAttr>();
    if (!f || !f.getType().isF32() || std::isnan(f.getValueAsDouble()))
      return std::nullopt;
    return f.getValueAsDouble();
  };
  for (Operation &op : body.without_terminator()) {
    if (isa<arith::ConstantOp>(op))
      continue;
    bool isMax = isa<arith::MaxFOp>(op), isMin = isa<arith::MinFOp>(op);
    // max first (at most once), then min (at most once), each on the
    // previous result.
    if ((!isMax && !isMin) || op.getOperand(0) != x || (isMax && haveMax) ||
        (isMax && haveMin) || (isMin && haveMin))
      return std::nullopt;
    std::optional<double> b = bound(op.getOperand(1));
    if (!b)
      return std::nullopt;
    (isMax ? lo : hi) = *b;
    (isMax ? haveMax : haveMin) = true;
    x = op.getResult(0);
  }
  if ((!haveMax && !haveMin) ||
      cast<YieldOp>(body.getTerminator()).getValue() != x)
    return std::nullopt;
  return std::make_pair(lo, hi);
}

} // namespace anvil::backend::cpu
