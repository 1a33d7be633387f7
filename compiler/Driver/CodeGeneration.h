//===- CodeGeneration.h - kernel programs to artifacts -----------*- C++
//-*-===//
//
// The back half of anvilc: lower the optimized anvil module to a kernel
// program, emit and build the target's code, and package the artifact.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_DRIVER_CODEGENERATION_H
#define ANVIL_COMPILER_DRIVER_CODEGENERATION_H

#include "backends/Target.h"
#include "compiler/Driver/Driver.h"

#include <string>

namespace anvil::driver {

/// Runs the kernel pipeline for `target` on `module`.
mlir::LogicalResult lowerToKernelProgram(mlir::ModuleOp module,
                                         const Options &options);

/// The artifact manifest (JSON) for a lowered module.
mlir::FailureOr<std::string>
buildManifest(mlir::ModuleOp module, const Options &options,
              const backend::Target &target,
              const backend::TargetOptions &targetOptions);

/// The weight section: every kernel.weight's bytes at its offset.
mlir::FailureOr<std::string> buildWeightSection(mlir::ModuleOp module);

/// Packages manifest, code and weights into an .anvil file image.
mlir::FailureOr<std::vector<unsigned char>>
buildArtifact(mlir::ModuleOp module, const std::string &targetName,
              const std::string &manifest, const std::string &code,
              const std::string &weights);

} // namespace anvil::driver

#endif // ANVIL_COMPILER_DRIVER_CODEGENERATION_H
