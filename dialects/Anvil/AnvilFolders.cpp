//===- AnvilFolders.cpp - constant folding of anvil ops -------------------===//
//
// Folding exists to make the shape arithmetic exporters emit (Shape, Gather,
// Unsqueeze, Concat, Cast, Range chains) disappear once shapes are known,
// and to drop trivial ops (x + 0, identity transposes). It only evaluates
// constants up to kFoldElementLimit elements: it is not an interpreter.
//
//===----------------------------------------------------------------------===//

#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Anvil/ShapeUtils.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace anvil;

namespace {

RankedTensorType staticResultType(Operation *op, unsigned i = 0) {
  auto type = op->getResult(i).getType().dyn_cast<RankedTensorType>();
  if (!type || !withinFoldLimit(type))
    return {};
  return type;
}

/// Reinterprets a small constant with a new static shape.
OpFoldResult foldReshapeOfConstant(Operation *op, Attribute input) {
  RankedTensorType type = staticResultType(op);
  auto dense = input.dyn_cast_or_null<DenseElementsAttr>();
  if (!type || !dense)
    return {};
  return dense.reshape(type);
}

/// Appends element `i` of `in` to `out` (of the same kind).
void append(ConstantTensor &out, const ConstantTensor &in, int64_t i) {
  if (in.isFloat)
    out.floats.push_back(in.floats[i]);
  else
    out.ints.push_back(in.ints[i]);
}

} // namespace

//===----------------------------------------------------------------------===//
// Constants and shape arithmetic
//===----------------------------------------------------------------------===//

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult ShapeOfOp::fold(FoldAdaptor) {
  RankedTensorType input = getRankedType(getInput());
  RankedTensorType type = staticResultType(*this);
  if (!input || !type)
    return {};
  int64_t start = std::clamp<int64_t>(getStart(), 0, input.getRank());
  SmallVector<int64_t> dims;
  for (int64_t i = 0; i < type.getDimSize(0); ++i) {
    int64_t dim = input.getDimSize(start + i);
    if (dim == kDynamic)
      return {};
    dims.push_back(dim);
  }
  return buildDense(type, dims);
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType() &&
      getType().cast<TensorType>().hasStaticShape())
    return getInput();
  if (OpFoldResult folded = foldReshapeOfConstant(*this, adaptor.getInput()))
    return folded;
  // reshape(reshape(x)) -> reshape(x) when the outer shape does not copy
  // dims (0 entries) from the inner result.
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    auto target = getConstantInts(getShape());
    if (target && (getAllowzero() || !llvm::is_contained(*target, 0))) {
      getInputMutable().assign(inner.getInput());
      return getResult();
    }
  }
  return {};
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> perm = getPerm();
  bool identity = true;
  for (auto [i, p] : llvm::enumerate(perm))
    identity &= (int64_t)i == p;
  if (identity && getInput().getType() == getType())
    return getInput();
  RankedTensorType type = staticResultType(*this);
  std::optional<ConstantTensor> input = readConstant(adaptor.getInput());
  if (!type || !input)
    return {};
  ArrayRef<int64_t> inShape = input->type.getShape();
  SmallVector<int64_t> inStrides(inShape.size(), 1);
  for (int64_t d = (int64_t)inShape.size() - 2; d >= 0; --d)
    inStrides[d] = inStrides[d + 1] * inShape[d + 1];
  ConstantTensor out;
  out.isFloat = input->isFloat;
  for (int64_t i = 0, n = type.getNumElements(); i < n; ++i) {
    int64_t linear = i, source = 0;
    for (int64_t d = type.getRank() - 1; d >= 0; --d) {
      int64_t coord = linear % type.getDimSize(d);
      linear /= type.getDimSize(d);
      source += coord * inStrides[perm[d]];
    }
    append(out, *input, source);
  }
  return buildDense(type, out);
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  RankedTensorType type = staticResultType(*this);
  if (!type)
    return {};
  SmallVector<ConstantTensor> inputs;
  for (Attribute attr : adaptor.getInputs()) {
    std::optional<ConstantTensor> tensor = readConstant(attr);
    if (!tensor)
      return {};
    inputs.push_back(std::move(*tensor));
  }
  int64_t axis = getAxis();
  // Row-major: copy blocks of (dim[axis] * inner) from each input per outer.
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= type.getDimSize(d);
  ConstantTensor out;
  out.isFloat = inputs.front().isFloat;
  for (int64_t o = 0; o < outer; ++o) {
    for (const ConstantTensor &in : inputs) {
      int64_t block = in.size() / std::max<int64_t>(outer, 1);
      for (int64_t j = 0; j < block; ++j) {
        append(out, in, o * block + j);
      }
    }
  }
  return buildDense(type, out);
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  RankedTensorType type = staticResultType(*this);
  // The budget bounds what folding creates: a small slice of a larger
  // buffer (GPT-2's [1, 1, n_positions, n_positions] causal mask) folds.
  std::optional<ConstantTensor> input =
      type ? readConstant(adaptor.getInput(), kSliceInputElementLimit)
           : std::nullopt;
  auto starts = getConstantInts(getStarts());
  auto axes = getConstantInts(getAxes());
  auto steps = getConstantInts(getSteps());
  if (getInput().getType() == getType() && type && starts && axes && steps) {
    // A slice that keeps every element of every axis it touches.
    bool whole = true;
    for (size_t i = 0; i < axes->size(); ++i)
      whole &=
          (*steps)[i] == 1 &&
          ((*starts)[i] == 0 ||
           (*starts)[i] <=
               -type.getDimSize(*normalizeAxis((*axes)[i], type.getRank())));
    if (whole)
      return getInput();
  }
  if (!type || !input || !starts || !axes || !steps)
    return {};
  int64_t rank = type.getRank();
  ArrayRef<int64_t> inShape = input->type.getShape();
  SmallVector<int64_t> begin(rank, 0), step(rank, 1);
  for (size_t i = 0; i < axes->size(); ++i) {
    int64_t axis = *normalizeAxis((*axes)[i], rank);
    int64_t dim = inShape[axis], s = (*starts)[i];
    if (s < 0)
      s += dim;
    step[axis] = (*steps)[i];
    begin[axis] = step[axis] > 0 ? std::clamp<int64_t>(s, 0, dim)
                                 : std::clamp<int64_t>(s, 0, dim - 1);
  }
  SmallVector<int64_t> inStrides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    inStrides[d] = inStrides[d + 1] * inShape[d + 1];
  ConstantTensor out;
  out.isFloat = input->isFloat;
  for (int64_t i = 0, n = type.getNumElements(); i < n; ++i) {
    int64_t linear = i, source = 0;
    for (int64_t d = rank - 1; d >= 0; --d) {
      int64_t coord = linear % type.getDimSize(d);
      linear /= type.getDimSize(d);
      source += (begin[d] + coord * step[d]) * inStrides[d];
    }
    append(out, *input, source);
  }
  return buildDense(type, out);
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  RankedTensorType type = staticResultType(*this);
  std::optional<ConstantTensor> input = readConstant(adaptor.getInput());
  std::optional<ConstantTensor> indices = readConstant(adaptor.getIndices());
  if (!type || !input || !indices || indices->isFloat)
    return {};
  ArrayRef<int64_t> inShape = input->type.getShape();
  int64_t axis = getAxis();
  int64_t outer = 1, inner = 1, dim = inShape[axis];
  for (int64_t d = 0; d < axis; ++d)
    outer *= inShape[d];
  for (int64_t d = axis + 1; d < (int64_t)inShape.size(); ++d)
    inner *= inShape[d];
  ConstantTensor out;
  out.isFloat = input->isFloat;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t index : indices->ints) {
      if (index < 0)
        index += dim;
      if (index < 0 || index >= dim)
        return {}; // Out of bounds: leave it for a run-time error.
      for (int64_t j = 0; j < inner; ++j) {
        int64_t source = (o * dim + index) * inner + j;
        append(out, *input, source);
      }
    }
  }
  return buildDense(type, out);
}

