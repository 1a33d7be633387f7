//===- IndexingOps.cpp - importers for ONNX indexing ops -----------------===//
//
// GatherND, ScatterElements (and the deprecated Scatter, which the version
// converter turns into ScatterElements for models below opset 13), TopK,
// and small ops (OneHot, EyeLike, Hardmax, LpNormalization, ...) that
// build on existing anvil ops.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Onnx/OnnxOpTable.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Anvil/ShapeUtils.h"

#include "onnx/onnx_pb.h"

#include <cctype>

using namespace mlir;

namespace anvil::onnx_import {
namespace {

/// Reports unless `indices` holds int32 or int64 elements.
LogicalResult checkIndexType(NodeContext &ctx, Value indices) {
  Type t = ctx.elementTypeOf(indices);
  if (t.isInteger(32) || t.isInteger(64) || t.isSignedInteger(32) ||
      t.isSignedInteger(64))
    return success();
  return ctx.error() << "indices must be int32 or int64, got " << t;
}

/// GatherND (opset 11+; batch_dims from 12): the last dim of `indices`
/// indexes dims [batch_dims, batch_dims + m) of `data`.
LogicalResult importGatherND(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "data"),
        indices = ctx.requiredInput(1, "indices");
  if (!x || !indices || failed(checkIndexType(ctx, indices)))
    return failure();
  int64_t batchDims = ctx.attrInt("batch_dims", 0);
  if (batchDims < 0)
    return ctx.error() << "batch_dims " << batchDims << " is negative";
  return ctx.produce(
      ctx.create<GatherNdOp>(ctx.elementTypeOf(x), x, indices,
                             ctx.builder.getI64IntegerAttr(batchDims)));
}

/// ScatterElements (opset 11+; reduction add/mul from 16, max/min from 18).
LogicalResult importScatterElements(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "data"),
        indices = ctx.requiredInput(1, "indices"),
        updates = ctx.requiredInput(2, "updates");
  if (!x || !indices || !updates || failed(checkIndexType(ctx, indices)))
    return failure();
  FailureOr<int64_t> axis =
      ctx.normalizeAxis(ctx.attrInt("axis", 0), ctx.rankOf(x));
  if (failed(axis))
    return failure();
  std::string reduction = ctx.attrString("reduction", "none");
  if (reduction != "none" && reduction != "add" && reduction != "mul" &&
      reduction != "max" && reduction != "min")
    return ctx.error() << "unknown reduction '" << reduction << "'";
  return ctx.produce(
      ctx.create<ScatterElementsOp>(ctx.elementTypeOf(x), x, indices, updates,
                                    ctx.builder.getI64IntegerAttr(*axis),
                                    ctx.builder.getStringAttr(reduction)));
}

/// TopK (opset 10+): K is input 1, a one-element int64 tensor; it must be
/// a compile-time constant by lowering (folding may make it one).
/// `sorted` = 0 is accepted: the results come sorted, an order ONNX allows.
LogicalResult importTopK(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X"), k = ctx.requiredInput(1, "K");
  if (!x || !k || failed(checkIndexType(ctx, k)))
    return failure();
  int64_t rank = ctx.rankOf(x);
  if (rank < 1)
    return ctx.error() << "needs an input of known rank >= 1";
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.attrInt("axis", -1), rank);
  if (failed(axis))
    return failure();
  if (k.isa<BlockArgument>())
    return ctx.error() << "input 1 (K) is a graph input, but K must be a "
                          "compile-time constant (or fold to one)";
  if (std::optional<SmallVector<int64_t>> value = getConstantInts(k)) {
    if (value->size() != 1)
      return ctx.error() << "K must hold one value, got " << value->size();
    int64_t dim = x.getType().cast<RankedTensorType>().getDimSize(*axis);
    if ((*value)[0] < 0)
      return ctx.error() << "K " << (*value)[0] << " is negative";
    if (dim != kDynamic && (*value)[0] > dim)
      return ctx.error() << "K " << (*value)[0] << " exceeds the size " << dim
                         << " of axis " << *axis;
  }
  OpBuilder &b = ctx.builder;
  SmallVector<Type> placeholders{UnrankedTensorType::get(ctx.elementTypeOf(x)),
                                 UnrankedTensorType::get(b.getI64Type())};
  auto op =
      b.create<TopKOp>(ctx.loc, placeholders, x, k, b.getI64IntegerAttr(*axis),
                       b.getBoolAttr(ctx.attrInt("largest", 1) != 0));
  if (failed(inferResultTypesInPlace(op)))
    return failure();
  ctx.results.push_back(op.getValues());
  ctx.results.push_back(op.getIndices());
  return success();
}

