//===- CpuTarget.h - the cpu target -------------------------------*- C++
//-*-===//

#ifndef ANVIL_BACKENDS_CPU_CODEGEN_CPUTARGET_H
#define ANVIL_BACKENDS_CPU_CODEGEN_CPUTARGET_H

#include "backends/Target.h"

namespace anvil::backend::cpu {

const Target &cpuTarget();

/// Stores constant matmul weights [K, N] (see WeightPacking.cpp).
mlir::LogicalResult packCpuWeights(mlir::ModuleOp module);

} // namespace anvil::backend::cpu

#endif // ANVIL_BACKENDS_CPU_CODEGEN_CPUTARGET_H
