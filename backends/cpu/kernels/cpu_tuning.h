// cpu_tuning.h - choices between equivalent code paths that measured
// faster on one x86-64 CPU and slower on another, made once when the
// artifact's code is loaded, from CPUID.
//
// Everything here changes speed only, never a result's bits: the paths a
// choice picks between compute the same values in the same order (a
// software prefetch or not, say). Instruction-set choices are not made
// here: those follow the artifact's --mcpu level at compile time (simd.h)
// and the runtime checks them at load time.
#ifndef ANVIL_CPU_KERNELS_CPU_TUNING_H
#define ANVIL_CPU_KERNELS_CPU_TUNING_H

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace anvil {
namespace cpu {
namespace tuning {

/// True when CPUID leaf 0 names the vendor "GenuineIntel" (in EBX, EDX,
/// ECX, as the Intel SDM vol. 2A's CPUID entry orders them); false on
/// other vendors and on machines that are not x86.
inline bool cpu_is_intel() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx))
    return false;
  return ebx == 0x756e6547u /* "Genu" */ && edx == 0x49656e69u /* "ineI" */ &&
         ecx == 0x6c65746eu /* "ntel" */;
#else
  return false;
#endif
}

/// True on AMD's Zen 3 cores (CPUID family 19h, models 00h-0Fh and
/// 20h-5Fh: EPYC 7003 "Milan", Ryzen 5000 and 6000; Zen 4 is family 19h
/// models 10h-1Fh and 60h-7Fh and later, AMD's "Processor Programming
/// Reference" per family); false elsewhere. Family and model are the
/// displayed values of leaf 1 (the extended fields added, as the Intel SDM
/// vol. 2A and AMD's CPUID specification define them).
inline bool cpu_is_amd_zen3() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx))
    return false;
  if (!(ebx == 0x68747541u /* "Auth" */ && edx == 0x69746e65u /* "enti" */ &&
        ecx == 0x444d4163u /* "cAMD" */))
    return false;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
    return false;
  unsigned family = (eax >> 8) & 0xf, model = (eax >> 4) & 0xf;
  if (family == 0xf) {
    family += (eax >> 20) & 0xff;
    model |= ((eax >> 16) & 0xf) << 4;
  }
  return family == 0x19 && (model <= 0x0f || (model >= 0x20 && model <= 0x5f));
#else
  return false;
#endif
}

/// cpu_is_amd_zen3(), once per loaded artifact for every switch below.
/// Internal linkage, initialized when the code is loaded: CPUID can cost
/// thousands of cycles in a virtual machine, so it runs once, and a
/// namespace-scope static needs no guard on every GEMV.
static const bool kIsAmdZen3 = cpu_is_amd_zen3();

/// Whether decode GEMVs over 16-bit (bf16/f16) weights prefetch their
/// panels' lines ahead in software (matmul_panels.h, kHalfGemvPrefetchK).
/// Measured on the 250M decoder with bf16 weights, decode at context 128
/// (bench/ab_artifacts.py, alternated rounds):
///  - Intel Xeon (Emerald Rapids), 2 threads: 55.6-58.2 tok/s without the
///    prefetch, 64.4-67.5 with it;
///  - AMD EPYC (Zen 4), 6 rounds: without it 55.8 tok/s (54.0-58.2) on one
///    thread and 100.9 (90.2-104.7) on two, with it 43.9 (42.8-45.5) and
///    78.4 (61.1-81.3): x0.79 and x0.78, in every round; prefetching 4 KiB
///    ahead instead of 1 KiB measured the same 43.2 (why Zen 4 loses is
///    not measured; its hardware prefetchers may train on the demand
///    misses the prefetches remove);
///  - AMD EPYC (Zen 3, family 19h model 01h), decode at depth 128, four
///    A/Bs: with it x1.034 (faster in 4 of 6 rounds) and x1.062 (4/6) on
///    two threads, x1.063 (4/5) on one, and x1.10 (5/8) on two again;
///    small batches (2 threads) x1.169 (5/5) at 2 sequences, x1.154 (6/6)
///    at 4, and at 8 x0.863 (0/5) then x1.090 (3/5), within the noise
///    (docs/performance.md, session 43).
/// So Intel CPUs and Zen 3 prefetch and other CPUs do not. A CPU no
/// measurement covers gets its vendor's choice: measure it (the A/B above,
/// with an artifact built with ANVIL_CXX or anvilc --cxx set to a
/// compiler wrapper that defines ANVIL_HALF_GEMV_PREFETCH=0 or 1) and add
/// its case here.
#if defined(ANVIL_HALF_GEMV_PREFETCH)
static const bool kHalfGemvPrefetch = ANVIL_HALF_GEMV_PREFETCH != 0;
#else
// Initialized at load, as kIsAmdZen3 is.
static const bool kHalfGemvPrefetch = cpu_is_intel() || kIsAmdZen3;
#endif

/// Whether small batches over f32 weights (2 to kMaxRows rows, one row
/// tile, rows read in place: matmul_panels.h, kF32BatchPrefetchK) prefetch
/// their panels' lines ahead in software. Measured on AMD EPYC (Zen 3,
/// family 19h model 01h): the 250M decoder with f32 weights, decode at
/// depth 128, 2 threads, artifacts with and without (bench/ab_artifacts.py,
/// alternated rounds): 4 sequences x1.314 (faster in 4 of 5 rounds) and,
/// order swapped, x1.437 (5/5); 2 sequences x1.058 (4/5); a decode GEMV (1
/// sequence) lost (x0.78, 1/5), so it is left out. Not measured elsewhere,
/// so only Zen 3 issues it (docs/performance.md, session 43).
#if defined(ANVIL_F32_SMALL_BATCH_PREFETCH)
static const bool kF32SmallBatchPrefetch = ANVIL_F32_SMALL_BATCH_PREFETCH != 0;
#else
static const bool kF32SmallBatchPrefetch = kIsAmdZen3;
#endif

} // namespace tuning
} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_CPU_TUNING_H
