//===- AnvilShapeInference.cpp - result types of anvil ops ----------------===//
//
// One InferShapeOpInterface implementation per op. Each computes the result
// types from operand types (and constant operands where the op's meaning
// depends on them) and reports operand shapes that cannot go together.
// Verifiers reuse these: a declared result type must agree with the inferred
// one wherever both are static.
//
//===----------------------------------------------------------------------===//

#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Anvil/ShapeUtils.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"
#include <cmath>
#include <numeric>

using namespace mlir;
using namespace anvil;

namespace {
using Types = SmallVectorImpl<Type>;

Type elementTypeOf(Value value) {
  return value.getType().cast<TensorType>().getElementType();
}
Type resultElementType(Operation *op, unsigned i = 0) {
  return op->getResult(i).getType().cast<TensorType>().getElementType();
}

/// Pushes an unranked result (nothing is known about the shape).
LogicalResult unranked(Types &types, Type elementType) {
  types.push_back(UnrankedTensorType::get(elementType));
  return success();
}
LogicalResult ranked(Types &types, ArrayRef<int64_t> shape, Type elementType) {
  types.push_back(RankedTensorType::get(shape, elementType));
  return success();
}

/// Checks that `axis` is in [0, rank) and reports otherwise.
LogicalResult checkAxis(Operation *op, int64_t axis, int64_t rank,
                        StringRef what = "axis") {
  if (axis < 0 || axis >= rank)
    return op->emitOpError()
           << what << " " << axis << " is out of range for rank " << rank;
  return success();
}

LogicalResult inferBroadcast(Operation *op, ValueRange operands,
                             Type elementType, Types &types) {
  SmallVector<int64_t> shape;
  for (auto [i, operand] : llvm::enumerate(operands)) {
    RankedTensorType type = getRankedType(operand);
    if (!type)
      return unranked(types, elementType);
    if (i == 0) {
      shape.assign(type.getShape().begin(), type.getShape().end());
      continue;
    }
    SmallVector<int64_t> joined;
    if (failed(broadcastShapes(shape, type.getShape(), joined)))
      return op->emitOpError()
             << "operand shapes " << formatShape(shape) << " and "
             << formatShape(type.getShape()) << " do not broadcast";
    shape = joined;
  }
  return ranked(types, shape, elementType);
}

LogicalResult checkSameElementTypes(Operation *op, ValueRange operands) {
  Type first = elementTypeOf(operands.front());
  for (Value operand : operands.drop_front())
    if (elementTypeOf(operand) != first)
      return op->emitOpError() << "operand element types differ: " << first
                               << " and " << elementTypeOf(operand);
  return success();
}

LogicalResult inferSameAsInput(Value input, Types &types) {
  types.push_back(input.getType());
  return success();
}
} // namespace

namespace anvil {
/// The verifier shared by all ops: the declared result types must agree with
/// what inference computes from the operands.
LogicalResult verifyInferredResultTypes(Operation *op) {
  auto infer = dyn_cast<InferShapeOpInterface>(op);
  if (!infer)
    return success();
  SmallVector<Type> inferred;
  if (failed(infer.inferResultTypes(inferred)))
    return failure();
  if (inferred.size() != op->getNumResults())
    return op->emitOpError() << "expected " << inferred.size()
                             << " results, found " << op->getNumResults();
  for (auto [i, pair] :
       llvm::enumerate(llvm::zip(inferred, op->getResultTypes()))) {
    auto [want, have] = pair;
    // No tensor may be larger than the limit (2^62 x 4 floats, Expand to
    // 2^64 elements): refused where it is made, not where it is allocated.
    for (Type type : {want, have}) {
      std::string problem = tensorSizeProblem(type);
      if (!problem.empty())
        return op->emitOpError() << "result #" << i << ": " << problem;
    }
    if (!joinTypes(want, have))
      return op->emitOpError() << "result #" << i << " has type " << have
                               << " but its operands imply " << want;
  }
  return success();
}
} // namespace anvil

//===----------------------------------------------------------------------===//
// Constants and shape arithmetic
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::inferResultTypes(Types &types) {
  types.push_back(getValue().getType());
  return success();
}

LogicalResult ShapeOfOp::inferResultTypes(Types &types) {
  Type i64 = IntegerType::get(getContext(), 64);
  RankedTensorType input = getRankedType(getInput());
  if (!input)
    return ranked(types, {kDynamic}, i64);
  int64_t rank = input.getRank();
  int64_t start = std::clamp<int64_t>(getStart(), 0, rank);
  int64_t end = std::clamp<int64_t>(getEnd().value_or(rank), 0, rank);
  return ranked(types, {std::max<int64_t>(end - start, 0)}, i64);
}

LogicalResult ReshapeOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  RankedTensorType shapeType = getRankedType(getShape());
  if (!shapeType || shapeType.getRank() != 1 || shapeType.isDynamicDim(0))
    return unranked(types, elementType);
  int64_t rank = shapeType.getDimSize(0);
  std::optional<SmallVector<int64_t>> target = getConstantInts(getShape());
  if (!target)
    return ranked(types, SmallVector<int64_t>(rank, kDynamic), elementType);
  RankedTensorType input = getRankedType(getInput());
  SmallVector<int64_t> shape;
  int inferredIndex = -1;
  for (auto [i, dim] : llvm::enumerate(*target)) {
    if (dim == 0 && !getAllowzero()) {
      if (!input || (int64_t)i >= input.getRank())
        shape.push_back(kDynamic);
      else
        shape.push_back(input.getDimSize(i));
    } else if (dim == -1) {
      if (inferredIndex >= 0)
        return emitOpError("target shape has more than one -1");
      inferredIndex = i;
      shape.push_back(kDynamic);
    } else if (dim < 0) {
      return emitOpError() << "target shape has invalid dimension " << dim;
    } else {
      shape.push_back(dim);
    }
  }
  std::optional<int64_t> inputCount =
      input ? staticElementCount(input.getShape()) : std::nullopt;
  if (inputCount) {
    int64_t known = 1;
    bool allKnown = true;
    for (auto [i, dim] : llvm::enumerate(shape)) {
      if ((int)i == inferredIndex)
        continue;
      if (dim == kDynamic)
        allKnown = false;
      else if (llvm::MulOverflow(known, dim, known))
        return emitOpError() << "target shape " << formatShape(shape)
                             << " has more elements than int64 counts";
    }
    if (allKnown && inferredIndex >= 0) {
      if (known == 0 || *inputCount % known != 0)
        return emitOpError()
               << "cannot reshape " << formatShape(input.getShape()) << " to "
               << formatShape(*target);
      shape[inferredIndex] = *inputCount / known;
    } else if (allKnown && known != *inputCount) {
      return emitOpError() << "cannot reshape " << formatShape(input.getShape())
                           << " (" << *inputCount << " elements) to "
                           << formatShape(shape) << " (" << known
                           << " elements)";
    }
  }
  return ranked(types, shape, elementType);
}

LogicalResult TransposeOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  ArrayRef<int64_t> perm = getPerm();
  RankedTensorType input = getRankedType(getInput());
  if (!input)
    return unranked(types, elementType);
  if ((int64_t)perm.size() != input.getRank())
    return emitOpError() << "permutation has " << perm.size()
                         << " entries for an input of rank " << input.getRank();
  SmallVector<bool> seen(perm.size(), false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= (int64_t)perm.size() || seen[p])
      return emitOpError("perm is not a permutation of the input dims");
    seen[p] = true;
    shape.push_back(input.getDimSize(p));
  }
  return ranked(types, shape, elementType);
}

LogicalResult ConcatOp::inferResultTypes(Types &types) {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  if (failed(checkSameElementTypes(*this, getInputs())))
    return failure();
  Type elementType = elementTypeOf(getInputs().front());
  SmallVector<int64_t> shape;
  int64_t axis = getAxis();
  for (Value input : getInputs()) {
    RankedTensorType type = getRankedType(input);
    if (!type)
      return unranked(types, elementType);
    if (shape.empty()) {
      if (failed(checkAxis(*this, axis, type.getRank())))
        return failure();
      shape.assign(type.getShape().begin(), type.getShape().end());
      continue;
    }
    if (type.getRank() != (int64_t)shape.size())
      return emitOpError("inputs have different ranks");
    for (int64_t d = 0; d < type.getRank(); ++d) {
      int64_t dim = type.getDimSize(d);
      if (d == axis) {
        shape[d] = (shape[d] == kDynamic || dim == kDynamic) ? kDynamic
                                                             : shape[d] + dim;
      } else if (shape[d] == kDynamic) {
        shape[d] = dim;
      } else if (dim != kDynamic && dim != shape[d]) {
        return emitOpError() << "inputs differ in dimension " << d << " ("
                             << shape[d] << " vs " << dim << ")";
      }
    }
  }
  return ranked(types, shape, elementType);
}

