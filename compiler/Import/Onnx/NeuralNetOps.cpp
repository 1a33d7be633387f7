//===- NeuralNetOps.cpp - importers for ONNX neural-network ops -----------===//

#include "compiler/Import/Onnx/ConvolutionParts.h"
#include "compiler/Import/Onnx/OnnxOpTable.h"
#include "dialects/Anvil/ShapeUtils.h"

#include "onnx/onnx_pb.h"

using namespace mlir;

namespace anvil::onnx_import {
namespace {

/// Optional outputs Anvil does not produce (e.g. LayerNormalization's Mean)
/// get null values; the importer reports an error only if something uses
/// them.
LogicalResult skipOptionalOutputs(NodeContext &ctx, size_t from) {
  for (int i = from; i < ctx.node.output_size(); ++i)
    ctx.results.push_back(Value());
  return success();
}

LogicalResult importMatMul(NodeContext &ctx) {
  Value a = ctx.requiredInput(0, "A"), b = ctx.requiredInput(1, "B");
  if (!a || !b)
    return failure();
  return ctx.produce(ctx.create<MatmulOp>(ctx.elementTypeOf(a), a, b, false));
}

/// Gemm: alpha * A' B' + beta * C, normalized to matmul and elementwise ops.
LogicalResult importGemm(NodeContext &ctx) {
  Value a = ctx.requiredInput(0, "A"), b = ctx.requiredInput(1, "B");
  if (!a || !b)
    return failure();
  Type t = ctx.elementTypeOf(a);
  if (ctx.attrInt("transA", 0)) {
    FailureOr<Value> at =
        ctx.create<TransposeOp>(t, a, ctx.builder.getDenseI64ArrayAttr({1, 0}));
    if (failed(at))
      return failure();
    a = *at;
  }
  FailureOr<Value> y =
      ctx.create<MatmulOp>(t, a, b, ctx.attrInt("transB", 0) != 0);
  if (failed(y))
    return failure();
  float alpha = ctx.attrFloat("alpha", 1.0f),
        beta = ctx.attrFloat("beta", 1.0f);
  if (alpha != 1.0f)
    y = ctx.create<MulOp>(t, *y, ctx.constantScalar(t, alpha));
  if (failed(y))
    return failure();
  if (Value c = ctx.input(2)) {
    if (beta != 1.0f) {
      FailureOr<Value> scaled =
          ctx.create<MulOp>(t, c, ctx.constantScalar(t, beta));
      if (failed(scaled))
        return failure();
      c = *scaled;
    }
    y = ctx.create<AddOp>(t, *y, c);
  }
  return ctx.produce(y);
}

template <bool log> LogicalResult importSoftmax(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input");
  if (!x)
    return failure();
  FailureOr<int64_t> axis =
      ctx.normalizeAxis(ctx.attrInt("axis", -1), ctx.rankOf(x));
  if (failed(axis))
    return failure();
  return ctx.produce(ctx.create<SoftmaxOp>(ctx.elementTypeOf(x), x,
                                           ctx.builder.getI64IntegerAttr(*axis),
                                           ctx.builder.getBoolAttr(log)));
}

template <ReduceKind kind> LogicalResult importReduce(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "data");
  if (!x)
    return failure();
  auto given = ctx.axesAttrOrInput(1);
  if (failed(given))
    return failure();
  std::optional<SmallVector<int64_t>> axes = *given;
  Builder &b = ctx.builder;
  if ((!axes || axes->empty()) && ctx.attrInt("noop_with_empty_axes", 0)) {
    // No reduction, but the reduction's elementwise part still applies
    // (ONNX: "ReduceSumSquare acts as a vanilla Square"): each element is
    // reduced alone, over a new unit axis, by the same kernel and folder
    // as any reduction. Sum, mean, max, min and prod of one element are
    // the element itself.
    if (kind != ReduceKind::l1 && kind != ReduceKind::l2 &&
        kind != ReduceKind::sum_square && kind != ReduceKind::log_sum_exp) {
      ctx.results.push_back(x);
      return success();
    }
    FailureOr<Value> unit = ctx.create<UnsqueezeOp>(
        ctx.elementTypeOf(x), x, b.getDenseI64ArrayAttr({0}));
    if (failed(unit))
      return failure();
    return ctx.produce(ctx.create<ReduceOp>(
        ctx.elementTypeOf(x), *unit, ReduceKindAttr::get(b.getContext(), kind),
        b.getDenseI64ArrayAttr({0}), b.getBoolAttr(false)));
  }
  SmallVector<int64_t> normalized;
  if (axes) {
    auto n = ctx.normalizeAxes(*axes, ctx.rankOf(x));
    if (failed(n))
      return failure();
    normalized = *n;
    llvm::sort(normalized);
    normalized.erase(std::unique(normalized.begin(), normalized.end()),
                     normalized.end());
  }
  return ctx.produce(ctx.create<ReduceOp>(
      ctx.elementTypeOf(x), x, ReduceKindAttr::get(b.getContext(), kind),
      b.getDenseI64ArrayAttr(normalized),
      b.getBoolAttr(ctx.attrInt("keepdims", 1) != 0)));
}

/// ReduceLogSum (ONNX, opsets 1-18): log(ReduceSum(x)); with
/// noop_with_empty_axes and no axes, log(x) per element.
LogicalResult importReduceLogSum(NodeContext &ctx) {
  if (failed(importReduce<ReduceKind::sum>(ctx)))
    return failure();
  Value sum = ctx.results.pop_back_val();
  return ctx.produce(ctx.create<LogOp>(ctx.elementTypeOf(sum), sum));
}

template <typename OpTy> LogicalResult importArgReduce(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "data");
  if (!x)
    return failure();
  FailureOr<int64_t> axis =
      ctx.normalizeAxis(ctx.attrInt("axis", 0), ctx.rankOf(x));
  if (failed(axis))
    return failure();
  Builder &b = ctx.builder;
  return ctx.produce(ctx.create<OpTy>(
      b.getI64Type(), x, b.getI64IntegerAttr(*axis),
      b.getBoolAttr(ctx.attrInt("keepdims", 1) != 0),
      b.getBoolAttr(ctx.attrInt("select_last_index", 0) != 0)));
}

