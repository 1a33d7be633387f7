//===- RecognizeActivations.cpp - decomposed SiLU and GELU to one op ------===//
//
// SiLU is `x * sigmoid(x)`; GELU (Hendrycks & Gimpel 2016) is exported as
// `0.5 * x * (1 + erf(x / sqrt 2))`, or in its tanh approximation
// `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))`. The products are
// flattened into factors, so any association and operand order matches.
//
//===----------------------------------------------------------------------===//

#include "compiler/Transforms/Passes.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/AnvilPatterns.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace anvil {
#define GEN_PASS_DEF_ANVILRECOGNIZEACTIVATIONS
#include "compiler/Transforms/Passes.h.inc"
} // namespace anvil

using namespace mlir;

namespace anvil {
namespace {

constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr double kGeluCubic = 0.044715;
// Exporters store these constants in float32.
constexpr double kTol = 1e-6;

/// The factors of a product: leaves of nested muls that keep `type`, plus
/// the product of the scalar constants among them. Fails (returns false) on
/// a factor that broadcasts the product to a larger shape.
bool collectFactors(Value value, Type type, SmallVectorImpl<Value> &factors,
                    double &constant, int depth = 0) {
  if (auto mul = value.getDefiningOp<MulOp>();
      mul && mul.getType() == type && depth < 4) {
    return collectFactors(mul.getLhs(), type, factors, constant, depth + 1) &&
           collectFactors(mul.getRhs(), type, factors, constant, depth + 1);
  }
  if (std::optional<double> c = getUniformConstant(value)) {
    auto shaped = value.getType().dyn_cast<ShapedType>();
    if (!shaped || shaped.getNumElements() != 1)
      return false;
    constant *= *c;
    return true;
  }
  if (value.getType() != type)
    return false;
  factors.push_back(value);
  return true;
}

/// `a + 1` (either order): returns a.
Value matchPlusOne(Value value) {
  auto add = value.getDefiningOp<AddOp>();
  if (!add)
    return {};
  if (isUniformConstant(add.getRhs(), 1.0, 0.0))
    return add.getLhs();
  if (isUniformConstant(add.getLhs(), 1.0, 0.0))
    return add.getRhs();
  return {};
}

/// `x * c` or `x / (1/c)` with a scalar constant: returns x (the product
/// must keep x's type).
Value matchScaledBy(Value value, double c) {
  SmallVector<Value> factors;
  double constant = 1.0;
  if (auto div = value.getDefiningOp<DivOp>()) {
    if (div.getType() == div.getLhs().getType() &&
        isUniformConstant(div.getRhs(), 1.0 / c, kTol))
      return div.getLhs();
    return {};
  }
  if (!value.getDefiningOp<MulOp>() ||
      !collectFactors(value, value.getType(), factors, constant) ||
      factors.size() != 1 || std::abs(constant - c) > kTol * std::abs(c))
    return {};
  return factors[0];
}

/// `x^3` as pow(x, 3) or a product of three x.
bool isCube(Value value, Value x) {
  if (auto pow = value.getDefiningOp<PowOp>())
    return pow.getLhs() == x && pow.getType() == x.getType() &&
           isUniformConstant(pow.getRhs(), 3.0, 0.0);
  SmallVector<Value> factors;
  double constant = 1.0;
  return value.getDefiningOp<MulOp>() &&
         collectFactors(value, value.getType(), factors, constant) &&
         constant == 1.0 && factors.size() == 3 &&
         llvm::all_of(factors, [&](Value f) { return f == x; });
}

/// `x + 0.044715 x^3` (either order).
bool isGeluTanhInner(Value value, Value x) {
  auto add = value.getDefiningOp<AddOp>();
  if (!add || add.getType() != x.getType())
    return false;
  for (unsigned i = 0; i < 2; ++i) {
    if (add->getOperand(i) != x)
      continue;
    Value cube = matchScaledBy(add->getOperand(1 - i), kGeluCubic);
    if (cube && isCube(cube, x))
      return true;
  }
  return false;
}

/// The product {x, 1 + f(x)} * 0.5 with f the erf or tanh form.
struct GeluPattern : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp op,
                                PatternRewriter &rewriter) const override {
    if (!hasFloatElements(op.getResult()))
      return failure();
    SmallVector<Value> factors;
    double constant = 1.0;
    if (!collectFactors(op.getResult(), op.getType(), factors, constant) ||
        factors.size() != 2 || std::abs(constant - 0.5) > kTol)
      return failure();
    for (unsigned i = 0; i < 2; ++i) {
      Value x = factors[i];
      Value inner = matchPlusOne(factors[1 - i]);
      if (!inner)
        continue;
      if (auto erf = inner.getDefiningOp<ErfOp>()) {
        if (matchScaledBy(erf.getInput(), 1.0 / kSqrt2) != x)
          continue;
        rewriter.replaceOpWithNewOp<GeluOp>(op, op.getType(), x,
                                            GeluApproximation::none);
        return success();
      }
      if (auto tanh = inner.getDefiningOp<TanhOp>()) {
        Value poly = matchScaledBy(tanh.getInput(), kSqrt2OverPi);
        if (!poly || !isGeluTanhInner(poly, x))
          continue;
        rewriter.replaceOpWithNewOp<GeluOp>(op, op.getType(), x,
                                            GeluApproximation::tanh);
        return success();
      }
    }
    return failure();
  }
};

struct RecognizeActivationsPass
    : impl::AnvilRecognizeActivationsBase<RecognizeActivationsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateSiluPatterns(patterns);
    patterns.add<GeluPattern>(&getContext());
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns));
  }
};

} // namespace
} // namespace anvil
