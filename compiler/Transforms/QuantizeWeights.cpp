//===- QuantizeWeights.cpp - constant matmul weights to int8 / int4 -------===//
//
// Round-to-nearest weight quantization into the representation ONNX
// Runtime's MatMulNBits imports to (QuantizationOps.cpp): the weight is
// `dequantize(q [N, K], scale[, zero_point])` read by a matmul with
// `transpose_rhs`, so imported and compiler-quantized weights reach the same
// fused kernel (AnvilToKernel.cpp, backends/cpu/kernels/matmul_quant.h).
// The embedding and the LM head are found by dataflow: the constant table
// the function's integer inputs gather rows from, and the matmul the
// logits come from.
//
//===----------------------------------------------------------------------===//

#include "compiler/Transforms/Passes.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/ConstantValues.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/GlobPattern.h"

#include <cmath>

namespace anvil {
#define GEN_PASS_DEF_ANVILQUANTIZEWEIGHTS
#include "compiler/Transforms/Passes.h.inc"
} // namespace anvil

using namespace mlir;

namespace anvil {
namespace {

/// What a --quantize mode asks for.
struct Scheme {
  int64_t bits = 8;
  int64_t group = 0; // 0: one group per output channel (all of K)
  bool perToken = false;
};

std::optional<Scheme> parseMode(StringRef mode) {
  if (mode == "int8")
    return Scheme{8, 0, false};
  if (mode == "w8a8")
    return Scheme{8, 0, true};
  if (mode == "int4-g32")
    return Scheme{4, 32, false};
  if (mode == "int4-g128")
    return Scheme{4, 128, false};
  if (mode == "w4a8-g32")
    return Scheme{4, 32, true};
  if (mode == "w4a8-g128")
    return Scheme{4, 128, true};
  return std::nullopt;
}

/// The names a constant goes by: its initializer's (the importer's NameLoc,
/// also inside fused locations) and its resource key.
SmallVector<std::string> namesOf(ConstantOp constant) {
  SmallVector<std::string> names;
  constant.getLoc()->walk([&](Location loc) {
    if (auto name = loc.dyn_cast<NameLoc>())
      names.push_back(name.getName().str());
    return WalkResult::advance();
  });
  if (auto resource = constant.getValue().dyn_cast<DenseResourceElementsAttr>())
    names.push_back(resource.getRawHandle().getKey().str());
  return names;
}

/// The value `v` is a reshaped, gathered, sliced or converted view of:
/// steps back through the ops that select or move rows of the logits.
Value throughViews(Value v) {
  for (int depth = 0; depth < 16; ++depth) {
    Operation *def = v.getDefiningOp();
    if (!def || !isa<ReshapeOp, FlattenOp, SqueezeOp, UnsqueezeOp, GatherOp,
                     SliceOp, CastOp>(def))
      return v;
    v = def->getOperand(0);
  }
  return v;
}

/// The table the token ids gather rows from: a 2-D float constant indexed
/// by an integer function argument (the one with the most rows, when
/// learned positions index another).
ConstantOp findEmbedding(func::FuncOp func) {
  ConstantOp best;
  func.walk([&](GatherOp gather) {
    auto table = gather.getInput().getDefiningOp<ConstantOp>();
    Value indices = gather.getIndices();
    while (Operation *def = indices.getDefiningOp()) {
      if (!isa<ReshapeOp, UnsqueezeOp, SqueezeOp, FlattenOp, CastOp>(def))
        break;
      indices = def->getOperand(0);
    }
    auto type = table ? table.getType().dyn_cast<RankedTensorType>()
                      : RankedTensorType();
    if (!type || type.getRank() != 2 ||
        !type.getElementType().isa<FloatType>() ||
        !indices.isa<BlockArgument>())
      return;
    if (!best || best.getType().cast<RankedTensorType>().getDimSize(0) <
                     type.getDimSize(0))
      best = table;
  });
  return best;
}

/// The matmuls of a constant (or already quantized) weight the function's
/// results come from through views only (the LM head: a present-KV output
/// passes a concat first, which stops it).
SmallVector<MatmulOp> findHeads(func::FuncOp func) {
  SmallVector<MatmulOp> heads;
  for (Block &block : func.getBody())
    if (auto ret = dyn_cast<func::ReturnOp>(block.getTerminator()))
      for (Value result : ret.getOperands())
        if (auto matmul = throughViews(result).getDefiningOp<MatmulOp>())
          if (matmul.getRhs().getDefiningOp<ConstantOp>() ||
              matmul.getRhs().getDefiningOp<DequantizeOp>())
            heads.push_back(matmul);
  return heads;
}

/// A 2-D float weight as rows of N output channels over K, in float.
std::optional<std::vector<float>>
readWeight(ConstantOp constant, bool transposed, int64_t &n, int64_t &k) {
  auto type = constant.getType().cast<RankedTensorType>();
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  std::vector<float> values(rows * cols);
  Attribute attr = constant.getValue();
  ArrayRef<char> raw;
  if (type.getElementType().isF32())
    raw = rawConstantData(attr).value_or(ArrayRef<char>());
  if ((int64_t)raw.size() == rows * cols * 4) {
    std::memcpy(values.data(), raw.data(), raw.size());
  } else {
    std::optional<ConstantTensor> read =
        readConstant(attr, std::numeric_limits<int64_t>::max());
    if (!read || read->size() != rows * cols)
      return std::nullopt;
    for (int64_t i = 0; i < rows * cols; ++i)
      values[i] = (float)read->asDouble(i);
  }
  if (!transposed) { // [K, N] to [N, K]
    std::vector<float> t(values.size());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        t[c * rows + r] = values[r * cols + c];
    values.swap(t);
    std::swap(rows, cols);
  }
  n = rows, k = cols;
  return values;
}

/// One weight quantized: q as stored (bytes), scales and zero points per
/// (channel, group), row-major [N, groups].
struct Quantized {
  std::string q, zeroPoints;
  std::vector<float> scales;
};

Quantized quantize(const std::vector<float> &w, int64_t n, int64_t k,
                   const Scheme &scheme, bool asym) {
  int64_t group = scheme.group ? scheme.group : std::max<int64_t>(k, 1);
  int64_t groups = (k + group - 1) / group;
  int64_t levels = (int64_t(1) << scheme.bits) - 1;     // 255 or 15
  int64_t qmax = (int64_t(1) << (scheme.bits - 1)) - 1; // 127 or 7
  int64_t rowBytes = scheme.bits == 4 ? (k + 1) / 2 : k;
  Quantized out;
  out.q.assign(n * rowBytes, '\0');
  out.scales.resize(n * groups);
  if (asym)
    out.zeroPoints.resize(n * groups);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      int64_t k0 = g * group, k1 = std::min(k, k0 + group);
      double lo = 0, hi = 0, amax = 0;
      for (int64_t c = k0; c < k1; ++c) {
        double v = w[r * k + c];
        lo = std::min(lo, v), hi = std::max(hi, v);
        amax = std::max(amax, std::fabs(v));
      }
      // The stored (float) scale is what dequantize reads: divide by it.
      double range = asym ? (hi - lo) / levels : amax / qmax;
      float scale = range > 0 ? (float)range : 1.0f;
      if (!std::isfinite(scale) || scale == 0)
        scale = 1.0f;
      out.scales[r * groups + g] = scale;
      int64_t zero = 0;
      if (asym) {
        zero = std::clamp<int64_t>((int64_t)std::nearbyint(-lo / scale), 0,
                                   levels);
        out.zeroPoints[r * groups + g] = (char)(uint8_t)zero;
      }
      for (int64_t c = k0; c < k1; ++c) {
        double v = std::nearbyint(w[r * k + c] / (double)scale) + zero;
        int64_t q = asym ? std::clamp<int64_t>((int64_t)v, 0, levels)
                         : std::clamp<int64_t>((int64_t)v, -qmax - 1, qmax);
        if (scheme.bits == 8) {
          out.q[r * rowBytes + c] = (char)(uint8_t)(q & 0xff);
        } else {
          uint8_t nibble = uint8_t(q & 0xf);
          char &byte = out.q[r * rowBytes + c / 2];
          byte = (char)((uint8_t)byte | (nibble << (4 * (c % 2))));
        }
      }
    }
  return out;
}

/// A constant of `type` holding `bytes`: inline when small (readable in
/// tests), else a resource blob that owns them (no uniqued copy).
ElementsAttr makeConstant(RankedTensorType type, std::string bytes,
                          const std::string &name) {
  if (type.getNumElements() <= 4096)
    return DenseElementsAttr::getFromRawBuffer(
        type, ArrayRef<char>(bytes.data(), bytes.size()));
  return makeOwnedResource(type, std::move(bytes), name);
}

/// `x` (float32, K = its last dim) quantized per token and read back:
/// `dequantize(quantize_per_token(x))` with whole rows as blocks, so that
/// the product of the two dequantized operands is the integer product
/// scaled once (the quantized kernel takes the form as int8 activations).
Value perTokenActivations(OpBuilder &b, Location loc, Value x) {
  auto type = x.getType().cast<RankedTensorType>();
  int64_t k = type.getShape().back();
  SmallVector<int64_t> rowShape(type.getShape());
  rowShape.back() = 1;
  auto perToken = b.create<QuantizePerTokenOp>(
      loc,
      TypeRange{RankedTensorType::get(type.getShape(), b.getI8Type()),
                RankedTensorType::get(rowShape, type.getElementType())},
      x);
  return b.create<DequantizeOp>(
      loc, type, perToken.getResult(), perToken.getScale(), Value(),
      b.getI64IntegerAttr(8), b.getI64IntegerAttr(type.getRank() - 1),
      b.getI64IntegerAttr(k), BoolAttr(), IntegerAttr());
}

/// The constant a value is, seen through reshapes (MatMulNBits' B is
/// imported as a reshape of its [N, blocks, bytes] initializer).
ConstantOp constantThroughReshapes(Value v) {
  while (auto reshape = v.getDefiningOp<ReshapeOp>())
    v = reshape.getInput();
  return v.getDefiningOp<ConstantOp>();
}

/// The dequantized constant weight of a float32 matmul that the model
/// already quantized (MatMulNBits, QDQ `DequantizeLinear`), if the
/// quantized kernel can take it with per-token int8 activations: 8-bit
/// values per tensor or per output channel without a zero point, or 4-bit
/// values in groups along K of a multiple of 8 (with or without zero
/// points), on activations not already quantized.
DequantizeOp perTokenReadyWeight(MatmulOp matmul) {
  auto lhs = matmul.getLhs().getType().dyn_cast<RankedTensorType>();
  auto result = matmul.getType().dyn_cast<RankedTensorType>();
  auto weight = matmul.getRhs().getDefiningOp<DequantizeOp>();
  if (!lhs || !result || !weight || lhs.getRank() < 1 ||
      lhs.isDynamicDim(lhs.getRank() - 1) || !lhs.getElementType().isF32() ||
      !result.getElementType().isF32())
    return DequantizeOp();
  // Activations quantized already (static QDQ), seen through views.
  Value x = matmul.getLhs();
  while (Operation *def = x.getDefiningOp()) {
    if (isa<DequantizeOp>(def))
      return DequantizeOp();
    if (!isa<ReshapeOp, FlattenOp, SqueezeOp, UnsqueezeOp>(def))
      break;
    x = def->getOperand(0);
  }
  auto q = weight.getInput().getType().dyn_cast<RankedTensorType>();
  auto scale = weight.getScale().getType().dyn_cast<RankedTensorType>();
  if (!q || q.getRank() != 2 || !q.getElementType().isInteger(8) || !scale ||
      !scale.getElementType().isF32() ||
      !constantThroughReshapes(weight.getInput()) ||
      !constantThroughReshapes(weight.getScale()) ||
      (weight.getZeroPoint() &&
       !constantThroughReshapes(weight.getZeroPoint())))
    return DequantizeOp();
  int64_t nAxis = matmul.getTransposeRhs() ? 0 : 1;
  int64_t kAxis = 1 - nAxis;
  int64_t axis = weight.getAxis(), block = weight.getBlockSize();
  if (weight.getBits() == 8)
    return !weight.getZeroPoint() &&
                   (scale.getRank() == 0 ||
                    (scale.getRank() == 1 && block == 0 && axis == nAxis))
               ? weight
               : DequantizeOp();
  if (weight.getBits() == 4)
    return scale.getRank() == 2 && block > 0 && block % 8 == 0 && axis == kAxis
               ? weight
               : DequantizeOp();
  return DequantizeOp();
}

struct QuantizeWeightsPass
    : impl::AnvilQuantizeWeightsBase<QuantizeWeightsPass> {
  using AnvilQuantizeWeightsBase::AnvilQuantizeWeightsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Option errors on the first function (the module when it has none).
    Operation *where = module;
    for (func::FuncOp f : module.getOps<func::FuncOp>()) {
      where = f;
      break;
    }
    std::optional<Scheme> scheme = parseMode(mode);
    if (!scheme) {
      where->emitError("unknown quantization mode '")
          << mode << "' (int8, int4-g32, int4-g128, w8a8, w4a8-g32, w4a8-g128)";
      return signalPassFailure();
    }
    if (asym && scheme->perToken) {
      where->emitError(mode)
          << " quantizes weights symmetrically (its integer product has no "
             "weight zero point); drop the asym option";
      return signalPassFailure();
    }
    if (floatLhs && scheme->perToken) {
      where->emitError(mode)
          << " quantizes the activations to int8 per token; drop the "
             "float-lhs option (anvilc --quantize-float-lhs)";
      return signalPassFailure();
    }
    bool skipEmbed = false, skipHead = false;
    std::vector<llvm::GlobPattern> patterns;
    for (const std::string &entry : skip) {
      if (entry == "embed") {
        skipEmbed = true;
        continue;
      }
      if (entry == "lm_head") {
        skipHead = true;
        continue;
      }
      auto pattern = llvm::GlobPattern::create(entry);
      if (!pattern) {
        where->emitError("bad skip pattern '")
            << entry << "': " << llvm::toString(pattern.takeError());
        return signalPassFailure();
      }
      patterns.push_back(std::move(*pattern));
    }
    for (func::FuncOp func : module.getOps<func::FuncOp>())
      if (failed(
              quantizeFunction(func, *scheme, skipEmbed, skipHead, patterns)))
        return signalPassFailure();
  }

