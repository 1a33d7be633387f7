// attention.h - scaled dot-product attention with grouped KV heads (the
// rotary embedding is in rope.h).
#ifndef ANVIL_CPU_KERNELS_ATTENTION_H
#define ANVIL_CPU_KERNELS_ATTENTION_H

#include "common.h"

namespace anvil {
namespace cpu {

/// out[b, h, i] = softmax_j(scale q[b,h,i] . k[b,g,j] + mask) v[b,g,j], with
/// g = h / (q_heads / kv_heads). Scores and the softmax are in double; a row
/// whose every key is masked gives NaN, as the ONNX reference does.
template <class T, class M>
int attention_impl(const anvil_host_api *host, const AttentionParams &p,
                   const T *q, const T *k, const T *v, const M *mask, T *out) {
  const int64_t group = p.q_heads / p.kv_heads;
  const int64_t rows = p.batch * p.q_heads * p.q_len;
  parallel_for(host, rows, 4, [&](int64_t begin, int64_t end, int thread) {
    // Per-thread scratch: no allocation per chunk on the hot path.
    double *scores = scratch<double>(host, thread, p.kv_len + p.value_dim);
    if (!scores) {
      fail(host, "attention: out of scratch memory");
      return;
    }
    double *acc = scores + p.kv_len;
    for (int64_t row = begin; row < end; ++row) {
      int64_t i = row % p.q_len, h = (row / p.q_len) % p.q_heads,
              b = row / (p.q_len * p.q_heads), g = h / group;
      const T *qi = q + row * p.head_dim;
      const T *kb = k + (b * p.kv_heads + g) * p.kv_len * p.head_dim;
      const T *vb = v + (b * p.kv_heads + g) * p.kv_len * p.value_dim;
      double best = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < p.kv_len; ++j) {
        double s = 0;
        for (int64_t d = 0; d < p.head_dim; ++d)
          s += double(qi[d]) * double(kb[j * p.head_dim + d]);
        s *= p.scale;
        if (mask)
          s += double(mask[b * p.mask_strides[0] + h * p.mask_strides[1] +
                           i * p.mask_strides[2] + j * p.mask_strides[3]]);
        if (p.causal && j > p.kv_len - p.q_len + i)
          s = -std::numeric_limits<double>::infinity();
        scores[j] = s;
        best = s > best ? s : best;
      }
      double sum = 0;
      for (int64_t j = 0; j < p.kv_len; ++j) {
        scores[j] = std::exp(scores[j] - best);
        sum += scores[j];
      }
      for (int64_t d = 0; d < p.value_dim; ++d)
        acc[d] = 0;
      for (int64_t j = 0; j < p.kv_len; ++j) {
        double w = scores[j] / sum;
        for (int64_t d = 0; d < p.value_dim; ++d)
          acc[d] += w * double(vb[j * p.value_dim + d]);
      }
      T *o = out + row * p.value_dim;
      for (int64_t d = 0; d < p.value_dim; ++d)
        o[d] = static_cast<T>(acc[d]);
    }
  });
  return run_failed(host) ? 1 : 0;
}

template <class T, class M>
int attention(const anvil_host_api *host, const AttentionParams &p, const T *q,
              const T *k, const T *v, const M *mask, T *out) {
  return attention_impl<T, M>(host, p, q, k, v, mask, out);
}

template <class T>
int attention(const anvil_host_api *host, const AttentionParams &p, const T *q,
              const T *k, const T *v, T *out) {
  return attention_impl<T, T>(host, p, q, k, v, nullptr, out);
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_ATTENTION_H
