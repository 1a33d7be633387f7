//===- Pipelines.cpp - the -O0..-O3 pass pipelines ------------------------===//

#include "compiler/Pipeline/Pipelines.h"
#include "compiler/Lowering/Passes.h"
#include "compiler/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

#include <string>

using namespace mlir;

namespace anvil {

void buildPipeline(OpPassManager &pm, unsigned optLevel) {
  // -O0 keeps the imported graph as it is (it is still verified).
  if (optLevel == 0)
    return;
  OpPassManager &func = pm.nest<func::FuncOp>();
  func.addPass(createCanonicalizerPass());
  func.addPass(createAnvilFoldConstants());
  // Composites whose shapes folding made static (ONNX Attention).
  func.addPass(createAnvilDecomposeComposites());
  func.addPass(createCSEPass());
  func.addPass(createCanonicalizerPass());
  if (optLevel < 2)
    return;
  // -O2 and -O3: recognize the computations exporters decompose, on the
  // canonical forms the canonicalizer left; then fold what the matches
  // freed (repeat_kv into grouped heads, dead ops) and share the rope
  // tables each match rebuilt.
  func.addPass(createAnvilRecognizeNorms());
  func.addPass(createAnvilRecognizeActivations());
  func.addPass(createAnvilRecognizeRope());
  func.addPass(createAnvilRecognizeAttention());
  // QDQ convolutions onto int8 integer convolutions (their weights stay
  // int8, never dequantized at run time).
  func.addPass(createAnvilFuseQdqConvs());
  func.addPass(createCanonicalizerPass());
  func.addPass(createCSEPass());
}

void buildKernelPipeline(OpPassManager &pm, unsigned optLevel,
                         llvm::StringRef target, bool fuseEpilogues) {
  OpPassManager &func = pm.nest<func::FuncOp>();
  // At -O0 no graph pass ran: composites bound static by --dim decompose
  // here, and ones still dynamic are reported by name.
  func.addPass(createAnvilDecomposeComposites());
  func.addPass(createConvertAnvilToKernel());
  if (optLevel > 0)
    func.addPass(createAnvilFuseElementwise());
  if (optLevel >= 2 && fuseEpilogues)
    func.addPass(createAnvilFuseMatmulEpilogue());
  func.addPass(createAnvilPlanMemory());
  AnvilPackWeightsOptions options;
  options.target = target.str();
  pm.addPass(createAnvilPackWeights(options));
}

void registerPipelines() {
  PassPipelineRegistration<>(
      "anvil-kernel-pipeline",
      "What anvilc runs after the graph pipeline for --target=cpu: lower to "
      "a planned kernel program",
      [](OpPassManager &pm) { buildKernelPipeline(pm, 2, "cpu"); });
  for (unsigned level = 0; level <= kMaxOptLevel; ++level) {
    std::string name = "anvil-pipeline-O" + std::to_string(level);
    std::string help =
        "The graph pipeline anvilc runs at -O" + std::to_string(level);
    PassPipelineRegistration<>(
        name, help, [level](OpPassManager &pm) { buildPipeline(pm, level); });
  }
}

} // namespace anvil