/// Builds chains of existing anvil ops for the ops composed of them; after
/// the first failure every call returns null.
class Chain {
public:
  explicit Chain(NodeContext &ctx) : ctx(ctx), b(ctx.builder) {}

  Value take(FailureOr<Value> v) {
    if (failed(v) || hasFailed) {
      hasFailed = true;
      return Value();
    }
    return *v;
  }
  bool ok(std::initializer_list<Value> values) {
    return !hasFailed && llvm::all_of(values, [](Value v) { return (bool)v; });
  }
  bool failedAny() const { return hasFailed; }

  /// A constant of `shape` whose elements are 0..n-1 along the one dim
  /// larger than 1 (i64): a position index that broadcasts along `axis`.
  Value iota(int64_t n, int64_t axis, int64_t rank) {
    SmallVector<int64_t> shape(rank, 1), values(n);
    shape[axis] = n;
    for (int64_t i = 0; i < n; ++i)
      values[i] = i;
    auto type = RankedTensorType::get(shape, b.getI64Type());
    return take(ctx.create<ConstantOp>(
        b.getI64Type(),
        DenseElementsAttr::get(type, ArrayRef<int64_t>(values))));
  }
  Value compare(ComparePredicate p, Value x, Value y) {
    if (!ok({x, y}))
      return take(failure());
    return take(ctx.create<CompareOp>(
        b.getI1Type(), x, y, ComparePredicateAttr::get(b.getContext(), p)));
  }
  Value where(Value c, Value x, Value y) {
    if (!ok({c, x, y}))
      return take(failure());
    return take(ctx.create<WhereOp>(ctx.elementTypeOf(x), c, x, y));
  }
  template <typename OpTy> Value binary(Value x, Value y) {
    if (!ok({x, y}))
      return take(failure());
    return take(ctx.create<OpTy>(ctx.elementTypeOf(x), x, y));
  }
  Value cast(Value x, Type to) {
    if (!ok({x}))
      return take(failure());
    if (ctx.elementTypeOf(x) == to)
      return x;
    return take(ctx.create<CastOp>(to, x));
  }
  Value reshape(Value x, ArrayRef<int64_t> shape) {
    if (!ok({x}))
      return take(failure());
    return take(ctx.create<ReshapeOp>(
        ctx.elementTypeOf(x), x, ctx.constantI64(shape), b.getBoolAttr(false)));
  }

private:
  NodeContext &ctx;
  OpBuilder &b;
  bool hasFailed = false;
};

//===--- Einsum -----------------------------------------------------------===//

/// One operand of an Einsum while it is being rewritten: its value and one
/// label per dim (ellipsis dims get labels below ' ').
struct EinsumTerm {
  Value value;
  std::string labels;
};

/// Rewrites Einsum into transpose, reshape, mul, reduce and matmul ops.
/// Needs static shapes (the reshapes around the matmuls are constants).
class EinsumBuilder {
public:
  explicit EinsumBuilder(NodeContext &ctx) : ctx(ctx) {}

