//===- CpuTarget.h - the cpu target -------------------------------*- C++
//-*-===//

#ifndef ANVIL_BACKENDS_CPU_CODEGEN_CPUTARGET_H
#define ANVIL_BACKENDS_CPU_CODEGEN_CPUTARGET_H

#include "compiler/Target/Target.h"

namespace anvil::backend::cpu {

/// Adds the cpu target to compiler/Target's registry; the tools call it
/// from main.
void registerCpuTarget();

const target::Target &cpuTarget();

/// Stores constant matmul weights [K, N] (see WeightPacking.cpp).
mlir::LogicalResult packCpuWeights(mlir::ModuleOp module);

} // namespace anvil::backend::cpu

#endif // ANVIL_BACKENDS_CPU_CODEGEN_CPUTARGET_H
