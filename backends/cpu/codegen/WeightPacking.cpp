//===- WeightPacking.cpp - the cpu target's weight layouts ----------------===//
//
// A constant right-hand side of an f32 matmul (an f32, f16 or bf16 weight)
// gets the column-panel layout of the SIMD micro-kernel
// (backends/cpu/kernels/matmul_panels.h): 32 output columns per panel, K-major
// inside it, so the kernel streams one contiguous run per panel. A [N, K]
// weight (matmul with transpose_rhs) gets the same panels from its transpose
// ("nk_panels32"). Other element types keep the row-major kernel, which wants
// [K, N]: a [N, K] weight of those gets layout "kn". Either way the value keeps
// its bytes and the rearrangement happens as the weight section is written
// (copyWeightBytesInLayout), so no rearranged copy is ever held.
//
// A float conv2d whose output planes are small (7 x 7) gets the same
// "nk_panels32" panels from its [M, C, kh, kw] weight read as [M, K]: the
// kernel then puts the output channels in the vector lanes and the pixels
// in the tiles' rows (conv_gemm.h, conv2d_pixel_rows). So do the two 1x1
// convolutions of an inverted residual block, whose inner tensors are then
// kept channels last (chooseChannelsLastChains, conv_channels_last.h).
//
// Every other float conv2d of group 1 that runs as conv_gemm.h's product
// gets its weight in row tiles ("row_tiles12": 12 output channels per
// tile, K-major inside), the product's register tiles' rows.
//
// The quantized matmul kernel (matmul_quant.h) reads its weight in panels
// of 16 output channels ("q8_n16..." or "q4_n16...", WeightData.h): signed
// values are stored unsigned (the launch's zero_offset undoes the bias),
// 8-bit ones four k to a 32-bit word, as AVX512-VNNI's vpdpbusd reads them,
// and 4-bit ones eight k to a word ("q4_n16_k8": one 64-byte line holds a
// panel's k-octet, read with float activations and int8 ones alike).
//
//===----------------------------------------------------------------------===//

#include "backends/cpu/codegen/CpuTarget.h"
#include "dialects/Kernel/KernelOps.h"
#include "dialects/Kernel/WeightData.h"

using namespace mlir;
using namespace anvil::kernel;