LogicalResult importLayerNorm(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X"), scale = ctx.requiredInput(1, "Scale");
  if (!x || !scale)
    return failure();
  FailureOr<int64_t> axis =
      ctx.normalizeAxis(ctx.attrInt("axis", -1), ctx.rankOf(x));
  if (failed(axis))
    return failure();
  Builder &b = ctx.builder;
  float epsilon = ctx.attrFloat("epsilon", 1e-5f);
  if (failed(ctx.produce(ctx.create<LayerNormOp>(
          ctx.elementTypeOf(x), x, scale, ctx.input(2),
          b.getI64IntegerAttr(*axis), b.getF32FloatAttr(epsilon)))))
    return failure();
  if (ctx.node.output_size() < 2)
    return success();
  // Mean and InvStdDev (training outputs) over the normalized axes, with
  // kept dims, computed from the input as ONNX's function body does.
  Type t = ctx.elementTypeOf(x);
  SmallVector<int64_t> axes;
  for (int64_t d = *axis; d < ctx.rankOf(x); ++d)
    axes.push_back(d);
  auto reduceMean = [&](Value v) {
    return ctx.create<ReduceOp>(
        t, v, ReduceKindAttr::get(b.getContext(), ReduceKind::mean),
        b.getDenseI64ArrayAttr(axes), b.getBoolAttr(true));
  };
  FailureOr<Value> mean = reduceMean(x);
  if (failed(mean))
    return failure();
  FailureOr<Value> centered = ctx.create<SubOp>(t, x, *mean);
  FailureOr<Value> squared = succeeded(centered)
                                 ? ctx.create<MulOp>(t, *centered, *centered)
                                 : FailureOr<Value>(failure());
  FailureOr<Value> variance =
      succeeded(squared) ? reduceMean(*squared) : FailureOr<Value>(failure());
  FailureOr<Value> shifted =
      succeeded(variance)
          ? ctx.create<AddOp>(t, *variance, ctx.constantScalar(t, epsilon))
          : FailureOr<Value>(failure());
  if (failed(shifted))
    return failure();
  ctx.results.push_back(*mean);
  return ctx.produce(ctx.create<RsqrtOp>(t, *shifted));
}

//===--- RMSNormalization over several axes ------------------------------===//