OpFoldResult ExpandOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType() &&
      getType().cast<TensorType>().hasStaticShape())
    return getInput();
  auto type = getType().dyn_cast<RankedTensorType>();
  auto dense = adaptor.getInput().dyn_cast_or_null<DenseElementsAttr>();
  if (type && withinFoldLimit(type, std::numeric_limits<int64_t>::max()) &&
      dense && dense.isSplat())
    return DenseElementsAttr::get(type, dense.getSplatValue<Attribute>());
  return foldElementwise(*this, adaptor.getOperands(), std::nullopt);
}

OpFoldResult UnsqueezeOp::fold(FoldAdaptor adaptor) {
  return foldReshapeOfConstant(*this, adaptor.getInput());
}
OpFoldResult SqueezeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return foldReshapeOfConstant(*this, adaptor.getInput());
}
OpFoldResult FlattenOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return foldReshapeOfConstant(*this, adaptor.getInput());
}

OpFoldResult RangeOp::fold(FoldAdaptor adaptor) {
  RankedTensorType type = staticResultType(*this);
  auto start = readConstant(adaptor.getStart());
  auto delta = readConstant(adaptor.getDelta());
  if (!type || !start || !delta)
    return {};
  // As the kernel (indexing.h range): floats start + i * delta with one
  // rounding in double (f16 and bf16 then through float), integers
  // wrapping.
  ConstantTensor out;
  out.isFloat = start->isFloat;
  Type element = type.getElementType();
  for (int64_t i = 0; i < type.getDimSize(0); ++i) {
    if (out.isFloat) {
      out.floats.push_back(
          roundToFloatType(element, std::fma(double(i), delta->asDouble(0),
                                             start->asDouble(0))));
    } else {
      out.ints.push_back(static_cast<int64_t>(
          static_cast<uint64_t>(start->ints[0]) +
          static_cast<uint64_t>(i) * static_cast<uint64_t>(delta->ints[0])));
    }
  }
  return buildDense(type, out);
}

