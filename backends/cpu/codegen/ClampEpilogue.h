//===- ClampEpilogue.h - epilogues that only clamp ---------------*- C++
//-*-===//

#ifndef ANVIL_BACKENDS_CPU_CODEGEN_CLAMPEPILOGUE_H
#define ANVIL_BACKENDS_CPU_CODEGEN_CLAMPEPILOGUE_H

#include "dialects/Kernel/KernelOps.h"

#include <optional>
#include <utility>

namespace anvil::backend::cpu {

/// The bounds [lo, hi] (an infinity where the loop has none) when the
/// epilogue loop only clamps an f32 result in place: one input, its
/// output; max(x, lo), then min(., hi), either alone; constant bounds
/// that are not NaN (Relu, Clip). Those are common.h's clamp_nan.
std::optional<std::pair<double, double>>
clampEpilogueBounds(kernel::ElementwiseOp loop);

} // namespace anvil::backend::cpu

#endif // ANVIL_BACKENDS_CPU_CODEGEN_CLAMPEPILOGUE_H
