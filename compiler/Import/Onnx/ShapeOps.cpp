//===- ShapeOps.cpp - importers for ONNX shape and data-movement ops ------===//

#include "compiler/Import/Onnx/OnnxOpTable.h"
#include "dialects/Anvil/ShapeUtils.h"

#include "onnx/onnx_pb.h"

#include <array>
#include <numeric>

using namespace mlir;

namespace anvil::onnx_import {
namespace {

LogicalResult importConstant(NodeContext &ctx) {
  Builder &b = ctx.builder;
  for (onnx::AttributeProto &a : *ctx.node.mutable_attribute()) {
    ElementsAttr value;
    const std::string &name = a.name();
    // Each value_* attribute has its own ONNX type; another is an error,
    // never a silent 0.
    static const std::pair<const char *, int> kTypes[] = {
        {"value", onnx::AttributeProto::TENSOR},
        {"value_float", onnx::AttributeProto::FLOAT},
        {"value_floats", onnx::AttributeProto::FLOATS},
        {"value_int", onnx::AttributeProto::INT},
        {"value_ints", onnx::AttributeProto::INTS}};
    for (auto [known, type] : kTypes)
      if (name == known && !ctx.typedAttr(name, type))
        return failure();
    if (name == "value") {
      value = ctx.tensors.convert(*a.mutable_t(), ctx.loc);
      if (!value)
        return failure();
    } else if (name == "value_float") {
      value = DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()),
                                     a.f());
    } else if (name == "value_floats") {
      SmallVector<float> v(a.floats().begin(), a.floats().end());
      value = DenseElementsAttr::get(
          RankedTensorType::get({(int64_t)v.size()}, b.getF32Type()),
          ArrayRef<float>(v));
    } else if (name == "value_int") {
      value = DenseElementsAttr::get(RankedTensorType::get({}, b.getI64Type()),
                                     (int64_t)a.i());
    } else if (name == "value_ints") {
      SmallVector<int64_t> v(a.ints().begin(), a.ints().end());
      value = DenseElementsAttr::get(
          RankedTensorType::get({(int64_t)v.size()}, b.getI64Type()),
          ArrayRef<int64_t>(v));
    } else {
      return ctx.error() << "attribute '" << name << "' is not supported";
    }
    return ctx.produce(ctx.create<ConstantOp>(value.getElementType(), value));
  }
  return ctx.error() << "has no value attribute";
}

LogicalResult importShape(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "data");
  if (!x)
    return failure();
  int64_t rank = ctx.rankOf(x);
  if (rank < 0)
    return ctx.error() << "needs an input of known rank";
  auto clampIndex = [rank](int64_t i) {
    return std::clamp<int64_t>(i < 0 ? i + rank : i, 0, rank);
  };
  int64_t start = clampIndex(ctx.attrInt("start", 0));
  int64_t end = clampIndex(ctx.attrInt("end", rank));
  Builder &b = ctx.builder;
  return ctx.produce(ctx.create<ShapeOfOp>(
      b.getI64Type(), x, b.getI64IntegerAttr(start), b.getI64IntegerAttr(end)));
}

LogicalResult importSize(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "data");
  if (!x)
    return failure();
  Builder &b = ctx.builder;
  FailureOr<Value> shape = ctx.create<ShapeOfOp>(
      b.getI64Type(), x, b.getI64IntegerAttr(0), IntegerAttr());
  if (failed(shape))
    return failure();
  return ctx.produce(ctx.create<ReduceOp>(
      b.getI64Type(), *shape,
      ReduceKindAttr::get(b.getContext(), ReduceKind::prod),
      b.getDenseI64ArrayAttr({}), b.getBoolAttr(false)));
}

LogicalResult importReshape(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "data"), shape = ctx.requiredInput(1, "shape");
  if (!x || !shape)
    return failure();
  return ctx.produce(ctx.create<ReshapeOp>(ctx.elementTypeOf(x), x, shape,
                                           ctx.attrInt("allowzero", 0) != 0));
}

LogicalResult importTranspose(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "data");
  if (!x)
    return failure();
  int64_t rank = ctx.rankOf(x);
  SmallVector<int64_t> perm;
  if (auto given = ctx.attrInts("perm")) {
    perm = *given;
  } else {
    if (rank < 0)
      return ctx.error() << "needs an input of known rank";
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  }
  return ctx.produce(ctx.create<TransposeOp>(
      ctx.elementTypeOf(x), x, ctx.builder.getDenseI64ArrayAttr(perm)));
}