namespace {
/// The number of elements ONNX Slice selects from a dimension of size `dim`.
int64_t sliceLength(int64_t dim, int64_t start, int64_t end, int64_t step) {
  if (start < 0)
    start += dim;
  if (end < 0)
    end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    return end > start ? (end - start + step - 1) / step : 0;
  }
  start = std::clamp<int64_t>(start, 0, dim - 1);
  end = std::clamp<int64_t>(end, -1, dim - 1);
  return start > end ? (start - end - step - 1) / -step : 0;
}
} // namespace

LogicalResult SliceOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  if (!input)
    return unranked(types, elementType);
  int64_t rank = input.getRank();
  SmallVector<int64_t> shape(input.getShape());
  // starts, ends, axes and steps pair up entry by entry: lists of different
  // lengths would be read past the end of the shorter ones.
  int64_t length = kDynamic;
  for (Value list : {getStarts(), getEnds(), getAxes(), getSteps()}) {
    RankedTensorType type = list ? getRankedType(list) : RankedTensorType();
    if (!type || type.getRank() != 1 || type.isDynamicDim(0))
      continue;
    if (length != kDynamic && type.getDimSize(0) != length)
      return emitOpError() << "starts, ends, axes and steps have different "
                              "lengths ("
                           << length << " and " << type.getDimSize(0) << ")";
    length = type.getDimSize(0);
  }
  auto starts = getConstantInts(getStarts());
  auto ends = getConstantInts(getEnds());
  auto axes = getConstantInts(getAxes());
  auto steps = getConstantInts(getSteps());
  if (!axes) {
    // Any axis may be sliced.
    return ranked(types, SmallVector<int64_t>(rank, kDynamic), elementType);
  }
  for (size_t i = 0; i < axes->size(); ++i) {
    std::optional<int64_t> axis = normalizeAxis((*axes)[i], rank);
    if (!axis)
      return emitOpError() << "slice axis " << (*axes)[i]
                           << " is out of range for rank " << rank;
    bool known = starts && ends && steps && i < starts->size() &&
                 i < ends->size() && i < steps->size() &&
                 input.getDimSize(*axis) != kDynamic;
    if (steps && i < steps->size() && (*steps)[i] == 0)
      return emitOpError("slice step is 0");
    shape[*axis] = known ? sliceLength(input.getDimSize(*axis), (*starts)[i],
                                       (*ends)[i], (*steps)[i])
                         : kDynamic;
  }
  return ranked(types, shape, elementType);
}

LogicalResult GatherOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  RankedTensorType indices = getRankedType(getIndices());
  if (!input || !indices)
    return unranked(types, elementType);
  int64_t axis = getAxis();
  if (failed(checkAxis(*this, axis, input.getRank())))
    return failure();
  SmallVector<int64_t> shape(input.getShape().take_front(axis));
  llvm::append_range(shape, indices.getShape());
  llvm::append_range(shape, input.getShape().drop_front(axis + 1));
  return ranked(types, shape, elementType);
}

LogicalResult ExpandOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  RankedTensorType shapeType = getRankedType(getShape());
  if (!input || !shapeType || shapeType.getRank() != 1 ||
      shapeType.isDynamicDim(0))
    return unranked(types, elementType);
  SmallVector<int64_t> target(shapeType.getDimSize(0), kDynamic);
  if (auto values = getConstantInts(getShape()))
    target.assign(values->begin(), values->end());
  else
    // Unknown target dims broadcast to whatever they are; a static input dim
    // other than 1 survives.
    for (auto &dim : target)
      dim = 1;
  SmallVector<int64_t> shape;
  if (failed(broadcastShapes(input.getShape(), target, shape)))
    return emitOpError() << "cannot expand " << formatShape(input.getShape())
                         << " to " << formatShape(target);
  if (!getConstantInts(getShape()))
    for (auto [i, dim] : llvm::enumerate(shape))
      if (dim == 1)
        dim = kDynamic;
  return ranked(types, shape, elementType);
}

LogicalResult UnsqueezeOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  if (!input)
    return unranked(types, elementType);
  int64_t rank = input.getRank() + getAxes().size();
  SmallVector<bool> isNew(rank, false);
  for (int64_t axis : getAxes()) {
    if (failed(checkAxis(*this, axis, rank)))
      return failure();
    if (isNew[axis])
      return emitOpError() << "axis " << axis << " is repeated";
    isNew[axis] = true;
  }
  SmallVector<int64_t> shape;
  int64_t next = 0;
  for (int64_t d = 0; d < rank; ++d)
    shape.push_back(isNew[d] ? 1 : input.getDimSize(next++));
  return ranked(types, shape, elementType);
}

LogicalResult SqueezeOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  if (!input)
    return unranked(types, elementType);
  SmallVector<bool> drop(input.getRank(), false);
  if (getAxes().empty()) {
    for (int64_t d = 0; d < input.getRank(); ++d) {
      if (input.isDynamicDim(d))
        return unranked(types, elementType);
      drop[d] = input.getDimSize(d) == 1;
    }
  }
  for (int64_t axis : getAxes()) {
    if (failed(checkAxis(*this, axis, input.getRank())))
      return failure();
    int64_t dim = input.getDimSize(axis);
    if (dim != 1 && dim != kDynamic)
      return emitOpError() << "cannot squeeze dimension " << axis << " of size "
                           << dim;
    drop[axis] = true;
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < input.getRank(); ++d)
    if (!drop[d])
      shape.push_back(input.getDimSize(d));
  return ranked(types, shape, elementType);
}

LogicalResult FlattenOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  if (!input)
    return ranked(types, {kDynamic, kDynamic}, elementType);
  int64_t axis = getAxis();
  if (axis > input.getRank())
    return emitOpError() << "axis " << axis << " is out of range for rank "
                         << input.getRank();
  auto product = [](ArrayRef<int64_t> dims) {
    return staticElementCount(dims).value_or(kDynamic);
  };
  return ranked(types,
                {product(input.getShape().take_front(axis)),
                 product(input.getShape().drop_front(axis))},
                elementType);
}

LogicalResult RangeOp::inferResultTypes(Types &types) {
  if (failed(checkSameElementTypes(*this, getOperands())))
    return failure();
  Type elementType = elementTypeOf(getStart());
  for (Value operand : getOperands()) {
    RankedTensorType type = getRankedType(operand);
    if (type && !(type.getRank() == 0 ||
                  (type.getRank() == 1 && type.getDimSize(0) == 1)))
      return emitOpError("start, limit and delta must be scalars");
  }
  std::optional<ConstantTensor> start, limit, delta;
  auto read = [](Value v) -> std::optional<ConstantTensor> {
    if (auto c = v.getDefiningOp<ConstantOp>())
      return readConstant(c.getValue());
    return std::nullopt;
  };
  start = read(getStart());
  limit = read(getLimit());
  delta = read(getDelta());
  if (!start || !limit || !delta)
    return ranked(types, {kDynamic}, elementType);
  // max(ceil((limit - start) / delta), 0) elements (ONNX Range): exact for
  // integers (in 128 bits: int64 extremes do not overflow, and no rounding
  // through double); for floats, a count that is not finite or does not
  // fit int64 is an error, not a wrapped size.
  int64_t count = 0;
  if (!start->isFloat) {
    __int128 s = start->ints[0], l = limit->ints[0], d = delta->ints[0];
    if (d == 0)
      return emitOpError("delta is 0");
    __int128 span = l - s;
    __int128 n = span / d + ((span % d != 0 && (span < 0) == (d < 0)) ? 1 : 0);
    if (n > std::numeric_limits<int64_t>::max())
      return emitOpError("has more elements than int64 can count (start ")
             << start->ints[0] << ", limit " << limit->ints[0] << ", delta "
             << delta->ints[0] << ")";
    count = n > 0 ? static_cast<int64_t>(n) : 0;
  } else {
    double step = delta->asDouble(0);
    if (step == 0)
      return emitOpError("delta is 0");
    double n = std::ceil((limit->asDouble(0) - start->asDouble(0)) / step);
    if (std::isnan(n) || n >= 9223372036854775808.0) // 2^63
      return emitOpError("has no finite element count that fits int64 "
                         "(start ")
             << start->asDouble(0) << ", limit " << limit->asDouble(0)
             << ", delta " << step << ")";
    count = n > 0 ? static_cast<int64_t>(n) : 0;
  }
  return ranked(types, {count}, elementType);
}

LogicalResult FillOp::inferResultTypes(Types &types) {
  Type elementType = getValue().getElementType();
  RankedTensorType shapeType = getRankedType(getShape());
  if (!shapeType || shapeType.getRank() != 1 || shapeType.isDynamicDim(0))
    return unranked(types, elementType);
  if (auto values = getConstantInts(getShape())) {
    for (int64_t dim : *values)
      if (dim < 0)
        return emitOpError() << "shape has negative dimension " << dim;
    return ranked(types, *values, elementType);
  }
  return ranked(types, SmallVector<int64_t>(shapeType.getDimSize(0), kDynamic),
                elementType);
}

