//===- FloatMath.h - exp, erf and tanh of float as the cpu target computes
//-===//
//
// The vectorizable float32 exp_f32, erf_f32 and tanh_f32 that generated
// elementwise loops call for f32 math.exp, math.erf and math.tanh
// (backends/common/CScalarPrinter.cpp), and that the constant folder
// evaluates for the same ops (dialects/Anvil/ElementwiseFolding.cpp), so a
// folded constant has the bits the kernel would compute (docs/folding.md;
// test/Conformance/fold_kernel_diff.py checks). Plain C++ and <cmath>
// only: it is embedded into anvilc with the kernel headers
// (backends/cpu/codegen/CMakeLists.txt) and compiled into the compiler.
// Neither side contracts these into FMA: the generated code turns
// contraction off after the kernel headers, where the loops that inline
// these are, and the compiler is built for a baseline x86-64 without FMA.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_KERNEL_FLOATMATH_H
#define ANVIL_KERNEL_FLOATMATH_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace anvil {
namespace cpu {

/// e^x for a float, written so that a loop of it vectorizes (generated
/// elementwise loops run under `#pragma omp simd`): branch-free selects and
/// plain float arithmetic, no FMA (the artifact may target x86-64-v2) and
/// no contraction (ISO C++ mode), so a vector lane and the scalar code give
/// the same bits. Cephes' expf (S. Moshier): x = n ln2 + r with n =
/// round(x / ln2) and ln2 in two parts, a degree-6 polynomial for e^r, and
/// 2^n as two normal factors, so the product rounds once into the
/// subnormals. Within 1 ulp of e^x rounded from double over [-87.3, 88.7]
/// (every float there checked; 99.2% equal), which ExpTest.cpp samples;
/// +inf above about 88.72, 0 below about -103.97, NaN stays NaN. libm's expf,
/// which GCC calls once per element, took 5% of a 250M decoder's prefill
/// (SiLU).
inline float exp_f32(float x) {
  const bool nan = x != x;
  // [-104, 89] holds every x whose result is neither 0 nor +inf; there
  // n is in [-150, 128], and n / 2 and n - n / 2 are normal exponents.
  float xc = nan ? 0.0f : x;
  xc = xc < -104.0f ? -104.0f : xc;
  xc = xc > 89.0f ? 89.0f : xc;
  // Round to nearest even by adding and subtracting 1.5 * 2^23.
  const float shifter = 12582912.0f;
  const float n = (xc * 1.44269504088896341f + shifter) - shifter;
  float r = xc - n * 0.693359375f; // exact: ln2's high part has 9 bits
  r = r - n * -2.12194440e-4f;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * (r * r) + r + 1.0f;
  const int32_t ni = static_cast<int32_t>(n);
  const int32_t high = ni >> 1, low = ni - high;
  const uint32_t highBits = static_cast<uint32_t>(high + 127) << 23;
  const uint32_t lowBits = static_cast<uint32_t>(low + 127) << 23;
  float highScale, lowScale;
  std::memcpy(&highScale, &highBits, sizeof highScale);
  std::memcpy(&lowScale, &lowBits, sizeof lowScale);
  const float result = y * highScale * lowScale;
  return nan ? x : result;
}

/// erf(x) for a float, written to vectorize as exp_f32 is (branch-free
/// selects, plain float arithmetic, no FMA). |x| < 1: x P(x^2), P of
/// degree 6; 1 <= |x| < 4: 1 - e^(-x^2) H(1/|x|), H of degree 10 (e^(-x^2)
/// by exp_f32), the sign of x; beyond: +-1 (erf rounds to 1 from 3.92 on).
/// The coefficients are least-squares fits of erf(x)/x and erfc(x) e^(x^2)
/// rounded to float (relative errors 7e-8 and 1.5e-7 with the rounded
/// coefficients, in exact arithmetic). Within 3 ulp of erf(x) rounded from
/// double, 0.5% of floats more than 1 (every third float of [-12, 12]
/// measured, the worst near |x| = 0.47 and 1; 2 ulp where the compiler
/// contracts into FMA; ExpTest.cpp checks every 97th float and the split
/// points); NaN stays NaN. libm's
/// erff, which GCC calls once per element, took 6% of a BERT-base encoder
/// (exact GELU).
inline float erf_f32(float x) {
  const bool nan = x != x;
  const float a = std::fabs(x);
  // |x| < 1
  const float u = x * x;
  float p = 7.970350998220965e-05f;
  p = p * u + -8.043185225687921e-04f;
  p = p * u + 5.191814154386520e-03f;
  p = p * u + -2.685550041496754e-02f;
  p = p * u + 1.128362193703651e-01f;
  p = p * u + -3.761262893676758e-01f;
  p = p * u + 1.128379106521606e+00f;
  const float small = x * p;
  // 1 <= |x| < 4 (a clamped into the range, so no lane overflows; at 4
  // the result rounds to 1, so no select for |x| >= 4)
  const float c = std::min(std::max(a, 1.0f), 4.0f);
  const float t = 1.0f / c;
  float h = -3.994261845946312e-02f;
  h = h * t + 2.746164798736572e-01f;
  h = h * t + -8.357966542243958e-01f;
  h = h * t + 1.460767030715942e+00f;
  h = h * t + -1.558242917060852e+00f;
  h = h * t + 9.206193685531616e-01f;
  h = h * t + -7.804441452026367e-02f;
  h = h * t + -2.827736735343933e-01f;
  h = h * t + 2.596091246232390e-03f;
  h = h * t + 5.637607574462891e-01f;
  h = h * t + 2.418745134491473e-05f;
  const float large = std::copysign(1.0f - exp_f32(-(c * c)) * h, x);
  const float result = a < 1.0f ? small : large;
  return nan ? x : result;
}

/// tanh(x) for a float, vectorizable as exp_f32 is: |x| < 0.625: x P(x^2),
/// P of degree 6 (a least-squares fit of tanh(x)/x, rounded to float);
/// beyond: 1 - 2 / (e^(2|x|) + 1) by exp_f32 (|x| clamped at 10: tanh
/// rounds to 1 from 9.01 on), the sign of x. Within 1 ulp of tanh(x)
/// rounded from double (every third float of [-12, 12] measured; ExpTest.cpp
/// checks every 97th and the split points); NaN stays NaN. libm's tanhf
/// does not vectorize (GELU's tanh form, GPT-2's gelu_new).
inline float tanh_f32(float x) {
  const bool nan = x != x;
  const float a = std::fabs(x);
  const float u = x * x;
  float p = 2.165457233786583e-03f;
  p = p * u + -8.199621923267841e-03f;
  p = p * u + 2.170835994184017e-02f;
  p = p * u + -5.394778400659561e-02f;
  p = p * u + 1.333320885896683e-01f;
  p = p * u + -3.333333134651184e-01f;
  p = p * u + 1.0f;
  const float small = x * p;
  const float c = std::min(a, 10.0f);
  const float large = std::copysign(1.0f - 2.0f / (exp_f32(c + c) + 1.0f), x);
  const float result = a < 0.625f ? small : large;
  return nan ? x : result;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_KERNEL_FLOATMATH_H