/// reshape -> transpose -> reshape, the three steps DepthToSpace and
/// SpaceToDepth are defined by.
LogicalResult reshapeTransposeReshape(NodeContext &ctx, Value x,
                                      ArrayRef<int64_t> first,
                                      ArrayRef<int64_t> perm,
                                      ArrayRef<int64_t> last) {
  Type element = ctx.elementTypeOf(x);
  Builder &b = ctx.builder;
  FailureOr<Value> split = ctx.create<ReshapeOp>(
      element, x, ctx.constantI64(first), b.getBoolAttr(false));
  if (failed(split))
    return failure();
  FailureOr<Value> moved =
      ctx.create<TransposeOp>(element, *split, b.getDenseI64ArrayAttr(perm));
  if (failed(moved))
    return failure();
  return ctx.produce(ctx.create<ReshapeOp>(
      element, *moved, ctx.constantI64(last), b.getBoolAttr(false)));
}

/// The static [N, C, H, W] of a DepthToSpace/SpaceToDepth input, checked
/// against the block size.
FailureOr<std::array<int64_t, 4>> blockInput(NodeContext &ctx, Value x,
                                             int64_t block, bool toSpace) {
  auto type = getRankedType(x);
  if (!type || type.getRank() != 4 || !type.hasStaticShape())
    return ctx.error() << "needs a static [N, C, H, W] input, not "
                       << x.getType() << bindingHintSuffix(x);
  auto s = type.getShape();
  // block * block must not overflow (2^32 wrapped to 0 and divided by it).
  if (block <= 0 || block > (1 << 20))
    return ctx.error() << "blocksize " << block << " must be in [1, 2^20]";
  if ((toSpace ? s[1] % (block * block) : s[2] % block + s[3] % block) != 0)
    return ctx.error() << "blocksize " << block << " does not divide the "
                       << (toSpace ? "channels" : "height and width");
  return std::array<int64_t, 4>{s[0], s[1], s[2], s[3]};
}

LogicalResult importDepthToSpace(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input");
  if (!x)
    return failure();
  int64_t b = ctx.attrInt("blocksize", 0);
  auto dims = blockInput(ctx, x, b, /*toSpace=*/true);
  if (failed(dims))
    return failure();
  auto [n, c, h, w] = *dims;
  SmallVector<int64_t> last = {n, c / (b * b), h * b, w * b};
  std::string mode = ctx.attrString("mode", "DCR");
  if (mode == "DCR")
    return reshapeTransposeReshape(ctx, x, {n, b, b, c / (b * b), h, w},
                                   {0, 3, 4, 1, 5, 2}, last);
  if (mode == "CRD")
    return reshapeTransposeReshape(ctx, x, {n, c / (b * b), b, b, h, w},
                                   {0, 1, 4, 2, 5, 3}, last);
  return ctx.error() << "unknown mode '" << mode << "'";
}

LogicalResult importSpaceToDepth(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input");
  if (!x)
    return failure();
  int64_t b = ctx.attrInt("blocksize", 0);
  auto dims = blockInput(ctx, x, b, /*toSpace=*/false);
  if (failed(dims))
    return failure();
  auto [n, c, h, w] = *dims;
  return reshapeTransposeReshape(ctx, x, {n, c, h / b, b, w / b, b},
                                 {0, 3, 5, 1, 2, 4},
                                 {n, c * b * b, h / b, w / b});
}

LogicalResult importConcat(NodeContext &ctx) {
  SmallVector<Value> inputs;
  for (size_t i = 0; i < ctx.numInputs(); ++i)
    if (Value v = ctx.input(i))
      inputs.push_back(v);
  if (inputs.empty())
    return ctx.error() << "has no inputs";
  FailureOr<int64_t> axis =
      ctx.normalizeAxis(ctx.attrInt("axis", 0), ctx.rankOf(inputs[0]));
  if (failed(axis))
    return failure();
  return ctx.produce(
      ctx.create<ConcatOp>(ctx.elementTypeOf(inputs[0]), inputs,
                           ctx.builder.getI64IntegerAttr(*axis)));
}