LogicalResult SplitOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  if (!input) {
    for (size_t i = 0; i < getSizes().size(); ++i)
      (void)unranked(types, elementType);
    return success();
  }
  int64_t axis = getAxis();
  if (failed(checkAxis(*this, axis, input.getRank())))
    return failure();
  int64_t total = 0;
  for (int64_t size : getSizes()) {
    if (size < 0)
      return emitOpError() << "split size " << size << " is negative";
    if (llvm::AddOverflow(total, size, total))
      return emitOpError() << "split sizes add up to more than int64 counts";
  }
  int64_t dim = input.getDimSize(axis);
  if (dim != kDynamic && dim != total)
    return emitOpError() << "split sizes add up to " << total
                         << " but the dimension has size " << dim;
  for (int64_t size : getSizes()) {
    SmallVector<int64_t> shape(input.getShape());
    shape[axis] = size;
    (void)ranked(types, shape, elementType);
  }
  return success();
}

LogicalResult PadOp::inferResultTypes(Types &types) {
  StringRef mode = getMode();
  if (mode != "constant" && mode != "reflect" && mode != "edge" &&
      mode != "wrap")
    return emitOpError() << "unknown mode '" << mode << "'";
  Type elementType = elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  if (!input)
    return unranked(types, elementType);
  int64_t rank = input.getRank();
  ArrayRef<int64_t> pads = getPads();
  if ((int64_t)pads.size() != 2 * rank)
    return emitOpError() << "pads has " << pads.size() << " entries for rank "
                         << rank;
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t dim = input.getDimSize(d);
    if (dim == kDynamic) {
      shape.push_back(kDynamic);
      continue;
    }
    int64_t size;
    if (llvm::AddOverflow(dim, pads[d], size) ||
        llvm::AddOverflow(size, pads[rank + d], size))
      return emitOpError() << "pads of dimension " << d << " overflow int64";
    if (size < 0)
      return emitOpError() << "pads crop dimension " << d << " of size " << dim
                           << " below zero";
    if (mode == "reflect" && dim > 0 &&
        (pads[d] >= dim || pads[rank + d] >= dim))
      return emitOpError() << "reflect padding of dimension " << d
                           << " must be smaller than its size " << dim;
    shape.push_back(size);
  }
  return ranked(types, shape, elementType);
}

LogicalResult TileOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  if (!input)
    return unranked(types, elementType);
  ArrayRef<int64_t> repeats = getRepeats();
  if ((int64_t)repeats.size() != input.getRank())
    return emitOpError() << "repeats has " << repeats.size()
                         << " entries for rank " << input.getRank();
  SmallVector<int64_t> shape;
  for (auto [dim, r] : llvm::zip(input.getShape(), repeats)) {
    if (r < 0)
      return emitOpError() << "repeat count " << r << " is negative";
    int64_t tiled = 0;
    if (dim != kDynamic && llvm::MulOverflow(dim, r, tiled))
      return emitOpError() << "repeating a dimension of " << dim << " " << r
                           << " times overflows int64";
    shape.push_back(dim == kDynamic ? kDynamic : tiled);
  }
  return ranked(types, shape, elementType);
}

LogicalResult CumSumOp::inferResultTypes(Types &types) {
  if (RankedTensorType input = getRankedType(getInput()))
    if (failed(checkAxis(*this, getAxis(), input.getRank())))
      return failure();
  return inferSameAsInput(getInput(), types);
}

LogicalResult GatherElementsOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  RankedTensorType indices = getRankedType(getIndices());
  if (!input || !indices)
    return unranked(types, elementType);
  if (input.getRank() != indices.getRank())
    return emitOpError("input and indices must have the same rank");
  if (failed(checkAxis(*this, getAxis(), input.getRank())))
    return failure();
  int64_t axis = *normalizeAxis(getAxis(), input.getRank());
  for (int64_t d = 0; d < input.getRank(); ++d)
    if (d != axis && input.getDimSize(d) != kDynamic &&
        indices.getDimSize(d) != kDynamic &&
        indices.getDimSize(d) > input.getDimSize(d))
      return emitOpError() << "indices dim " << d << " ("
                           << indices.getDimSize(d) << ") exceeds the input's ("
                           << input.getDimSize(d) << ")";
  return ranked(types, indices.getShape(), elementType);
}

LogicalResult TriluOp::inferResultTypes(Types &types) {
  RankedTensorType input = getRankedType(getInput());
  if (input && input.getRank() < 2)
    return emitOpError("input must have rank >= 2");
  return inferSameAsInput(getInput(), types);
}

LogicalResult CastOp::inferResultTypes(Types &types) {
  Type elementType = resultElementType(*this);
  RankedTensorType input = getRankedType(getInput());
  if (!input)
    return unranked(types, elementType);
  return ranked(types, input.getShape(), elementType);
}

LogicalResult WhereOp::inferResultTypes(Types &types) {
  if (elementTypeOf(getTrueValue()) != elementTypeOf(getFalseValue()))
    return emitOpError("true and false values have different element types");
  return inferBroadcast(*this, getOperands(), elementTypeOf(getTrueValue()),
                        types);
}

LogicalResult ScatterNdOp::inferResultTypes(Types &types) {
  if (elementTypeOf(getInput()) != elementTypeOf(getUpdates()))
    return emitOpError("input and updates have different element types");
  StringRef reduction = getReduction();
  if (reduction != "none" && reduction != "add" && reduction != "mul" &&
      reduction != "max" && reduction != "min")
    return emitOpError() << "unknown reduction '" << reduction << "'";
  RankedTensorType input = getRankedType(getInput());
  RankedTensorType indices = getRankedType(getIndices());
  RankedTensorType updates = getRankedType(getUpdates());
  if (input && indices && updates && indices.getRank() >= 1) {
    int64_t depth = indices.getShape().back();
    if (depth != kDynamic) {
      if (depth > input.getRank())
        return emitOpError() << "index tuples of length " << depth
                             << " for an input of rank " << input.getRank();
      int64_t expected = indices.getRank() - 1 + input.getRank() - depth;
      if (updates.getRank() != expected)
        return emitOpError() << "updates must have rank " << expected;
      // updates = indices.shape[:-1] + input.shape[depth:]
      SmallVector<int64_t> want(indices.getShape().drop_back());
      llvm::append_range(want, input.getShape().drop_front(depth));
      for (int64_t d = 0; d < expected; ++d)
        if (want[d] != kDynamic && updates.getDimSize(d) != kDynamic &&
            want[d] != updates.getDimSize(d))
          return emitOpError()
                 << "updates must have shape " << formatShape(want) << ", got "
                 << formatShape(updates.getShape());
    }
  }
  return inferSameAsInput(getInput(), types);
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

LogicalResult anvil::inferElementwiseBinary(Operation *op, Types &types) {
  ValueRange operands = op->getOperands();
  if (failed(checkSameElementTypes(op, operands)))
    return failure();
  return inferBroadcast(op, operands, elementTypeOf(operands[0]), types);
}

LogicalResult anvil::inferElementwiseUnary(Operation *op, Types &types) {
  return inferSameAsInput(op->getOperand(0), types);
}

LogicalResult CompareOp::inferResultTypes(Types &types) {
  if (failed(checkSameElementTypes(*this, getOperands())))
    return failure();
  return inferBroadcast(*this, getOperands(), IntegerType::get(getContext(), 1),
                        types);
}

//===----------------------------------------------------------------------===//
// Neural-network operations
//===----------------------------------------------------------------------===//

namespace {
/// Checks a matmul's operand and result element types against the table in
/// its description.
LogicalResult checkMatmulTypes(Operation *op, Type lhs, Type rhs, Type result) {
  auto describe = [&]() {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << lhs << " x " << rhs << " -> " << result;
    return os.str();
  };
  auto isFloat = [](Type t) { return t.isa<FloatType>(); };
  auto intWidth = [](Type t) -> unsigned {
    auto integer = t.dyn_cast<IntegerType>();
    return integer ? integer.getWidth() : 0;
  };
  if (isFloat(lhs) && isFloat(rhs)) {
    if (!isFloat(result))
      return op->emitOpError()
             << "float operands give a float result, not " << describe();
    return success();
  }
  unsigned a = intWidth(lhs), b = intWidth(rhs);
  if (!a || !b)
    return op->emitOpError()
           << "mixes integer and float operands (" << describe()
           << "); dequantize the integer operand first";
  if (a == 1 || b == 1)
    return op->emitOpError() << "has i1 operands (" << describe() << ")";
  if (a <= 16 && b <= 16) {
    if (!result.isSignlessInteger(32))
      return op->emitOpError() << "integer operands of 8 or 16 bits "
                                  "accumulate in i32 and give an i32 result, "
                                  "not "
                               << describe();
    return success();
  }
  if (lhs != rhs || result != lhs)
    return op->emitOpError()
           << "integer operands of 32 or 64 bits must have one type, which "
              "is the result's: "
           << describe();
  return success();
}
} // namespace

Type MatmulOp::getAccumulatorType() {
  Type lhs = elementTypeOf(getLhs()), rhs = elementTypeOf(getRhs());
  Type result = resultElementType(*this);
  if (lhs.isa<FloatType>())
    return lhs.isF64() || rhs.isF64() || result.isF64()
               ? Type(Float64Type::get(getContext()))
               : Type(Float32Type::get(getContext()));
  if (lhs.getIntOrFloatBitWidth() <= 16)
    return IntegerType::get(getContext(), 32);
  return result;
}

LogicalResult MatmulOp::inferResultTypes(Types &types) {
  Type elementType = resultElementType(*this);
  if (failed(checkMatmulTypes(*this, elementTypeOf(getLhs()),
                              elementTypeOf(getRhs()), elementType)))
    return failure();
  RankedTensorType lhs = getRankedType(getLhs());
  RankedTensorType rhs = getRankedType(getRhs());
  if (!lhs || !rhs)
    return unranked(types, elementType);
  if (lhs.getRank() == 0 || rhs.getRank() == 0)
    return emitOpError("operands must have rank >= 1");
  if (getTransposeRhs() && rhs.getRank() < 2)
    return emitOpError("transpose_rhs needs a rhs of rank >= 2");
  SmallVector<int64_t> a(lhs.getShape()), b(rhs.getShape());
  if (getTransposeRhs())
    std::swap(b[b.size() - 1], b[b.size() - 2]);
  bool lhsVector = a.size() == 1, rhsVector = b.size() == 1;
  if (lhsVector)
    a.insert(a.begin(), 1);
  if (rhsVector)
    b.push_back(1);
  int64_t k1 = a.back(), k2 = b[b.size() - 2];
  if (k1 != kDynamic && k2 != kDynamic && k1 != k2)
    return emitOpError() << "contraction dims differ: "
                         << formatShape(lhs.getShape()) << " times "
                         << formatShape(rhs.getShape())
                         << (getTransposeRhs() ? " (transposed)" : "");
  SmallVector<int64_t> batch;
  if (failed(broadcastShapes(ArrayRef<int64_t>(a).drop_back(2),
                             ArrayRef<int64_t>(b).drop_back(2), batch)))
    return emitOpError("batch dims do not broadcast");
  if (!lhsVector)
    batch.push_back(a[a.size() - 2]);
  if (!rhsVector)
    batch.push_back(b.back());
  return ranked(types, batch, elementType);
}

LogicalResult SoftmaxOp::inferResultTypes(Types &types) {
  if (RankedTensorType input = getRankedType(getInput()))
    if (failed(checkAxis(*this, getAxis(), input.getRank())))
      return failure();
  return inferSameAsInput(getInput(), types);
}

LogicalResult ReduceOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  if (!input)
    return unranked(types, elementType);
  SmallVector<bool> reduced(input.getRank(), getAxes().empty());
  for (int64_t axis : getAxes()) {
    if (failed(checkAxis(*this, axis, input.getRank())))
      return failure();
    reduced[axis] = true;
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < input.getRank(); ++d) {
    if (!reduced[d])
      shape.push_back(input.getDimSize(d));
    else if (getKeepdims())
      shape.push_back(1);
  }
  return ranked(types, shape, elementType);
}