OpFoldResult FillOp::fold(FoldAdaptor) {
  auto type = getType().dyn_cast<RankedTensorType>();
  auto value = getValue().dyn_cast<DenseElementsAttr>();
  if (!type || !withinFoldLimit(type, std::numeric_limits<int64_t>::max()) ||
      !value)
    return {};
  // A splat stores one element whatever the size, so any size folds.
  return DenseElementsAttr::get(type, *value.value_begin<Attribute>());
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return foldElementwise(*this, adaptor.getOperands(), std::nullopt);
}

OpFoldResult WhereOp::fold(FoldAdaptor adaptor) {
  Attribute condition = adaptor.getCondition();
  if (getTrueValue().getType() == getType() && isConstantSplat(condition, 1))
    return getTrueValue();
  if (getFalseValue().getType() == getType() && isConstantSplat(condition, 0))
    return getFalseValue();
  return foldElementwise(*this, adaptor.getOperands(), std::nullopt);
}

OpFoldResult ReduceOp::fold(FoldAdaptor adaptor) {
  RankedTensorType type = staticResultType(*this);
  std::optional<ConstantTensor> input = readConstant(adaptor.getInput());
  if (!type || !input)
    return {};
  ArrayRef<int64_t> inShape = input->type.getShape();
  int64_t rank = inShape.size();
  SmallVector<bool> reduced(rank, getAxes().empty());
  for (int64_t axis : getAxes())
    reduced[axis] = true;
  // Output coordinates drop (or keep as 1) the reduced dims.
  SmallVector<int64_t> outShape;
  for (int64_t d = 0; d < rank; ++d)
    if (!reduced[d])
      outShape.push_back(inShape[d]);
  int64_t outCount = 1;
  for (int64_t d : outShape)
    outCount *= d;
  ReduceKind kind = getKind();
  // As the kernel (reduction.h): in double, in increasing index order;
  // max and min propagate NaN (max_nan); log-sum-exp subtracts the maximum.
  auto outIndex = [&](int64_t i) {
    int64_t linear = i, out = 0, stride = 1;
    for (int64_t d = rank - 1; d >= 0; --d) {
      int64_t coord = linear % inShape[d];
      linear /= inShape[d];
      if (!reduced[d]) {
        out += coord * stride;
        stride *= inShape[d];
      }
    }
    return out;
  };
  auto maxNan = [](double a, double b) {
    return std::isnan(a) ? a : std::isnan(b) ? b : a > b ? a : b;
  };
  auto minNan = [](double a, double b) {
    return std::isnan(a) ? a : std::isnan(b) ? b : a < b ? a : b;
  };
  if (!input->isFloat) {
    // Integers: in 64 bits, wrapping, as the kernel accumulates them; max
    // and min compare in the element type's signedness. Mean, L2 and
    // log-sum-exp of integers are not folded.
    if (kind == ReduceKind::mean || kind == ReduceKind::l2 ||
        kind == ReduceKind::log_sum_exp)
      return {};
    bool isUnsigned = input->type.getElementType().isUnsignedInteger();
    std::vector<uint64_t> iacc(outCount, kind == ReduceKind::prod ? 1 : 0);
    std::vector<bool> seen(outCount, false);
    for (int64_t i = 0; i < input->size(); ++i) {
      int64_t out = outIndex(i);
      uint64_t v = static_cast<uint64_t>(input->ints[i]);
      uint64_t &a = iacc[out];
      bool first = !seen[out];
      seen[out] = true;
      switch (kind) {
      case ReduceKind::prod:
        a *= v;
        break;
      case ReduceKind::l1:
        a += static_cast<int64_t>(v) < 0 ? 0 - v : v;
        break;
      case ReduceKind::sum_square:
        a += v * v;
        break;
      case ReduceKind::max:
      case ReduceKind::min: {
        bool greater = isUnsigned
                           ? v > a
                           : static_cast<int64_t>(v) > static_cast<int64_t>(a);
        bool less = isUnsigned
                        ? v < a
                        : static_cast<int64_t>(v) < static_cast<int64_t>(a);
        if (first || (kind == ReduceKind::max ? greater : less))
          a = v;
        break;
      }
      default:
        a += v;
        break;
      }
    }
    if ((kind == ReduceKind::max || kind == ReduceKind::min) &&
        llvm::is_contained(seen, false))
      return {}; // The identity is the integer type's extreme value.
    SmallVector<int64_t> ints;
    for (uint64_t a : iacc)
      ints.push_back(static_cast<int64_t>(a));
    return buildDense(type, ints);
  }
  std::vector<double> peak(outCount, -INFINITY);
  if (kind == ReduceKind::log_sum_exp)
    for (int64_t i = 0; i < input->size(); ++i) {
      double &p = peak[outIndex(i)];
      p = maxNan(p, input->asDouble(i));
    }
  std::vector<double> acc(outCount);
  std::vector<int64_t> count(outCount, 0);
  for (int64_t i = 0; i < input->size(); ++i) {
    int64_t out = outIndex(i);
    double v = input->asDouble(i);
    double &a = acc[out];
    if (count[out]++ == 0) {
      switch (kind) {
      case ReduceKind::l1:
        a = std::fabs(v);
        break;
      case ReduceKind::l2:
      case ReduceKind::sum_square:
        a = std::fma(v, v, 0.0); // The kernel's fma(v, v, acc), acc = +0.
        break;
      case ReduceKind::log_sum_exp:
        a = std::exp(v - peak[out]);
        break;
      case ReduceKind::sum:
      case ReduceKind::mean:
        a = 0.0 + v; // The kernel starts from +0: a sum of -0 is +0.
        break;
      default:
        a = v;
        break;
      }
      continue;
    }
    switch (kind) {
    case ReduceKind::sum:
    case ReduceKind::mean:
      a += v;
      break;
    case ReduceKind::max:
      a = maxNan(a, v);
      break;
    case ReduceKind::min:
      a = minNan(a, v);
      break;
    case ReduceKind::prod:
      a *= v;
      break;
    case ReduceKind::l1:
      a += std::fabs(v);
      break;
    case ReduceKind::l2:
    case ReduceKind::sum_square:
      a = std::fma(v, v, a); // One rounding, as the kernel.
      break;
    case ReduceKind::log_sum_exp:
      a += std::exp(v - peak[out]);
      break;
    }
  }
  for (int64_t o = 0; o < outCount; ++o) {
    if (count[o] == 0) {
      // Reducing an empty set gives the reduction's identity (ONNX).
      switch (kind) {
      case ReduceKind::max:
      case ReduceKind::min:
        acc[o] = kind == ReduceKind::max ? -INFINITY : INFINITY;
        break;
      case ReduceKind::prod:
        acc[o] = 1;
        break;
      case ReduceKind::mean:
        acc[o] = NAN;
        break;
      case ReduceKind::log_sum_exp:
        acc[o] = -INFINITY;
        break;
      default:
        acc[o] = 0;
        break;
      }
      continue;
    }
    if (kind == ReduceKind::mean)
      acc[o] /= std::max<int64_t>(count[o], 1);
    else if (kind == ReduceKind::l2)
      acc[o] = std::sqrt(acc[o]);
    else if (kind == ReduceKind::log_sum_exp)
      // An infinite maximum is the result (exp(inf - inf) would be NaN).
      acc[o] = std::isinf(peak[o]) ? peak[o] : peak[o] + std::log(acc[o]);
  }
  // The kernel converts its double result as C++ does (through float for
  // 16-bit types).
  for (double &a : acc)
    a = roundToFloatType(type.getElementType(), a);
  return buildDense(type, ArrayRef<double>(acc));
}

