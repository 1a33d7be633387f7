// common.h - what every Anvil CPU kernel shares: the host API (threads,
// per-thread scratch), failure reasons into the invocation's error buffer,
// status returns and NaN-propagating min/max.
//
// Kernels are header-only templates over their buffers' element types.
// Generated code includes anvil_cpu_kernels.h and calls them with the
// kernel's by-value parameter struct (KernelParams.h, generated from the
// kernel catalog, dialects/Kernel/KernelCatalog.def, and shared by every
// target's kernels). A kernel returns 0, or nonzero after recording why
// with fail() (an index out of range, say); generated code returns that
// status to the runtime, which reports the recorded reason.
#ifndef ANVIL_CPU_KERNELS_COMMON_H
#define ANVIL_CPU_KERNELS_COMMON_H

#include "KernelParams.h"
#include "anvil/abi.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#if defined(__F16C__)
#include <immintrin.h>
#endif

#define ANVIL_TRY(expr)                                                        \
  do {                                                                         \
    if (int anvil_status_ = (expr))                                            \
      return anvil_status_;                                                    \
  } while (0)

namespace anvil {
namespace cpu {

/// Where a run's failure reason goes: the invocation's error buffer. The
/// first reason wins; later ones are dropped.
struct RunErrors {
  char *error;
  size_t error_size;
  std::atomic<bool> failed{false};
};

/// The host API as the entry function hands it to its kernels: a copy of
/// the runtime's table followed by this run's RunErrors. Kernels reach the
/// run through the `host` pointer they already take, from any chunk of a
/// parallel loop, so generated code keeps no thread-local state: a
/// thread_local in a dlopen'ed object is an STB_GNU_UNIQUE symbol that pins
/// the object in memory after the model is released (and LeakSanitizer's
/// scan of dynamic TLS trips over it).
struct RunHost {
  anvil_host_api api;
  RunErrors *errors;
};

/// One per entry call: host() is the host pointer the kernels get.
class RunScope {
public:
  RunScope(const anvil_host_api *host, const anvil_invocation *invocation)
      : errors{invocation ? invocation->error : nullptr,
               invocation ? invocation->error_size : 0} {
    std::memset(&run_host.api, 0, sizeof(run_host.api));
    if (host)
      std::memcpy(&run_host.api, host,
                  host->struct_size < sizeof(run_host.api)
                      ? host->struct_size
                      : sizeof(run_host.api));
    run_host.api.struct_size = sizeof(run_host.api);
    run_host.errors = &errors;
  }
  RunScope(const RunScope &) = delete;
  RunScope &operator=(const RunScope &) = delete;
  const anvil_host_api *host() const { return &run_host.api; }

private:
  RunErrors errors;
  RunHost run_host;
};

namespace detail {
/// The run of a host pointer the entry's RunScope made.
inline RunErrors *errors_of(const anvil_host_api *host) {
  return host ? reinterpret_cast<const RunHost *>(host)->errors : nullptr;
}
} // namespace detail

/// Records why the run fails and returns the status to return (1). Safe to
/// call from any chunk of a parallel loop. `host` is the one the entry
/// function passed the kernel (RunScope::host()).
inline int fail(const anvil_host_api *host, const char *message) {
  RunErrors *run = detail::errors_of(host);
  if (run && run->error && run->error_size &&
      !run->failed.exchange(true, std::memory_order_acq_rel)) {
    size_t n = std::strlen(message);
    if (n >= run->error_size)
      n = run->error_size - 1;
    std::memcpy(run->error, message, n);
    run->error[n] = '\0';
  }
  return 1;
}

/// Whether a chunk of this run has failed (kernels check this after a
/// parallel loop whose chunks can fail).
inline bool run_failed(const anvil_host_api *host) {
  RunErrors *run = detail::errors_of(host);
  return run && run->failed.load(std::memory_order_acquire);
}

namespace detail {
/// Calls body(begin, end, thread) or body(begin, end), whichever it takes.
template <class Body>
void call_chunk(Body &body, int64_t begin, int64_t end, int thread) {
  if constexpr (std::is_invocable<Body &, int64_t, int64_t, int>::value)
    body(begin, end, thread);
  else
    body(begin, end);
}

template <class Body> struct ChunkTask {
  Body *body;
  static void run_chunk(void *arg, int64_t begin, int64_t end, int thread) {
    call_chunk(*static_cast<ChunkTask *>(arg)->body, begin, end, thread);
  }
};
} // namespace detail

/// Runs body(begin, end[, thread]) over [0, n) on the runtime's threads in
/// chunks of at least `grain` iterations; `thread` (in [0,
/// host->num_threads)) indexes per-thread state such as scratch().
template <class Body>
void parallel_for(const anvil_host_api *host, int64_t n, int64_t grain,
                  Body &&body) {
  if (n <= 0)
    return;
  using BodyType = typename std::remove_reference<Body>::type;
  if (!host || !host->parallel_for) {
    detail::call_chunk(body, int64_t(0), n, 0);
    return;
  }
  detail::ChunkTask<BodyType> task{&body};
  host->parallel_for(host->host, n, grain,
                     &detail::ChunkTask<BodyType>::run_chunk, &task);
}

/// A matmul's epilogue (anvil-fuse-matmul-epilogue): the generated code
/// passes a callable epi(i0, i1, n0, n1) that a matmul kernel calls on each
/// block of its output it has finished, rows [i0, i1) x columns [n0, n1) of
/// the [m, n] result (float, row-major), while the block is still in cache;
/// it rewrites those elements in place (a bias, an activation, a residual
/// add: a fused elementwise loop). Blocks never overlap and cover the
/// output once; the calls come from any thread. NoEpilogue is an unfused
/// launch's.
struct NoEpilogue {
  static constexpr bool kNone = true;
  void operator()(int64_t, int64_t, int64_t, int64_t) const {}
};
/// Whether E is NoEpilogue (kernels skip the calls entirely).
template <class E> constexpr bool is_no_epilogue() {
  return std::is_same<typename std::decay<E>::type, NoEpilogue>::value;
}

/// An epilogue behind a function pointer: a kernel that many launches of
/// one model fuse (a CNN's convolutions, each with its own epilogue
/// lambda type) is then compiled once for all of them, not once per
/// launch. One indirect call per finished block costs nothing next to the
/// block's work. The callable must outlive the reference.
struct EpilogueRef {
  const void *callable;
  void (*call)(const void *, int64_t, int64_t, int64_t, int64_t);
  template <class E>
  explicit EpilogueRef(const E &e)
      : callable(&e),
        call([](const void *c, int64_t i0, int64_t i1, int64_t n0, int64_t n1) {
          (*static_cast<const E *>(c))(i0, i1, n0, n1);
        }) {}
  void operator()(int64_t i0, int64_t i1, int64_t n0, int64_t n1) const {
    call(callable, i0, i1, n0, n1);
  }
};

/// `count` elements of T in thread `thread`'s scratch memory (valid until
/// that thread's next scratch call), or null when out of memory.
template <class T>
T *scratch(const anvil_host_api *host, int thread, size_t count) {
  if (!host || !host->scratch)
    return nullptr;
  return static_cast<T *>(host->scratch(host->host, thread, count * sizeof(T)));
}

/// scratch(), or, where the host has no scratch memory (the kernel unit
/// tests call kernels without a runtime), a heap block `own` keeps; null
/// when out of memory.
template <class T>
T *scratch_or_own(const anvil_host_api *host, int thread, size_t count,
                  std::unique_ptr<T[]> &own) {
  if (T *memory = scratch<T>(host, thread, count))
    return memory;
  own.reset(new (std::nothrow) T[count]);
  return own.get();
}

/// 16-bit floats as storage types: arithmetic happens in float (each op's
/// result rounds back to 16 bits, as ONNX's float16 ops do), conversions
/// round to nearest even.
struct f16 {
  uint16_t bits;
  f16() = default;
  f16(float value) : bits(fromFloat(value)) {}
  operator float() const { return toFloat(bits); }
  f16 &operator+=(float v) { return *this = f16(float(*this) + v); }
  f16 &operator-=(float v) { return *this = f16(float(*this) - v); }
  f16 &operator*=(float v) { return *this = f16(float(*this) * v); }
  f16 &operator/=(float v) { return *this = f16(float(*this) / v); }