namespace {
LogicalResult inferArgReduce(Operation *op, Value value, int64_t axis,
                             bool keepdims, Types &types) {
  Type i64 = IntegerType::get(op->getContext(), 64);
  RankedTensorType input = getRankedType(value);
  if (!input)
    return unranked(types, i64);
  if (failed(checkAxis(op, axis, input.getRank())))
    return failure();
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < input.getRank(); ++d) {
    if (d != axis)
      shape.push_back(input.getDimSize(d));
    else if (keepdims)
      shape.push_back(1);
  }
  return ranked(types, shape, i64);
}
} // namespace

LogicalResult ArgMaxOp::inferResultTypes(Types &types) {
  return inferArgReduce(*this, getInput(), getAxis(), getKeepdims(), types);
}
LogicalResult ArgMinOp::inferResultTypes(Types &types) {
  return inferArgReduce(*this, getInput(), getAxis(), getKeepdims(), types);
}

LogicalResult LayerNormOp::inferResultTypes(Types &types) {
  if (RankedTensorType input = getRankedType(getInput())) {
    if (failed(checkAxis(*this, getAxis(), input.getRank())))
      return failure();
    RankedTensorType scale = getRankedType(getScale());
    if (scale && scale.getRank() > input.getRank() - (int64_t)getAxis())
      return emitOpError("scale has more dims than the normalized shape");
  }
  return inferSameAsInput(getInput(), types);
}

LogicalResult RmsNormOp::inferResultTypes(Types &types) {
  RankedTensorType input = getRankedType(getInput());
  RankedTensorType scale = getRankedType(getScale());
  if (input && input.getRank() == 0)
    return emitOpError("input must have rank >= 1");
  if (input && scale) {
    if (scale.getRank() != 1)
      return emitOpError("scale must be 1-D");
    int64_t a = input.getShape().back(), b = scale.getDimSize(0);
    if (a != kDynamic && b != kDynamic && a != b)
      return emitOpError() << "scale has " << b
                           << " elements but the normalized dim has " << a;
  }
  return inferSameAsInput(getInput(), types);
}

LogicalResult RopeOp::inferResultTypes(Types &types) {
  RankedTensorType input = getRankedType(getInput());
  if (input) {
    if (input.getRank() < 2)
      return emitOpError("input must have rank >= 2");
    int64_t d = input.getShape().back();
    if (std::optional<uint64_t> rotary = getRotaryDim()) {
      int64_t r = (int64_t)*rotary;
      if (r <= 0 || r % 2 != 0)
        return emitOpError()
               << "rotary_dim " << r << " must be positive and even";
      if (d != kDynamic && r > d)
        return emitOpError()
               << "rotary_dim " << r << " exceeds the head dim " << d;
      d = r;
    }
    if (d != kDynamic && d % 2 != 0)
      return emitOpError() << "head dim " << d << " is odd";
    for (Value table : {getCos(), getSin()}) {
      RankedTensorType t = getRankedType(table);
      if (!t)
        continue;
      if (t.getRank() == 0)
        return emitOpError("cos/sin tables must have rank >= 1");
      int64_t half = t.getShape().back();
      if (d != kDynamic && half != kDynamic && half * 2 != d)
        return emitOpError() << "cos/sin tables have " << half
                             << " columns for a rotated dim of " << d;
    }
  }
  return inferSameAsInput(getInput(), types);
}

LogicalResult AttentionOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getQuery());
  RankedTensorType q = getRankedType(getQuery());
  RankedTensorType k = getRankedType(getKey());
  RankedTensorType v = getRankedType(getValue());
  if (!q || !k || !v)
    return unranked(types, elementType);
  if (q.getRank() != 4 || k.getRank() != 4 || v.getRank() != 4)
    return emitOpError("query, key and value must be [batch, heads, seq, dim]");
  auto mismatch = [](int64_t a, int64_t b) {
    return a != kDynamic && b != kDynamic && a != b;
  };
  if (mismatch(q.getDimSize(3), k.getDimSize(3)))
    return emitOpError("query and key head dims differ");
  if (mismatch(k.getDimSize(1), v.getDimSize(1)) ||
      mismatch(k.getDimSize(2), v.getDimSize(2)))
    return emitOpError("key and value shapes differ in heads or length");
  int64_t qHeads = q.getDimSize(1), kvHeads = k.getDimSize(1);
  if (qHeads != kDynamic && kvHeads != kDynamic &&
      (kvHeads == 0 || qHeads % kvHeads != 0))
    return emitOpError() << qHeads << " query heads are not a multiple of "
                         << kvHeads << " key/value heads";
  return ranked(types,
                {q.getDimSize(0), qHeads, q.getDimSize(2), v.getDimSize(3)},
                elementType);
}

LogicalResult GatherNdOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  RankedTensorType indices = getRankedType(getIndices());
  int64_t b = getBatchDims();
  if (b < 0)
    return emitOpError() << "batch_dims " << b << " is negative";
  if (!input || !indices)
    return unranked(types, elementType);
  if (indices.getRank() < 1)
    return emitOpError("indices must have rank >= 1");
  if (b >= std::min(input.getRank(), indices.getRank()))
    return emitOpError() << "batch_dims " << b
                         << " must be less than both ranks (" << input.getRank()
                         << " and " << indices.getRank() << ")";
  for (int64_t i = 0; i < b; ++i) {
    int64_t x = input.getDimSize(i), y = indices.getDimSize(i);
    if (x != kDynamic && y != kDynamic && x != y)
      return emitOpError() << "batch dim " << i << " differs: " << x
                           << " in input, " << y << " in indices";
  }
  int64_t m = indices.getShape().back();
  if (m == kDynamic)
    return unranked(types, elementType);
  if (m < 1 || b + m > input.getRank())
    return emitOpError() << "index tuples of " << m << " elements with " << b
                         << " batch dims do not fit input rank "
                         << input.getRank();
  SmallVector<int64_t> shape(indices.getShape().drop_back());
  llvm::append_range(shape, input.getShape().drop_front(b + m));
  return ranked(types, shape, elementType);
}

