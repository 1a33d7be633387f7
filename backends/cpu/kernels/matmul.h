// matmul.h - batched matrix products.
#ifndef ANVIL_CPU_KERNELS_MATMUL_H
#define ANVIL_CPU_KERNELS_MATMUL_H

#include "common.h"

#include <vector>

namespace anvil {
namespace cpu {

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
  parallel_for(host, batches * m, 4, [&](int64_t begin, int64_t end) {
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
      using Acc = accumulator_t<C>;
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
      } else { // 16-bit floats: a float row, rounded once
        std::vector<Acc> row(n, Acc(0));
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
  return 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_MATMUL_H