  /// F16C's vcvtph2ps / vcvtps2ph where the -march has them (x86-64-v3
  /// and up: one instruction each, the same values: rounding to nearest
  /// even, NaN stays NaN), else the portable bit manipulation below.
  static float toFloat(uint16_t h) {
#if defined(__F16C__)
    return _cvtsh_ss(h);
#else
    return toFloatPortable(h);
#endif
  }
  static uint16_t fromFloat(float f) {
#if defined(__F16C__)
    return uint16_t(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
#else
    return fromFloatPortable(f);
#endif
  }
  static float toFloatPortable(uint16_t h) {
    uint32_t sign = uint32_t(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    uint32_t bits;
    if (exponent == 0x1f) {
      bits = sign | 0x7f800000 | (mantissa << 13);
    } else if (exponent == 0) {
      float magnitude = std::ldexp(float(mantissa), -24);
      return sign ? -magnitude : magnitude;
    } else {
      bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  static uint16_t fromFloatPortable(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    uint16_t sign = uint16_t((x >> 16) & 0x8000);
    uint32_t magnitude = x & 0x7fffffff;
    if (magnitude > 0x7f800000) // NaN stays NaN
      return uint16_t(sign | 0x7e00);
    if (magnitude >= 0x477ff000) // rounds to infinity
      return uint16_t(sign | 0x7c00);
    if (magnitude < 0x38800000) { // subnormal or zero in half
      float a;
      std::memcpy(&a, &magnitude, 4);
      return uint16_t(sign | uint16_t(std::nearbyint(a * 16777216.0f)));
    }
    uint32_t rounded = magnitude + 0xfff + ((magnitude >> 13) & 1);
    return uint16_t(sign | ((rounded - 0x38000000) >> 13));
  }
};

struct bf16 {
  uint16_t bits;
  bf16() = default;
  bf16(float value) : bits(fromFloat(value)) {}
  operator float() const {
    uint32_t x = uint32_t(bits) << 16;
    float f;
    std::memcpy(&f, &x, 4);
    return f;
  }
  bf16 &operator+=(float v) { return *this = bf16(float(*this) + v); }
  bf16 &operator-=(float v) { return *this = bf16(float(*this) - v); }
  bf16 &operator*=(float v) { return *this = bf16(float(*this) * v); }
  bf16 &operator/=(float v) { return *this = bf16(float(*this) / v); }

  static uint16_t fromFloat(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    if ((x & 0x7fffffff) > 0x7f800000)
      return uint16_t((x >> 16) | 0x40);
    return uint16_t((x + 0x7fff + ((x >> 16) & 1)) >> 16);
  }
};

/// float, double and the 16-bit float storage types.
template <class T>
struct is_float_like
    : std::integral_constant<bool, std::is_floating_point<T>::value ||
                                       std::is_same<T, f16>::value ||
                                       std::is_same<T, bf16>::value> {};

/// The type a sum of T accumulates in: float for the 16-bit float types
/// (rounded once, when stored), int32_t for integers narrower than 32 bits
/// (products of 8-bit values would overflow 8 or 16 bits at once), T itself
/// otherwise.
template <class T>
using accumulator_t = typename std::conditional<
    std::is_same<T, f16>::value || std::is_same<T, bf16>::value, float,
    typename std::conditional<std::is_integral<T>::value &&
                                  !std::is_same<T, bool>::value &&
                                  (sizeof(T) < 4),
                              int32_t, T>::type>::type;

/// The outputs o in [0, n) whose tap o * stride + off lies in [0, size),
/// as [first, second) (empty when none does): a convolution or pooling
/// window's valid outputs along one dim.
inline std::pair<int64_t, int64_t> tap_range(int64_t size, int64_t stride,
                                             int64_t off, int64_t n) {
  const int64_t lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  const int64_t hi = size - 1 - off >= 0 ? (size - 1 - off) / stride + 1 : 0;
  const int64_t first = std::min(lo, n);
  return {first, std::clamp(hi, first, n)};
}

/// max and min that return NaN when either operand is NaN (ONNX Max/Min).
template <class T> inline T max_nan(T a, T b) {
  if (a != a)
    return a;
  if (b != b)
    return b;
  return a > b ? a : b;
}
template <class T> inline T min_nan(T a, T b) {
  if (a != a)
    return a;
  if (b != b)
    return b;
  return a < b ? a : b;
}

/// Integer division and remainder that cannot trap: x / 0 is 0, and
/// INT_MIN / -1 wraps.
template <class T> inline T div_int(T a, T b) {
  if (b == 0)
    return 0;
  if (std::is_signed<T>::value && b == T(-1)) { // INT_MIN / -1 is INT_MIN
    using U = typename std::conditional<std::is_signed<T>::value,
                                        std::make_unsigned<T>,
                                        std::common_type<T>>::type::type;
    return static_cast<T>(U(0) - static_cast<U>(a));
  }
  return a / b;
}
template <class T> inline T rem_int(T a, T b) {
  if (b == 0 || (std::is_signed<T>::value && b == T(-1)))
    return 0;
  return a % b;
}

/// a ** e for integers (math.ipowi, signed): exact modulo 2^width, by
/// squaring; a negative exponent gives 1 / a^-e truncated: 1 for a == 1,
/// +-1 for a == -1, 0 otherwise (0 ** -e included: x / 0 is 0).
template <class T> inline T ipow_int(T a, T e) {
  using U = typename std::make_unsigned<T>::type;
  if (e < 0)
    return a == T(1) ? T(1) : a == T(-1) ? ((e & 1) ? T(-1) : T(1)) : T(0);
  U result = 1, base = static_cast<U>(a);
  for (U n = static_cast<U>(e); n; n >>= 1) {
    if (n & 1)
      result = static_cast<U>(result * base);
    base = static_cast<U>(base * base);
  }
  return static_cast<T>(result);
}

/// Float to integer without undefined behaviour: out of range (or NaN)
/// gives what x86 gives for signed types (the minimum), 0 for unsigned.
template <class To, class From> inline To float_to_int(From v) {
  const long double lo =
      static_cast<long double>(std::numeric_limits<To>::min());
  const long double hi =
      static_cast<long double>(std::numeric_limits<To>::max()) + 1.0L;
  if (!(static_cast<long double>(v) > lo - 1.0L &&
        static_cast<long double>(v) < hi))
    return std::is_signed<To>::value ? std::numeric_limits<To>::min() : To(0);
  return static_cast<To>(v);
}

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
/// (relative errors 4e-9 and 1e-8 in exact arithmetic), rounded to float.
/// Within 3 ulp of erf(x) rounded from double, 0.5% of floats more than 1
/// (every third float of [-12, 12] measured, the worst near |x| = 1;
/// ExpTest.cpp checks every 97th and the split points); NaN stays NaN. libm's
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

/// Normalizes a possibly negative index into [0, size); false if outside.
inline bool normalize_index(int64_t &index, int64_t size) {
  if (index < 0)
    index += size;
  return index >= 0 && index < size;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_COMMON_H
