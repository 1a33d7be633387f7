//===- ShapeUtils.cpp - shape arithmetic shared by anvil ops --------------===//

#include "dialects/Anvil/ShapeUtils.h"

#include "llvm/Support/raw_ostream.h"

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