namespace {
/// Index along `axis` of the largest (`isMax`) or smallest element; ties
/// keep the first index unless `lastOnTies`.
OpFoldResult foldArgReduce(Operation *op, Attribute inputAttr, int64_t axis,
                           bool lastOnTies, bool isMax) {
  RankedTensorType type = staticResultType(op);
  std::optional<ConstantTensor> input = readConstant(inputAttr);
  if (!type || !input)
    return {};
  bool isUnsigned = input->type.getElementType().isUnsignedInteger();
  ArrayRef<int64_t> shape = input->type.getShape();
  int64_t outer = 1, inner = 1, dim = shape[axis];
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  for (int64_t d = axis + 1; d < (int64_t)shape.size(); ++d)
    inner *= shape[d];
  if (dim == 0)
    return {};
  SmallVector<int64_t> result;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      // As the kernel: compare in the element type (integers exactly,
      // unsigned ones as unsigned; NaN is never better).
      auto greater = [&](int64_t x, int64_t y) {
        if (input->isFloat)
          return input->floats[x] > input->floats[y];
        if (isUnsigned)
          return uint64_t(input->ints[x]) > uint64_t(input->ints[y]);
        return input->ints[x] > input->ints[y];
      };
      auto equal = [&](int64_t x, int64_t y) {
        return input->isFloat ? input->floats[x] == input->floats[y]
                              : input->ints[x] == input->ints[y];
      };
      auto at = [&](int64_t k) { return (o * dim + k) * inner + i; };
      int64_t best = 0;
      for (int64_t k = 1; k < dim; ++k) {
        bool better =
            isMax ? greater(at(k), at(best)) : greater(at(best), at(k));
        if (better || (lastOnTies && equal(at(k), at(best))))
          best = k;
      }
      result.push_back(best);
    }
  }
  return buildDense(type, result);
}
} // namespace

