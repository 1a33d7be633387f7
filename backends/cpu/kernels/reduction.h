// reduction.h - reductions, arg-reductions and cumulative sums along one
// run of dims (`size` elements, `inner` apart, `outer` times).
#ifndef ANVIL_CPU_KERNELS_REDUCTION_H
#define ANVIL_CPU_KERNELS_REDUCTION_H

#include "common.h"

namespace anvil {
namespace cpu {

/// a * b + c with one rounding for floats (std::fma), wrapping for integers.
inline double multiply_add(double a, double b, double c) {
  return std::fma(a, b, c);
}
inline int64_t multiply_add(int64_t a, int64_t b, int64_t c) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) *
                                  static_cast<uint64_t>(b) +
                              static_cast<uint64_t>(c));
}

template <class T>
int reduce(const anvil_host_api *host, const ReduceParams &p, const T *in,
           T *out) {
  enum { Sum, Mean, Max, Min, Prod, L1, L2, SumSquare, LogSumExp } kind;
  const char *k = p.kind;
  if (!std::strcmp(k, "sum"))
    kind = Sum;
  else if (!std::strcmp(k, "mean"))
    kind = Mean;
  else if (!std::strcmp(k, "max"))
    kind = Max;
  else if (!std::strcmp(k, "min"))
    kind = Min;
  else if (!std::strcmp(k, "prod"))
    kind = Prod;
  else if (!std::strcmp(k, "l1"))
    kind = L1;
  else if (!std::strcmp(k, "l2"))
    kind = L2;
  else if (!std::strcmp(k, "sum_square"))
    kind = SumSquare;
  else if (!std::strcmp(k, "log_sum_exp"))
    kind = LogSumExp;
  else
    return fail(host, "reduce: unknown reduction kind");
  // One long row's max or min (a whole tensor's, as DynamicQuantizeLinear
  // takes on every call): kChunks pieces of it over the threads, their
  // results folded in order with the same max_nan / min_nan. The fold
  // gives the first NaN, else the extreme value's last occurrence,
  // whatever the grouping, so the result is the sequential loop's.
  constexpr int64_t kChunks = 16;
  if ((kind == Max || kind == Min) && p.outer * p.inner == 1 &&
      p.size >= 16 * 4096) {
    T partial[kChunks];
    parallel_for(host, kChunks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        const int64_t s0 = p.size * c / kChunks,
                      s1 = p.size * (c + 1) / kChunks;
        T best = in[s0 * p.inner];
        for (int64_t s = s0 + 1; s < s1; ++s)
          best = kind == Max ? max_nan(best, in[s * p.inner])
                             : min_nan(best, in[s * p.inner]);
        partial[c] = best;
      }
    });
    T best = partial[0];
    for (int64_t c = 1; c < kChunks; ++c)
      best =
          kind == Max ? max_nan(best, partial[c]) : min_nan(best, partial[c]);
    out[0] = best;
    return 0;
  }
  // Integers accumulate exactly in 64 bits, floats in double.
  using Acc =
      typename std::conditional<is_float_like<T>::value, double, int64_t>::type;
  parallel_for(host, p.outer * p.inner, 64, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      int64_t base = (r / p.inner) * p.size * p.inner + r % p.inner;
      auto at = [&](int64_t s) { return in[base + s * p.inner]; };
      double result;
      if (kind == Max || kind == Min) {
        if (p.size == 0) {
          result = kind == Max ? -std::numeric_limits<double>::infinity()
                               : std::numeric_limits<double>::infinity();
          out[r] = is_float_like<T>::value
                       ? static_cast<T>(result)
                       : (kind == Max ? std::numeric_limits<T>::lowest()
                                      : std::numeric_limits<T>::max());
          continue;
        }
        T best = at(0);
        for (int64_t s = 1; s < p.size; ++s)
          best = kind == Max ? max_nan(best, at(s)) : min_nan(best, at(s));
        out[r] = best;
        continue;
      }
      if (kind == LogSumExp) {
        double maxv = -std::numeric_limits<double>::infinity();
        for (int64_t s = 0; s < p.size; ++s)
          maxv = max_nan<double>(maxv, at(s));
        double sum = 0;
        for (int64_t s = 0; s < p.size; ++s)
          sum += std::exp(double(at(s)) - maxv);
        // An infinite maximum is the result (exp(inf - inf) would be NaN;
        // all -inf gives -inf, as an empty set does).
        out[r] = static_cast<T>(std::isinf(maxv) ? maxv : maxv + std::log(sum));
        continue;
      }
      Acc acc = kind == Prod ? Acc(1) : Acc(0);
      for (int64_t s = 0; s < p.size; ++s) {
        Acc v = static_cast<Acc>(at(s));
        switch (kind) {
        case Prod:
          acc *= v;
          break;
        case L1:
          acc += v < 0 ? -v : v;
          break;
        case L2:
        case SumSquare:
          // One rounding, written out: the compiler may contract
          // acc + v * v into an FMA or not (-ffp-contract), and the
          // constant folder must compute the same value.
          acc = multiply_add(v, v, acc);
          break;
        default:
          acc += v;
          break;
        }
      }
      if (kind == Mean)
        out[r] =
            static_cast<T>(p.size ? double(acc) / double(p.size)
                                  : std::numeric_limits<double>::quiet_NaN());
      else if (kind == L2)
        out[r] = static_cast<T>(std::sqrt(double(acc)));
      else
        out[r] = static_cast<T>(acc);
    }
  });
  return 0;
}

template <class T>
int arg_reduce(const anvil_host_api *host, const ArgReduceParams &p,
               const T *in, int64_t *out) {
  const bool isMax = std::strcmp(p.kind, "max") == 0;
  parallel_for(host, p.outer * p.inner, 64, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      int64_t base = (r / p.inner) * p.size * p.inner + r % p.inner;
      int64_t best = 0;
      for (int64_t s = 1; s < p.size; ++s) {
        T v = in[base + s * p.inner], b = in[base + best * p.inner];
        bool better = isMax ? v > b : v < b;
        if (better || (p.select_last_index && v == b))
          best = s;
      }
      out[r] = best;
    }
  });
  return 0;
}

template <class T>
int cumsum(const anvil_host_api *, const CumsumParams &p, const T *in, T *out) {
  for (int64_t r = 0; r < p.outer * p.inner; ++r) {
    int64_t base = (r / p.inner) * p.size * p.inner + r % p.inner;
    T acc = 0;
    for (int64_t t = 0; t < p.size; ++t) {
      int64_t s = p.reverse ? p.size - 1 - t : t;
      T v = in[base + s * p.inner];
      if (p.exclusive) {
        out[base + s * p.inner] = acc;
        acc += v;
      } else {
        acc += v;
        out[base + s * p.inner] = acc;
      }
    }
  }
  return 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_REDUCTION_H