namespace {
/// Reports a static dim that differs from the expected one.
LogicalResult checkDim(Operation *op, int64_t actual, int64_t expected,
                       StringRef what) {
  if (actual != kDynamic && expected != kDynamic && actual != expected)
    return op->emitOpError() << what << ": " << actual << " vs " << expected;
  return success();
}
/// Reports a ranked operand whose rank is not `rank`.
LogicalResult checkRank(Operation *op, Value value, int64_t rank,
                        StringRef name, StringRef layout) {
  RankedTensorType type = getRankedType(value);
  if (type && type.getRank() != rank)
    return op->emitOpError() << name << " must be " << layout << " (rank "
                             << rank << "), got rank " << type.getRank();
  return success();
}
int64_t dimOf(Value value, int64_t i) {
  RankedTensorType type = getRankedType(value);
  return type ? type.getDimSize(i) : kDynamic;
}
} // namespace

LogicalResult OnnxAttentionOp::inferResultTypes(Types &types) {
  Operation *op = *this;
  StringRef layout = "[batch, heads, seq, dim]";
  for (auto [value, name] : {std::pair<Value, StringRef>{getQuery(), "query"},
                             {getKey(), "key"},
                             {getValue(), "value"}})
    if (failed(checkRank(op, value, 4, name, layout)))
      return failure();
  if (getPastKey() &&
      failed(checkRank(op, getPastKey(), 4, "past_key", layout)))
    return failure();
  if (failed(checkDim(op, dimOf(getQuery(), 3), dimOf(getKey(), 3),
                      "query and key differ in head dim")) ||
      failed(checkDim(op, dimOf(getKey(), 2), dimOf(getValue(), 2),
                      "key and value differ in length")))
    return failure();
  return ranked(types,
                {dimOf(getQuery(), 0), dimOf(getQuery(), 1),
                 dimOf(getQuery(), 2), dimOf(getValue(), 3)},
                elementTypeOf(getQuery()));
}

namespace {
/// An int8 pool comes with its f32 scales, [num_blocks, block_size,
/// kv_heads] (one per slot and KV head); a float pool has none.
LogicalResult checkKvScales(Operation *op, Value pool, Value scales,
                            StringRef poolName, StringRef scalesName) {
  bool quantized = elementTypeOf(pool).isInteger(8);
  if (quantized != (bool)scales)
    return op->emitOpError()
           << poolName << " of " << elementTypeOf(pool)
           << (quantized ? " needs " : " takes no ") << scalesName
           << " (an int8 KV pool has one f32 scale per slot and KV head)";
  if (!scales)
    return success();
  if (failed(checkRank(op, scales, 3, scalesName,
                       "[num_blocks, block_size, kv_heads]")))
    return failure();
  for (int64_t i = 0; i < 3; ++i)
    if (failed(checkDim(op, dimOf(scales, i), dimOf(pool, i),
                        (scalesName + " and " + poolName + " differ in " +
                         (i == 0   ? "blocks"
                          : i == 1 ? "block size"
                                   : "kv heads"))
                            .str())))
      return failure();
  return success();
}
} // namespace

namespace {
/// The rotary tables a kv_write or paged_attention applies to its rows
/// first (`rope(%cos, %sin)`): both or neither, `[tokens, rotary/2]`
/// each, with rotary = rope_dim (positive, even, at most head_dim) or the
/// whole, even, head_dim.
LogicalResult checkRopeTables(Operation *op, Value cos, Value sin,
                              std::optional<uint64_t> ropeDim, int64_t tokens,
                              int64_t headDim, StringRef rows) {
  if ((bool)cos != (bool)sin)
    return op->emitOpError("rope takes both a cos and a sin table");
  if (!cos) {
    if (ropeDim)
      return op->emitOpError("rope_dim without rope(cos, sin) tables");
    return success();
  }
  int64_t rotary = headDim;
  if (ropeDim) {
    rotary = (int64_t)*ropeDim;
    if (rotary <= 0 || rotary % 2 != 0)
      return op->emitOpError()
             << "rope_dim " << rotary << " must be positive and even";
    if (headDim != kDynamic && rotary > headDim)
      return op->emitOpError()
             << "rope_dim " << rotary << " exceeds the head dim " << headDim;
  } else if (headDim != kDynamic && headDim % 2 != 0) {
    return op->emitOpError() << "rope over an odd head dim " << headDim;
  }
  for (auto [table, name] :
       {std::pair(cos, "rope cos"), std::pair(sin, "rope sin")}) {
    if (failed(checkRank(op, table, 2, name, "[tokens, rotary_dim / 2]")) ||
        failed(
            checkDim(op, dimOf(table, 0), tokens,
                     (Twine(name) + " table and " + rows + " differ in tokens")
                         .str())) ||
        failed(checkDim(op, dimOf(table, 1),
                        rotary == kDynamic ? kDynamic : rotary / 2,
                        (Twine(name) + " table columns and half the "
                                       "rotated dim differ")
                            .str())))
      return failure();
  }
  return success();
}
} // namespace

LogicalResult KvWriteOp::inferResultTypes(Types &types) {
  if (failed(checkRank(*this, getPool(), 4, "pool",
                       "[num_blocks, block_size, kv_heads, head_dim]")) ||
      failed(checkRank(*this, getRows(), 3, "rows",
                       "[tokens, kv_heads, head_dim]")) ||
      failed(checkRank(*this, getSlotMapping(), 1, "slot_mapping", "[tokens]")))
    return failure();
  // The pool may store another float type than the rows (a 16-bit KV
  // cache of an f32 model): the write rounds to it.
  if (failed(checkDim(*this, dimOf(getRows(), 1), dimOf(getPool(), 2),
                      "rows and pool differ in kv heads")) ||
      failed(checkDim(*this, dimOf(getRows(), 2), dimOf(getPool(), 3),
                      "rows and pool differ in head dim")) ||
      failed(checkDim(*this, dimOf(getSlotMapping(), 0), dimOf(getRows(), 0),
                      "slot_mapping and rows differ in tokens")))
    return failure();
  if (failed(checkKvScales(*this, getPool(), getScales(), "pool", "scales")) ||
      failed(checkRopeTables(*this, getRopeCos(), getRopeSin(), getRopeDim(),
                             dimOf(getRows(), 0), dimOf(getRows(), 2), "rows")))
    return failure();
  (void)inferSameAsInput(getPool(), types);
  if (getScales())
    (void)inferSameAsInput(getScales(), types);
  return success();
}

LogicalResult PagedAttentionOp::inferResultTypes(Types &types) {
  Operation *op = *this;
  StringRef poolLayout = "[num_blocks, block_size, kv_heads, head_dim]";
  if (failed(checkRank(op, getQuery(), 3, "query",
                       "[tokens, q_heads, head_dim]")) ||
      failed(checkRank(op, getKeyPool(), 4, "key_pool", poolLayout)) ||
      failed(checkRank(op, getValuePool(), 4, "value_pool", poolLayout)) ||
      failed(checkRank(op, getBlockTables(), 2, "block_tables",
                       "[sequences, max_blocks]")) ||
      failed(
          checkRank(op, getContextLens(), 1, "context_lens", "[sequences]")) ||
      failed(checkRank(op, getPositions(), 1, "positions", "[tokens]")) ||
      failed(checkRank(op, getSeqOfToken(), 1, "seq_of_token", "[tokens]")))
    return failure();
  if (getSinks() && failed(checkRank(op, getSinks(), 1, "sinks", "[q_heads]")))
    return failure();
  // The pools share one element type, which may differ from the query's (a
  // 16-bit KV cache is widened as it is read, an int8 one scaled); scores
  // and the result have the query's type.
  Type elementType = elementTypeOf(getQuery());
  SmallVector<Value> floats{getQuery()};
  if (getSinks())
    floats.push_back(getSinks());
  if (failed(checkSameElementTypes(op, floats)))
    return failure();
  if (elementTypeOf(getKeyPool()) != elementTypeOf(getValuePool()))
    return emitOpError() << "key_pool and value_pool element types differ: "
                         << elementTypeOf(getKeyPool()) << " and "
                         << elementTypeOf(getValuePool());
  // An int8 cache: both pools int8, each with its scales.
  if (failed(checkKvScales(op, getKeyPool(), getKeyScales(), "key_pool",
                           "key_scales")) ||
      failed(checkKvScales(op, getValuePool(), getValueScales(), "value_pool",
                           "value_scales")))
    return failure();
  if (getWindow() && (int64_t)*getWindow() <= 0)
    return emitOpError() << "window " << (int64_t)*getWindow()
                         << " must be positive";
  if (getSoftcap() && !(getSoftcap()->convertToDouble() > 0))
    return emitOpError("softcap must be positive");
  int64_t tokens = dimOf(getQuery(), 0), qHeads = dimOf(getQuery(), 1);
  int64_t kvHeads = dimOf(getKeyPool(), 2);
  if (failed(checkDim(op, dimOf(getQuery(), 2), dimOf(getKeyPool(), 3),
                      "query and key_pool differ in head dim")) ||
      failed(checkDim(op, dimOf(getValuePool(), 0), dimOf(getKeyPool(), 0),
                      "key_pool and value_pool differ in blocks")) ||
      failed(checkDim(op, dimOf(getValuePool(), 1), dimOf(getKeyPool(), 1),
                      "key_pool and value_pool differ in block size")) ||
      failed(checkDim(op, dimOf(getValuePool(), 2), kvHeads,
                      "key_pool and value_pool differ in kv heads")) ||
      failed(checkDim(op, dimOf(getContextLens(), 0),
                      dimOf(getBlockTables(), 0),
                      "context_lens and block_tables differ in sequences")) ||
      failed(checkDim(op, dimOf(getPositions(), 0), tokens,
                      "positions and query differ in tokens")) ||
      failed(checkDim(op, dimOf(getSeqOfToken(), 0), tokens,
                      "seq_of_token and query differ in tokens")))
    return failure();
  if (getSinks() && failed(checkDim(op, dimOf(getSinks(), 0), qHeads,
                                    "sinks and query differ in heads")))
    return failure();
  if (failed(checkRopeTables(op, getRopeCos(), getRopeSin(), getRopeDim(),
                             tokens, dimOf(getQuery(), 2), "query")))
    return failure();
  if (qHeads != kDynamic && kvHeads != kDynamic &&
      (kvHeads == 0 || qHeads % kvHeads != 0))
    return emitOpError() << qHeads << " query heads are not a multiple of "
                         << kvHeads << " key/value heads";
  return ranked(types, {tokens, qHeads, dimOf(getValuePool(), 3)}, elementType);
}