OpFoldResult PadOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> pads = getPads();
  if (llvm::all_of(pads, [](int64_t p) { return p == 0; }) &&
      getInput().getType() == getType())
    return getInput();
  RankedTensorType type = staticResultType(*this);
  std::optional<ConstantTensor> input = readConstant(adaptor.getInput());
  if (!type || !input)
    return {};
  ArrayRef<int64_t> inShape = input->type.getShape();
  int64_t rank = inShape.size();
  StringRef mode = getMode();
  double fill = getValue().convertToDouble();
  ConstantTensor out;
  out.isFloat = input->isFloat;
  for (int64_t i = 0, n = type.getNumElements(); i < n; ++i) {
    int64_t linear = i, source = 0, stride = 1;
    bool outside = false;
    for (int64_t d = rank - 1; d >= 0; --d) {
      int64_t coord = linear % type.getDimSize(d) - pads[d];
      linear /= type.getDimSize(d);
      int64_t dim = inShape[d];
      if (coord < 0 || coord >= dim) {
        if (mode == "constant" || dim == 0) {
          outside = true;
        } else if (mode == "edge") {
          coord = coord < 0 ? 0 : dim - 1;
        } else if (mode == "wrap") {
          coord = ((coord % dim) + dim) % dim;
        } else { // reflect: ... 2 1 | 0 1 2 | 1 0 ...
          int64_t period = 2 * (dim - 1);
          coord = period ? ((coord % period) + period) % period : 0;
          if (coord >= dim)
            coord = period - coord;
        }
      }
      source += coord * stride;
      stride *= dim;
    }
    if (out.isFloat)
      out.floats.push_back(outside ? fill : input->floats[source]);
    else
      out.ints.push_back(outside ? floatToInt(fill, 64, false)
                                 : input->ints[source]);
  }
  return buildDense(type, out);
}

namespace {
/// Row-major coordinates of `linear` in `shape`.
SmallVector<int64_t> coordinates(int64_t linear, ArrayRef<int64_t> shape) {
  SmallVector<int64_t> coords(shape.size());
  for (int64_t d = shape.size() - 1; d >= 0; --d) {
    coords[d] = linear % shape[d];
    linear /= shape[d];
  }
  return coords;
}
int64_t linearIndex(ArrayRef<int64_t> coords, ArrayRef<int64_t> shape) {
  int64_t index = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    index = index * shape[d] + coords[d];
  return index;
}
} // namespace

OpFoldResult TileOp::fold(FoldAdaptor adaptor) {
  if (llvm::all_of(getRepeats(), [](int64_t r) { return r == 1; }) &&
      getInput().getType() == getType())
    return getInput();
  RankedTensorType type = staticResultType(*this);
  std::optional<ConstantTensor> input = readConstant(adaptor.getInput());
  if (!type || !input)
    return {};
  ArrayRef<int64_t> inShape = input->type.getShape();
  ConstantTensor out;
  out.isFloat = input->isFloat;
  for (int64_t i = 0, n = type.getNumElements(); i < n; ++i) {
    SmallVector<int64_t> c = coordinates(i, type.getShape());
    for (size_t d = 0; d < c.size(); ++d)
      c[d] %= inShape[d];
    append(out, *input, linearIndex(c, inShape));
  }
  return buildDense(type, out);
}

OpFoldResult CumSumOp::fold(FoldAdaptor adaptor) {
  RankedTensorType type = staticResultType(*this);
  std::optional<ConstantTensor> input = readConstant(adaptor.getInput());
  if (!type || !input)
    return {};
  // As the kernel (reduction.h cumsum): one running sum per line, kept in
  // the element type (floats rounded after each add, integers wrapping).
  ArrayRef<int64_t> shape = type.getShape();
  int64_t axis = getAxis(), dim = shape[axis], inner = 1;
  for (int64_t d = axis + 1; d < (int64_t)shape.size(); ++d)
    inner *= shape[d];
  int64_t outer = dim * inner ? input->size() / (dim * inner) : 0;
  Type element = type.getElementType();
  ConstantTensor out = *input;
  for (int64_t r = 0; r < outer * inner; ++r) {
    int64_t base = (r / inner) * dim * inner + r % inner;
    double sum = 0;
    uint64_t isum = 0;
    for (int64_t t = 0; t < dim; ++t) {
      int64_t at = base + (getReverse() ? dim - 1 - t : t) * inner;
      double v = input->asDouble(at);
      uint64_t iv = out.isFloat ? 0 : static_cast<uint64_t>(input->ints[at]);
      if (!getExclusive()) {
        sum = roundToFloatType(element, sum + v);
        isum += iv;
      }
      if (out.isFloat)
        out.floats[at] = sum;
      else
        out.ints[at] = static_cast<int64_t>(isum);
      if (getExclusive()) {
        sum = roundToFloatType(element, sum + v);
        isum += iv;
      }
    }
  }
  return buildDense(type, out);
}

/// Whether constant `indices` of `shape` hold each element's own
/// coordinate along `axis` (a gather that moves nothing).
static bool isIdentityIndex(const ConstantTensor &indices,
                            ArrayRef<int64_t> shape, int64_t axis) {
  int64_t inner = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  for (int64_t e = 0; e < indices.size(); ++e)
    if (indices.ints[e] != (e / inner) % shape[axis] &&
        indices.ints[e] != (e / inner) % shape[axis] - shape[axis])
      return false;
  return true;
}

