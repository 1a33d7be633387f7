//===- SpatialOps.cpp - importers for ONNX spatial ops --------------------===//
//
// Resize, ConvTranspose, GridSample, InstanceNormalization and LRN
// (LpPool and RMSNormalization over several axes are in NeuralNetOps.cpp,
// beside the pooling and normalization they share code with). Shape-determining
// inputs (Resize's scales, sizes and roi) must be compile-time constants;
// the spatial dims they resize must be static at import (the output size
// depends on them), other dims may be bounded.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Onnx/OnnxOpTable.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Anvil/ShapeUtils.h"

#include "onnx/onnx_pb.h"

#include <cmath>

using namespace mlir;

namespace anvil::onnx_import {
namespace {

/// The values of constant floating-point input `i` as doubles; nullopt when
/// the input is absent or an empty tensor (ONNX's way to omit it).
FailureOr<std::optional<SmallVector<double>>>
constantFloatsInput(NodeContext &ctx, size_t i, StringRef what) {
  Value value = ctx.input(i);
  if (!value)
    return std::optional<SmallVector<double>>();
  auto constant = value.getDefiningOp<ConstantOp>();
  std::optional<ConstantTensor> tensor =
      constant ? readConstant(constant.getValue()) : std::nullopt;
  if (!tensor) {
    ctx.error() << "input " << i << " (" << what
                << ") must be a compile-time constant";
    return failure();
  }
  if (tensor->size() == 0)
    return std::optional<SmallVector<double>>();
  SmallVector<double> values;
  for (int64_t k = 0; k < tensor->size(); ++k)
    values.push_back(tensor->asDouble(k));
  return std::optional<SmallVector<double>>(values);
}

/// What a Resize node asks for, read from its attributes and inputs.
struct ResizeSpec {
  std::string mode = "nearest";
  std::string coord = "half_pixel";
  std::string nearest = "round_prefer_floor";
  double cubicA = -0.75;
  bool excludeOutside = false;
  bool antialias = false;
  double extrapolation = 0.0;
  std::optional<SmallVector<double>> scales; // one per entry of axes
  std::optional<SmallVector<int64_t>> sizes; // one per entry of axes
  std::optional<SmallVector<double>> roi;    // starts then ends, of axes
  std::optional<SmallVector<int64_t>> axes;
  std::string keepAspect = "stretch";
};

/// Builds anvil.resize from a ResizeSpec: resolves axes, sizes (with
/// keep_aspect_ratio_policy) and roi to full-rank attributes, checking
/// every value.
LogicalResult buildResize(NodeContext &ctx, Value x, ResizeSpec &spec) {
  int64_t rank = ctx.rankOf(x);
  if (rank < 1)
    return ctx.error() << "needs an input of known rank >= 1";
  if (spec.mode != "nearest" && spec.mode != "linear" && spec.mode != "cubic")
    return ctx.error() << "unknown mode '" << spec.mode << "'";
  if (!llvm::is_contained(
          ArrayRef<StringRef>{"half_pixel", "half_pixel_symmetric",
                              "pytorch_half_pixel", "align_corners",
                              "asymmetric", "tf_crop_and_resize"},
          spec.coord))
    return ctx.error() << "unknown coordinate_transformation_mode '"
                       << spec.coord << "'";
  if (!llvm::is_contained(ArrayRef<StringRef>{"round_prefer_floor",
                                              "round_prefer_ceil", "floor",
                                              "ceil"},
                          spec.nearest))
    return ctx.error() << "unknown nearest_mode '" << spec.nearest << "'";
  if (spec.antialias && spec.mode == "nearest")
    return ctx.error() << "antialias needs mode linear or cubic";
  if (spec.keepAspect != "stretch" && spec.keepAspect != "not_larger" &&
      spec.keepAspect != "not_smaller")
    return ctx.error() << "unknown keep_aspect_ratio_policy '"
                       << spec.keepAspect << "'";
  if (spec.scales.has_value() == spec.sizes.has_value())
    return ctx.error() << "needs exactly one of scales and sizes";
  SmallVector<int64_t> axes;
  if (spec.axes) {
    auto normalized = ctx.normalizeAxes(*spec.axes, rank);
    if (failed(normalized))
      return failure();
    axes = *normalized;
    SmallVector<int64_t> sorted(axes);
    llvm::sort(sorted);
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      return ctx.error() << "axes has a repeated axis";
  } else {
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  size_t n = axes.size();
  auto type = x.getType().cast<RankedTensorType>();
  SmallVector<double> scales(rank, 1.0);
  SmallVector<int64_t> sizes(rank, -1);
  if (spec.scales) {
    if (spec.scales->size() != n)
      return ctx.error() << "scales has " << spec.scales->size()
                         << " entries, expected " << n;
    for (size_t i = 0; i < n; ++i) {
      double s = (*spec.scales)[i];
      if (!(s > 0) || !std::isfinite(s))
        return ctx.error() << "scale " << s << " must be positive and finite";
      scales[axes[i]] = s;
    }
  } else {
    if (spec.sizes->size() != n)
      return ctx.error() << "sizes has " << spec.sizes->size()
                         << " entries, expected " << n;
    for (size_t i = 0; i < n; ++i) {
      int64_t d = axes[i], in = type.getDimSize(d), out = (*spec.sizes)[i];
      if (out <= 0)
        return ctx.error() << "size " << out << " of axis " << d
                           << " must be positive";
      if (in == kDynamic)
        return ctx.error() << "resizing axis " << d
                           << " to a given size needs its input dim static";
      if (in == 0)
        return ctx.error() << "cannot resize empty axis " << d << " to size "
                           << out;
      scales[d] = (double)out / (double)in;
      sizes[d] = out;
    }
    if (spec.keepAspect != "stretch") {
      double scale = scales[axes[0]];
      for (int64_t d : axes)
        scale = spec.keepAspect == "not_larger" ? std::min(scale, scales[d])
                                                : std::max(scale, scales[d]);
      for (int64_t d : axes) {
        scales[d] = scale;
        // round half up, as the ONNX reference does
        sizes[d] = (int64_t)(scale * (double)type.getDimSize(d) + 0.5);
      }
    }
  }
  SmallVector<double> roi(2 * rank, 0.0);
  for (int64_t d = 0; d < rank; ++d)
    roi[rank + d] = 1.0;
  if (spec.coord == "tf_crop_and_resize") {
    if (!spec.roi)
      return ctx.error() << "tf_crop_and_resize needs roi";
    if (spec.roi->size() != 2 * n)
      return ctx.error() << "roi has " << spec.roi->size()
                         << " entries, expected " << 2 * n;
    for (size_t i = 0; i < n; ++i) {
      roi[axes[i]] = (*spec.roi)[i];
      roi[rank + axes[i]] = (*spec.roi)[n + i];
    }
  }
  Builder &b = ctx.builder;
  return ctx.produce(ctx.create<ResizeOp>(
      ctx.elementTypeOf(x), x, b.getStringAttr(spec.mode),
      b.getStringAttr(spec.coord), b.getStringAttr(spec.nearest),
      b.getF64FloatAttr(spec.cubicA), b.getBoolAttr(spec.excludeOutside),
      b.getBoolAttr(spec.antialias), b.getF64FloatAttr(spec.extrapolation),
      b.getDenseF64ArrayAttr(scales), b.getDenseF64ArrayAttr(roi),
      b.getDenseI64ArrayAttr(sizes)));
}

/// ONNX Resize, opsets 13 to 24 (older models reach it through the version
/// converter).
LogicalResult importResize(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X");
  if (!x)
    return failure();
  ResizeSpec spec;
  spec.mode = ctx.attrString("mode", "nearest");
  spec.coord = ctx.attrString("coordinate_transformation_mode", "half_pixel");
  spec.nearest = ctx.attrString("nearest_mode", "round_prefer_floor");
  spec.cubicA = ctx.attrFloat("cubic_coeff_a", -0.75f);
  spec.excludeOutside = ctx.attrInt("exclude_outside", 0) != 0;
  spec.extrapolation = ctx.attrFloat("extrapolation_value", 0.0f);
  spec.antialias = ctx.attrInt("antialias", 0) != 0;
  spec.keepAspect = ctx.attrString("keep_aspect_ratio_policy", "stretch");
  spec.axes = ctx.attrInts("axes");
  if (spec.coord == "tf_crop_and_resize") {
    auto roi = constantFloatsInput(ctx, 1, "roi");
    if (failed(roi))
      return failure();
    spec.roi = *roi;
  }
  auto scales = constantFloatsInput(ctx, 2, "scales");
  if (failed(scales))
    return failure();
  spec.scales = *scales;
  auto sizes = ctx.constantIntsInput(3, "sizes");
  if (failed(sizes))
    return failure();
  if (*sizes && !(*sizes)->empty())
    spec.sizes = *sizes;
  return buildResize(ctx, x, spec);
}

/// Python's floor division, for ONNX's pad formulas.
int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/// ONNX ConvTranspose, opsets 13 to 24: explicit pads, or pads derived from
/// output_shape or auto_pad (SAME_UPPER, SAME_LOWER, VALID).
LogicalResult importConvTranspose(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X"), w = ctx.requiredInput(1, "W");
  if (!x || !w)
    return failure();
  auto wType = w.getType().dyn_cast<RankedTensorType>();
  auto xType = x.getType().dyn_cast<RankedTensorType>();
  if (!wType || !xType || xType.getRank() < 3 ||
      wType.getRank() != xType.getRank())
    return ctx.error() << "needs input [N, C, spatial...] and weight "
                          "[C, M/group, kernel...] of the same rank";
  size_t spatial = wType.getRank() - 2;
  SmallVector<int64_t> kernel(wType.getShape().drop_front(2));
  if (auto given = ctx.attrInts("kernel_shape"))
    if (ArrayRef<int64_t>(*given) != ArrayRef<int64_t>(kernel))
      return ctx.error() << "kernel_shape does not match the weight's shape";
  SmallVector<int64_t> strides =
      ctx.attrInts("strides").value_or(SmallVector<int64_t>(spatial, 1));
  SmallVector<int64_t> dilations =
      ctx.attrInts("dilations").value_or(SmallVector<int64_t>(spatial, 1));
  SmallVector<int64_t> outputPadding =
      ctx.attrInts("output_padding").value_or(SmallVector<int64_t>(spatial, 0));
  if (strides.size() != spatial || dilations.size() != spatial ||
      outputPadding.size() != spatial)
    return ctx.error()
           << "strides/dilations/output_padding do not match the kernel rank";
  for (size_t i = 0; i < spatial; ++i)
    if (strides[i] <= 0 || dilations[i] <= 0 || outputPadding[i] < 0 ||
        strides[i] > (1 << 20) || dilations[i] > (1 << 20))
      return ctx.error() << "strides and dilations must be in [1, 2^20] and "
                            "output_padding not negative";
  int64_t group = ctx.attrInt("group", 1);
  if (group <= 0)
    return ctx.error() << "group must be positive";
  std::string autoPad = ctx.attrString("auto_pad", "NOTSET");
  std::optional<SmallVector<int64_t>> outputShape =
      ctx.attrInts("output_shape");
  if (outputShape && outputShape->size() > spatial)
    outputShape->erase(outputShape->begin(),
                       outputShape->end() - spatial); // given as N, C, ...
  if (outputShape && outputShape->size() != spatial)
    return ctx.error() << "output_shape has " << outputShape->size()
                       << " entries, expected " << spatial;
  SmallVector<int64_t> pads(2 * spatial, 0);
  if (autoPad != "NOTSET" && autoPad != "VALID" && autoPad != "SAME_UPPER" &&
      autoPad != "SAME_LOWER")
    return ctx.error() << "unknown auto_pad '" << autoPad << "'";
  bool same = autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER";
  if (outputShape || same) {
    for (size_t i = 0; i < spatial; ++i) {
      int64_t in = xType.getDimSize(2 + i);
      if (in == kDynamic || kernel[i] == kDynamic)
        return ctx.error() << "output_shape and auto_pad need static spatial "
                              "input dims and kernel";
      int64_t out = outputShape ? (*outputShape)[i] : in * strides[i];
      if (out < 0)
        return ctx.error() << "output_shape must not be negative";
      // In 128 bits: a 2^20 stride times a 2^46 dim leaves int64.
      __int128 wide = (__int128)strides[i] * (in - 1) + outputPadding[i] +
                      ((__int128)(kernel[i] - 1) * dilations[i] + 1) - out;
      if (wide > ((__int128)1 << 62) || wide < -((__int128)1 << 62))
        return ctx.error() << "the padding of spatial dim " << i
                           << " does not fit in int64 (output_shape " << out
                           << ")";
      int64_t total = (int64_t)wide;
      int64_t half = floorDiv(total, 2);
      pads[i] = autoPad == "SAME_UPPER" ? half : total - half;
      pads[spatial + i] = total - pads[i];
    }
  } else if (autoPad == "NOTSET") {
    if (auto given = ctx.attrInts("pads")) {
      if (given->size() != 2 * spatial)
        return ctx.error() << "pads has " << given->size()
                           << " entries, expected " << 2 * spatial;
      pads = *given;
    }
  }
  Builder &b = ctx.builder;
  return ctx.produce(ctx.create<ConvTransposeOp>(
      ctx.elementTypeOf(x), x, w, ctx.input(2), b.getDenseI64ArrayAttr(strides),
      b.getDenseI64ArrayAttr(pads), b.getDenseI64ArrayAttr(dilations),
      b.getDenseI64ArrayAttr(outputPadding), b.getI64IntegerAttr(group)));
}

/// ONNX GridSample, opsets 16 to 24 (opset 16's bilinear and bicubic are
/// linear and cubic).
LogicalResult importGridSample(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X"), grid = ctx.requiredInput(1, "grid");
  if (!x || !grid)
    return failure();
  std::string mode =
      ctx.attrString("mode", ctx.opset < 20 ? "bilinear" : "linear");
  if (mode == "bilinear")
    mode = "linear";
  else if (mode == "bicubic")
    mode = "cubic";
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return ctx.error() << "unknown mode '" << mode << "'";
  std::string padding = ctx.attrString("padding_mode", "zeros");
  if (padding != "zeros" && padding != "border" && padding != "reflection")
    return ctx.error() << "unknown padding_mode '" << padding << "'";
  int64_t rank = ctx.rankOf(x);
  if (rank < 3 || ctx.rankOf(grid) != rank)
    return ctx.error() << "needs X [N, C, spatial...] and grid [N, "
                          "spatial..., r] of the same known rank";
  Builder &b = ctx.builder;
  return ctx.produce(ctx.create<GridSampleOp>(
      ctx.elementTypeOf(x), x, grid, b.getStringAttr(mode),
      b.getStringAttr(padding),
      b.getBoolAttr(ctx.attrInt("align_corners", 0) != 0)));
}

/// ONNX InstanceNormalization (opsets 13 to 24): per (n, c), normalized
/// over the spatial dims, then scale[c] * y + B[c]; as reductions and
/// elementwise ops.
LogicalResult importInstanceNorm(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input"),
        scale = ctx.requiredInput(1, "scale"), bias = ctx.requiredInput(2, "B");
  if (!x || !scale || !bias)
    return failure();
  int64_t rank = ctx.rankOf(x);
  if (rank < 3)
    return ctx.error() << "input must be [N, C, spatial...]";
  if (ctx.rankOf(scale) != 1 || ctx.rankOf(bias) != 1)
    return ctx.error() << "scale and B must be 1-D [C]";
  Type t = ctx.elementTypeOf(x);
  Builder &b = ctx.builder;
  SmallVector<int64_t> axes, trailing;
  for (int64_t d = 2; d < rank; ++d) {
    axes.push_back(d);
    trailing.push_back(d - 1);
  }
  auto mean = [&](Value v) {
    return ctx.create<ReduceOp>(
        t, v, ReduceKindAttr::get(b.getContext(), ReduceKind::mean),
        b.getDenseI64ArrayAttr(axes), b.getBoolAttr(true));
  };
  FailureOr<Value> m = mean(x);
  FailureOr<Value> centered =
      succeeded(m) ? ctx.create<SubOp>(t, x, *m) : FailureOr<Value>(failure());
  if (failed(centered))
    return failure();
  FailureOr<Value> y = ctx.create<MulOp>(t, *centered, *centered);
  if (succeeded(y))
    y = mean(*y);
  if (succeeded(y))
    y = ctx.create<AddOp>(
        t, *y, ctx.constantScalar(t, ctx.attrFloat("epsilon", 1e-5f)));
  if (succeeded(y))
    y = ctx.create<RsqrtOp>(t, *y);
  if (succeeded(y))
    y = ctx.create<MulOp>(t, *centered, *y);
  // [C] -> [C, 1, ..., 1] to broadcast over the spatial dims.
  FailureOr<Value> s =
      ctx.create<UnsqueezeOp>(t, scale, b.getDenseI64ArrayAttr(trailing));
  FailureOr<Value> o =
      ctx.create<UnsqueezeOp>(t, bias, b.getDenseI64ArrayAttr(trailing));
  if (failed(s) || failed(o))
    return failure();
  if (succeeded(y))
    y = ctx.create<MulOp>(t, *y, *s);
  if (succeeded(y))
    y = ctx.create<AddOp>(t, *y, *o);
  return ctx.produce(y);
}

/// ONNX LRN (opsets 13 to 24): x / (bias + alpha / size * square_sum)^beta
/// with square_sum over a window of `size` channels. The window sum is an
/// average pool (counting the padding) of x^2 over [N, 1, C, spatial...],
/// so inputs have at most 2 spatial dims.
LogicalResult importLrn(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X");
  if (!x)
    return failure();
  int64_t rank = ctx.rankOf(x);
  if (rank < 3 || rank > 4)
    return ctx.error() << "input must be [N, C, D1] or [N, C, D1, D2]";
  if (!ctx.attr("size"))
    return ctx.error() << "needs size";
  int64_t size = ctx.attrInt("size", 1);
  if (size <= 0 || size > (1 << 20))
    return ctx.error() << "size must be in [1, 2^20], got " << size;
  double alpha = ctx.attrFloat("alpha", 1e-4f),
         beta = ctx.attrFloat("beta", 0.75f),
         bias = ctx.attrFloat("bias", 1.0f);
  Type t = ctx.elementTypeOf(x);
  Builder &b = ctx.builder;
  int64_t spatial = rank - 1; // C and the input's spatial dims
  SmallVector<int64_t> kernel(spatial, 1), strides(spatial, 1),
      pads(2 * spatial, 0);
  kernel[0] = size;
  pads[0] = (size - 1) / 2;
  pads[spatial] = size - 1 - (size - 1) / 2;
  FailureOr<Value> y = ctx.create<MulOp>(t, x, x);
  if (succeeded(y))
    y = ctx.create<UnsqueezeOp>(t, *y, b.getDenseI64ArrayAttr({1}));
  if (succeeded(y))
    y = ctx.create<PoolOp>(
        t, *y, PoolKindAttr::get(b.getContext(), PoolKind::avg),
        b.getDenseI64ArrayAttr(kernel), b.getDenseI64ArrayAttr(strides),
        b.getDenseI64ArrayAttr(pads), b.getBoolAttr(false), b.getBoolAttr(true),
        DenseI64ArrayAttr());
  if (succeeded(y))
    y = ctx.create<SqueezeOp>(t, *y, b.getDenseI64ArrayAttr({1}));
  // average = square_sum / size
  if (succeeded(y))
    y = ctx.create<MulOp>(t, *y, ctx.constantScalar(t, alpha));
  if (succeeded(y))
    y = ctx.create<AddOp>(t, *y, ctx.constantScalar(t, bias));
  if (succeeded(y))
    y = ctx.create<PowOp>(t, *y, ctx.constantScalar(t, -beta));
  if (succeeded(y))
    y = ctx.create<MulOp>(t, x, *y);
  return ctx.produce(y);
}

/// ONNX Col2Im (opsets 18 to 24): image_shape and block_shape must be
/// compile-time constants.
LogicalResult importCol2Im(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input");
  if (!x)
    return failure();
  auto image = ctx.constantIntsInput(1, "image_shape");
  auto block = ctx.constantIntsInput(2, "block_shape");
  if (failed(image) || failed(block))
    return failure();
  if (!*image || !*block)
    return ctx.error() << "needs image_shape and block_shape";
  size_t spatial = (*image)->size();
  if (spatial == 0 || (*block)->size() != spatial)
    return ctx.error() << "image_shape and block_shape must have the same "
                          "non-zero length";
  SmallVector<int64_t> dilations =
      ctx.attrInts("dilations").value_or(SmallVector<int64_t>(spatial, 1));
  SmallVector<int64_t> strides =
      ctx.attrInts("strides").value_or(SmallVector<int64_t>(spatial, 1));
  SmallVector<int64_t> pads =
      ctx.attrInts("pads").value_or(SmallVector<int64_t>(2 * spatial, 0));
  if (dilations.size() != spatial || strides.size() != spatial ||
      pads.size() != 2 * spatial)
    return ctx.error() << "dilations, strides and pads do not match "
                          "image_shape's length";
  Builder &b = ctx.builder;
  return ctx.produce(ctx.create<Col2ImOp>(
      ctx.elementTypeOf(x), x, b.getDenseI64ArrayAttr(**image),
      b.getDenseI64ArrayAttr(**block), b.getDenseI64ArrayAttr(dilations),
      b.getDenseI64ArrayAttr(pads), b.getDenseI64ArrayAttr(strides)));
}

/// ONNX MaxUnpool (opsets 13 to 24): output_shape, when given, must be a
/// compile-time constant; the spatial input dims must be static.
LogicalResult importMaxUnpool(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X"), indices = ctx.requiredInput(1, "I");
  if (!x || !indices)
    return failure();
  auto kernel = ctx.attrInts("kernel_shape");
  if (!kernel)
    return ctx.error() << "needs kernel_shape";
  size_t spatial = kernel->size();
  auto type = x.getType().dyn_cast<RankedTensorType>();
  if (!type || type.getRank() != (int64_t)spatial + 2)
    return ctx.error() << "kernel_shape does not match the input rank";
  SmallVector<int64_t> strides =
      ctx.attrInts("strides").value_or(SmallVector<int64_t>(spatial, 1));
  SmallVector<int64_t> pads =
      ctx.attrInts("pads").value_or(SmallVector<int64_t>(2 * spatial, 0));
  if (strides.size() != spatial || pads.size() != 2 * spatial)
    return ctx.error() << "strides and pads do not match kernel_shape";
  SmallVector<int64_t> unpooled;
  for (size_t i = 0; i < spatial; ++i) {
    int64_t in = type.getDimSize(2 + i);
    if (in == kDynamic)
      return ctx.error() << "needs static spatial input dims";
    if ((*kernel)[i] <= 0 || strides[i] <= 0 || strides[i] > (1 << 20) ||
        (*kernel)[i] > (1 << 20))
      return ctx.error() << "kernel_shape and strides must be in [1, 2^20]";
    __int128 wide = (__int128)(in - 1) * strides[i] + (*kernel)[i] - pads[i] -
                    pads[spatial + i];
    if (wide <= 0 || wide > ((__int128)1 << 62))
      return ctx.error() << "spatial dim " << i << " would unpool to "
                         << (wide <= 0 ? "nothing" : "more than 2^62")
                         << " (pads " << pads[i] << ", " << pads[spatial + i]
                         << ")";
    int64_t out = (int64_t)wide;
    unpooled.push_back(out);
  }
  SmallVector<int64_t> outSpatial = unpooled;
  auto given = ctx.constantIntsInput(2, "output_shape");
  if (failed(given))
    return failure();
  if (*given) {
    if ((*given)->size() != spatial + 2)
      return ctx.error() << "output_shape has " << (*given)->size()
                         << " entries, expected " << spatial + 2;
    outSpatial.assign((*given)->begin() + 2, (*given)->end());
    for (size_t i = 0; i < spatial; ++i)
      if (outSpatial[i] < unpooled[i])
        return ctx.error() << "output_shape dim " << i + 2 << " ("
                           << outSpatial[i] << ") is smaller than the default "
                           << unpooled[i];
  }
  Builder &b = ctx.builder;
  return ctx.produce(ctx.create<MaxUnpoolOp>(
      ctx.elementTypeOf(x), x, indices, b.getDenseI64ArrayAttr(unpooled),
      b.getDenseI64ArrayAttr(outSpatial)));
}

} // namespace

void addSpatialOps(OpTable &t) {
  t.add("", "Col2Im", importCol2Im);
  t.add("", "MaxUnpool", importMaxUnpool);
  t.add("", "InstanceNormalization", importInstanceNorm);
  t.add("", "LRN", importLrn);
  t.add("", "GridSample", importGridSample);
  t.add("", "Resize", importResize);
  t.add("", "ConvTranspose", importConvTranspose);
}

} // namespace anvil::onnx_import
