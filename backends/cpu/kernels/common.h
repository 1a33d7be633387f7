// common.h - what every Anvil CPU kernel shares: the host API (threads,
// logging), status returns and NaN-propagating min/max.
//
// Kernels are header-only templates over their buffers' element types.
// Generated code includes anvil_cpu_kernels.h and calls them with a
// parameter struct holding the static sizes the compiler computed. A kernel
// returns 0, or nonzero after logging why (an index out of range, say);
// generated code returns that status to the runtime.
#ifndef ANVIL_CPU_KERNELS_COMMON_H
#define ANVIL_CPU_KERNELS_COMMON_H

#include "anvil/abi.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <type_traits>

#define ANVIL_TRY(expr)                                                        \
  do {                                                                         \
    if (int anvil_status_ = (expr))                                            \
      return anvil_status_;                                                    \
  } while (0)

namespace anvil {
namespace cpu {

inline int fail(const anvil_host_api *host, const char *message) {
  if (host && host->log)
    host->log(host->host, message);
  return 1;
}

/// Runs body(begin, end) over [0, n) on the runtime's threads; small ranges
/// (below `grain` iterations) run inline.
template <class Body>
void parallel_for(const anvil_host_api *host, int64_t n, int64_t grain,
                  Body &&body) {
  if (n <= 0)
    return;
  if (!host || !host->parallel_for || n < 2 || n < grain) {
    body(int64_t(0), n);
    return;
  }
  using BodyType = typename std::remove_reference<Body>::type;
  host->parallel_for(
      host->host, n,
      [](void *arg, int64_t begin, int64_t end) {
        (*static_cast<BodyType *>(arg))(begin, end);
      },
      const_cast<void *>(static_cast<const void *>(&body)));
}

template <class T> inline T max_nan(T a, T b) {
  if (std::is_floating_point<T>::value && (a != a || b != b))
    return std::numeric_limits<T>::quiet_NaN();
  return a > b ? a : b;
}
template <class T> inline T min_nan(T a, T b) {
  if (std::is_floating_point<T>::value && (a != a || b != b))
    return std::numeric_limits<T>::quiet_NaN();
  return a < b ? a : b;
}

/// Integer division and remainder that cannot trap: x / 0 is 0, and
/// INT_MIN / -1 wraps.
template <class T> inline T div_int(T a, T b) {
  if (b == 0)
    return 0;
  if (std::is_signed<T>::value && b == T(-1))
    return T(0) - a;
  return a / b;
}
template <class T> inline T rem_int(T a, T b) {
  if (b == 0 || (std::is_signed<T>::value && b == T(-1)))
    return 0;
  return a % b;
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

/// Normalizes a possibly negative index into [0, size); false if outside.
inline bool normalize_index(int64_t &index, int64_t size) {
  if (index < 0)
    index += size;
  return index >= 0 && index < size;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_COMMON_H