/// ONNX RMSNormalization (opset 23) normalizing over axes [axis, rank):
/// its function body, X / sqrt(mean(X^2 over the axes) + epsilon) * scale,
/// computed in float32 (stash_type 1) and cast back to X's type.
LogicalResult importRmsNormOverAxes(NodeContext &ctx, Value x, Value scale,
                                    int64_t axis) {
  Type t = ctx.elementTypeOf(x);
  Builder &b = ctx.builder;
  int64_t stash = ctx.attrInt("stash_type", 1);
  if (stash != 1)
    return ctx.error() << "stash_type " << stash
                       << " is not supported (only 1, float32)";
  Type f32 = b.getF32Type();
  Value xu = x;
  if (t != f32) {
    FailureOr<Value> cast = ctx.create<CastOp>(f32, x);
    if (failed(cast))
      return failure();
    xu = *cast;
  }
  SmallVector<int64_t> axes;
  for (int64_t d = axis; d < ctx.rankOf(x); ++d)
    axes.push_back(d);
  FailureOr<Value> y = ctx.create<MulOp>(f32, xu, xu);
  if (succeeded(y))
    y = ctx.create<ReduceOp>(
        f32, *y, ReduceKindAttr::get(b.getContext(), ReduceKind::mean),
        b.getDenseI64ArrayAttr(axes), b.getBoolAttr(true));
  if (succeeded(y))
    y = ctx.create<AddOp>(
        f32, *y, ctx.constantScalar(f32, ctx.attrFloat("epsilon", 1e-5f)));
  if (succeeded(y))
    y = ctx.create<RsqrtOp>(f32, *y);
  if (succeeded(y))
    y = ctx.create<MulOp>(f32, xu, *y);
  if (succeeded(y) && t != f32)
    y = ctx.create<CastOp>(t, *y);
  if (succeeded(y))
    y = ctx.create<MulOp>(t, *y, scale);
  if (failed(ctx.produce(y)))
    return failure();
  return skipOptionalOutputs(ctx, 1);
}

/// RMS normalization over the last axis (ONNX RMSNormalization, and the
/// SimplifiedLayerNormalization that ONNX Runtime's tools emit); over more
/// axes through importRmsNormOverAxes.
LogicalResult importRmsNorm(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X"), scale = ctx.requiredInput(1, "scale");
  if (!x || !scale)
    return failure();
  int64_t rank = ctx.rankOf(x);
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.attrInt("axis", -1), rank);
  if (failed(axis))
    return failure();
  if (*axis != rank - 1)
    return importRmsNormOverAxes(ctx, x, scale, *axis);
  if (failed(ctx.produce(ctx.create<RmsNormOp>(
          ctx.elementTypeOf(x), x, scale,
          ctx.builder.getF32FloatAttr(ctx.attrFloat("epsilon", 1e-5f))))))
    return failure();
  return skipOptionalOutputs(ctx, 1);
}

/// Inference batch normalization, normalized to elementwise ops on
/// per-channel parameters (which fold to constants when they are constant).
LogicalResult importBatchNorm(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X"), scale = ctx.requiredInput(1, "scale"),
        bias = ctx.requiredInput(2, "B"),
        mean = ctx.requiredInput(3, "input_mean"),
        var = ctx.requiredInput(4, "input_var");
  if (!x || !scale || !bias || !mean || !var)
    return failure();
  if (ctx.attrInt("training_mode", 0))
    return ctx.error() << "training_mode=1 is not supported";
  int64_t rank = ctx.rankOf(x);
  if (rank < 2)
    return ctx.error() << "input must be [N, C, ...]";
  Type t = ctx.elementTypeOf(x);
  // Parameters [C] -> [C, 1, ..., 1] so they broadcast over spatial dims.
  SmallVector<int64_t> trailing;
  for (int64_t i = 1; i < rank - 1; ++i)
    trailing.push_back(i);
  auto spread = [&](Value v) -> FailureOr<Value> {
    if (trailing.empty())
      return v;
    return ctx.create<UnsqueezeOp>(t, v,
                                   ctx.builder.getDenseI64ArrayAttr(trailing));
  };
  FailureOr<Value> denom = ctx.create<AddOp>(
      t, var, ctx.constantScalar(t, ctx.attrFloat("epsilon", 1e-5f)));
  if (succeeded(denom))
    denom = ctx.create<SqrtOp>(t, *denom);
  if (failed(denom))
    return failure();
  FailureOr<Value> factor = ctx.create<DivOp>(t, scale, *denom);
  if (failed(factor))
    return failure();
  FailureOr<Value> shift = ctx.create<MulOp>(t, mean, *factor);
  if (succeeded(shift))
    shift = ctx.create<SubOp>(t, bias, *shift);
  if (failed(shift))
    return failure();
  FailureOr<Value> f = spread(*factor), s = spread(*shift);
  if (failed(f) || failed(s))
    return failure();
  FailureOr<Value> y = ctx.create<MulOp>(t, x, *f);
  if (succeeded(y))
    y = ctx.create<AddOp>(t, *y, *s);
  if (failed(ctx.produce(y)))
    return failure();
  return skipOptionalOutputs(ctx, 1);
}

