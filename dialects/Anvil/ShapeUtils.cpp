//===- ShapeUtils.cpp - shape arithmetic shared by anvil ops --------------===//

#include "dialects/Anvil/ShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Support/MathExtras.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <limits>

using namespace mlir;

namespace anvil {

LogicalResult broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b,
                              SmallVectorImpl<int64_t> &result) {
  size_t rank = std::max(a.size(), b.size());
  result.assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    int64_t &out = result[i];
    if (da == 1)
      out = db;
    else if (db == 1)
      out = da;
    else if (da == kDynamic)
      out = db;
    else if (db == kDynamic)
      out = da;
    else if (da == db)
      out = da;
    else
      return failure();
  }
  return success();
}

std::optional<int64_t> staticElementCount(ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d == kDynamic)
      return std::nullopt;
    count *= d;
  }
  return count;
}

std::string tensorSizeProblem(Type type) {
  auto shaped = type.dyn_cast<ShapedType>();
  if (!shaped || !shaped.hasRank())
    return "";
  Type element = shaped.getElementType();
  int64_t width =
      element.isIntOrFloat()
          ? std::max<int64_t>(1, (element.getIntOrFloatBitWidth() + 7) / 8)
          : 8;
  // 128-bit products saturated at 2^100: no overflow on the way.
  const __int128 cap = (__int128)1 << 100;
  __int128 count = 1;
  for (int64_t d : shaped.getShape())
    if (d != kDynamic && d > 0)
      count = std::min<__int128>(count * d, cap);
  for (int64_t d : shaped.getShape())
    if (d == 0)
      return "";
  __int128 bytes = count * width;
  if (bytes <= kMaxTensorBytes)
    return "";
  std::string text;
  llvm::raw_string_ostream os(text);
  auto print = [&](__int128 n) {
    if (n >= cap)
      os << "more than 2^100";
    else if (n > std::numeric_limits<int64_t>::max()) {
      int bits = 0;
      for (__int128 m = n; m > 1; m >>= 1)
        ++bits;
      os << "2^" << bits << " or more";
    } else
      os << (int64_t)n;
  };
  os << formatShape(shaped.getShape()) << "x" << element << " holds ";
  print(count);
  os << " elements (";
  print(bytes);
  os << " bytes), more than the limit of 2^48 bytes per tensor";
  return os.str();
}

std::string formatShape(ArrayRef<int64_t> shape) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (shape.empty())
    os << "scalar";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      os << 'x';
    if (shape[i] == kDynamic)
      os << '?';
    else
      os << shape[i];
  }
  return os.str();
}

std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

RankedTensorType getRankedType(Value value) {
  return value.getType().dyn_cast<RankedTensorType>();
}

TensorType makeTensorType(std::optional<ArrayRef<int64_t>> shape,
                          Type elementType) {
  if (!shape)
    return UnrankedTensorType::get(elementType);
  return RankedTensorType::get(*shape, elementType);
}

Type joinTypes(Type a, Type b) {
  auto ta = a.dyn_cast<TensorType>();
  auto tb = b.dyn_cast<TensorType>();
  if (!ta || !tb || ta.getElementType() != tb.getElementType())
    return a == b ? a : Type();
  if (!ta.hasRank())
    return tb;
  if (!tb.hasRank())
    return ta;
  if (ta.getRank() != tb.getRank())
    return Type();
  SmallVector<int64_t> shape;
  for (auto [da, db] : llvm::zip(ta.getShape(), tb.getShape())) {
    if (da != kDynamic && db != kDynamic && da != db)
      return Type();
    shape.push_back(da != kDynamic ? da : db);
  }
  return RankedTensorType::get(shape, ta.getElementType());
}

} // namespace anvil

