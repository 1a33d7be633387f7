//===- NarrowWeights.cpp - matmul weights stored as 16-bit floats ---------===//
//
// A decode step streams every weight once: storing them as bf16 or f16
// halves the bytes, and so (at the memory roofline) the step time. The
// activations, the result and the accumulation stay f32 (anvil.matmul's
// mixed operand types, accumulator f32); the kernels widen each weight as
// they load it, exactly.
//
//===----------------------------------------------------------------------===//

#include "compiler/Transforms/Passes.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Kernel/WeightData.h"

#include "llvm/ADT/APFloat.h"

#include <cstring>

namespace anvil {
#define GEN_PASS_DEF_ANVILNARROWWEIGHTS
#include "compiler/Transforms/Passes.h.inc"
} // namespace anvil

using namespace mlir;

namespace anvil {
namespace {

/// f32 bits to bf16 bits, round to nearest even (NaN stays a quiet NaN).
uint16_t toBf16(uint32_t bits) {
  if ((bits & 0x7fffffff) > 0x7f800000)
    return uint16_t((bits >> 16) | 0x40);
  return uint16_t((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}

/// f32 bits to IEEE half bits, round to nearest even.
uint16_t toF16(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  bool lost;
  llvm::APFloat half(value);
  half.convert(llvm::APFloat::IEEEhalf(), llvm::APFloat::rmNearestTiesToEven,
               &lost);
  return uint16_t(half.bitcastToAPInt().getZExtValue());
}

struct NarrowWeightsPass : impl::AnvilNarrowWeightsBase<NarrowWeightsPass> {
  using AnvilNarrowWeightsBase::AnvilNarrowWeightsBase;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    Type narrow;
    if (dtype == "bf16")
      narrow = FloatType::getBF16(context);
    else if (dtype == "f16")
      narrow = FloatType::getF16(context);
    else {
      getOperation().emitError("anvil-narrow-weights: dtype must be bf16 or "
                               "f16, not '")
          << dtype << "'";
      return signalPassFailure();
    }
    // One narrowed copy per constant, however many matmuls read it.
    llvm::DenseMap<Value, Value> narrowed;
    bool failed = false;
    ModuleOp module = getOperation();
    SmallVector<MatmulOp> matmuls;
    module.walk([&](MatmulOp matmul) { matmuls.push_back(matmul); });
    for (MatmulOp matmul : matmuls) {
      auto lhs = matmul.getLhs().getType().cast<ShapedType>();
      auto rhs = matmul.getRhs().getType().cast<RankedTensorType>();
      auto result = matmul.getResult().getType().cast<ShapedType>();
      auto constant = matmul.getRhs().getDefiningOp<ConstantOp>();
      if (!constant || constant->hasAttr(kKeepFloatAttr) ||
          rhs.getRank() != 2 || !rhs.hasStaticShape() ||
          !rhs.getElementType().isF32() || !lhs.getElementType().isF32() ||
          !result.getElementType().isF32())
        continue;
      Value &replacement = narrowed[constant.getResult()];
      if (!replacement) {
        ArrayRef<char> bytes;
        std::string storage;
        auto value = constant.getValue().cast<ElementsAttr>();
        if (!kernel::viewWeightBytes(value, bytes, storage)) {
          constant.emitError("cannot read this weight's bytes");
          failed = true;
          break;
        }
        int64_t count = rhs.getNumElements();
        std::string out(2 * count, '\0');
        bool bf16 = narrow.isBF16();
        for (int64_t i = 0; i < count; ++i) {
          uint32_t bits;
          std::memcpy(&bits, bytes.data() + 4 * i, 4);
          uint16_t h = bf16 ? toBf16(bits) : toF16(bits);
          std::memcpy(&out[2 * i], &h, 2);
        }
        auto type = RankedTensorType::get(rhs.getShape(), narrow);
        OpBuilder b(constant);
        replacement = b.create<ConstantOp>(
            constant.getLoc(), type,
            makeOwnedResource(type, std::move(out), "narrowed_weight"));
      }
      matmul.getRhsMutable().assign(replacement);
      // The f32 original once nothing reads it, and at once its data
      // where no other constant shares it: the compiler then holds one
      // f32 weight at a time beside the 16-bit copies, not all of them.
      if (constant.getResult().use_empty()) {
        Attribute value = constant.getValue();
        narrowed.erase(constant.getResult());
        constant.erase();
        releaseUnusedResources(module, {value});
      }
    }
    if (failed)
      return signalPassFailure();
  }
};

} // namespace
} // namespace anvil