LogicalResult importSlice(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "data");
  Value starts = ctx.requiredInput(1, "starts"),
        ends = ctx.requiredInput(2, "ends");
  if (!x || !starts || !ends)
    return failure();
  auto startsType = starts.getType().dyn_cast<RankedTensorType>();
  if (!startsType || startsType.getRank() != 1 || startsType.isDynamicDim(0))
    return ctx.error() << "starts must be a 1-D tensor of known length";
  int64_t n = startsType.getDimSize(0);
  Value axes = ctx.input(3), steps = ctx.input(4);
  if (!axes) {
    SmallVector<int64_t> all(n);
    std::iota(all.begin(), all.end(), 0);
    axes = ctx.constantI64(all);
  }
  if (!steps)
    steps = ctx.constantI64(SmallVector<int64_t>(n, 1));
  return ctx.produce(
      ctx.create<SliceOp>(ctx.elementTypeOf(x), x, starts, ends, axes, steps));
}

/// Gather and GatherElements: data, indices and an axis attribute.
template <typename OpTy> LogicalResult importGatherLike(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "data"),
        indices = ctx.requiredInput(1, "indices");
  if (!x || !indices)
    return failure();
  FailureOr<int64_t> axis =
      ctx.normalizeAxis(ctx.attrInt("axis", 0), ctx.rankOf(x));
  if (failed(axis))
    return failure();
  return ctx.produce(ctx.create<OpTy>(ctx.elementTypeOf(x), x, indices,
                                      ctx.builder.getI64IntegerAttr(*axis)));
}

LogicalResult importExpand(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input"),
        shape = ctx.requiredInput(1, "shape");
  if (!x || !shape)
    return failure();
  return ctx.produce(ctx.create<ExpandOp>(ctx.elementTypeOf(x), x, shape));
}

LogicalResult importUnsqueeze(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "data");
  if (!x)
    return failure();
  auto axes = ctx.axesAttrOrInput(1);
  if (failed(axes))
    return failure();
  if (!*axes)
    return ctx.error() << "needs axes";
  int64_t rank = ctx.rankOf(x);
  if (rank < 0)
    return ctx.error() << "needs an input of known rank";
  auto normalized = ctx.normalizeAxes(**axes, rank + (*axes)->size());
  if (failed(normalized))
    return failure();
  llvm::sort(*normalized);
  return ctx.produce(ctx.create<UnsqueezeOp>(
      ctx.elementTypeOf(x), x, ctx.builder.getDenseI64ArrayAttr(*normalized)));
}

LogicalResult importSqueeze(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "data");
  if (!x)
    return failure();
  auto axes = ctx.axesAttrOrInput(1);
  if (failed(axes))
    return failure();
  SmallVector<int64_t> normalized;
  if (*axes) {
    auto n = ctx.normalizeAxes(**axes, ctx.rankOf(x));
    if (failed(n))
      return failure();
    normalized = *n;
    llvm::sort(normalized);
  }
  return ctx.produce(ctx.create<SqueezeOp>(
      ctx.elementTypeOf(x), x, ctx.builder.getDenseI64ArrayAttr(normalized)));
}

LogicalResult importFlatten(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input");
  if (!x)
    return failure();
  int64_t rank = ctx.rankOf(x);
  int64_t axis = ctx.attrInt("axis", 1);
  if (rank < 0 || axis < -rank || axis > rank)
    return ctx.error() << "axis " << axis << " is out of range";
  if (axis < 0)
    axis += rank;
  return ctx.produce(ctx.create<FlattenOp>(
      ctx.elementTypeOf(x), x, ctx.builder.getI64IntegerAttr(axis)));
}

LogicalResult importRange(NodeContext &ctx) {
  Value start = ctx.requiredInput(0, "start"),
        limit = ctx.requiredInput(1, "limit"),
        delta = ctx.requiredInput(2, "delta");
  if (!start || !limit || !delta)
    return failure();
  return ctx.produce(
      ctx.create<RangeOp>(ctx.elementTypeOf(start), start, limit, delta));
}