namespace anvil {

FailureOr<SmallVector<SizeSymbol>> parseSizeSymbols(Attribute attr) {
  SmallVector<SizeSymbol> symbols;
  if (!attr)
    return symbols;
  auto array = attr.dyn_cast<ArrayAttr>();
  if (!array)
    return failure();
  for (Attribute entry : array) {
    auto dict = entry.dyn_cast<DictionaryAttr>();
    if (!dict)
      return failure();
    auto name = dict.getAs<StringAttr>("name");
    auto min = dict.getAs<IntegerAttr>("min");
    auto max = dict.getAs<IntegerAttr>("max");
    if (!name || !min || !max || min.getInt() < 0 ||
        min.getInt() > max.getInt() || dict.size() != 3)
      return failure();
    symbols.push_back({name.getValue().str(), min.getInt(), max.getInt()});
  }
  return symbols;
}

ArrayAttr sizeSymbolsAttr(MLIRContext *context, ArrayRef<SizeSymbol> symbols) {
  Builder b(context);
  SmallVector<Attribute> entries;
  for (const SizeSymbol &symbol : symbols)
    entries.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("name", b.getStringAttr(symbol.name)),
         b.getNamedAttr("min", b.getI64IntegerAttr(symbol.min)),
         b.getNamedAttr("max", b.getI64IntegerAttr(symbol.max))}));
  return b.getArrayAttr(entries);
}

DimExpr dimConstant(MLIRContext *context, int64_t value) {
  return getAffineConstantExpr(value, context);
}

std::optional<int64_t> constantDim(DimExpr expr) {
  if (auto c = expr.dyn_cast<AffineConstantExpr>())
    return c.getValue();
  return std::nullopt;
}

SmallVector<DimExpr> constantDims(MLIRContext *context,
                                  ArrayRef<int64_t> shape) {
  SmallVector<DimExpr> dims;
  for (int64_t d : shape) {
    assert(d != kDynamic && "a dynamic dim has no constant expression");
    dims.push_back(dimConstant(context, d));
  }
  return dims;
}

std::optional<SmallVector<int64_t>> constantDims(ArrayRef<DimExpr> dims) {
  SmallVector<int64_t> values;
  for (DimExpr d : dims) {
    auto c = constantDim(d);
    if (!c)
      return std::nullopt;
    values.push_back(*c);
  }
  return values;
}

DimExpr productOf(MLIRContext *context, ArrayRef<DimExpr> dims) {
  DimExpr result = dimConstant(context, 1);
  for (DimExpr d : dims)
    result = result * d;
  return result;
}