OpFoldResult GatherElementsOp::fold(FoldAdaptor adaptor) {
  RankedTensorType type = staticResultType(*this);
  std::optional<ConstantTensor> indices = readConstant(adaptor.getIndices());
  // GroupQueryAttention's decomposition re-packs the KV cache by the
  // sequence lengths; with a full attention mask the packing is the
  // identity (the paged-KV rewrite relies on seeing through it).
  int64_t identityAxis = (int64_t)getAxis();
  if (type && identityAxis < 0)
    identityAxis += type.getRank();
  if (type && indices && !indices->isFloat && getInput().getType() == type &&
      indices->type.getShape() == type.getShape() && identityAxis >= 0 &&
      identityAxis < type.getRank() &&
      isIdentityIndex(*indices, type.getShape(), identityAxis))
    return getInput();
  std::optional<ConstantTensor> input = readConstant(adaptor.getInput());
  if (!type || !input || !indices || indices->isFloat)
    return {};
  ArrayRef<int64_t> inShape = input->type.getShape();
  int64_t axis = getAxis();
  ConstantTensor out;
  out.isFloat = input->isFloat;
  for (int64_t i = 0, n = type.getNumElements(); i < n; ++i) {
    SmallVector<int64_t> c = coordinates(i, type.getShape());
    int64_t index = indices->ints[i];
    if (index < 0)
      index += inShape[axis];
    if (index < 0 || index >= inShape[axis])
      return {}; // Out of bounds: a run-time error, not a fold.
    c[axis] = index;
    for (size_t d = 0; d < c.size(); ++d)
      if (c[d] >= inShape[d])
        return {};
    append(out, *input, linearIndex(c, inShape));
  }
  return buildDense(type, out);
}

OpFoldResult MatmulOp::fold(FoldAdaptor adaptor) {
  RankedTensorType type = staticResultType(*this);
  std::optional<ConstantTensor> lhs = readConstant(adaptor.getLhs());
  std::optional<ConstantTensor> rhs = readConstant(adaptor.getRhs());
  // Float products are not folded: the kernel accumulates in the element
  // type in an order and with FMA contraction that are the C++ compiler's
  // choice, which a folder cannot reproduce bit for bit. Integer products
  // (shape arithmetic) wrap, as the kernel's.
  if (!type || !lhs || !rhs || lhs->isFloat || rhs->isFloat)
    return {};
  // numpy matmul: promote 1-D operands, broadcast the batch dims.
  SmallVector<int64_t> a(lhs->type.getShape()), b(rhs->type.getShape());
  bool transposed = getTransposeRhs();
  bool lhsVector = a.size() == 1, rhsVector = b.size() == 1;
  if (lhsVector)
    a.insert(a.begin(), 1);
  if (rhsVector)
    b.push_back(1);
  int64_t m = a[a.size() - 2], k = a.back();
  int64_t n = transposed ? b[b.size() - 2] : b.back();
  SmallVector<int64_t> batch;
  if (failed(broadcastShapes(ArrayRef<int64_t>(a).drop_back(2),
                             ArrayRef<int64_t>(b).drop_back(2), batch)))
    return {};
  int64_t batches = 1;
  for (int64_t d : batch)
    batches *= d;
  if (batches * m * n * k > 16 * kFoldElementLimit)
    return {}; // Too much arithmetic for compile time.
  ArrayRef<int64_t> aBatch = ArrayRef<int64_t>(a).drop_back(2);
  ArrayRef<int64_t> bBatch = ArrayRef<int64_t>(b).drop_back(2);
  ConstantTensor out;
  for (int64_t p = 0; p < batches; ++p) {
    int64_t aBase = broadcastIndex(batch, aBatch, p) * m * k;
    int64_t bBase = broadcastIndex(batch, bBatch, p) * k * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        uint64_t isum = 0;
        for (int64_t t = 0; t < k; ++t) {
          int64_t ai = aBase + i * k + t;
          int64_t bi = bBase + (transposed ? j * k + t : t * n + j);
          isum += static_cast<uint64_t>(lhs->ints[ai]) *
                  static_cast<uint64_t>(rhs->ints[bi]);
        }
        out.ints.push_back(static_cast<int64_t>(isum));
      }
  }
  return buildDense(type, out);
}

OpFoldResult SoftmaxOp::fold(FoldAdaptor adaptor) {
  RankedTensorType type = staticResultType(*this);
  std::optional<ConstantTensor> input = readConstant(adaptor.getInput());
  if (!type || !input)
    return {};
  ArrayRef<int64_t> shape = type.getShape();
  int64_t axis = getAxis(), dim = shape[axis], inner = 1;
  for (int64_t d = axis + 1; d < (int64_t)shape.size(); ++d)
    inner *= shape[d];
  std::vector<double> out(input->floats);
  int64_t outer = dim ? (int64_t)out.size() / (dim * inner) : 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) -> double & {
        return out[(o * dim + j) * inner + i];
      };
      double peak = -INFINITY, total = 0;
      for (int64_t j = 0; j < dim; ++j)
        peak = std::max(peak, at(j));
      for (int64_t j = 0; j < dim; ++j)
        total += std::exp(at(j) - peak);
      for (int64_t j = 0; j < dim; ++j)
        at(j) = getLog() ? at(j) - peak - std::log(total)
                         : std::exp(at(j) - peak) / total;
    }
  return buildDense(type, ArrayRef<double>(out));
}