LogicalResult importConstantOfShape(NodeContext &ctx) {
  Value shape = ctx.requiredInput(0, "input");
  if (!shape)
    return failure();
  ElementsAttr value;
  if (ctx.attr("value") &&
      !ctx.typedAttr("value", onnx::AttributeProto::TENSOR))
    return failure();
  for (onnx::AttributeProto &a : *ctx.node.mutable_attribute())
    if (a.name() == "value")
      value = ctx.tensors.convert(*a.mutable_t(), ctx.loc);
  if (!value) {
    if (ctx.attr("value"))
      return failure();
    value = DenseElementsAttr::get(
        RankedTensorType::get({1}, ctx.builder.getF32Type()), 0.0f);
  }
  if (value.getNumElements() != 1)
    return ctx.error() << "value must hold one element";
  return ctx.produce(ctx.create<FillOp>(value.getElementType(), shape, value));
}

LogicalResult importSplit(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input");
  if (!x)
    return failure();
  FailureOr<int64_t> axis =
      ctx.normalizeAxis(ctx.attrInt("axis", 0), ctx.rankOf(x));
  if (failed(axis))
    return failure();
  SmallVector<int64_t> sizes;
  if (auto attr = ctx.attrInts("split")) {
    sizes = *attr;
  } else {
    auto given = ctx.constantIntsInput(1, "split");
    if (failed(given))
      return failure();
    if (*given) {
      sizes = **given;
    } else {
      int64_t outputs = ctx.attrInt("num_outputs", ctx.node.output_size());
      // 0 was divided by; a huge count looped for ever.
      if (outputs <= 0 || outputs != ctx.node.output_size())
        return ctx.error() << "num_outputs " << outputs
                           << " must be positive and equal the node's "
                           << ctx.node.output_size() << " outputs";
      int64_t dim = x.getType().cast<RankedTensorType>().getDimSize(*axis);
      if (dim == kDynamic)
        return ctx.error() << "splitting dynamic dimension " << *axis << " of "
                           << x.getType() << " needs explicit sizes"
                           << bindingHintSuffix(x);
      // Opset 18: ceil(dim / n) each, the last one smaller.
      int64_t chunk = (dim + outputs - 1) / outputs;
      for (int64_t i = 0; i < outputs; ++i)
        sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - i * chunk)));
    }
  }
  // A constant input (a shape vector, say) is split into slices, which fold
  // at import like every single-result op, so shape arithmetic downstream
  // stays constant (anvil.split has no folder).
  auto constantType = x.getType().dyn_cast<RankedTensorType>();
  if (x.getDefiningOp<ConstantOp>() && constantType &&
      constantType.hasStaticShape()) {
    int64_t total = 0;
    for (int64_t size : sizes) {
      if (size < 0 || size > constantType.getDimSize(*axis) - total)
        return ctx.error() << "split sizes must be >= 0 and add up to "
                           << constantType.getDimSize(*axis);
      total += size;
    }
    if (total != constantType.getDimSize(*axis))
      return ctx.error() << "split sizes add up to " << total << ", not "
                         << constantType.getDimSize(*axis);
    int64_t start = 0;
    for (int64_t size : sizes) {
      if (failed(ctx.produce(ctx.create<SliceOp>(
              ctx.elementTypeOf(x), x, ctx.constantI64({start}),
              ctx.constantI64({start + size}), ctx.constantI64({*axis}),
              ctx.constantI64({1})))))
        return failure();
      start += size;
    }
    return success();
  }
  SmallVector<Type> placeholders(sizes.size(),
                                 UnrankedTensorType::get(ctx.elementTypeOf(x)));
  auto op = ctx.builder.create<SplitOp>(
      ctx.loc, placeholders, x, ctx.builder.getI64IntegerAttr(*axis),
      ctx.builder.getDenseI64ArrayAttr(sizes));
  if (failed(inferResultTypesInPlace(op)))
    return failure();
  for (Value v : op.getResults())
    ctx.results.push_back(v);
  return success();
}

