//===- CodeGeneration.h - kernel programs to artifacts -----------*- C++
//-*-===//
//
// The back half of anvilc: lower the optimized anvil module to a kernel
// program, emit and build the target's code, and package the artifact.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_DRIVER_CODEGENERATION_H
#define ANVIL_COMPILER_DRIVER_CODEGENERATION_H

#include "compiler/Driver/Driver.h"
#include "compiler/Target/Target.h"

#include "anvil/artifact.h"

#include "mlir/Support/Timing.h"

#include <deque>
#include <string>

namespace anvil::driver {

/// Runs the kernel pipeline for `target` on `module`, its passes timed
/// under `timing` (--mlir-timing).
mlir::LogicalResult lowerToKernelProgram(mlir::ModuleOp module,
                                         const Options &options,
                                         mlir::TimingScope &timing);

/// The artifact manifest (JSON) for a lowered module.
mlir::FailureOr<std::string>
buildManifest(mlir::ModuleOp module, const Options &options,
              const target::Target &target,
              const target::TargetOptions &targetOptions);

/// The weight section: its size and each weight's bytes at its offset,
/// pointing at the weights where the IR holds them (resource blobs, mapped
/// external data) so large models are not copied; `storage` holds the few
/// that had to be built (splats, booleans).
/// Chunks point into `storage` and into the IR, so the section is filled
/// in place and never copied or moved. A weight with a `layout` is a chunk
/// whose `fill` rearranges those bytes piece by piece as they are written.
struct WeightSection {
  WeightSection() = default;
  WeightSection(const WeightSection &) = delete;
  WeightSection &operator=(const WeightSection &) = delete;

  uint64_t size = 0;
  std::vector<anvil::artifact::SectionChunk> chunks;
  std::deque<std::string> storage;
};
mlir::LogicalResult collectWeights(mlir::ModuleOp module,
                                   WeightSection &section);

/// Streams the .anvil file (manifest, code, weights) to `os`: a code
/// section per code object, named after it. Format version 1 holds one
/// code section, so a target that builds several (host stub plus device
/// binaries) is refused until the format grows. A non-empty `tokenizer`
/// (the tokenizer file's bytes) becomes the optional tokenizer section.
mlir::LogicalResult
writeArtifactFile(mlir::ModuleOp module, const std::string &targetName,
                  const std::string &manifest,
                  const std::vector<target::CodeObject> &code,
                  const WeightSection &weights, const std::string &tokenizer,
                  llvm::raw_fd_ostream &os);

} // namespace anvil::driver

#endif // ANVIL_COMPILER_DRIVER_CODEGENERATION_H
