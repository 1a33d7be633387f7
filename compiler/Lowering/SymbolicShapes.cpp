//===- SymbolicShapes.cpp - every ? dim as an expression over the sizes ---===//

#include "compiler/Lowering/SymbolicShapes.h"
#include "dialects/Anvil/AnvilOps.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/ScopeExit.h"

#include <cmath>

using namespace mlir;

namespace anvil::lowering {
namespace {

/// A monomial of degree <= 2 over the sizes: {} is 1, {i} is s_i, {i, j} is
/// s_i * s_j.
using Term = SmallVector<unsigned, 2>;

int64_t termValue(const Term &term, ArrayRef<int64_t> sizes) {
  int64_t value = 1;
  for (unsigned i : term)
    value *= sizes[i];
  return value;
}

/// Solves the least-squares problem A x = y exactly when it has an integer
/// solution (checked by the caller).
std::optional<SmallVector<int64_t>>
fitIntegers(ArrayRef<SmallVector<int64_t>> rows, ArrayRef<int64_t> values) {
  size_t n = rows.front().size();
  // Normal equations in long double; the systems are tiny.
  SmallVector<SmallVector<long double>> m(n, SmallVector<long double>(n + 1));
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j)
        m[i][j] += (long double)rows[r][i] * rows[r][j];
      m[i][n] += (long double)rows[r][i] * values[r];
    }
  for (size_t c = 0; c < n; ++c) {
    size_t pivot = c;
    for (size_t r = c + 1; r < n; ++r)
      if (std::fabs((double)m[r][c]) > std::fabs((double)m[pivot][c]))
        pivot = r;
    if (std::fabs((double)m[pivot][c]) < 1e-9)
      return std::nullopt;
    std::swap(m[c], m[pivot]);
    for (size_t r = 0; r < n; ++r) {
      if (r == c)
        continue;
      long double f = m[r][c] / m[c][c];
      for (size_t k = c; k <= n; ++k)
        m[r][k] -= f * m[c][k];
    }
  }
  SmallVector<int64_t> x;
  for (size_t i = 0; i < n; ++i)
    x.push_back((int64_t)std::llround((double)(m[i][n] / m[i][i])));
  return x;
}

/// The shapes of one instantiation of the program at concrete sizes.
struct Instance {
  SmallVector<int64_t> sizes;
  DenseMap<Value, SmallVector<int64_t>> shapes; // of the original values
  DenseSet<Operation *> folded;                 // original ops
  DenseMap<Value, SmallVector<int64_t>> values; // small integer results
};

LogicalResult instantiate(func::FuncOp func,
                          ArrayRef<SmallVector<DimExpr>> argDims,
                          Instance &instance) {
  IRMapping mapping;
  auto clone = cast<func::FuncOp>(func->clone(mapping));
  auto erase = llvm::make_scope_exit([&] { clone->erase(); });
  Block &body = clone.getBody().front();
  for (auto [arg, dims] : llvm::zip(body.getArguments(), argDims)) {
    SmallVector<int64_t> shape;
    for (DimExpr d : dims)
      shape.push_back(evaluateDim(d, instance.sizes));
    auto type = arg.getType().cast<RankedTensorType>();
    arg.setType(RankedTensorType::get(shape, type.getElementType()));
  }
  DenseMap<Operation *, Operation *> original;
  for (auto [from, to] :
       llvm::zip(func.getBody().front().getOperations(), body.getOperations()))
    original[&to] = &from;
  OpBuilder b(func.getContext());
  for (Operation &op : llvm::make_early_inc_range(body)) {
    if (auto infer = dyn_cast<InferShapeOpInterface>(&op)) {
      SmallVector<Type> types;
      if (failed(infer.inferResultTypes(types)))
        return failure();
      for (auto [result, type] : llvm::zip(op.getResults(), types))
        result.setType(type);
    }
    if (op.hasTrait<OpTrait::ConstantLike>() ||
        op.hasTrait<OpTrait::IsTerminator>())
      continue;
    SmallVector<Attribute> operands;
    for (Value operand : op.getOperands()) {
      Attribute attr;
      operands.push_back(matchPattern(operand, m_Constant(&attr)) ? attr
                                                                  : nullptr);
    }
    SmallVector<OpFoldResult> folded;
    if (failed(op.fold(operands, folded)) || folded.empty())
      continue;
    bool allConstant = true;
    b.setInsertionPoint(&op);
    for (auto [result, value] : llvm::zip(op.getResults(), folded)) {
      if (auto attr = value.dyn_cast<Attribute>()) {
        Operation *constant = op.getDialect()->materializeConstant(
            b, attr, result.getType(), op.getLoc());
        if (!constant) {
          allConstant = false;
          continue;
        }
        result.replaceAllUsesWith(constant->getResult(0));
        auto ints = attr.dyn_cast<DenseIntElementsAttr>();
        Operation *from = original.lookup(&op);
        if (ints && from && ints.getNumElements() <= 64) {
          SmallVector<int64_t> elements;
          for (const APInt &v : ints.getValues<APInt>())
            elements.push_back(ints.getElementType().isInteger(1)
                                   ? (int64_t)v.getZExtValue()
                                   : v.getSExtValue());
          instance.values[from->getResult(result.getResultNumber())] = elements;
        }
      } else {
        allConstant = false;
        result.replaceAllUsesWith(value.get<Value>());
      }
    }
    if (allConstant)
      instance.folded.insert(original.lookup(&op));
  }
  auto record = [&](Value from) {
    auto type = mapping.lookup(from).getType().dyn_cast<RankedTensorType>();
    if (type)
      instance.shapes[from] = SmallVector<int64_t>(type.getShape());
  };
  for (BlockArgument arg : func.getArguments())
    record(arg);
  for (Operation &op : func.getBody().front())
    for (Value result : op.getResults())
      record(result);
  return success();
}

