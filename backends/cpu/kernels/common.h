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

#include "FloatMath.h"
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

/// The grain, in rows, of a parallel loop over rows of `row_size` values
/// each costing a few operations (a norm, a quantization, a KV write):
/// chunks of at least kRowChunkValues values. A decode step's 16 rows of
/// 1024 then split over two threads, where a grain of 16 rows ran them on
/// one while the other waited (5-10% of a batch-16 step on two threads).
constexpr int64_t kRowChunkValues = 8192;
inline int64_t rows_grain(int64_t row_size) {
  return row_size >= kRowChunkValues
             ? 1
             : kRowChunkValues / (row_size > 0 ? row_size : 1);
}

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

/// The bounds of a clamp, out = min_nan(max_nan(x, lo), hi) (the Relu
/// of anvil's lowering is lo 0, hi +inf; Clip's its min and max): with
/// bounds that are not NaN, x when x is NaN, lo when x <= lo (so Relu(-0)
/// is +0), hi when the result >= hi, else x.
struct ClampBounds {
  float lo, hi;
};
/// One float clamped as ClampBounds says (the bits max_nan and min_nan
/// give with those bounds).
inline float clamp_nan(float x, ClampBounds b) {
  const float t = x <= b.lo ? b.lo : x;
  return t >= b.hi ? b.hi : t;
}

/// An epilogue that only clamps the output in place (the generated code's
/// Relu or Clip after a convolution, anvil-fuse-matmul-epilogue): a
/// kernel that knows it (clamp_of) applies the bounds to its sums in
/// registers as it stores them and skips the call; any other calls it as
/// the loop it is. `loop` is that epilogue's elementwise loop, the same
/// bits.
template <class F> struct ClampEpilogue {
  ClampBounds bounds;
  F loop;
  void operator()(int64_t i0, int64_t i1, int64_t n0, int64_t n1) const {
    loop(i0, i1, n0, n1);
  }
};
template <class F>
ClampEpilogue<F> clamp_epilogue(float lo, float hi, const F &loop) {
  return {{lo, hi}, loop};
}
template <class E> struct is_clamp_epilogue : std::false_type {};
template <class F>
struct is_clamp_epilogue<ClampEpilogue<F>> : std::true_type {};

/// An epilogue behind a function pointer: a kernel that many launches of
/// one model fuse (a CNN's convolutions, each with its own epilogue
/// lambda type) is then compiled once for all of them, not once per
/// launch. One indirect call per finished block costs nothing next to the
/// block's work. The callable must outlive the reference.
struct EpilogueRef {
  const void *callable;
  void (*call)(const void *, int64_t, int64_t, int64_t, int64_t);
  /// The bounds of a ClampEpilogue's clamp; null for any other epilogue.
  const ClampBounds *clamp = nullptr;
  template <class E>
  explicit EpilogueRef(const E &e)
      : callable(&e),
        call([](const void *c, int64_t i0, int64_t i1, int64_t n0, int64_t n1) {
          (*static_cast<const E *>(c))(i0, i1, n0, n1);
        }) {
    if constexpr (is_clamp_epilogue<E>::value)
      clamp = &e.bounds;
  }
  void operator()(int64_t i0, int64_t i1, int64_t n0, int64_t n1) const {
    call(callable, i0, i1, n0, n1);
  }
};

/// The clamp an epilogue is (ClampEpilogue, or an EpilogueRef to one), or
/// null: a kernel that applies it to its stores must not call `epi` too.
template <class E> const ClampBounds *clamp_of(const E &epi) {
  if constexpr (std::is_same<E, EpilogueRef>::value)
    return epi.clamp;
  else if constexpr (is_clamp_epilogue<E>::value)
    return &epi.bounds;
  else
    return nullptr;
}

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

/// The row stride, in elements, to copy the rows of a small batch to before
/// a register tile broadcasts from many of them at once: the row length
/// rounded up to 1024, plus 16, so that (4-byte elements) each row starts
/// 64 bytes further into the 4 KiB cycle of L1 sets than the one before.
/// Rows 4 KiB apart, as in place when the row length is a multiple of 1024
/// (most decoders' hidden size), all map to one set of the 8-way L1 (Zen
/// 4's 32 KiB), and a tile's 12 or 16 rows evict each other's lines every
/// k: int8 weights, float rows, k x n = 1024 x 2816, 16 rows, one thread,
/// AMD EPYC (Zen 4): 55 GFLOP/s in place, 106 at this stride.
constexpr int64_t padded_row_stride(int64_t k) {
  return (k + 1023) / 1024 * 1024 + 16;
}