namespace {
/// Output size of a sliding window (convolution or pooling), or nullopt
/// when a pad, kernel or dilation is so large that the arithmetic leaves
/// int64_t (2^62 pads made a 0-sized output). `stride` is positive.
std::optional<int64_t> windowOutput(int64_t size, int64_t kernel,
                                    int64_t stride, int64_t padBegin,
                                    int64_t padEnd, int64_t dilation,
                                    bool ceilMode) {
  if (size == kDynamic || kernel == kDynamic)
    return kDynamic;
  // In 128 bits every term below is exact; the result must fit in 62.
  __int128 span = (__int128)dilation * (kernel - 1) + 1;
  if (span > ((__int128)1 << 62))
    return std::nullopt;
  __int128 numerator = (__int128)size + padBegin + padEnd - span;
  if (numerator < 0)
    return 0;
  __int128 out =
      (ceilMode ? (numerator + stride - 1) / stride : numerator / stride) + 1;
  // A window that would start inside the end padding is dropped (as ONNX
  // Runtime and PyTorch do in ceil mode).
  if (ceilMode && (out - 1) * stride >= (__int128)size + padBegin)
    --out;
  if (out > ((__int128)1 << 62))
    return std::nullopt;
  return (int64_t)out;
}
} // namespace

namespace {
/// The result shape of a convolution (anvil.conv, anvil.conv_integer) of
/// `input` [N, C, spatial...] by `weight` [M, C/group, kernel...], or
/// failure (reported on `op`) when they do not fit together.
FailureOr<SmallVector<int64_t>>
convolutionShape(Operation *op, RankedTensorType input, RankedTensorType weight,
                 ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                 ArrayRef<int64_t> dilations, int64_t group) {
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1 || weight.getRank() != input.getRank())
    return op->emitOpError("input and weight must be [N, C, spatial...] and "
                           "[M, C/group, kernel...]");
  if ((int64_t)strides.size() != spatial ||
      (int64_t)dilations.size() != spatial ||
      (int64_t)pads.size() != 2 * spatial)
    return op->emitOpError("strides, dilations and pads do not match the "
                           "number of spatial dims");
  int64_t channels = input.getDimSize(1), perGroup = weight.getDimSize(1);
  if (group <= 0)
    return op->emitOpError("group must be positive");
  if (channels != kDynamic && perGroup != kDynamic &&
      channels != perGroup * group)
    return op->emitOpError()
           << "input has " << channels << " channels but weight expects "
           << perGroup << " x " << group << " groups";
  if (weight.getDimSize(0) != kDynamic && weight.getDimSize(0) % group != 0)
    return op->emitOpError()
           << weight.getDimSize(0) << " output channels do not split into "
           << group << " groups";
  SmallVector<int64_t> shape = {input.getDimSize(0), weight.getDimSize(0)};
  for (int64_t i = 0; i < spatial; ++i) {
    if (strides[i] <= 0 || dilations[i] <= 0)
      return op->emitOpError("strides and dilations must be positive");
    std::optional<int64_t> out = windowOutput(
        input.getDimSize(2 + i), weight.getDimSize(2 + i), strides[i], pads[i],
        pads[spatial + i], dilations[i], false);
    if (!out)
      return op->emitOpError() << "spatial dim " << i
                               << ": pads, kernel and dilation are too large";
    shape.push_back(*out);
  }
  return shape;
}
} // namespace

LogicalResult ConvOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  RankedTensorType weight = getRankedType(getWeight());
  if (!input || !weight)
    return unranked(types, elementType);
  auto shape = convolutionShape(getOperation(), input, weight, getStrides(),
                                getPads(), getDilations(), getGroup());
  if (failed(shape))
    return failure();
  return ranked(types, *shape, elementType);
}

LogicalResult ConvIntegerOp::inferResultTypes(Types &types) {
  Type i32 = IntegerType::get(getContext(), 32);
  Type inputType = elementTypeOf(getInput());
  if (!inputType.isSignlessInteger(8) && !inputType.isUnsignedInteger(8))
    return emitOpError("input must be i8 or ui8");
  if (!elementTypeOf(getWeight()).isSignlessInteger(8))
    return emitOpError("weight must be i8");
  if (elementTypeOf(getInputZeroPoint()) != inputType)
    return emitOpError("input_zero_point must have the input's type");
  if (RankedTensorType zp = getRankedType(getInputZeroPoint()))
    if (zp.getRank() > 1 || (zp.hasStaticShape() && zp.getNumElements() != 1))
      return emitOpError("input_zero_point must hold one value");
  RankedTensorType input = getRankedType(getInput());
  RankedTensorType weight = getRankedType(getWeight());
  if (!input || !weight)
    return unranked(types, i32);
  auto shape = convolutionShape(getOperation(), input, weight, getStrides(),
                                getPads(), getDilations(), getGroup());
  if (failed(shape))
    return failure();
  return ranked(types, *shape, i32);
}

LogicalResult PoolOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  if (!input)
    return unranked(types, elementType);
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1 || (int64_t)getKernel().size() != spatial ||
      (int64_t)getStrides().size() != spatial ||
      (int64_t)getPads().size() != 2 * spatial ||
      (getDilations() && (int64_t)getDilations()->size() != spatial))
    return emitOpError("kernel, strides, pads and dilations do not match the "
                       "number of spatial dims");
  SmallVector<int64_t> shape = {input.getDimSize(0), input.getDimSize(1)};
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t dilation = getDilations() ? (*getDilations())[i] : 1;
    if (getStrides()[i] <= 0 || getKernel()[i] <= 0 || dilation <= 0)
      return emitOpError("kernel, strides and dilations must be positive");
    std::optional<int64_t> out = windowOutput(
        input.getDimSize(2 + i), getKernel()[i], getStrides()[i], getPads()[i],
        getPads()[spatial + i], dilation, getCeilMode());
    if (!out)
      return emitOpError() << "spatial dim " << i
                           << ": pads, kernel and dilation are too large";
    shape.push_back(*out);
  }
  return ranked(types, shape, elementType);
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