  LogicalResult run() {
    std::string equation;
    for (char c : ctx.attrString("equation", ""))
      if (c != ' ')
        equation.push_back(c);
    if (!ctx.attr("equation"))
      return ctx.error() << "needs an equation attribute";
    if (ctx.numInputs() == 0)
      return ctx.error() << "needs at least one input";
    size_t arrow = equation.find("->");
    // Letters and at most one "..." per operand (and in the output).
    auto validSpec = [](StringRef spec) {
      size_t periods = llvm::count(spec, '.');
      if (periods != 0 && (periods != 3 || spec.find("...") == StringRef::npos))
        return false;
      return llvm::all_of(spec, [](char c) {
        return c == '.' || std::isalpha((unsigned char)c);
      });
    };
    std::string lhs = equation.substr(0, arrow);
    SmallVector<std::string> specs;
    for (size_t start = 0;;) {
      size_t comma = lhs.find(',', start);
      specs.push_back(lhs.substr(start, comma - start));
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
    if (specs.size() != ctx.numInputs())
      return ctx.error() << "the equation '" << equation << "' names "
                         << specs.size() << " operands but the node has "
                         << ctx.numInputs() << " inputs";
    // Ellipsis dims: as many as the widest operand's, aligned right.
    int64_t ellipsis = 0;
    SmallVector<int64_t> ranks;
    for (auto [i, spec] : llvm::enumerate(specs)) {
      Value v = ctx.input(i);
      if (!v)
        return ctx.error() << "input " << i << " is missing";
      auto type = v.getType().dyn_cast<RankedTensorType>();
      if (!type || !type.hasStaticShape())
        return ctx.error() << "needs inputs of static shape (input " << i
                           << " is not); bind the model's dimensions";
      if (ctx.elementTypeOf(v) != ctx.elementTypeOf(ctx.input(0)))
        return ctx.error() << "inputs have different element types";
      size_t dots = spec.find("...");
      int64_t named =
          (int64_t)spec.size() - (dots == std::string::npos ? 0 : 3);
      if (!validSpec(spec))
        return ctx.error() << "invalid operand '" << spec << "' in '"
                           << equation << "'";
      if (dots == std::string::npos ? named != type.getRank()
                                    : named > type.getRank())
        return ctx.error() << "operand " << i << " ('" << spec
                           << "') does not match its rank " << type.getRank();
      ellipsis = std::max(ellipsis, type.getRank() - named);
      ranks.push_back(type.getRank());
    }
    std::string ellipsisLabels;
    for (int64_t e = 0; e < ellipsis; ++e)
      ellipsisLabels.push_back(char(1 + e));
    SmallVector<EinsumTerm> terms;
    for (auto [i, spec] : llvm::enumerate(specs)) {
      std::string labels;
      size_t dots = spec.find("...");
      if (dots == std::string::npos) {
        labels = spec;
      } else {
        int64_t e = ranks[i] - ((int64_t)spec.size() - 3);
        labels = spec.substr(0, dots) + ellipsisLabels.substr(ellipsis - e) +
                 spec.substr(dots + 3);
      }
      terms.push_back({ctx.input(i), labels});
    }
    std::string output;
    if (arrow != std::string::npos) {
      std::string spec = equation.substr(arrow + 2);
      if (!validSpec(spec))
        return ctx.error() << "invalid output '" << spec << "' in '" << equation
                           << "'";
      size_t dots = spec.find("...");
      output =
          dots == std::string::npos
              ? spec
              : spec.substr(0, dots) + ellipsisLabels + spec.substr(dots + 3);
      for (char c : output)
        if (llvm::count(output, c) > 1)
          return ctx.error() << "label '" << c << "' repeats in the output";
    } else {
      // Implicit: the ellipsis dims, then labels used once, alphabetically.
      output = ellipsisLabels;
      std::string all;
      for (EinsumTerm &t : terms)
        all += t.labels;
      std::string once;
      for (char c : all)
        if (std::isalpha((unsigned char)c) && llvm::count(all, c) == 1)
          once.push_back(c);
      llvm::sort(once);
      output += once;
    }
    for (char c : output) {
      bool found = llvm::any_of(terms, [&](EinsumTerm &t) {
        return t.labels.find(c) != std::string::npos;
      });
      if (!found)
        return ctx.error() << "output label '" << c
                           << "' appears in no operand";
    }
    // Diagonals, then labels no one else needs.
    for (size_t i = 0; i < terms.size(); ++i) {
      if (failed(takeDiagonals(terms[i])))
        return failure();
      std::string needed = output;
      for (size_t j = 0; j < terms.size(); ++j)
        if (j != i)
          needed += terms[j].labels;
      if (failed(sumOut(terms[i], needed)))
        return failure();
    }
    EinsumTerm acc = terms[0];
    for (size_t k = 1; k < terms.size(); ++k) {
      std::string keep = output;
      for (size_t j = k + 1; j < terms.size(); ++j)
        keep += terms[j].labels;
      if (failed(contract(acc, terms[k], keep)))
        return failure();
    }
    if (failed(sumOut(acc, output)))
      return failure();
    SmallVector<int64_t> perm;
    for (char c : output)
      perm.push_back(acc.labels.find(c));
    Value result = transpose(acc.value, perm);
    if (!result)
      return failure();
    ctx.results.push_back(result);
    return success();
  }

private:
  NodeContext &ctx;

  static ArrayRef<int64_t> shapeOf(Value v) {
    return v.getType().cast<RankedTensorType>().getShape();
  }
  Type elementType() { return ctx.elementTypeOf(ctx.input(0)); }

  Value take(FailureOr<Value> v) { return succeeded(v) ? *v : Value(); }

  Value transpose(Value v, ArrayRef<int64_t> perm) {
    bool identity = true;
    for (auto [i, p] : llvm::enumerate(perm))
      identity &= (int64_t)i == p;
    if (identity)
      return v;
    return take(ctx.create<TransposeOp>(
        elementType(), v, ctx.builder.getDenseI64ArrayAttr(perm)));
  }
  Value reshape(Value v, ArrayRef<int64_t> shape) {
    if (shapeOf(v) == shape)
      return v;
    return take(ctx.create<ReshapeOp>(elementType(), v, ctx.constantI64(shape),
                                      ctx.builder.getBoolAttr(false)));
  }
  Value reduceSum(Value v, ArrayRef<int64_t> axes) {
    if (axes.empty())
      return v;
    return take(ctx.create<ReduceOp>(
        elementType(), v,
        ReduceKindAttr::get(ctx.builder.getContext(), ReduceKind::sum),
        ctx.builder.getDenseI64ArrayAttr(axes),
        ctx.builder.getBoolAttr(false)));
  }

  /// x[..i..i..] -> x[..i..]: multiplies by an identity mask over the two
  /// dims and sums the second away.
  LogicalResult takeDiagonals(EinsumTerm &t) {
    for (size_t i = 0; i < t.labels.size(); ++i) {
      size_t j = t.labels.find(t.labels[i], i + 1);
      if (j == std::string::npos)
        continue;
      ArrayRef<int64_t> shape = shapeOf(t.value);
      int64_t n = shape[i];
      if (shape[j] != n)
        return ctx.error() << "label '" << t.labels[i]
                           << "' repeats with sizes " << n << " and "
                           << shape[j];
      // where(iota_i == iota_j, 1, 0) over dims i and j: folds to a
      // constant when small, never an n*n attribute list.
      int64_t rank = shape.size();
      Chain c(ctx);
      Value eye = c.compare(ComparePredicate::eq, c.iota(n, i, rank),
                            c.iota(n, j, rank));
      Value mask = c.where(eye, ctx.constantScalar(elementType(), 1.0),
                           ctx.constantScalar(elementType(), 0.0));
      Value masked = mask
                         ? take(ctx.create<MulOp>(elementType(), t.value, mask))
                         : Value();
      t.value = masked ? reduceSum(masked, {(int64_t)j}) : Value();
      if (!t.value)
        return failure();
      t.labels.erase(j, 1);
      --i; // the label may repeat a third time
    }
    return success();
  }

  /// Sums away the labels of `t` not in `needed`.
  LogicalResult sumOut(EinsumTerm &t, StringRef needed) {
    SmallVector<int64_t> axes;
    std::string kept;
    for (auto [i, c] : llvm::enumerate(t.labels)) {
      if (needed.find(c) == StringRef::npos)
        axes.push_back(i);
      else
        kept.push_back(c);
    }
    t.value = reduceSum(t.value, axes);
    t.labels = kept;
    return success(t.value != nullptr);
  }

  /// a <- a (x) b over their shared labels, keeping the labels in `keep`:
  /// [batch, left, contracted] x [batch, contracted, right] as one matmul.
  LogicalResult contract(EinsumTerm &a, EinsumTerm &b, std::string keep) {
    if (failed(sumOut(a, keep + b.labels)) ||
        failed(sumOut(b, keep + a.labels)))
      return failure();
    std::string batch, left, contracted, right;
    for (char c : a.labels) {
      bool inB = b.labels.find(c) != std::string::npos;
      bool kept = keep.find(c) != std::string::npos;
      (inB ? (kept ? batch : contracted) : left).push_back(c);
    }
    for (char c : b.labels)
      if (a.labels.find(c) == std::string::npos)
        right.push_back(c);
    ArrayRef<int64_t> aShape = shapeOf(a.value), bShape = shapeOf(b.value);
    auto sizeIn = [](const EinsumTerm &t, ArrayRef<int64_t> shape, char c) {
      return shape[t.labels.find(c)];
    };
    SmallVector<int64_t> aPerm, bPerm, aDims, bDims, outDims;
    int64_t l = 1, k = 1, r = 1;
    for (char c : batch) {
      int64_t x = sizeIn(a, aShape, c), y = sizeIn(b, bShape, c);
      if (x != y && x != 1 && y != 1)
        return ctx.error() << "label '" << c << "' has sizes " << x << " and "
                           << y;
      aPerm.push_back(a.labels.find(c));
      bPerm.push_back(b.labels.find(c));
      aDims.push_back(x);
      bDims.push_back(y);
      outDims.push_back(std::max(x, y));
    }
    for (char c : left) {
      aPerm.push_back(a.labels.find(c));
      l *= sizeIn(a, aShape, c);
      outDims.push_back(sizeIn(a, aShape, c));
    }
    for (char c : contracted) {
      int64_t x = sizeIn(a, aShape, c), y = sizeIn(b, bShape, c);
      if (x != y)
        return ctx.error() << "contracted label '" << c << "' has sizes " << x
                           << " and " << y;
      aPerm.push_back(a.labels.find(c));
      bPerm.push_back(b.labels.find(c));
      k *= x;
    }
    for (char c : right) {
      bPerm.push_back(b.labels.find(c));
      r *= sizeIn(b, bShape, c);
      outDims.push_back(sizeIn(b, bShape, c));
    }
    aDims.append({l, k});
    bDims.append({k, r});
    SmallVector<int64_t> productDims(outDims.begin(),
                                     outDims.begin() + batch.size());
    productDims.append({l, r});
    Value x = reshape(transpose(a.value, aPerm), aDims);
    Value y = x ? reshape(transpose(b.value, bPerm), bDims) : Value();
    Value product =
        y ? take(ctx.create<MatmulOp>(elementType(), x, y, false)) : Value();
    a.value = product ? reshape(product, outDims) : Value();
    a.labels = batch + left + right;
    return success(a.value != nullptr);
  }
};

/// Einsum (opset 12+).
LogicalResult importEinsum(NodeContext &ctx) {
  return EinsumBuilder(ctx).run();
}

//===--- OneHot, EyeLike, Hardmax, LpNormalization, ReverseSequence -------===//
// Each is built from existing anvil ops (with Chain).

/// The static shape of `x`, or an error naming `what`.
FailureOr<SmallVector<int64_t>> staticShape(NodeContext &ctx, Value x,
                                            StringRef what) {
  auto type = x.getType().dyn_cast<RankedTensorType>();
  if (!type || !type.hasStaticShape()) {
    ctx.error() << "needs " << what
                << " of static shape; bind the model's dimensions";
    return failure();
  }
  return SmallVector<int64_t>(type.getShape());
}

/// EyeLike (opset 9+): ones where column - row == k, of the input's
/// (static) shape and of `dtype` (default: the input's type). Built as
/// where(iota_cols == iota_rows + k, 1, 0), which folds to a constant when
/// small.
LogicalResult importEyeLike(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input");
  if (!x)
    return failure();
  auto shape = staticShape(ctx, x, "an input");
  if (failed(shape))
    return failure();
  if (shape->size() != 2)
    return ctx.error() << "needs a 2-D input, got rank " << shape->size();
  Type type = ctx.elementTypeOf(x);
  if (const onnx::AttributeProto *dtype =
          ctx.typedAttr("dtype", onnx::AttributeProto::INT)) {
    type = convertDataType(ctx.builder.getContext(), (int)dtype->i());
    if (!type || !type.isIntOrFloat())
      return ctx.error() << "unsupported dtype " << dtype->i();
  }
  int64_t k = ctx.attrInt("k", 0);
  Chain c(ctx);
  Value diagonal =
      c.compare(ComparePredicate::eq, c.iota((*shape)[1], 1, 2),
                c.binary<AddOp>(c.iota((*shape)[0], 0, 2),
                                ctx.constantI64({k}, /*scalar=*/true)));
  Value y = c.where(diagonal, ctx.constantScalar(type, 1.0),
                    ctx.constantScalar(type, 0.0));
  if (c.failedAny() || !y)
    return failure();
  ctx.results.push_back(y);
  return success();
}

/// OneHot (opset 11+): depth is a constant scalar; values = [off, on];
/// indices in [-depth, depth) (negative ones count from the end), others
/// give all-off rows.
LogicalResult importOneHot(NodeContext &ctx) {
  Value indices = ctx.requiredInput(0, "indices"),
        values = ctx.requiredInput(2, "values");
  if (!indices || !values || !ctx.requiredInput(1, "depth"))
    return failure();
  auto depthValue = ctx.constantScalarInput(1, "depth");
  if (failed(depthValue))
    return failure();
  double depthReal = **depthValue;
  if (!(depthReal >= 1) || depthReal > (double)(int64_t(1) << 24))
    return ctx.error() << "depth " << depthReal << " is out of range [1, 2^24]";
  int64_t depth = (int64_t)depthReal;
  int64_t rank = ctx.rankOf(indices);
  if (rank < 0)
    return ctx.error() << "needs indices of known rank";
  FailureOr<int64_t> axis =
      ctx.normalizeAxis(ctx.attrInt("axis", -1), rank + 1);
  if (failed(axis))
    return failure();
  auto valuesType = values.getType().dyn_cast<RankedTensorType>();
  if (!valuesType || valuesType.getNumElements() != 2 ||
      valuesType.getRank() != 1)
    return ctx.error() << "values must be a 1-D tensor of 2 elements";
  OpBuilder &b = ctx.builder;
  Chain c(ctx);
  Value index = c.cast(indices, b.getI64Type());
  Value depthConst = ctx.constantI64({depth}, /*scalar=*/true);
  Value zero = ctx.constantI64({0}, /*scalar=*/true);
  Value normalized = c.where(c.compare(ComparePredicate::lt, index, zero),
                             c.binary<AddOp>(index, depthConst), index);
  Value unsqueezed =
      normalized
          ? c.take(ctx.create<UnsqueezeOp>(b.getI64Type(), normalized,
                                           b.getDenseI64ArrayAttr({*axis})))
          : Value();
  Value hot = c.compare(ComparePredicate::eq, unsqueezed,
                        c.iota(depth, 0, rank + 1 - *axis));
  Type elementType = ctx.elementTypeOf(values);
  auto pick = [&](int64_t i) {
    return c.take(ctx.create<GatherOp>(elementType, values,
                                       ctx.constantI64({i}, true),
                                       b.getI64IntegerAttr(0)));
  };
  Value y = c.where(hot, pick(1), pick(0));
  if (c.failedAny() || !y)
    return failure();
  ctx.results.push_back(y);
  return success();
}

/// Hardmax (opset 13+): 1 at the first largest element along `axis`.
LogicalResult importHardmax(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input");
  if (!x)
    return failure();
  auto shape = staticShape(ctx, x, "an input");
  if (failed(shape))
    return failure();
  int64_t rank = shape->size();
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.attrInt("axis", -1), rank);
  if (failed(axis))
    return failure();
  OpBuilder &b = ctx.builder;
  Type type = ctx.elementTypeOf(x);
  Chain c(ctx);
  Value arg =
      c.take(ctx.create<ArgMaxOp>(b.getI64Type(), x, b.getI64IntegerAttr(*axis),
                                  b.getBoolAttr(true), b.getBoolAttr(false)));
  Value hot = c.compare(ComparePredicate::eq, arg,
                        c.iota((*shape)[*axis], 0, rank - *axis));
  Value y = c.where(hot, ctx.constantScalar(type, 1.0),
                    ctx.constantScalar(type, 0.0));
  // `where` broadcasts to the shape of the comparison, which is x's.
  if (c.failedAny() || !y)
    return failure();
  ctx.results.push_back(y);
  return success();
}