/// Resolves ONNX pads (including auto_pad) for a sliding window.
FailureOr<SmallVector<int64_t>> windowPads(NodeContext &ctx, Value x,
                                           ArrayRef<int64_t> kernel,
                                           ArrayRef<int64_t> strides,
                                           ArrayRef<int64_t> dilations) {
  size_t spatial = kernel.size();
  std::string autoPad = ctx.attrString("auto_pad", "NOTSET");
  SmallVector<int64_t> pads(2 * spatial, 0);
  if (autoPad == "NOTSET") {
    if (auto given = ctx.attrInts("pads")) {
      if (given->size() != 2 * spatial)
        return ctx.error() << "pads has " << given->size()
                           << " entries, expected " << 2 * spatial,
               failure();
      pads = *given;
    }
    return pads;
  }
  if (autoPad == "VALID")
    return pads;
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
    return ctx.error() << "unknown auto_pad '" << autoPad << "'", failure();
  auto type = x.getType().cast<RankedTensorType>();
  for (size_t i = 0; i < spatial; ++i)
    if (strides[i] <= 0 || dilations[i] <= 0)
      return ctx.error() << "strides and dilations must be positive", failure();
  for (size_t i = 0; i < spatial; ++i) {
    int64_t size = type.getDimSize(2 + i);
    if (size == kDynamic)
      return ctx.error() << "auto_pad " << autoPad
                         << " needs static spatial dims, not " << x.getType()
                         << bindingHintSuffix(x),
             failure();
    if (kernel[i] == kDynamic)
      return ctx.error() << "auto_pad " << autoPad
                         << " needs static kernel dims",
             failure();
    // In 128 bits: a stride or dilation near 2^63 must not wrap.
    __int128 out = ((__int128)size + strides[i] - 1) / strides[i];
    __int128 wide = std::max<__int128>(
        0, (out - 1) * strides[i] + (__int128)dilations[i] * (kernel[i] - 1) +
               1 - size);
    if (wide > ((__int128)1 << 62))
      return ctx.error() << "auto_pad " << autoPad << " of spatial dim " << i
                         << " needs more than 2^62 padding (stride "
                         << strides[i] << ", dilation " << dilations[i] << ")",
             failure();
    int64_t total = (int64_t)wide;
    int64_t small = total / 2, large = total - small;
    pads[i] = autoPad == "SAME_UPPER" ? small : large;
    pads[spatial + i] = autoPad == "SAME_UPPER" ? large : small;
  }
  return pads;
}

LogicalResult importConv(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X"), w = ctx.requiredInput(1, "W");
  if (!x || !w)
    return failure();
  auto wType = w.getType().dyn_cast<RankedTensorType>();
  if (!wType || ctx.rankOf(x) < 3)
    return ctx.error() << "needs ranked input and weight";
  FailureOr<ConvWindow> window = convWindow(ctx, x, wType);
  if (failed(window))
    return failure();
  Builder &b = ctx.builder;
  return ctx.produce(
      ctx.create<ConvOp>(ctx.elementTypeOf(x), x, w, ctx.input(2),
                         b.getDenseI64ArrayAttr(window->strides),
                         b.getDenseI64ArrayAttr(window->pads),
                         b.getDenseI64ArrayAttr(window->dilations),
                         b.getI64IntegerAttr(ctx.attrInt("group", 1))));
}

/// The window of a pooling node: kernel_shape (required, one entry per
/// spatial dim of X), strides and dilations (default 1), and pads (explicit,
/// or from auto_pad).
struct PoolWindow {
  SmallVector<int64_t> kernel, strides, dilations, pads;
  bool dilated = false;
};

