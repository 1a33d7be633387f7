//===- PackWeights.cpp - target weight layouts and the weight section -----===//

#include "compiler/Lowering/Passes.h"
#include "compiler/Target/Target.h"
#include "dialects/Kernel/KernelOps.h"

#include "llvm/Support/MathExtras.h"

namespace anvil {
#define GEN_PASS_DEF_ANVILPACKWEIGHTS
#include "compiler/Lowering/Passes.h.inc"
} // namespace anvil

using namespace mlir;
using namespace anvil::kernel;

namespace anvil {
namespace {

constexpr int64_t kWeightAlignment = 64;
constexpr int64_t kPageAlignment = 4096;
constexpr int64_t kPageAlignedFrom = 64 * 1024;

/// Whether a run reads `weight` whole: some use is not the table operand of
/// a `gather` launch (which reads the rows its indices name).
bool readWhole(WeightOp weight) {
  for (OpOperand &use : weight->getUses()) {
    auto launch = dyn_cast<LaunchOp>(use.getOwner());
    if (!launch || launch.getKernel() != "gather" ||
        use.getOperandNumber() != 0)
      return true;
  }
  return false;
}

struct PackWeightsPass : impl::AnvilPackWeightsBase<PackWeightsPass> {
  using AnvilPackWeightsBase::AnvilPackWeightsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    const ::anvil::target::Target *packer =
        ::anvil::target::lookupTarget(this->target);
    if (!packer) {
      module.emitError() << "unknown target '" << this->target
                         << "' (registered: "
                         << ::anvil::target::registeredTargetNames() << ")";
      return signalPassFailure();
    }
    if (failed(packer->packWeights(module)))
      return signalPassFailure();

    // Identical attributes (uniqued by MLIR) in the same layout share one
    // copy.
    DenseMap<std::pair<Attribute, Attribute>, int64_t> offsets;
    // The copies (by offset) some use reads whole, and their bytes.
    DenseMap<int64_t, int64_t> streamed;
    int64_t size = 0;
    OpBuilder b(module.getContext());
    module.walk([&](WeightOp weight) {
      auto [it, inserted] =
          offsets.try_emplace({weight.getValue(), weight.getLayoutAttr()}, 0);
      int64_t bytes = bufferBytes(weight.getType());
      if (inserted) {
        int64_t align =
            bytes >= kPageAlignedFrom ? kPageAlignment : kWeightAlignment;
        size = llvm::alignTo(size, align);
        it->second = size;
        size += bytes;
      }
      weight.setOffsetAttr(b.getI64IntegerAttr(it->second));
      if (readWhole(weight))
        streamed[it->second] = bytes;
    });
    int64_t streamedBytes = 0;
    for (auto &entry : streamed)
      streamedBytes += entry.second;
    module->setAttr(kWeightBytesAttr, b.getI64IntegerAttr(size));
    module->setAttr(kStreamedWeightBytesAttr,
                    b.getI64IntegerAttr(streamedBytes));
  }
};

} // namespace

} // namespace anvil
