//===- Pipelines.h - the -O0..-O3 pass pipelines -----------------*- C++
//-*-===//
//
// anvilc builds its pipeline with buildPipeline(); the same pipelines are
// registered as `anvil-pipeline-O<n>` so any anvilc run can be replayed with
// `anvil-opt --anvil-pipeline-O2`.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_PIPELINE_PIPELINES_H
#define ANVIL_COMPILER_PIPELINE_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace anvil {

constexpr unsigned kMaxOptLevel = 3;

/// Appends the graph-level pipeline for `optLevel` (0..3) to `pm`, which runs
/// on a builtin.module.
void buildPipeline(mlir::OpPassManager &pm, unsigned optLevel);

/// Lowering to a planned kernel program for `target`: bufferization,
/// elementwise fusion (from -O1), matmul epilogues (from -O2, unless
/// `fuseEpilogues` is false), memory planning and weight packing.
void buildKernelPipeline(mlir::OpPassManager &pm, unsigned optLevel,
                         llvm::StringRef target, bool fuseEpilogues = true);

/// Registers anvil-pipeline-O0 .. anvil-pipeline-O3 and
/// anvil-kernel-pipeline.
void registerPipelines();

} // namespace anvil

#endif // ANVIL_COMPILER_PIPELINE_PIPELINES_H