/// Pad (opset 11+): pads, constant_value and axes are inputs.
LogicalResult importPad(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "data");
  if (!x)
    return failure();
  int64_t rank = ctx.rankOf(x);
  if (rank < 0)
    return ctx.error() << "needs an input of known rank";
  auto given = ctx.constantIntsInput(1, "pads");
  auto value = ctx.constantScalarInput(2, "constant_value");
  auto axesGiven = ctx.constantIntsInput(3, "axes");
  if (failed(given) || failed(value) || failed(axesGiven))
    return failure();
  if (!*given)
    return ctx.error() << "needs pads";
  SmallVector<int64_t> axes;
  if (*axesGiven) {
    auto normalized = ctx.normalizeAxes(**axesGiven, rank);
    if (failed(normalized))
      return failure();
    axes = *normalized;
  } else {
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  if ((*given)->size() != 2 * axes.size())
    return ctx.error() << "pads has " << (*given)->size() << " entries for "
                       << axes.size() << " axes";
  SmallVector<int64_t> pads(2 * rank, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    pads[axes[i]] = (**given)[i];
    pads[rank + axes[i]] = (**given)[axes.size() + i];
  }
  Builder &b = ctx.builder;
  return ctx.produce(
      ctx.create<PadOp>(ctx.elementTypeOf(x), x, b.getDenseI64ArrayAttr(pads),
                        b.getStringAttr(ctx.attrString("mode", "constant")),
                        b.getF64FloatAttr(value->value_or(0.0))));
}

LogicalResult importTile(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input");
  if (!x)
    return failure();
  auto repeats = ctx.constantIntsInput(1, "repeats");
  if (failed(repeats))
    return failure();
  if (!*repeats)
    return ctx.error() << "needs repeats";
  return ctx.produce(ctx.create<TileOp>(
      ctx.elementTypeOf(x), x, ctx.builder.getDenseI64ArrayAttr(**repeats)));
}

LogicalResult importCumSum(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "x");
  if (!x)
    return failure();
  auto axisValues = ctx.constantIntsInput(1, "axis");
  if (failed(axisValues))
    return failure();
  if (!*axisValues || (*axisValues)->size() != 1)
    return ctx.error() << "needs a scalar axis";
  FailureOr<int64_t> axis = ctx.normalizeAxis((**axisValues)[0], ctx.rankOf(x));
  if (failed(axis))
    return failure();
  Builder &b = ctx.builder;
  return ctx.produce(
      ctx.create<CumSumOp>(ctx.elementTypeOf(x), x, b.getI64IntegerAttr(*axis),
                           b.getBoolAttr(ctx.attrInt("exclusive", 0) != 0),
                           b.getBoolAttr(ctx.attrInt("reverse", 0) != 0)));
}

LogicalResult importTrilu(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input");
  if (!x)
    return failure();
  auto k = ctx.constantIntsInput(1, "k");
  if (failed(k))
    return failure();
  int64_t offset = *k && !(*k)->empty() ? (**k)[0] : 0;
  return ctx.produce(ctx.create<TriluOp>(
      ctx.elementTypeOf(x), x, ctx.builder.getI64IntegerAttr(offset),
      ctx.builder.getBoolAttr(ctx.attrInt("upper", 1) != 0)));
}

LogicalResult importScatterND(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "data"),
        indices = ctx.requiredInput(1, "indices"),
        updates = ctx.requiredInput(2, "updates");
  if (!x || !indices || !updates)
    return failure();
  return ctx.produce(ctx.create<ScatterNdOp>(
      ctx.elementTypeOf(x), x, indices, updates,
      ctx.builder.getStringAttr(ctx.attrString("reduction", "none"))));
}

} // namespace

void addShapeOps(OpTable &t) {
  t.add("", "Constant", importConstant);
  t.add("", "Shape", importShape);
  t.add("", "Size", importSize);
  t.add("", "Reshape", importReshape);
  t.add("", "Transpose", importTranspose);
  t.add("", "DepthToSpace", importDepthToSpace);
  t.add("", "SpaceToDepth", importSpaceToDepth);
  t.add("", "Concat", importConcat);
  t.add("", "Slice", importSlice);
  t.add("", "Gather", importGatherLike<GatherOp>);
  t.add("", "Expand", importExpand);
  t.add("", "Unsqueeze", importUnsqueeze);
  t.add("", "Squeeze", importSqueeze);
  t.add("", "Flatten", importFlatten);
  t.add("", "Range", importRange);
  t.add("", "ConstantOfShape", importConstantOfShape);
  t.add("", "Split", importSplit);
  t.add("", "Trilu", importTrilu);
  t.add("", "Pad", importPad);
  t.add("", "Tile", importTile);
  t.add("", "CumSum", importCumSum);
  t.add("", "GatherElements", importGatherLike<GatherElementsOp>);
  t.add("", "ScatterND", importScatterND);
}

} // namespace anvil::onnx_import