/// dst row i (ldx floats apart) = src row i of [m, k], for i < m.
inline void copy_rows(float *dst, int64_t ldx, const float *src, int64_t m,
                      int64_t k) {
  for (int64_t i = 0; i < m; ++i)
    std::memcpy(dst + i * ldx, src + i * k, sizeof(float) * size_t(k));
}

/// The m rows of lhs [m, k] copied padded_row_stride(k) floats apart, into
/// thread 0's scratch memory (or a heap block `own` keeps), or null (after
/// fail()) when out of memory. Call it outside a parallel loop, and ask
/// for no scratch memory on thread 0 while the copy is read: the calling
/// thread is thread 0 there, and its next scratch call may move the block.
inline const float *copy_rows_padded(const anvil_host_api *host,
                                     const float *lhs, int64_t m, int64_t k,
                                     std::unique_ptr<float[]> &own) {
  const int64_t ldx = padded_row_stride(k);
  float *copy = scratch_or_own<float>(host, 0, size_t(m * ldx), own);
  if (!copy) {
    fail(host, "out of memory for a padded copy of a small batch's rows");
    return nullptr;
  }
  copy_rows(copy, ldx, lhs, m, k);
  return copy;
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

/// max and min that return NaN when either operand is NaN (ONNX Max/Min);
/// on ties b. Where b is a constant that is not NaN once inlined (Relu's
/// 0, Clip's bounds in a generated elementwise loop), the same values as
/// one select on an unordered compare: a when a > b or a is NaN, else b.
/// For a clamp (two calls) g++ 12 if-converted the general form's tests
/// into mask logic that went through general registers, 22 instructions
/// per 16 floats; the constant form takes 6 (4 compares, 2 blends), and
/// MobileNetV2's ReLU6 epilogues went from 10.6% to 6.9% of its time.
template <class T> inline T max_nan(T a, T b) {
  if (__builtin_constant_p(b == b) && b == b)
    return !(a <= b) ? a : b;
  if (a != a)
    return a;
  if (b != b)
    return b;
  return a > b ? a : b;
}
/// max_nan(m, v) for floats as one select, with no branches, so that a
/// loop of it vectorizes: m when it is NaN or larger, else v (a NaN v
/// wins; on ties v, as max_nan gives).
inline float max_select(float m, float v) { return m > v || m != m ? m : v; }
template <class T> inline T min_nan(T a, T b) {
  if (__builtin_constant_p(b == b) && b == b) // as in max_nan
    return !(a >= b) ? a : b;
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
  constexpr To fallback =
      std::is_signed<To>::value ? std::numeric_limits<To>::min() : To(0);
  if constexpr (std::is_floating_point<From>::value && sizeof(To) <= 2) {
    // 8- and 16-bit results: v clamped into int32's range in its own type
    // (NaN to the minimum), truncated to int32, then range-checked as an
    // integer. The same results as the general form below, as float and
    // int32 selects the loop vectorizer takes: its compares in long double
    // (or any type wider than the result's lanes) kept every quantizing
    // elementwise loop scalar.
    const From lo = From(-2147483648.0);
    const From hi = std::is_same<From, float>::value ? From(2147483520.0f)
                                                     : From(2147483647.0);
    From c = v > lo ? v : lo;
    c = c < hi ? c : hi;
    const int32_t i = static_cast<int32_t>(c);
    return i >= int32_t(std::numeric_limits<To>::min()) &&
                   i <= int32_t(std::numeric_limits<To>::max())
               ? static_cast<To>(i)
               : fallback;
  } else {
    const long double lo =
        static_cast<long double>(std::numeric_limits<To>::min());
    const long double hi =
        static_cast<long double>(std::numeric_limits<To>::max()) + 1.0L;
    if (!(static_cast<long double>(v) > lo - 1.0L &&
          static_cast<long double>(v) < hi))
      return fallback;
    return static_cast<To>(v);
  }
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
