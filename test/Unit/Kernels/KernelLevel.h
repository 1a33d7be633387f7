//===- KernelLevel.h - skip a kernel test the CPU cannot run --------------===//
//
// The kernel unit tests are built once per x86-64 level (ANVIL_KERNEL_LEVEL,
// -march=x86-64-v2/-v3/-v4). On a CPU below a level (an AVX2-only AMD Zen 3
// runs no x86-64-v4 code) that level's tests must skip with the reason, not
// die of SIGILL: every TEST starts with REQUIRE_LEVEL(), before any code of
// its own runs.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TEST_UNIT_KERNELS_KERNELLEVEL_H
#define ANVIL_TEST_UNIT_KERNELS_KERNELLEVEL_H

#include <gtest/gtest.h>

namespace anvil_test {

/// Whether this CPU has the features of the level this file is built for.
inline bool cpuRunsThisLevel() {
  __builtin_cpu_init();
#if defined(__AVX512VNNI__)
  if (!__builtin_cpu_supports("avx512vnni"))
    return false;
#endif
#if defined(__AVX512BF16__)
  if (!__builtin_cpu_supports("avx512bf16"))
    return false;
#endif
#if defined(__AVX512F__)
  return __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl");
#elif defined(__AVX2__)
  // (Clang 16 knows no "x86-64-v3" string; every CPU with both has the
  // level's other features.)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return true;
#endif
}

} // namespace anvil_test

#define REQUIRE_LEVEL()                                                        \
  if (!anvil_test::cpuRunsThisLevel())                                         \
  GTEST_SKIP() << "this CPU cannot run " ANVIL_KERNEL_LEVEL " code"

#endif // ANVIL_TEST_UNIT_KERNELS_KERNELLEVEL_H