namespace {
/// Checks `bits` and `is_signed` against the integer storage type of
/// quantized values; returns the zero point's element type.
FailureOr<Type> quantizedStorage(Operation *op, Type storage, int64_t bits,
                                 bool isSigned, bool allow32) {
  auto integer = storage.dyn_cast<IntegerType>();
  if (!integer || integer.getWidth() == 1)
    return op->emitOpError()
           << "quantized values must be integers, not " << storage;
  if (bits == 4) {
    if (!integer.isUnsigned() || integer.getWidth() != 8)
      return op->emitOpError() << "4-bit values are packed two per byte in "
                                  "ui8 storage, not "
                               << storage;
    return Type(IntegerType::get(op->getContext(), 8,
                                 isSigned ? IntegerType::Signless
                                          : IntegerType::Unsigned));
  }
  if (bits != 8 && bits != 16 && !(allow32 && bits == 32))
    return op->emitOpError() << bits << "-bit values are not supported (4, 8, "
                             << (allow32 ? "16 or 32" : "or 16") << ")";
  if ((int64_t)integer.getWidth() != bits)
    return op->emitOpError() << "bits = " << bits
                             << " does not match the storage type " << storage;
  if (isSigned)
    return op->emitOpError("is_signed is for packed 4-bit values; the storage "
                           "type gives the signedness of wider ones");
  return storage;
}

/// Checks the scale and zero point of quantized values of logical `shape`
/// (null when unranked): per tensor, per axis or blocked along `axis`.
LogicalResult checkQuantParams(Operation *op,
                               std::optional<ArrayRef<int64_t>> shape,
                               Value scale, Value zeroPoint, Type zeroPointType,
                               int64_t axis, int64_t blockSize) {
  if (zeroPoint) {
    if (elementTypeOf(zeroPoint) != zeroPointType)
      return op->emitOpError()
             << "zero point has element type " << elementTypeOf(zeroPoint)
             << " but these values take " << zeroPointType;
    RankedTensorType s = getRankedType(scale), z = getRankedType(zeroPoint);
    if (s && z && !joinTypes(s.clone(z.getElementType()), z))
      return op->emitOpError()
             << "zero point has shape " << formatShape(z.getShape())
             << " but scale has shape " << formatShape(s.getShape());
  }
  if (blockSize < 0)
    return op->emitOpError() << "block_size " << blockSize << " is negative";
  RankedTensorType s = getRankedType(scale);
  if (!s || !shape)
    return success();
  int64_t rank = shape->size();
  if (s.getRank() == 0) {
    if (blockSize)
      return op->emitOpError("a blocked scale has the values' rank, not 0");
    return success();
  }
  if (failed(checkAxis(op, axis, rank)))
    return failure();
  auto differ = [](int64_t a, int64_t b) {
    return a != kDynamic && b != kDynamic && a != b;
  };
  if (blockSize == 0) {
    if (s.getRank() != 1)
      return op->emitOpError() << "a per-axis scale is 1-D; a scale of rank "
                               << s.getRank() << " needs block_size";
    if (differ(s.getDimSize(0), (*shape)[axis]))
      return op->emitOpError()
             << "per-axis scale has " << s.getDimSize(0) << " elements for dim "
             << axis << " of size " << (*shape)[axis];
    return success();
  }
  if (s.getRank() != rank)
    return op->emitOpError() << "a blocked scale has the values' rank " << rank
                             << ", not " << s.getRank();
  for (int64_t d = 0; d < rank; ++d) {
    int64_t want = (*shape)[d];
    if (d == axis && want != kDynamic)
      want = (want + blockSize - 1) / blockSize;
    if (differ(s.getDimSize(d), want))
      return op->emitOpError()
             << "blocked scale has shape " << formatShape(s.getShape())
             << " for values of shape " << formatShape(*shape)
             << " (block_size " << blockSize << " along dim " << axis << ")";
  }
  return success();
}
} // namespace

LogicalResult DequantizeOp::inferResultTypes(Types &types) {
  Type resultType = elementTypeOf(getScale());
  FailureOr<Type> zeroPointType =
      quantizedStorage(*this, elementTypeOf(getInput()), getBits(),
                       getIsSigned(), /*allow32=*/true);
  if (failed(zeroPointType))
    return failure();
  if (getLastDim() && getBits() != 4)
    return emitOpError("last_dim is only for packed 4-bit values");
  RankedTensorType input = getRankedType(getInput());
  std::optional<SmallVector<int64_t>> shape;
  if (input) {
    shape.emplace(input.getShape());
    if (getBits() == 4) {
      if (shape->empty())
        return emitOpError("packed 4-bit values need rank >= 1");
      int64_t packed = shape->back();
      if (std::optional<uint64_t> n = getLastDim()) {
        if ((int64_t)*n < 0 ||
            (packed != kDynamic && ((int64_t)*n + 1) / 2 != packed))
          return emitOpError() << "last_dim " << (int64_t)*n
                               << " does not pack into " << packed << " bytes";
        shape->back() = *n;
      } else if (packed != kDynamic) {
        shape->back() = 2 * packed;
      }
    }
  }
  if (failed(checkQuantParams(*this,
                              shape ? std::optional<ArrayRef<int64_t>>(*shape)
                                    : std::nullopt,
                              getScale(), getZeroPoint(), *zeroPointType,
                              getAxis(), getBlockSize())))
    return failure();
  if (!shape)
    return unranked(types, resultType);
  return ranked(types, *shape, resultType);
}

LogicalResult QuantizeOp::inferResultTypes(Types &types) {
  Type storage = resultElementType(*this);
  FailureOr<Type> zeroPointType = quantizedStorage(
      *this, storage, getBits(), getIsSigned(), /*allow32=*/false);
  if (failed(zeroPointType))
    return failure();
  if (elementTypeOf(getScale()) != elementTypeOf(getInput()))
    return emitOpError() << "scale has element type "
                         << elementTypeOf(getScale()) << " but the input "
                         << elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  if (failed(checkQuantParams(
          *this,
          input ? std::optional<ArrayRef<int64_t>>(input.getShape())
                : std::nullopt,
          getScale(), getZeroPoint(), *zeroPointType, getAxis(),
          getBlockSize())))
    return failure();
  if (!input)
    return unranked(types, storage);
  SmallVector<int64_t> shape(input.getShape());
  if (getBits() == 4) {
    if (shape.empty())
      return emitOpError("packed 4-bit values need rank >= 1");
    if (shape.back() != kDynamic)
      shape.back() = (shape.back() + 1) / 2;
  }
  return ranked(types, shape, storage);
}

LogicalResult QuantizePerTokenOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  Type i8 = IntegerType::get(getContext(), 8);
  RankedTensorType input = getRankedType(getInput());
  if (!input) {
    (void)unranked(types, i8);
    return unranked(types, elementType);
  }
  if (input.getRank() == 0)
    return emitOpError("needs rows: an input of rank >= 1");
  SmallVector<int64_t> shape(input.getShape());
  (void)ranked(types, shape, i8);
  shape.back() = 1;
  return ranked(types, shape, elementType);
}

//===----------------------------------------------------------------------===//
// Indexing ops: ScatterElements, TopK
//===----------------------------------------------------------------------===//

LogicalResult ScatterElementsOp::inferResultTypes(Types &types) {
  if (elementTypeOf(getInput()) != elementTypeOf(getUpdates()))
    return emitOpError("input and updates have different element types");
  StringRef reduction = getReduction();
  if (reduction != "none" && reduction != "add" && reduction != "mul" &&
      reduction != "max" && reduction != "min")
    return emitOpError() << "unknown reduction '" << reduction << "'";
  RankedTensorType input = getRankedType(getInput());
  RankedTensorType indices = getRankedType(getIndices());
  RankedTensorType updates = getRankedType(getUpdates());
  if (input && failed(checkAxis(*this, getAxis(), input.getRank())))
    return failure();
  if (indices && updates) {
    if (indices.getRank() != updates.getRank())
      return emitOpError("indices and updates must have the same rank");
    for (int64_t d = 0; d < indices.getRank(); ++d)
      if (failed(checkDim(*this, updates.getDimSize(d), indices.getDimSize(d),
                          "updates dim")))
        return failure();
  }
  if (input && indices) {
    if (input.getRank() != indices.getRank())
      return emitOpError("input and indices must have the same rank");
    for (int64_t d = 0; d < input.getRank(); ++d)
      if (d != int64_t(getAxis()) && input.getDimSize(d) != kDynamic &&
          indices.getDimSize(d) != kDynamic &&
          indices.getDimSize(d) > input.getDimSize(d))
        return emitOpError()
               << "indices dim " << d << " (" << indices.getDimSize(d)
               << ") exceeds the input's (" << input.getDimSize(d) << ")";
  }
  return inferSameAsInput(getInput(), types);
}

LogicalResult TopKOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  Type i64 = IntegerType::get(getContext(), 64);
  RankedTensorType kType = getRankedType(getK());
  if (kType && (kType.getRank() > 1 ||
                (kType.getRank() == 1 && kType.getDimSize(0) != kDynamic &&
                 kType.getDimSize(0) != 1)))
    return emitOpError("k must hold one value");
  int64_t k = kDynamic;
  if (std::optional<SmallVector<int64_t>> value = getConstantInts(getK())) {
    if (value->size() != 1)
      return emitOpError("k must hold one value");
    k = (*value)[0];
    if (k < 0)
      return emitOpError() << "k " << k << " is negative";
  }
  RankedTensorType input = getRankedType(getInput());
  if (!input) {
    (void)unranked(types, elementType);
    return unranked(types, i64);
  }
  if (failed(checkAxis(*this, getAxis(), input.getRank())))
    return failure();
  int64_t size = input.getDimSize(getAxis());
  if (size != kDynamic && k != kDynamic && k > size)
    return emitOpError() << "k " << k << " exceeds the axis size " << size;
  SmallVector<int64_t> shape(input.getShape());
  shape[getAxis()] = k;
  (void)ranked(types, shape, elementType);
  return ranked(types, shape, i64);
}

//===----------------------------------------------------------------------===//
// Spatial ops (Resize, ConvTranspose)
//===----------------------------------------------------------------------===//