  LogicalResult
  quantizeFunction(func::FuncOp func, const Scheme &scheme, bool skipEmbed,
                   bool skipHead,
                   const std::vector<llvm::GlobPattern> &patterns) {
    ConstantOp embedding = skipEmbed ? findEmbedding(func) : ConstantOp();
    SmallVector<MatmulOp> heads;
    if (skipHead)
      heads = findHeads(func);

    SmallVector<MatmulOp> matmuls;
    func.walk([&](MatmulOp m) { matmuls.push_back(m); });
    auto skipped = [&](ConstantOp constant) {
      if (patterns.empty())
        return false;
      SmallVector<std::string> names = namesOf(constant);
      return llvm::any_of(names, [&](const std::string &name) {
        return llvm::any_of(patterns, [&](const llvm::GlobPattern &p) {
          return p.match(name);
        });
      });
    };
    for (MatmulOp matmul : matmuls) {
      // A weight the model quantized itself keeps its values; with int8
      // activations asked for, its activations are quantized per token.
      if (DequantizeOp weight =
              scheme.perToken ? perTokenReadyWeight(matmul) : DequantizeOp()) {
        if (llvm::is_contained(heads, matmul) ||
            skipped(constantThroughReshapes(weight.getInput())))
          continue;
        OpBuilder b(matmul);
        matmul.getLhsMutable().assign(
            perTokenActivations(b, matmul.getLoc(), matmul.getLhs()));
        continue;
      }
      auto constant = matmul.getRhs().getDefiningOp<ConstantOp>();
      auto type = constant ? constant.getType().dyn_cast<RankedTensorType>()
                           : RankedTensorType();
      auto lhsType = matmul.getLhs().getType().dyn_cast<RankedTensorType>();
      auto resultType = matmul.getType().dyn_cast<RankedTensorType>();
      if (!type || constant->hasAttr(kKeepFloatAttr) || type.getRank() != 2 ||
          !type.hasStaticShape() || !type.getElementType().isa<FloatType>() ||
          type.getElementType().isF64() || !lhsType || lhsType.getRank() < 2 ||
          !resultType || resultType.getElementType() != type.getElementType() ||
          lhsType.getElementType() != type.getElementType())
        continue;
      if (embedding && (constant == embedding ||
                        constant.getValue() == embedding.getValue()))
        continue;
      if (llvm::is_contained(heads, matmul) || skipped(constant))
        continue;
      if (failed(rewrite(matmul, constant, scheme)))
        return failure();
    }
    return success();
  }

