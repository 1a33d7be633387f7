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
    int64_t size = 0;
    OpBuilder b(module.getContext());
    module.walk([&](WeightOp weight) {
      auto [it, inserted] =
          offsets.try_emplace({weight.getValue(), weight.getLayoutAttr()}, 0);
      if (inserted) {
        int64_t bytes = bufferBytes(weight.getType());
        int64_t align =
            bytes >= kPageAlignedFrom ? kPageAlignment : kWeightAlignment;
        size = llvm::alignTo(size, align);
        it->second = size;
        size += bytes;
      }
      weight.setOffsetAttr(b.getI64IntegerAttr(it->second));
    });
    module->setAttr(kWeightBytesAttr, b.getI64IntegerAttr(size));
  }
};

} // namespace

} // namespace anvil