FailureOr<PoolWindow> poolWindow(NodeContext &ctx, Value x) {
  PoolWindow w;
  auto kernel = ctx.attrInts("kernel_shape");
  if (!kernel)
    return ctx.error() << "needs kernel_shape";
  w.kernel = *kernel;
  size_t spatial = w.kernel.size();
  if (ctx.rankOf(x) != (int64_t)spatial + 2)
    return ctx.error() << "kernel_shape does not match the input rank";
  auto strides =
      ctx.attrIntsOfSize("strides", spatial, 1, "one per kernel dim");
  auto dilations =
      ctx.attrIntsOfSize("dilations", spatial, 1, "one per kernel dim");
  if (failed(strides) || failed(dilations))
    return failure();
  w.strides = *strides;
  w.dilations = *dilations;
  w.dilated = llvm::any_of(w.dilations, [](int64_t d) { return d != 1; });
  auto pads = windowPads(ctx, x, w.kernel, w.strides, w.dilations);
  if (failed(pads))
    return failure();
  w.pads = *pads;
  return w;
}

template <PoolKind kind> LogicalResult importPool(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X");
  if (!x)
    return failure();
  FailureOr<PoolWindow> w = poolWindow(ctx, x);
  if (failed(w))
    return failure();
  Builder &b = ctx.builder;
  if (failed(ctx.produce(ctx.create<PoolOp>(
          ctx.elementTypeOf(x), x, PoolKindAttr::get(b.getContext(), kind),
          b.getDenseI64ArrayAttr(w->kernel), b.getDenseI64ArrayAttr(w->strides),
          b.getDenseI64ArrayAttr(w->pads),
          b.getBoolAttr(ctx.attrInt("ceil_mode", 0) != 0),
          b.getBoolAttr(ctx.attrInt("count_include_pad", 0) != 0),
          w->dilated ? b.getDenseI64ArrayAttr(w->dilations)
                     : DenseI64ArrayAttr()))))
    return failure();
  return skipOptionalOutputs(ctx, 1);
}

//===--- LpPool -----------------------------------------------------------===//

/// ONNX LpPool (opsets 13 to 24): (sum over the window of |x|^p)^(1/p),
/// as an average pool of |x|^p counting the padding (every window lies in
/// the padded input without ceil_mode, so the sum is the average times the
/// window size). ceil_mode is refused: its partial windows would need
/// another divisor.
LogicalResult importLpPool(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X");
  if (!x)
    return failure();
  if (ctx.attrInt("ceil_mode", 0))
    return ctx.error() << "ceil_mode=1 is not supported";
  int64_t p = ctx.attrInt("p", 2);
  if (p <= 0)
    return ctx.error() << "p must be positive, got " << p;
  FailureOr<PoolWindow> w = poolWindow(ctx, x);
  if (failed(w))
    return failure();
  double window = 1;
  for (int64_t k : w->kernel) {
    if (k <= 0)
      return ctx.error() << "kernel_shape must be positive";
    window *= (double)k;
  }
  Type t = ctx.elementTypeOf(x);
  Builder &b = ctx.builder;
  FailureOr<Value> y =
      p == 2 ? ctx.create<MulOp>(t, x, x) : ctx.create<AbsOp>(t, x);
  if (succeeded(y) && p != 1 && p != 2)
    y = ctx.create<PowOp>(t, *y, ctx.constantScalar(t, (double)p));
  if (succeeded(y))
    y = ctx.create<PoolOp>(
        t, *y, PoolKindAttr::get(b.getContext(), PoolKind::avg),
        b.getDenseI64ArrayAttr(w->kernel), b.getDenseI64ArrayAttr(w->strides),
        b.getDenseI64ArrayAttr(w->pads), b.getBoolAttr(false),
        b.getBoolAttr(true),
        w->dilated ? b.getDenseI64ArrayAttr(w->dilations)
                   : DenseI64ArrayAttr());
  if (succeeded(y))
    y = ctx.create<MulOp>(t, *y, ctx.constantScalar(t, window));
  if (succeeded(y) && p == 2)
    y = ctx.create<SqrtOp>(t, *y);
  else if (succeeded(y) && p != 1)
    y = ctx.create<PowOp>(t, *y, ctx.constantScalar(t, 1.0 / (double)p));
  return ctx.produce(y);
}