/// LpNormalization (opset 1+): x / ||x||_p along `axis`, p = 1 or 2 (a
/// zero vector gives NaN, as 0/0).
LogicalResult importLpNormalization(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input");
  if (!x)
    return failure();
  Type type = ctx.elementTypeOf(x);
  if (!type.isa<FloatType>())
    return ctx.error() << "needs a floating-point input, got " << type;
  FailureOr<int64_t> axis =
      ctx.normalizeAxis(ctx.attrInt("axis", -1), ctx.rankOf(x));
  if (failed(axis))
    return failure();
  int64_t p = ctx.attrInt("p", 2);
  if (p != 1 && p != 2)
    return ctx.error() << "p must be 1 or 2, got " << p;
  OpBuilder &b = ctx.builder;
  Chain c(ctx);
  Value norm = c.take(ctx.create<ReduceOp>(
      type, x,
      ReduceKindAttr::get(b.getContext(),
                          p == 1 ? ReduceKind::l1 : ReduceKind::l2),
      b.getDenseI64ArrayAttr({*axis}), b.getBoolAttr(true)));
  Value y = c.binary<DivOp>(x, norm);
  if (c.failedAny() || !y)
    return failure();
  ctx.results.push_back(y);
  return success();
}

/// ReverseSequence (opset 10+): along time_axis, the first
/// sequence_lens[b] elements of batch b reversed. One gather_elements with
/// index t < len ? len - 1 - t : t (a length beyond the time dim is a
/// run-time index error).
LogicalResult importReverseSequence(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input"),
        lens = ctx.requiredInput(1, "sequence_lens");
  if (!x || !lens || failed(checkIndexType(ctx, lens)))
    return failure();
  auto shape = staticShape(ctx, x, "an input");
  if (failed(shape))
    return failure();
  int64_t rank = shape->size();
  int64_t batchAxis = ctx.attrInt("batch_axis", 1);
  int64_t timeAxis = ctx.attrInt("time_axis", 0);
  if (rank < 2 || batchAxis < 0 || batchAxis > 1 || timeAxis < 0 ||
      timeAxis > 1 || batchAxis == timeAxis)
    return ctx.error() << "needs batch_axis and time_axis to be 0 and 1 (in "
                          "either order) of an input of rank >= 2";
  int64_t t = (*shape)[timeAxis], batch = (*shape)[batchAxis];
  if (ctx.rankOf(lens) != 1)
    return ctx.error() << "sequence_lens must be 1-D";
  OpBuilder &b = ctx.builder;
  Chain c(ctx);
  SmallVector<int64_t> lensShape(2, 1);
  lensShape[batchAxis] = batch;
  Value len = c.reshape(c.cast(lens, b.getI64Type()), lensShape);
  Value time = c.iota(t, timeAxis, 2);
  Value one = ctx.constantI64({1}, /*scalar=*/true);
  Value reversed = c.binary<SubOp>(c.binary<SubOp>(len, one), time);
  Value index =
      c.where(c.compare(ComparePredicate::lt, time, len), reversed, time);
  SmallVector<int64_t> indexShape(rank, 1);
  indexShape[timeAxis] = t;
  indexShape[batchAxis] = batch;
  Value full = index ? c.take(ctx.create<ExpandOp>(b.getI64Type(),
                                                   c.reshape(index, indexShape),
                                                   ctx.constantI64(*shape)))
                     : Value();
  Value y =
      full ? c.take(ctx.create<GatherElementsOp>(ctx.elementTypeOf(x), x, full,
                                                 b.getI64IntegerAttr(timeAxis)))
           : Value();
  if (c.failedAny() || !y)
    return failure();
  ctx.results.push_back(y);
  return success();
}

} // namespace

void addIndexingOps(OpTable &t) {
  t.add("", "GatherND", importGatherND);
  t.add("", "ScatterElements", importScatterElements);
  t.add("", "TopK", importTopK);
  t.add("", "Einsum", importEinsum);
  t.add("", "EyeLike", importEyeLike);
  t.add("", "OneHot", importOneHot);
  t.add("", "Hardmax", importHardmax);
  t.add("", "LpNormalization", importLpNormalization);
  t.add("", "ReverseSequence", importReverseSequence);
}

} // namespace anvil::onnx_import
