// matmul.h - batched matrix products.
#ifndef ANVIL_CPU_KERNELS_MATMUL_H
#define ANVIL_CPU_KERNELS_MATMUL_H

#include "common.h"

namespace anvil {
namespace cpu {

/// The accumulator of a product of A and B stored as C (anvil.matmul's
/// table): double if any of them is double, else the accumulator of C
/// (float for floats, int32_t for the i32 result of 8/16-bit integers).
template <class A, class B, class C>
using matmul_accumulator_t =
    typename std::conditional<std::is_same<A, double>::value ||
                                  std::is_same<B, double>::value ||
                                  std::is_same<C, double>::value,
                              double, accumulator_t<C>>::type;

/// out[b] = lhs[b] x rhs[b], row-major. Rows of all batches are spread over
/// the threads; with rhs as [k, n] the innermost loop runs over contiguous
/// output columns and vectorizes.
template <class A, class B, class C>
int matmul(const anvil_host_api *host, const MatmulParams &p, const A *lhs,
           const B *rhs, C *out) {
  int64_t batches = 1;
  for (int64_t d = 0; d < p.batch_rank; ++d)
    batches *= p.batch[d];
  const int64_t m = p.m, n = p.n, k = p.k;
  parallel_for(host, batches * m, 4, [&](int64_t begin, int64_t end, int t) {
    for (int64_t row = begin; row < end; ++row) {
      int64_t b = row / (m ? m : 1), i = row % (m ? m : 1);
      int64_t lOff = 0, rOff = 0, rest = b;
      for (int64_t d = p.batch_rank - 1; d >= 0; --d) {
        int64_t idx = rest % p.batch[d];
        rest /= p.batch[d];
        lOff += idx * p.lhs_batch_strides[d];
        rOff += idx * p.rhs_batch_strides[d];
      }
      const A *a = lhs + lOff + i * k;
      const B *w = rhs + rOff;
      C *o = out + row * n;
      using Acc = matmul_accumulator_t<A, B, C>;
      if (p.transpose_rhs) {
        for (int64_t j = 0; j < n; ++j) {
          Acc acc = 0;
          const B *wj = w + j * k;
          for (int64_t t = 0; t < k; ++t)
            acc += static_cast<Acc>(a[t]) * static_cast<Acc>(wj[t]);
          o[j] = static_cast<C>(acc);
        }
      } else if (std::is_same<Acc, C>::value) {
        for (int64_t j = 0; j < n; ++j)
          o[j] = 0;
        for (int64_t t = 0; t < k; ++t) {
          const C at = static_cast<C>(a[t]);
          const B *wt = w + t * n;
          for (int64_t j = 0; j < n; ++j)
            o[j] += at * static_cast<C>(wt[j]);
        }
      } else { // a wider accumulator row, rounded once
        // Per-thread scratch: no allocation per row on the hot path.
        Acc *row = scratch<Acc>(host, t, n); // t: this thread
        if (!row) {
          fail(host, "matmul: out of scratch memory");
          return;
        }
        for (int64_t j = 0; j < n; ++j)
          row[j] = Acc(0);
        for (int64_t t = 0; t < k; ++t) {
          const Acc at = static_cast<Acc>(a[t]);
          const B *wt = w + t * n;
          for (int64_t j = 0; j < n; ++j)
            row[j] += at * static_cast<Acc>(wt[j]);
        }
        for (int64_t j = 0; j < n; ++j)
          o[j] = static_cast<C>(row[j]);
      }
    }
  });
  return run_failed(host) ? 1 : 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_MATMUL_H