namespace anvil::backend::cpu {

namespace {
bool isF32(Value value) {
  return value.getType().cast<ShapedType>().getElementType().isF32();
}
/// f32, or a 16-bit float the panel kernel widens as it loads.
bool isPanelWeight(Value value) {
  Type element = value.getType().cast<ShapedType>().getElementType();
  return element.isF32() || element.isBF16() || element.isF16();
}

/// The launches of `kernel`, collected first: the packers change the
/// launches and weights they visit.
SmallVector<LaunchOp> launchesOf(ModuleOp module, StringRef kernel) {
  SmallVector<LaunchOp> launches;
  module.walk([&](LaunchOp launch) {
    if (launch.getKernel() == kernel)
      launches.push_back(launch);
  });
  return launches;
}

/// The weight op `launch` reads as input `index`, made its own (a clone
/// when another op reads it too): the packers change its layout.
WeightOp ownWeight(LaunchOp launch, unsigned index) {
  auto weight = launch.getInputs()[index].getDefiningOp<WeightOp>();
  if (!weight || weight->hasOneUse())
    return weight;
  OpBuilder b(weight);
  auto copy = cast<WeightOp>(b.clone(*weight));
  launch->setOperand(index, copy);
  return copy;
}

/// Whether `value` is a [rows, cols] constant weight, not laid out yet,
/// whose elements "kn" can transpose (whole bytes).
bool transposableMatrix(Value value, int64_t rows, int64_t cols) {
  auto weight = value.getDefiningOp<WeightOp>();
  if (!weight || weight.getLayout())
    return false;
  auto type = weight.getType().cast<MemRefType>();
  Type element = type.getElementType();
  return type.getRank() == 2 && type.getDimSize(0) == rows &&
         type.getDimSize(1) == cols && element.isIntOrFloat() &&
         element.getIntOrFloatBitWidth() % 8 == 0;
}

/// Stores a group-wise matmul_quant launch's [N, groups] scales (and zero
/// points) as [groups, N] (layout "kn") and sets scale_n_stride 1 and
/// scale_g_stride N: a panel's 16 scales of one group are then one masked
/// 64-byte load where the kernel gathered them (vgatherdps, microcoded on AMD
/// Zen 4; matmul_quant.h, load_panel_scales). The values, and so every result
/// bit, stay the same. Launches whose scales are not such constants keep
/// theirs.
void transposeGroupScales(LaunchOp launch) {
  DictionaryAttr params = launch.getParams();
  int64_t n = params.getAs<IntegerAttr>("n").getInt();
  int64_t nStride = params.getAs<IntegerAttr>("scale_n_stride").getInt();
  int64_t gStride = params.getAs<IntegerAttr>("scale_g_stride").getInt();
  int64_t groups = nStride;
  if (params.getAs<BoolAttr>("rhs_kn").getValue() || gStride != 1 ||
      groups < 2 || n < 2)
    return;
  // The scales (input 2) and the zero points (3, where given); a launch
  // with more inputs reads its activations' quantization after them.
  auto inputs = launch.getInputs();
  if (params.getAs<BoolAttr>("lhs_runtime").getValue() || inputs.size() > 4)
    return;
  for (unsigned i = 2; i < inputs.size(); ++i)
    if (!transposableMatrix(inputs[i], n, groups))
      return;
  for (unsigned i = 2; i < inputs.size(); ++i) {
    WeightOp weight = ownWeight(launch, i);
    auto type = weight.getType().cast<MemRefType>();
    weight.setLayoutAttr(StringAttr::get(launch.getContext(), kWeightLayoutKN));
    weight.getResult().setType(
        MemRefType::get({groups, n}, type.getElementType()));
  }
  Builder b(launch.getContext());
  NamedAttrList updated(params);
  updated.set("scale_n_stride", b.getI64IntegerAttr(1));
  updated.set("scale_g_stride", b.getI64IntegerAttr(n));
  launch.setParamsAttr(updated.getDictionary(launch.getContext()));
}

/// Gives each matmul_quant launch's weight its panel layout: the weight
/// op itself when the launch is its only reader, else a copy of it (the
/// same value in another layout: one more region of the weight section).
LogicalResult packQuantizedWeights(ModuleOp module) {
  for (LaunchOp launch : launchesOf(module, "matmul_quant")) {
    transposeGroupScales(launch);
    auto weight = launch.getInputs()[1].getDefiningOp<WeightOp>();
    DictionaryAttr params = launch.getParams();
    // Static activations with a zero point other than the storage's
    // midpoint read each channel's sum of stored bytes (matmul_quant.h).
    int64_t lhsZero =
        params.getAs<IntegerAttr>("lhs_zero_point").getInt() -
        (params.getAs<BoolAttr>("lhs_unsigned").getValue() ? 128 : 0);
    bool needSums =
        params.getAs<IntegerAttr>("bits").getInt() == 8 &&
        params.getAs<BoolAttr>("quantize_lhs").getValue() &&
        ((params.getAs<FloatAttr>("lhs_scale").getValueAsDouble() > 0 &&
          lhsZero != 0) ||
         params.getAs<BoolAttr>("lhs_runtime").getValue()); // z at run time
    if (!weight || weight.getLayout()) {
      std::optional<QuantPanelLayout> given =
          weight ? parseQuantPanelLayout(*weight.getLayout()) : std::nullopt;
      if (needSums && !(given && given->sums))
        return launch.emitOpError("static activations with a zero point "
                                  "need a constant weight in a '..._sums' "
                                  "layout");
      if (given && given->bits != params.getAs<IntegerAttr>("bits").getInt())
        return launch.emitOpError("a ")
               << params.getAs<IntegerAttr>("bits").getInt()
               << "-bit matmul_quant cannot read a weight in layout '"
               << *weight.getLayout() << "'";
      continue;
    }
    QuantPanelLayout layout;
    layout.bits = params.getAs<IntegerAttr>("bits").getInt();
    layout.kn = params.getAs<BoolAttr>("rhs_kn").getValue();
    layout.biased = params.getAs<IntegerAttr>("zero_offset").getInt() != 0;
    // 4-bit weights: eight k per word, for float activations and int8 ones.
    layout.k8 = layout.bits == 4;
    layout.sums = needSums;
    auto valueType = weight.getValue().getType().cast<ShapedType>();
    int64_t bytes = quantPanelStoredBytes(layout, valueType);
    if (bytes < 0) {
      // The kernel reads the channel sums from the packed buffer.
      if (layout.sums)
        return launch.emitOpError("static activations with a zero point "
                                  "need the weight in the 'q8_n16..._sums' "
                                  "layout, which does not apply to ")
               << valueType;
      continue;
    }
    weight = ownWeight(launch, 1);
    OpBuilder b(weight);
    weight.getResult().setType(
        MemRefType::get({bytes}, valueType.getElementType()));
    weight.setLayoutAttr(b.getStringAttr(quantPanelLayoutName(layout)));
  }
  return success();
}

/// The lanes a conv2d's column panels of 32 pixels fill (conv_gemm.h):
/// whole 16-float vectors, a last panel of at most 16 pixels taking one.
double pixelPanelLanes(int64_t pixels) {
  int64_t vectors = pixels / 32 * 2 + (pixels % 32 == 0    ? 0
                                       : pixels % 32 <= 16 ? 1
                                                           : 2);
  return double(pixels) / double(16 * vectors);
}

/// Whether a float conv2d launch runs as pixel rows (conv_gemm.h,
/// conv2d_pixel_rows): its weight then takes column panels of 32 output
/// channels. Group 1, static output planes of at most 256 pixels (a k
/// block of the packed patches, 256 x 256 floats, stays in L2) whose
/// pixel panels would leave more than a tenth of the lanes empty (7 x 7:
/// 77%), or more than a twentieth for kernels of several taps (14 x 14:
/// 94%; a 3x3 of 256 channels there, one thread on the Xeon host, 1.68-1.72
/// ms in row tiles against 1.61-1.67 as pixel rows, which pack their taps
/// from a padded copy; its 1x1 layers measured the same or slower as
/// pixel rows, and stay), and 256 or more output channels: the threads
/// split the channel panels, and 5 panels (MobileNetV2's 160 channels) on
/// two threads measured slower than the pixel panels.
bool pixelRowsConv(LaunchOp launch) {
  DictionaryAttr params = launch.getParams();
  auto group = params.getAs<IntegerAttr>("group");
  auto oh = params.getAs<IntegerAttr>("oh");
  auto ow = params.getAs<IntegerAttr>("ow");
  auto m = params.getAs<IntegerAttr>("m");
  if (!group || group.getInt() != 1 || !oh || !ow || !m || m.getInt() < 256)
    return false;
  if (!isF32(launch.getInputs()[0]) || !isF32(launch.getInputs()[1]) ||
      !isF32(launch.getOutputs()[0]))
    return false;
  auto kh = params.getAs<IntegerAttr>("kh");
  auto kw = params.getAs<IntegerAttr>("kw");
  const bool taps = kh && kw && kh.getInt() * kw.getInt() > 1;
  int64_t pixels = oh.getInt() * ow.getInt();
  return pixels > 0 && pixels <= 256 &&
         pixelPanelLanes(pixels) < (taps ? 0.95 : 0.9);
}

/// The conv2d launch's weight stored in `layout` (its buffer of the shape
/// storedWeightShape gives), and the launch parameter `param` that tells
/// the kernel so set to `value`.
void useWeightLayout(LaunchOp conv, StringRef layout, StringRef param,
                     int64_t value) {
  auto weight = conv.getInputs()[1].getDefiningOp<WeightOp>();
  auto valueType = weight.getValue().getType().cast<ShapedType>();
  OpBuilder b(weight);
  weight.setLayoutAttr(b.getStringAttr(layout));
  weight.getResult().setType(MemRefType::get(
      storedWeightShape(layout, valueType), valueType.getElementType()));
  NamedAttrList params(conv.getParams());
  params.set(param, b.getI64IntegerAttr(value));
  conv.setParamsAttr(params.getDictionary(conv.getContext()));
}

/// The conv2d launch's weight in column panels of 32 output channels (its
/// [M, C, kh, kw] read as [M, K], stored as [K, M]: "nk_panels32"), and
/// its weight_panel set.
void useColumnPanels(LaunchOp conv) {
  useWeightLayout(conv, kWeightLayoutNKPanels, "weight_panel",
                  kWeightPanelWidth);
}

/// An integer launch parameter, or `otherwise` where it has none.
int64_t intParam(LaunchOp launch, StringRef name, int64_t otherwise = -1) {
  auto value = launch.getParams().getAs<IntegerAttr>(name);
  return value ? value.getInt() : otherwise;
}
bool boolParam(LaunchOp launch, StringRef name) {
  auto value = launch.getParams().getAs<BoolAttr>(name);
  return value && value.getValue();
}
ArrayRef<int64_t> intsParam(LaunchOp launch, StringRef name) {
  auto value = launch.getParams().getAs<DenseI64ArrayAttr>(name);
  return value ? value.asArrayRef() : ArrayRef<int64_t>();
}

/// A float conv2d launch whose input and output are one arena buffer each
/// and whose weight is a constant only it reads, in no layout yet.
bool plainFloatConv(LaunchOp conv) {
  if (conv.getKernel() != "conv2d" || conv.getOutputs().size() != 1 ||
      !isF32(conv.getInputs()[0]) || !isF32(conv.getInputs()[1]) ||
      !isF32(conv.getOutputs()[0]) || intParam(conv, "weight_panel") != 0 ||
      boolParam(conv, "in_nhwc") || boolParam(conv, "out_nhwc"))
    return false;
  auto weight = conv.getInputs()[1].getDefiningOp<WeightOp>();
  return weight && weight->hasOneUse() && !weight.getLayout();
}

/// A 1x1 convolution of group 1 at unit strides without padding, on
/// static planes (conv_channels_last.h's pointwise kernel), with 8 or more
/// input and 4 or more output channels: the planar kernel then takes
/// conv_gemm.h's product (the same FMA chains, so the same bits), where
/// smaller ones take the direct loop, whose sums start from the bias.
bool pointwiseConv(LaunchOp conv) {
  ArrayRef<int64_t> strides = intsParam(conv, "strides"),
                    pads = intsParam(conv, "pads");
  return plainFloatConv(conv) && intParam(conv, "group") == 1 &&
         intParam(conv, "c") >= 8 && intParam(conv, "m") >= 4 &&
         intParam(conv, "kh") == 1 && intParam(conv, "kw") == 1 &&
         strides == ArrayRef<int64_t>{1, 1} &&
         pads == ArrayRef<int64_t>{0, 0, 0, 0} && intParam(conv, "oh") > 0 &&
         intParam(conv, "oh") == intParam(conv, "h") &&
         intParam(conv, "ow") > 0 &&
         intParam(conv, "ow") == intParam(conv, "w");
}

/// A depthwise convolution: one output channel per input channel.
bool depthwiseConv(LaunchOp conv) {
  int64_t c = intParam(conv, "c");
  return plainFloatConv(conv) && c > 1 && intParam(conv, "group") == c &&
         intParam(conv, "m") == c;
}

/// The launch writing an arena buffer and the one launch reading it, when
/// those, and the writer's epilogue if it has one (the kernel.epilogue loop
/// right after it, which must read nothing but the buffer: a clamp, or
/// another unary loop in place such as HardSwish, which the kernels hand
/// runs of the buffer in memory order), are all the buffer's users.
struct SoleReader {
  LaunchOp writer, reader;
};
std::optional<SoleReader> soleReader(Value buffer) {
  if (!buffer.getDefiningOp<BufferOp>())
    return std::nullopt; // an argument: the caller's layout
  SoleReader use;
  ElementwiseOp epilogue;
  for (Operation *user : buffer.getUsers()) {
    if (auto launch = dyn_cast<LaunchOp>(user)) {
      const bool writes = llvm::is_contained(launch.getOutputs(), buffer),
                 reads = llvm::is_contained(launch.getInputs(), buffer);
      if (writes && !reads && (!use.writer || use.writer == launch))
        use.writer = launch;
      else if (reads && !writes && (!use.reader || use.reader == launch))
        use.reader = launch;
      else
        return std::nullopt;
    } else if (auto loop = dyn_cast<ElementwiseOp>(user)) {
      if (!loop->hasAttr(kEpilogueAttr) || (epilogue && epilogue != loop))
        return std::nullopt;
      epilogue = loop;
    } else {
      return std::nullopt;
    }
  }
  if (!use.writer || !use.reader || use.reader == use.writer)
    return std::nullopt;
  if (epilogue &&
      (epilogue->getPrevNode() != use.writer.getOperation() ||
       epilogue.getInputs().size() != 1 || epilogue.getInputs()[0] != buffer ||
       epilogue.getOutput() != buffer))
    return std::nullopt;
  return use;
}

void setLayoutFlag(LaunchOp conv, StringRef name) {
  NamedAttrList params(conv.getParams());
  params.set(name, BoolAttr::get(conv.getContext(), true));
  conv.setParamsAttr(params.getDictionary(conv.getContext()));
}

/// The inverted residual blocks of MobileNet V2/V3-style networks: a 1x1
/// convolution (the expansion) whose output only a depthwise convolution
/// reads, whose output only a 1x1 convolution (the projection) reads, each
/// inner tensor's epilogue none or a unary loop in place (a clamp, HardSwish).
/// The two inner tensors (the block's widest) are then kept channels last
/// (out_nhwc / in_nhwc), and the two 1x1 convolutions' weights take column
/// panels: the kernels of conv_channels_last.h put channels in the vector lanes
/// throughout, and the depthwise convolution no longer transposes its input and
/// output. Each output has the same bits as with planes.
void chooseChannelsLastChains(ModuleOp module) {
  for (LaunchOp depthwise : launchesOf(module, "conv2d")) {
    if (!depthwiseConv(depthwise))
      continue;
    std::optional<SoleReader> in = soleReader(depthwise.getInputs()[0]);
    std::optional<SoleReader> out = soleReader(depthwise.getOutputs()[0]);
    if (!in || !out || in->reader != depthwise || out->writer != depthwise ||
        !pointwiseConv(in->writer) || !pointwiseConv(out->reader) ||
        out->reader.getInputs()[0] != depthwise.getOutputs()[0])
      continue;
    LaunchOp expansion = in->writer, projection = out->reader;
    useColumnPanels(expansion);
    useColumnPanels(projection);
    setLayoutFlag(expansion, "out_nhwc");
    setLayoutFlag(depthwise, "in_nhwc");
    setLayoutFlag(depthwise, "out_nhwc");
    setLayoutFlag(projection, "in_nhwc");
  }
}

/// Whether a float conv2d launch of group 1 runs as conv_gemm.h's product
/// with the weight's rows as the tiles' rows (conv_gemm::applies: 4 or
/// more output channels, 8 or more taps; planar tensors, no panels): its
/// weight then takes row tiles.
bool rowTileConv(LaunchOp conv) {
  return plainFloatConv(conv) && intParam(conv, "group") == 1 &&
         intParam(conv, "m") >= 4 &&
         intParam(conv, "c") * intParam(conv, "kh") * intParam(conv, "kw") >= 8;
}

/// Gives the weights of the conv2d launches pixelRowsConv chooses column
/// panels (useColumnPanels), and those of the other launches rowTileConv
/// chooses row tiles (weight_tile_rows = 12): where the weight's rows are
/// read in place, a 12-row tile broadcasts from 12 streams (a pointer each,
/// two of them spilled on AVX-512); from its row tile, one run per k
/// (docs/performance.md, "ResNet on a Xeon": 3x3 layers 0-7% faster).
void packConvWeights(ModuleOp module) {
  for (LaunchOp launch : launchesOf(module, "conv2d")) {
    auto weight = launch.getInputs()[1].getDefiningOp<WeightOp>();
    if (!weight || !weight->hasOneUse() || weight.getLayout())
      continue;
    auto valueType = weight.getValue().getType().cast<ShapedType>();
    if (pixelRowsConv(launch)) {
      if (storedWeightShape(kWeightLayoutNKPanels, valueType).size() == 2)
        useColumnPanels(launch);
      continue;
    }
    if (storedWeightShape(kWeightLayoutRowTiles, valueType).size() == 3 &&
        rowTileConv(launch))
      useWeightLayout(launch, kWeightLayoutRowTiles, "weight_tile_rows",
                      kWeightTileRows);
  }
}

} // namespace

LogicalResult packCpuWeights(ModuleOp module) {
  if (failed(packQuantizedWeights(module)))
    return failure();
  chooseChannelsLastChains(module);
  packConvWeights(module);
  for (LaunchOp launch : launchesOf(module, "matmul")) {
    auto transposeRhs = launch.getParams().getAs<BoolAttr>("transpose_rhs");
    auto batchRank = launch.getParams().getAs<IntegerAttr>("batch_rank");
    auto weight = launch.getInputs()[1].getDefiningOp<WeightOp>();
    if (!transposeRhs || !weight)
      continue;
    auto type = weight.getType().cast<MemRefType>();
    // Only plain matrices that no other op reads, not laid out yet.
    if (type.getRank() != 2 || !weight->hasOneUse() || weight.getLayout())
      continue;
    bool transposed = transposeRhs.getValue();
    int64_t k = type.getDimSize(transposed ? 1 : 0);
    int64_t n = type.getDimSize(transposed ? 0 : 1);
    OpBuilder b(weight);
    NamedAttrList params(launch.getParams());
    bool panels = batchRank && batchRank.getInt() == 0 &&
                  isF32(launch.getInputs()[0]) && isPanelWeight(weight) &&
                  isF32(launch.getOutputs()[0]);
    if (panels) {
      weight.setLayoutAttr(b.getStringAttr(transposed ? kWeightLayoutNKPanels
                                                      : kWeightLayoutPanels));
      params.set("rhs_panel", b.getI64IntegerAttr(kWeightPanelWidth));
    } else if (transposed) {
      weight.setLayoutAttr(b.getStringAttr(kWeightLayoutKN));
    } else {
      continue;
    }
    weight.getResult().setType(MemRefType::get({k, n}, type.getElementType()));
    params.set("transpose_rhs", b.getBoolAttr(false));
    launch.setParamsAttr(params.getDictionary(module.getContext()));
  }
  return success();
}

} // namespace anvil::backend::cpu