SmallVector<DimExpr> rowMajorStrides(MLIRContext *context,
                                     ArrayRef<DimExpr> shape) {
  SmallVector<DimExpr> strides(shape.size(), dimConstant(context, 1));
  for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

namespace {
void printDim(llvm::raw_ostream &os, DimExpr expr, ArrayRef<SizeSymbol> symbols,
              bool parenthesizeSums) {
  if (auto constant = expr.dyn_cast<AffineConstantExpr>()) {
    os << constant.getValue();
    return;
  }
  if (auto symbol = expr.dyn_cast<AffineSymbolExpr>()) {
    unsigned i = symbol.getPosition();
    if (i < symbols.size())
      os << symbols[i].name;
    else
      os << "s" << i;
    return;
  }
  if (auto dim = expr.dyn_cast<AffineDimExpr>()) {
    os << "d" << dim.getPosition();
    return;
  }
  auto binary = expr.cast<AffineBinaryOpExpr>();
  DimExpr lhs = binary.getLHS(), rhs = binary.getRHS();
  switch (expr.getKind()) {
  case AffineExprKind::Add: {
    if (parenthesizeSums)
      os << "(";
    printDim(os, lhs, symbols, false);
    // a + -c and a + b * -1 read as subtractions.
    auto constant = rhs.dyn_cast<AffineConstantExpr>();
    auto product = rhs.dyn_cast<AffineBinaryOpExpr>();
    auto factor = product && rhs.getKind() == AffineExprKind::Mul
                      ? product.getRHS().dyn_cast<AffineConstantExpr>()
                      : AffineConstantExpr();
    if (constant && constant.getValue() < 0) {
      os << " - " << -constant.getValue();
    } else if (factor && factor.getValue() == -1) {
      os << " - ";
      printDim(os, product.getLHS(), symbols, true);
    } else {
      os << " + ";
      printDim(os, rhs, symbols, false);
    }
    if (parenthesizeSums)
      os << ")";
    return;
  }
  case AffineExprKind::Mul:
    printDim(os, lhs, symbols, true);
    os << " * ";
    printDim(os, rhs, symbols, true);
    return;
  case AffineExprKind::Mod:
    printDim(os, lhs, symbols, true);
    os << " mod ";
    printDim(os, rhs, symbols, true);
    return;
  case AffineExprKind::FloorDiv:
  case AffineExprKind::CeilDiv:
    os << (expr.getKind() == AffineExprKind::FloorDiv ? "floor(" : "ceil(");
    printDim(os, lhs, symbols, true);
    os << " / ";
    printDim(os, rhs, symbols, true);
    os << ")";
    return;
  default:
    os << expr;
  }
}
} // namespace

std::string formatDim(DimExpr expr, ArrayRef<SizeSymbol> symbols) {
  std::string text;
  llvm::raw_string_ostream os(text);
  printDim(os, expr, symbols, false);
  return os.str();
}

int64_t evaluateDim(DimExpr expr, ArrayRef<int64_t> sizes) {
  MLIRContext *context = expr.getContext();
  SmallVector<AffineExpr> values;
  for (int64_t size : sizes)
    values.push_back(getAffineConstantExpr(size, context));
  AffineExpr folded = expr.replaceSymbols(values);
  folded = simplifyAffineExpr(folded, 0, 0);
  auto c = folded.dyn_cast<AffineConstantExpr>();
  assert(c && "every symbol has a value");
  return c.getValue();
}

std::optional<int64_t> evaluateDimChecked(DimExpr expr,
                                          ArrayRef<int64_t> sizes) {
  if (auto c = expr.dyn_cast<AffineConstantExpr>())
    return c.getValue();
  if (auto s = expr.dyn_cast<AffineSymbolExpr>()) {
    if (s.getPosition() >= sizes.size())
      return std::nullopt;
    return sizes[s.getPosition()];
  }
  auto binary = expr.dyn_cast<AffineBinaryOpExpr>();
  if (!binary)
    return std::nullopt; // dims: sizes are symbols
  std::optional<int64_t> l = evaluateDimChecked(binary.getLHS(), sizes);
  std::optional<int64_t> r = evaluateDimChecked(binary.getRHS(), sizes);
  if (!l || !r)
    return std::nullopt;
  int64_t result;
  switch (expr.getKind()) {
  case AffineExprKind::Add:
    if (llvm::AddOverflow(*l, *r, result))
      return std::nullopt;
    return result;
  case AffineExprKind::Mul:
    if (llvm::MulOverflow(*l, *r, result))
      return std::nullopt;
    return result;
  case AffineExprKind::FloorDiv:
  case AffineExprKind::CeilDiv:
  case AffineExprKind::Mod:
    // Affine divisors are positive constants; anything else is refused
    // (and the one dividend mlir's helpers cannot negate).
    if (*r <= 0 || *l == std::numeric_limits<int64_t>::min())
      return std::nullopt;
    if (expr.getKind() == AffineExprKind::Mod)
      return mlir::mod(*l, *r);
    if (expr.getKind() == AffineExprKind::FloorDiv)
      return mlir::floorDiv(*l, *r);
    return mlir::ceilDiv(*l, *r);
  default:
    return std::nullopt;
  }
}

std::optional<int64_t> maxDim(DimExpr expr, ArrayRef<SizeSymbol> symbols) {
  if (auto c = constantDim(expr))
    return *c;
  std::optional<int64_t> best;
  SmallVector<int64_t> corner(symbols.size());
  for (uint64_t mask = 0; mask < (uint64_t(1) << symbols.size()); ++mask) {
    for (size_t i = 0; i < symbols.size(); ++i)
      corner[i] = (mask >> i) & 1 ? symbols[i].max : symbols[i].min;
    std::optional<int64_t> value = evaluateDimChecked(expr, corner);
    if (!value)
      return std::nullopt;
    best = best ? std::max(*best, *value) : *value;
  }
  return best;
}

SmallVector<int64_t> staticShape(ArrayRef<DimExpr> dims) {
  SmallVector<int64_t> shape;
  for (DimExpr d : dims)
    shape.push_back(constantDim(d).value_or(kDynamic));
  return shape;
}

AffineMap dimsMap(MLIRContext *context, unsigned numSymbols,
                  ArrayRef<DimExpr> dims) {
  return AffineMap::get(0, numSymbols, dims, context);
}

} // namespace anvil
