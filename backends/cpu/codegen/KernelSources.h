//===- KernelSources.h - the CPU kernel headers, built into anvilc -*- C++
//-*-===//

#ifndef ANVIL_BACKENDS_CPU_CODEGEN_KERNELSOURCES_H
#define ANVIL_BACKENDS_CPU_CODEGEN_KERNELSOURCES_H

#include <vector>

namespace anvil::backend::cpu {

struct KernelSource {
  const char *path; // relative to the include directory
  const char *text;
};

/// backends/cpu/kernels/*.h, runtime/include/anvil/abi.h and the kernel
/// catalog (dialects/Kernel/KernelParams.h, KernelCatalog.def) as they were
/// when anvilc was built.
const std::vector<KernelSource> &kernelSources();

} // namespace anvil::backend::cpu

#endif // ANVIL_BACKENDS_CPU_CODEGEN_KERNELSOURCES_H