OpFoldResult ArgMaxOp::fold(FoldAdaptor adaptor) {
  return foldArgReduce(*this, adaptor.getInput(), getAxis(),
                       getSelectLastIndex(), /*isMax=*/true);
}
OpFoldResult ArgMinOp::fold(FoldAdaptor adaptor) {
  return foldArgReduce(*this, adaptor.getInput(), getAxis(),
                       getSelectLastIndex(), /*isMax=*/false);
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

// The other elementwise ops fold by evaluating their payload
// (ElementwiseFolding.cpp), generated from AnvilOps.td.

//===----------------------------------------------------------------------===//
// Indexing ops: GatherND, ScatterElements (small constants only;
// an out-of-range index is a run-time error, never a fold)
//===----------------------------------------------------------------------===//

/// The row-major offset of index tuple `t` (`depth` indices, negative ones
/// counting from the end) into dims `shape[first..first+depth)`, or nullopt
/// when an index is out of range (GatherND and ScatterND).
static std::optional<int64_t> tupleOffset(const ConstantTensor &indices,
                                          int64_t t, int64_t depth,
                                          ArrayRef<int64_t> shape,
                                          int64_t first) {
  int64_t offset = 0;
  for (int64_t d = 0; d < depth; ++d) {
    int64_t i = indices.ints[t * depth + d], size = shape[first + d];
    if (i < 0)
      i += size;
    if (i < 0 || i >= size)
      return std::nullopt;
    offset = offset * size + i;
  }
  return offset;
}

OpFoldResult GatherNdOp::fold(FoldAdaptor adaptor) {
  RankedTensorType type = staticResultType(*this);
  std::optional<ConstantTensor> input = readConstant(adaptor.getInput());
  std::optional<ConstantTensor> indices = readConstant(adaptor.getIndices());
  if (!type || !input || !indices || indices->isFloat)
    return {};
  ArrayRef<int64_t> inShape = input->type.getShape();
  ArrayRef<int64_t> indexShape = indices->type.getShape();
  int64_t b = getBatchDims(), depth = indexShape.back();
  int64_t batch = 1, count = 1, slice = 1;
  for (int64_t d = 0; d < b; ++d)
    batch *= inShape[d];
  for (int64_t d = b; d + 1 < (int64_t)indexShape.size(); ++d)
    count *= indexShape[d];
  for (int64_t d = b + depth; d < (int64_t)inShape.size(); ++d)
    slice *= inShape[d];
  int64_t batchSize = slice;
  for (int64_t d = 0; d < depth; ++d)
    batchSize *= inShape[b + d];
  ConstantTensor out;
  out.isFloat = input->isFloat;
  for (int64_t t = 0; t < batch * count; ++t) {
    std::optional<int64_t> offset = tupleOffset(*indices, t, depth, inShape, b);
    if (!offset)
      return {};
    for (int64_t s = 0; s < slice; ++s)
      append(out, *input, (t / count) * batchSize + *offset * slice + s);
  }
  return buildDense(type, out);
}

// Causal masks are built from trilu and scatter_nd over small constants;
// folding them lets the paged-KV rewrite read the mask it replaces.
OpFoldResult TriluOp::fold(FoldAdaptor adaptor) {
  RankedTensorType type = staticResultType(*this);
  std::optional<ConstantTensor> input = readConstant(adaptor.getInput());
  if (!type || !input || type.getRank() < 2)
    return {};
  int64_t rows = type.getDimSize(type.getRank() - 2),
          cols = type.getDimSize(type.getRank() - 1), k = getK();
  ConstantTensor out = *input;
  for (int64_t e = 0; e < out.size(); ++e) {
    int64_t i = (e / cols) % rows, j = e % cols;
    bool keep = getUpper() ? j - i >= k : j - i <= k;
    if (keep)
      continue;
    if (out.isFloat)
      out.floats[e] = 0.0;
    else
      out.ints[e] = 0;
  }
  return buildDense(type, out);
}

OpFoldResult ScatterNdOp::fold(FoldAdaptor adaptor) {
  if (getReduction() != "none")
    return {};
  RankedTensorType type = staticResultType(*this);
  std::optional<ConstantTensor> input = readConstant(adaptor.getInput());
  std::optional<ConstantTensor> indices = readConstant(adaptor.getIndices());
  std::optional<ConstantTensor> updates = readConstant(adaptor.getUpdates());
  if (!type || !input || !indices || !updates || indices->isFloat ||
      input->isFloat != updates->isFloat)
    return {};
  ArrayRef<int64_t> inShape = input->type.getShape();
  ArrayRef<int64_t> indexShape = indices->type.getShape();
  if (indexShape.empty())
    return {};
  int64_t depth = indexShape.back();
  if (depth > (int64_t)inShape.size())
    return {};
  int64_t count = 1, slice = 1;
  for (size_t d = 0; d + 1 < indexShape.size(); ++d)
    count *= indexShape[d];
  for (size_t d = depth; d < inShape.size(); ++d)
    slice *= inShape[d];
  if (updates->size() != count * slice)
    return {};
  ConstantTensor out = *input;
  for (int64_t t = 0; t < count; ++t) {
    std::optional<int64_t> offset = tupleOffset(*indices, t, depth, inShape, 0);
    if (!offset)
      return {};
    for (int64_t s = 0; s < slice; ++s) {
      if (out.isFloat)
        out.floats[*offset * slice + s] = updates->floats[t * slice + s];
      else
        out.ints[*offset * slice + s] = updates->ints[t * slice + s];
    }
  }
  return buildDense(type, out);
}

OpFoldResult ScatterElementsOp::fold(FoldAdaptor adaptor) {
  if (getReduction() != "none")
    return {};
  RankedTensorType type = staticResultType(*this);
  std::optional<ConstantTensor> input = readConstant(adaptor.getInput());
  std::optional<ConstantTensor> indices = readConstant(adaptor.getIndices());
  std::optional<ConstantTensor> updates = readConstant(adaptor.getUpdates());
  if (!type || !input || !indices || !updates || indices->isFloat)
    return {};
  ArrayRef<int64_t> inShape = input->type.getShape();
  ArrayRef<int64_t> indexShape = indices->type.getShape();
  int64_t axis = getAxis();
  ConstantTensor out = *input;
  for (int64_t i = 0, n = indices->size(); i < n; ++i) {
    SmallVector<int64_t> c = coordinates(i, indexShape);
    int64_t index = indices->ints[i];
    if (index < 0)
      index += inShape[axis];
    if (index < 0 || index >= inShape[axis])
      return {};
    c[axis] = index;
    int64_t at = linearIndex(c, inShape);
    if (out.isFloat)
      out.floats[at] = updates->floats[i];
    else
      out.ints[at] = updates->ints[i];
  }
  return buildDense(type, out);
}

//===----------------------------------------------------------------------===//
// Quantization: anvil.quantize of constants
//===----------------------------------------------------------------------===//

/// Folds 8- and 16-bit quantize of constant values, scale and zero point
/// (a DynamicQuantizeLinear of a constant becomes constants) exactly as
/// backends/cpu/kernels/quantize.h computes it: in float (double for f64
/// values), the quotient rounded half to even, the zero point added, the
/// sum saturated. Packed 4-bit results are left to the kernel.
OpFoldResult QuantizeOp::fold(FoldAdaptor adaptor) {
  RankedTensorType type = staticResultType(*this);
  if (!type || getBits() == 4)
    return {};
  std::optional<ConstantTensor> x = readConstant(adaptor.getInput());
  std::optional<ConstantTensor> scale = readConstant(adaptor.getScale());
  if (!x || !scale || !x->isFloat || !scale->isFloat)
    return {};
  std::optional<ConstantTensor> zeroPoint;
  if (getZeroPoint()) {
    zeroPoint = readConstant(adaptor.getZeroPoint());
    if (!zeroPoint || zeroPoint->isFloat || zeroPoint->size() != scale->size())
      return {};
  }
  // The scale index of each value, as quant_param_index does.
  ArrayRef<int64_t> shape = x->type.getShape();
  int64_t rank = shape.size(), axis = getAxis(), blockSize = getBlockSize();
  int64_t outer = 1, size = 1, inner = 1;
  bool perTensor = scale->type.getRank() == 0;
  if (!perTensor) {
    if (axis < 0 || axis >= rank)
      return {};
    for (int64_t d = 0; d < rank; ++d)
      (d < axis ? outer : d > axis ? inner : size) *= shape[d];
  }
  int64_t blocks = blockSize ? (size + blockSize - 1) / blockSize : size;
  auto scaleIndex = [&](int64_t f) -> int64_t {
    if (perTensor)
      return 0;
    int64_t a = (f / inner) % size;
    if (!blockSize)
      return a;
    int64_t o = f / (inner * size), i = f % inner;
    return (o * blocks + a / blockSize) * inner + i;
  };
  unsigned bits = type.getElementType().getIntOrFloatBitWidth();
  if (bits != getBits() || bits > 16)
    return {};
  bool isSigned = !type.getElementType().isUnsignedInteger();
  int64_t lo = isSigned ? -(int64_t(1) << (bits - 1)) : 0;
  int64_t hi =
      isSigned ? (int64_t(1) << (bits - 1)) - 1 : (int64_t(1) << bits) - 1;
  bool wide = x->type.getElementType().isF64();
  auto saturate = [&](auto v) -> int64_t {
    if (!(v >= decltype(v)(lo)))
      return lo;
    if (v > decltype(v)(hi))
      return hi;
    return static_cast<int64_t>(v);
  };
  std::vector<int64_t> out(x->size());
  for (int64_t f = 0; f < x->size(); ++f) {
    int64_t s = scaleIndex(f);
    if (s >= scale->size())
      return {};
    int64_t zp = zeroPoint ? zeroPoint->ints[s] : 0;
    if (wide)
      out[f] = saturate(std::nearbyint(x->floats[f] / scale->floats[s]) +
                        double(zp));
    else
      out[f] = saturate(
          std::nearbyint(float(x->floats[f]) / float(scale->floats[s])) +
          float(zp));
  }
  return buildDense(type, ArrayRef<int64_t>(out));
}