/// The expression of a graph input's dim named `name` ("seq", or a sum
/// such as "past + seq" of sizes and integers).
std::optional<DimExpr> namedDim(StringRef name, ArrayRef<SizeSymbol> symbols,
                                DictionaryAttr bound, MLIRContext *context) {
  SmallVector<StringRef> terms;
  name.split(terms, '+');
  DimExpr sum = dimConstant(context, 0);
  for (StringRef term : terms) {
    term = term.trim();
    int64_t value;
    if (!term.getAsInteger(10, value)) {
      sum = sum + value;
      continue;
    }
    if (auto size = bound ? bound.getAs<IntegerAttr>(term) : IntegerAttr()) {
      sum = sum + size.getInt();
      continue;
    }
    auto it = llvm::find_if(
        symbols, [&](const SizeSymbol &s) { return s.name == term; });
    if (it == symbols.end())
      return std::nullopt;
    sum = sum + getAffineSymbolExpr(it - symbols.begin(), context);
  }
  return sum;
}

/// The error for an input with a dynamic dim that is neither bound nor
/// bounded. Names every such dim of the input by its ONNX symbol (the
/// importer's anvil.dim_names), so the user sees what to pass to --dim.
LogicalResult unresolvedInput(func::FuncOp func, BlockArgument arg,
                              ArrayAttr names, ArrayRef<SizeSymbol> symbols,
                              MLIRContext *context) {
  auto type = arg.getType().cast<RankedTensorType>();
  auto inputName =
      func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "anvil.name");
  auto values = func->getAttrOfType<DictionaryAttr>(kDimValuesAttr);
  SmallVector<std::string> unresolved;
  for (auto [i, size] : llvm::enumerate(type.getShape())) {
    if (size != kDynamic || !names || i >= names.size())
      continue;
    auto name = names[i].dyn_cast<StringAttr>();
    if (name && !name.getValue().empty() &&
        !namedDim(name.getValue(), symbols, values, context))
      unresolved.push_back(name.getValue().str());
  }
  InFlightDiagnostic diag = func.emitError();
  diag << "input '" << (inputName ? inputName.getValue() : "?")
       << "' has the dynamic type " << type;
  if (unresolved.empty())
    return diag << "; code generation needs static shapes: bind its symbolic "
                   "dims with --dim=NAME=SIZE (or bound them with "
                   "--dim=NAME=MIN..MAX) or set the shape with --input-shape";
  // The --input-shape that fixes the whole input, its unbound dims spelled
  // by their names for the user to replace ("--input-shape=mask:2x{s53}").
  std::string shape;
  for (auto [i, size] : llvm::enumerate(type.getShape())) {
    auto name = names && i < names.size() ? names[i].dyn_cast<StringAttr>()
                                          : StringAttr();
    shape += (i ? "x" : "");
    shape += size != kDynamic ? std::to_string(size)
             : name && !name.getValue().empty()
                 ? "{" + name.getValue().str() + "}"
                 : std::string("{SIZE}");
  }
  bool one = unresolved.size() == 1;
  diag << ": " << (one ? "dim" : "dims");
  for (const std::string &name : unresolved)
    diag << (&name == &unresolved.front() ? " '" : ", '") << name << "'";
  return diag << (one ? " is" : " are")
              << " not bound; code generation needs static shapes: bind "
              << (one ? "it" : "them") << " with --dim=" << unresolved.front()
              << "=SIZE (or bound " << (one ? "it" : "them")
              << " with --dim=" << unresolved.front()
              << "=MIN..MAX) or set the shape with --input-shape="
              << (inputName ? inputName.getValue() : "?") << ":" << shape;
}

} // namespace

