//===- CpuEmitter.h - kernel programs as C++17 -------------------*- C++
//-*-===//

#ifndef ANVIL_BACKENDS_CPU_CODEGEN_CPUEMITTER_H
#define ANVIL_BACKENDS_CPU_CODEGEN_CPUEMITTER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace anvil::backend::cpu {

struct CpuSourceOptions {
  /// Emit a run of repeated blocks of steps (a model's layers) as one
  /// function called once per block with that block's buffers, instead of
  /// every step inline (anvilc --no-outline turns this off).
  bool outlineRepeats = true;
};

/// Writes one C++17 translation unit for every kernel program (func.func
/// with kernel.num_inputs) in `module`: one function per entry point, the
/// functions it calls (parts of a long program, outlined repeated blocks)
/// and the code table of abi.h. Launches become calls into
/// anvil_cpu_kernels.h; elementwise loops become loop nests. Weights are
/// referenced by offset.
mlir::LogicalResult emitCpuSource(mlir::ModuleOp module,
                                  const CpuSourceOptions &options,
                                  llvm::raw_ostream &os);

} // namespace anvil::backend::cpu

#endif // ANVIL_BACKENDS_CPU_CODEGEN_CPUEMITTER_H