  LogicalResult rewrite(MatmulOp matmul, ConstantOp constant,
                        const Scheme &scheme) {
    int64_t n = 0, k = 0;
    std::optional<std::vector<float>> w =
        readWeight(constant, matmul.getTransposeRhs(), n, k);
    if (!w)
      return matmul.emitError("cannot read the weight to quantize it");
    Quantized qz = quantize(*w, n, k, scheme, asym);
    w.reset();
    MLIRContext *context = matmul.getContext();
    OpBuilder b(matmul);
    Location loc = matmul.getLoc();
    // The product runs in float32 whatever the weight's float type: the
    // quantized kernel takes float32 activations and scales, so a float16
    // or bfloat16 model's matmul is widened around it (its activations
    // cast to float32, the result cast back once).
    Type ioType = constant.getType().cast<ShapedType>().getElementType();
    Type floatType = b.getF32Type();
    Type i8 = IntegerType::get(context, 8);
    Type u8 = IntegerType::get(context, 8, IntegerType::Unsigned);
    int64_t group = scheme.group ? scheme.group : k;
    int64_t groups = scheme.group ? (k + group - 1) / group : 1;
    bool perChannel = scheme.group == 0;
    std::string base = namesOf(constant).empty() ? std::string("weight")
                                                 : namesOf(constant).front();
    // q: [N, K] i8 (symmetric) or ui8 (asym); 4-bit packed [N, ceil(K/2)].
    Type qElement = scheme.bits == 4 || asym ? u8 : i8;
    int64_t qCols = scheme.bits == 4 ? (k + 1) / 2 : k;
    auto qType = RankedTensorType::get({n, qCols}, qElement);
    Value q = b.create<ConstantOp>(
        loc, makeConstant(qType, std::move(qz.q), base + ".q"));
    SmallVector<int64_t> paramShape =
        perChannel ? SmallVector<int64_t>{n} : SmallVector<int64_t>{n, groups};
    auto scaleType = RankedTensorType::get(paramShape, floatType);
    std::string scaleBytes(qz.scales.size() * 4, '\0');
    std::memcpy(scaleBytes.data(), qz.scales.data(), scaleBytes.size());
    Value scale = b.create<ConstantOp>(
        loc, makeConstant(scaleType, std::move(scaleBytes), base + ".scale"));
    Value zeroPoint;
    if (asym)
      zeroPoint = b.create<ConstantOp>(
          loc, makeConstant(RankedTensorType::get(paramShape, u8),
                            std::move(qz.zeroPoints), base + ".zero"));
    auto wType = RankedTensorType::get({n, k}, floatType);
    auto optional = [&](int64_t v) {
      return v ? b.getI64IntegerAttr(v) : IntegerAttr();
    };
    Value weight = b.create<DequantizeOp>(
        loc, wType, q, scale, zeroPoint, b.getI64IntegerAttr(scheme.bits),
        optional(perChannel ? 0 : 1), optional(perChannel ? 0 : group),
        scheme.bits == 4 && !asym ? b.getBoolAttr(true) : BoolAttr(),
        scheme.bits == 4 && k % 2 ? b.getI64IntegerAttr(k) : IntegerAttr());
    // Symmetric int4 with float activations: the product may round the
    // activations to bf16 (the cpu target's vdpbf16ps path, on CPUs with
    // AVX512-BF16; backends/cpu/kernels/matmul_int4_bf16.h), a rounding far
    // below the weights' own, which this mode asked for. Read by the
    // lowering (AnvilToKernel.cpp, matmul_quant's lhs_bf16); an imported
    // model's dequantize has no such mark and keeps float activations, as
    // do these with the float-lhs option (anvilc --quantize-float-lhs).
    if (scheme.bits == 4 && !scheme.perToken && !asym && !floatLhs)
      weight.getDefiningOp()->setAttr("anvil.lhs_bf16", UnitAttr::get(context));
    Value lhs = matmul.getLhs();
    auto widened = [&](Value v, Type element) -> Value {
      auto type = v.getType().cast<RankedTensorType>();
      if (type.getElementType() == element)
        return v;
      return b.create<CastOp>(loc, type.clone(element), v);
    };
    lhs = widened(lhs, floatType);
    if (scheme.perToken)
      lhs = perTokenActivations(b, loc, lhs);
    auto resultType = matmul.getType().cast<RankedTensorType>();
    Value product = b.create<MatmulOp>(loc, resultType.clone(floatType), lhs,
                                       weight, b.getBoolAttr(true));
    matmul.getResult().replaceAllUsesWith(widened(product, ioType));
    matmul.erase();
    // The float original once nothing reads it, and at once its data where
    // no other constant shares it (an imported weight maps its slice of the
    // model file): the compiler holds one float weight at a time beside the
    // quantized ones, not all of them.
    if (constant->use_empty()) {
      Attribute value = constant.getValue();
      constant.erase();
      releaseUnusedResources(getOperation(), {value});
    }
    return success();
  }
};

} // namespace
} // namespace anvil