FailureOr<SymbolicShapes> SymbolicShapes::analyze(func::FuncOp func) {
  SymbolicShapes result;
  result.context = func.getContext();
  MLIRContext *context = func.getContext();
  auto symbols = parseSizeSymbols(func->getAttr(kSizesAttr));
  if (failed(symbols))
    return func.emitError("malformed '")
           << kSizesAttr
           << "': expected [{name, min, max}] with 0 <= min <= max";
  result.sizeSymbols = *symbols;
  if (result.sizeSymbols.size() > 4)
    return func.emitError("at most 4 bounded sizes are supported, got ")
           << result.sizeSymbols.size();

  // The inputs' dims: static, or named by a bounded size.
  bool dynamic = false;
  SmallVector<SmallVector<DimExpr>> argDims;
  for (BlockArgument arg : func.getArguments()) {
    auto type = arg.getType().dyn_cast<RankedTensorType>();
    if (!type)
      return func.emitError("input #") << arg.getArgNumber() << " is unranked";
    auto names =
        func.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), kDimNamesAttr);
    SmallVector<DimExpr> dims;
    for (auto [i, size] : llvm::enumerate(type.getShape())) {
      if (size != kDynamic) {
        dims.push_back(dimConstant(context, size));
        continue;
      }
      dynamic = true;
      StringRef name;
      if (names && i < names.size())
        if (auto s = names[i].dyn_cast<StringAttr>())
          name = s.getValue();
      std::optional<DimExpr> expr =
          name.empty()
              ? std::nullopt
              : namedDim(name, result.sizeSymbols,
                         func->getAttrOfType<DictionaryAttr>(kDimValuesAttr),
                         context);
      if (!expr)
        return unresolvedInput(func, arg, names, result.sizeSymbols, context);
      dims.push_back(*expr);
    }
    result.symbolicDims[arg] = dims;
    argDims.push_back(dims);
  }
  // The program is instantiated, and its buffers planned, at the largest
  // sizes the bounds allow: every input must be countable there (int64),
  // or shape rules would compute with wrapped sizes.
  for (auto [arg, dims] : llvm::zip(func.getArguments(), argDims)) {
    if (maxDim(productOf(context, dims), result.sizeSymbols))
      continue;
    auto inputName =
        func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "anvil.name");
    InFlightDiagnostic diag = func.emitError();
    diag << "input '" << (inputName ? inputName.getValue() : "?")
         << "' has more elements than int64 counts at the largest sizes the "
            "bounds allow (";
    for (const SizeSymbol &s : result.sizeSymbols)
      diag << (&s == &result.sizeSymbols.front() ? "" : ", ") << s.name
           << " <= " << s.max;
    return diag << "); lower the bounds";
  }
  bool dynamicResults = false;
  func.walk([&](Operation *op) {
    for (Value v : op->getResults())
      if (auto type = v.getType().dyn_cast<RankedTensorType>())
        dynamicResults |= !type.hasStaticShape();
  });
  if (!dynamic && !dynamicResults) {
    for (Operation &op : func.getBody().front())
      for (Value v : op.getResults())
        if (auto type = v.getType().dyn_cast<RankedTensorType>())
          result.symbolicDims[v] = constantDims(context, type.getShape());
    return result;
  }
  if (result.sizeSymbols.empty()) {
    bool reported = false;
    func.walk([&](Operation *op) {
      for (Value v : op->getResults()) {
        auto type = v.getType().dyn_cast<RankedTensorType>();
        if (type && !type.hasStaticShape()) {
          op->emitOpError("result has the dynamic type ")
              << type << " although every input is static";
          reported = true;
        }
      }
    });
    // Otherwise an input is dynamic although each of its dims is named by
    // an integer or a sum of bound dims (the importer makes such inputs
    // static; a module written by hand may not be).
    for (BlockArgument arg : func.getArguments()) {
      auto type = arg.getType().cast<RankedTensorType>();
      if (reported || type.hasStaticShape())
        continue;
      auto inputName =
          func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "anvil.name");
      func.emitError() << "input '" << (inputName ? inputName.getValue() : "?")
                       << "' has the dynamic type " << type
                       << " although its dim names fix every size; give "
                          "it a static type (--input-shape)";
      reported = true;
    }
    return failure();
  }

  // Points of the sizes' box: a grid of up to three levels per size above 1
  // (where broadcasting rules are not special) to fit on, and points to check
  // the fit at: the lower bounds and a point in between.
  size_t k = result.sizeSymbols.size();
  SmallVector<SmallVector<int64_t>> levels;
  for (const SizeSymbol &s : result.sizeSymbols) {
    int64_t lo = std::max<int64_t>(s.min, 2), hi = s.max;
    SmallVector<int64_t> l;
    for (int64_t v : {lo, lo + (hi - lo) / 2, hi})
      if (v >= lo && v <= hi && !llvm::is_contained(l, v))
        l.push_back(v);
    if (l.empty())
      return func.emitError("bounded size '")
             << s.name << "' has no value above 1 in " << s.min << ".." << s.max
             << "; bind it with --dim=" << s.name << "=SIZE";
    levels.push_back(l);
  }
  SmallVector<SmallVector<int64_t>> grid(1);
  for (size_t i = 0; i < k; ++i) {
    SmallVector<SmallVector<int64_t>> next;
    for (auto &point : grid)
      for (int64_t v : levels[i]) {
        next.push_back(point);
        next.back().push_back(v);
      }
    grid = next;
  }
  SmallVector<SmallVector<int64_t>> checks(2);
  for (const SizeSymbol &s : result.sizeSymbols) {
    checks[0].push_back(std::max<int64_t>(s.min, 1));
    checks[1].push_back(
        std::min(s.max, std::max<int64_t>(s.min, 2) + (s.max - s.min) / 3 + 1));
  }
  // The monomials the grid can tell apart.
  SmallVector<Term> terms = {{}};
  for (unsigned i = 0; i < k; ++i)
    if (levels[i].size() >= 2)
      terms.push_back({i});
  for (unsigned i = 0; i < k; ++i)
    for (unsigned j = i; j < k; ++j)
      if ((i == j && levels[i].size() >= 3) ||
          (i != j && levels[i].size() >= 2 && levels[j].size() >= 2))
        terms.push_back({i, j});

  auto describe = [&](ArrayRef<int64_t> point) {
    std::string text;
    for (auto [symbol, value] : llvm::zip(result.sizeSymbols, point))
      text += (text.empty() ? "" : ", ") + symbol.name + " = " +
              std::to_string(value);
    return text;
  };
  // The program at each point; fails (reported) where its shape rules
  // reject sizes inside the bounds.
  auto instantiateAll =
      [&](ArrayRef<SmallVector<int64_t>> points,
          SmallVectorImpl<Instance> &instances) -> LogicalResult {
    for (const SmallVector<int64_t> &point : points) {
      instances.emplace_back();
      instances.back().sizes = point;
      if (failed(instantiate(func, argDims, instances.back())))
        return func.emitError("shapes cannot be inferred at ")
               << describe(point)
               << ", inside the bounds: the bounds allow sizes the model "
                  "does not";
    }
    return success();
  };
  SmallVector<Instance> fits, tests;
  if (failed(instantiateAll(grid, fits)) ||
      failed(instantiateAll(checks, tests)))
    return failure();

  SmallVector<SmallVector<int64_t>> rows;
  for (const Instance &fit : fits) {
    rows.emplace_back();
    for (const Term &t : terms)
      rows.back().push_back(termValue(t, fit.sizes));
  }
  // Fits element `d` of what `field` gives for `value` at each instance.
  auto fit = [&](Value value, unsigned d,
                 DenseMap<Value, SmallVector<int64_t>> Instance::*field)
      -> std::optional<DimExpr> {
    SmallVector<int64_t> values;
    for (const Instance &fit : fits) {
      auto it = (fit.*field).find(value);
      if (it == (fit.*field).end() || d >= it->second.size() ||
          it->second[d] == kDynamic)
        return std::nullopt;
      values.push_back(it->second[d]);
    }
    auto coefficients = fitIntegers(rows, values);
    if (!coefficients)
      return std::nullopt;
    DimExpr expr = dimConstant(context, 0);
    for (auto [t, c] : llvm::zip(terms, *coefficients)) {
      DimExpr monomial = dimConstant(context, c);
      for (unsigned i : t)
        monomial = monomial * getAffineSymbolExpr(i, context);
      expr = expr + monomial;
    }
    for (const Instance &check : llvm::concat<const Instance>(fits, tests)) {
      auto it = (check.*field).find(value);
      if (it == (check.*field).end() || d >= it->second.size() ||
          it->second[d] != evaluateDim(expr, check.sizes))
        return std::nullopt;
    }
    return expr;
  };
  auto fitDim = [&](Value value, unsigned d) {
    return fit(value, d, &Instance::shapes);
  };

  bool ok = true;
  auto resolve = [&](Value value, Operation *op, unsigned resultIndex) {
    auto type = value.getType().dyn_cast<RankedTensorType>();
    if (!type) {
      op->emitOpError("result #") << resultIndex << " is unranked";
      ok = false;
      return;
    }
    SmallVector<DimExpr> dims;
    for (auto [d, size] : llvm::enumerate(type.getShape())) {
      if (size != kDynamic) {
        dims.push_back(dimConstant(context, size));
        continue;
      }
      std::optional<DimExpr> expr = fitDim(value, d);
      if (!expr) {
        op->emitOpError("dim ")
            << d << " of result #" << resultIndex << " (" << type
            << ") does not follow from the bounded sizes as a polynomial "
               "of degree <= 2 that holds over their bounds";
        ok = false;
        dims.push_back(dimConstant(context, 0));
        continue;
      }
      dims.push_back(*expr);
    }
    result.symbolicDims[value] = dims;
  };
  for (Operation &op : func.getBody().front()) {
    for (auto [i, value] : llvm::enumerate(op.getResults()))
      resolve(value, &op, i);
    // Shape computations: small integer results, constant at every point.
    if (op.getNumResults() == 0 || op.hasTrait<OpTrait::ConstantLike>())
      continue;
    bool shape = llvm::all_of(op.getResults(), [](Value v) {
      auto type = v.getType().dyn_cast<RankedTensorType>();
      return type && type.hasStaticShape() &&
             type.getElementType().isa<IntegerType>() &&
             type.getNumElements() <= 64;
    });
    for (const Instance &i : llvm::concat<const Instance>(fits, tests))
      shape = shape && i.folded.contains(&op);
    if (!shape)
      continue;
    result.shapeOps.insert(&op);
    // Their elements, for the ops that read them (a slice's starts) or
    // need them at run time.
    for (Value v : op.getResults()) {
      SmallVector<DimExpr> elements;
      int64_t count = v.getType().cast<RankedTensorType>().getNumElements();
      for (int64_t i = 0; i < count; ++i) {
        std::optional<DimExpr> e = fit(v, i, &Instance::values);
        if (!e)
          break;
        elements.push_back(*e);
      }
      if ((int64_t)elements.size() == count)
        result.symbolicValues[v] = elements;
    }
  }
  if (!ok)
    return failure();
  return result;
}

ArrayRef<DimExpr> SymbolicShapes::dims(Value value) const {
  auto it = symbolicDims.find(value);
  assert(it != symbolicDims.end() && "a value the analysis did not see");
  return it->second;
}

} // namespace anvil::lowering