template <ReduceKind kind> LogicalResult importGlobalPool(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X");
  if (!x)
    return failure();
  int64_t rank = ctx.rankOf(x);
  if (rank < 3)
    return ctx.error() << "input must be [N, C, spatial...]";
  SmallVector<int64_t> axes;
  for (int64_t i = 2; i < rank; ++i)
    axes.push_back(i);
  Builder &b = ctx.builder;
  return ctx.produce(ctx.create<ReduceOp>(
      ctx.elementTypeOf(x), x, ReduceKindAttr::get(b.getContext(), kind),
      b.getDenseI64ArrayAttr(axes), b.getBoolAttr(true)));
}

} // namespace

void addNeuralNetOps(OpTable &t) {
  t.add("", "MatMul", importMatMul);
  t.add("", "Gemm", importGemm);
  t.add("", "Softmax", importSoftmax<false>);
  t.add("", "LogSoftmax", importSoftmax<true>);
  t.add("", "ReduceSum", importReduce<ReduceKind::sum>);
  t.add("", "ReduceMean", importReduce<ReduceKind::mean>);
  t.add("", "ReduceMax", importReduce<ReduceKind::max>);
  t.add("", "ReduceMin", importReduce<ReduceKind::min>);
  t.add("", "ReduceProd", importReduce<ReduceKind::prod>);
  t.add("", "ReduceL1", importReduce<ReduceKind::l1>);
  t.add("", "ReduceL2", importReduce<ReduceKind::l2>);
  t.add("", "ReduceSumSquare", importReduce<ReduceKind::sum_square>);
  t.add("", "ReduceLogSumExp", importReduce<ReduceKind::log_sum_exp>);
  t.add("", "ReduceLogSum", importReduceLogSum);
  t.add("", "ArgMax", importArgReduce<ArgMaxOp>);
  t.add("", "ArgMin", importArgReduce<ArgMinOp>);
  t.add("", "LayerNormalization", importLayerNorm);
  t.add("", "RMSNormalization", importRmsNorm);
  t.add("", "SimplifiedLayerNormalization", importRmsNorm);
  t.add(kMicrosoftDomain, "SimplifiedLayerNormalization", importRmsNorm);
  t.add("", "BatchNormalization", importBatchNorm);
  t.add("", "Conv", importConv);
  t.add("", "MaxPool", importPool<PoolKind::max>);
  t.add("", "AveragePool", importPool<PoolKind::avg>);
  t.add("", "GlobalAveragePool", importGlobalPool<ReduceKind::mean>);
  t.add("", "GlobalMaxPool", importGlobalPool<ReduceKind::max>);
  t.add("", "LpPool", importLpPool);

  // ONNX Runtime's decoding-only fused attention (its transformer
  // optimizer's output for beam search): rejected by name so the message
  // says what to do instead. Its other fused ops are in MicrosoftOps.cpp.
  t.reject(kMicrosoftDomain, "DecoderMaskedMultiHeadAttention",
           "an ONNX Runtime fused op for beam-search decoding; export the "
           "model without ONNX Runtime's transformer optimizer (Anvil "
           "imports the unfused attention)");
}

FailureOr<ConvWindow> convWindow(NodeContext &ctx, Value x,
                                 RankedTensorType wType) {
  size_t spatial = wType.getRank() - 2;
  SmallVector<int64_t> kernel(wType.getShape().drop_front(2));
  // kernel_shape is optional (the weight's dims are the kernel), but one
  // that disagrees with the weight is an error, not ignored.
  if (auto given = ctx.attrInts("kernel_shape"))
    if (ArrayRef<int64_t>(*given) != ArrayRef<int64_t>(kernel))
      return ctx.error() << "kernel_shape " << formatShape(*given)
                         << " does not match the weight's kernel dims "
                         << formatShape(kernel);
  auto strides =
      ctx.attrIntsOfSize("strides", spatial, 1, "one per kernel dim");
  auto dilations =
      ctx.attrIntsOfSize("dilations", spatial, 1, "one per kernel dim");
  if (failed(strides) || failed(dilations))
    return failure();
  auto pads = windowPads(ctx, x, kernel, *strides, *dilations);
  if (failed(pads))
    return failure();
  return ConvWindow{*strides, *pads, *dilations};
}

} // namespace anvil::onnx_import