LogicalResult ResizeOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  if (!input)
    return unranked(types, elementType);
  int64_t rank = input.getRank();
  ArrayRef<double> scales = getScales();
  ArrayRef<int64_t> sizes = getSizes();
  if ((int64_t)scales.size() != rank || (int64_t)sizes.size() != rank ||
      (int64_t)getRoi().size() != 2 * rank)
    return emitOpError() << "scales and sizes need " << rank
                         << " entries and roi " << 2 * rank;
  StringRef mode = getMode(), coord = getCoordinateTransformationMode(),
            nearest = getNearestMode();
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return emitOpError() << "unknown mode '" << mode << "'";
  if (!llvm::is_contained(
          ArrayRef<StringRef>{"half_pixel", "half_pixel_symmetric",
                              "pytorch_half_pixel", "align_corners",
                              "asymmetric", "tf_crop_and_resize"},
          coord))
    return emitOpError() << "unknown coordinate_transformation_mode '" << coord
                         << "'";
  if (!llvm::is_contained(ArrayRef<StringRef>{"round_prefer_floor",
                                              "round_prefer_ceil", "floor",
                                              "ceil"},
                          nearest))
    return emitOpError() << "unknown nearest_mode '" << nearest << "'";
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    double scale = scales[d];
    if (!(scale > 0) || !std::isfinite(scale))
      return emitOpError() << "scale " << scale << " of axis " << d
                           << " must be positive and finite";
    int64_t in = input.getDimSize(d);
    if (sizes[d] >= 0) {
      shape.push_back(sizes[d]);
      continue;
    }
    if (sizes[d] != -1)
      return emitOpError() << "size " << sizes[d] << " of axis " << d
                           << " is negative";
    if (in == kDynamic) {
      shape.push_back(kDynamic);
      continue;
    }
    double out = std::floor((double)in * scale);
    if (out >= 9.0e15)
      return emitOpError() << "axis " << d << " of size " << in << " scaled by "
                           << scale << " overflows";
    shape.push_back((int64_t)out);
  }
  return ranked(types, shape, elementType);
}

LogicalResult ConvTransposeOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  RankedTensorType weight = getRankedType(getWeight());
  if (!input || !weight)
    return unranked(types, elementType);
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1 || weight.getRank() != input.getRank())
    return emitOpError("input and weight must be [N, C, spatial...] and "
                       "[C, M/group, kernel...]");
  if ((int64_t)getStrides().size() != spatial ||
      (int64_t)getDilations().size() != spatial ||
      (int64_t)getOutputPadding().size() != spatial ||
      (int64_t)getPads().size() != 2 * spatial)
    return emitOpError("strides, dilations, output_padding and pads do not "
                       "match the number of spatial dims");
  int64_t group = getGroup();
  if (group <= 0)
    return emitOpError("group must be positive");
  int64_t c = input.getDimSize(1), wc = weight.getDimSize(0),
          mg = weight.getDimSize(1);
  if (c != kDynamic && wc != kDynamic && c != wc)
    return emitOpError() << "input has " << c << " channels, weight " << wc;
  if (wc != kDynamic && wc % group != 0)
    return emitOpError() << "channels " << wc << " not divisible by group "
                         << group;
  int64_t m = mg == kDynamic ? kDynamic : mg * group;
  if (getBias()) {
    RankedTensorType bias = getRankedType(getBias());
    if (bias && (bias.getRank() != 1 ||
                 (m != kDynamic && bias.getDimSize(0) != kDynamic &&
                  bias.getDimSize(0) != m)))
      return emitOpError() << "bias must be [" << m << "]";
  }
  SmallVector<int64_t> shape = {input.getDimSize(0), m};
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t s = getStrides()[i], dl = getDilations()[i],
            op = getOutputPadding()[i];
    if (s <= 0 || dl <= 0 || op < 0)
      return emitOpError("strides and dilations must be positive and "
                         "output_padding not negative");
    int64_t in = input.getDimSize(2 + i), k = weight.getDimSize(2 + i);
    if (in == kDynamic || k == kDynamic) {
      shape.push_back(kDynamic);
      continue;
    }
    // Checked: every term below is bounded by the product of two dims
    // or attributes; refuse sizes beyond 2^62.
    __int128 out = (__int128)s * (in - 1) + op + (__int128)(k - 1) * dl + 1 -
                   getPads()[i] - getPads()[spatial + i];
    if (out < 0 || out > ((__int128)1 << 62))
      return emitOpError() << "output dim " << i << " would be "
                           << (long long)out;
    shape.push_back((int64_t)out);
  }
  return ranked(types, shape, elementType);
}

LogicalResult GridSampleOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  RankedTensorType grid = getRankedType(getGrid());
  if (!input || !grid)
    return unranked(types, elementType);
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1 || grid.getRank() != input.getRank())
    return emitOpError("input must be [N, C, spatial...] and grid "
                       "[N, spatial..., r] of the same rank");
  int64_t r = grid.getShape().back();
  if (r != kDynamic && r != spatial)
    return emitOpError() << "grid's last dim is " << r << ", expected "
                         << spatial;
  StringRef mode = getMode(), padding = getPaddingMode();
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return emitOpError() << "unknown mode '" << mode << "'";
  if (padding != "zeros" && padding != "border" && padding != "reflection")
    return emitOpError() << "unknown padding_mode '" << padding << "'";
  int64_t n = input.getDimSize(0), gn = grid.getDimSize(0);
  if (n != kDynamic && gn != kDynamic && n != gn)
    return emitOpError() << "input batch " << n << " and grid batch " << gn
                         << " differ";
  SmallVector<int64_t> shape = {n == kDynamic ? gn : n, input.getDimSize(1)};
  for (int64_t i = 1; i <= spatial; ++i)
    shape.push_back(grid.getDimSize(i));
  return ranked(types, shape, elementType);
}

LogicalResult Col2ImOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  ArrayRef<int64_t> image = getImageShape(), block = getBlockShape();
  size_t spatial = image.size();
  if (spatial == 0 || block.size() != spatial ||
      getDilations().size() != spatial || getStrides().size() != spatial ||
      getPads().size() != 2 * spatial)
    return emitOpError("image_shape, block_shape, dilations, strides and "
                       "pads do not match");
  int64_t blockSize = 1, blocks = 1;
  for (size_t i = 0; i < spatial; ++i) {
    int64_t d = getDilations()[i], s = getStrides()[i];
    if (image[i] <= 0 || block[i] <= 0 || d <= 0 || s <= 0 ||
        getPads()[i] < 0 || getPads()[spatial + i] < 0 ||
        image[i] > (int64_t{1} << 31) || block[i] > (int64_t{1} << 31) ||
        d > (int64_t{1} << 31))
      return emitOpError("image_shape, block_shape, dilations and strides "
                         "must be positive (and below 2^31), pads not "
                         "negative");
    int64_t span = d * (block[i] - 1) + 1;
    int64_t room = image[i] + getPads()[i] + getPads()[spatial + i] - span;
    if (room < 0)
      return emitOpError() << "block dim " << i << " spans " << span
                           << " but the padded image has " << room + span;
    blockSize *= block[i];
    blocks *= room / s + 1;
    if (blockSize > (int64_t{1} << 40) || blocks > (int64_t{1} << 40))
      return emitOpError("too many blocks");
  }
  RankedTensorType input = getRankedType(getInput());
  if (!input)
    return unranked(types, elementType);
  if (input.getRank() != 3)
    return emitOpError("input must be [N, C * prod(block_shape), L]");
  int64_t cb = input.getDimSize(1), l = input.getDimSize(2);
  if (cb != kDynamic && cb % blockSize != 0)
    return emitOpError() << "input dim 1 (" << cb
                         << ") is not a multiple of the block size "
                         << blockSize;
  if (l != kDynamic && l != blocks)
    return emitOpError() << "input has " << l << " blocks, the shapes give "
                         << blocks;
  SmallVector<int64_t> shape = {input.getDimSize(0),
                                cb == kDynamic ? kDynamic : cb / blockSize};
  shape.append(image.begin(), image.end());
  return ranked(types, shape, elementType);
}

LogicalResult MaxUnpoolOp::inferResultTypes(Types &types) {
  Type elementType = elementTypeOf(getInput());
  RankedTensorType input = getRankedType(getInput());
  if (!input)
    return unranked(types, elementType);
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1 || (int64_t)getUnpooled().size() != spatial ||
      (int64_t)getOutputSpatial().size() != spatial)
    return emitOpError("unpooled and output_spatial must have one entry per "
                       "spatial dim");
  RankedTensorType indices = getRankedType(getIndices());
  if (indices && indices.getShape() != input.getShape())
    return emitOpError("indices must have the input's shape");
  SmallVector<int64_t> shape = {input.getDimSize(0), input.getDimSize(1)};
  for (int64_t i = 0; i < spatial; ++i) {
    if (getUnpooled()[i] <= 0 || getOutputSpatial()[i] < getUnpooled()[i])
      return emitOpError() << "output dim " << getOutputSpatial()[i]
                           << " is smaller than the unpooled dim "
                           << getUnpooled()[i];
    shape.push_back(getOutputSpatial()[i]);
  }
  return ranked(types, shape, elementType);
}
