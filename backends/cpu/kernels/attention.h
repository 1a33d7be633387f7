// attention.h - scaled dot-product attention with grouped KV heads (the
// rotary embedding is in rope.h).
#ifndef ANVIL_CPU_KERNELS_ATTENTION_H
#define ANVIL_CPU_KERNELS_ATTENTION_H

#include "common.h"
#include "matmul.h" // detail::axpy and matmul_dot.h

#include <algorithm>

namespace anvil {
namespace cpu {

namespace detail {
/// The float attention of one query row (see attention below): scores by
/// matmul_dot's tiles (4 keys at a time, each dot product lane-wise over
/// head_dim and reduced by a fixed tree), exponentials by exp_f32, the
/// weighted sum of values in float32 and divided by the sum of the weights
/// (summed in double) once at the end. `scores` holds kv_len floats,
/// `acc` value_dim.
template <class M>
inline void attention_row_f32(const AttentionParams &p, const float *qi,
                              const float *kb, const float *vb, const M *mask,
                              int64_t b, int64_t h, int64_t i, float *scores,
                              float *acc, float *o) {
  if (p.kv_len == 0) { // an empty sum, as the reference gives
    std::fill(o, o + p.value_dim, 0.0f);
    return;
  }
  const float scale = float(p.scale);
  const float inf = std::numeric_limits<float>::infinity();
  int64_t j = 0;
  for (; j + dot::kCols <= p.kv_len; j += dot::kCols)
    dot::tile<1, dot::kCols>(qi, kb + j * p.head_dim, p.head_dim, scores + j,
                             0);
  for (; j < p.kv_len; ++j)
    dot::tile<1, 1>(qi, kb + j * p.head_dim, p.head_dim, scores + j, 0);
  // Keys past the causal diagonal are masked (-inf).
  const int64_t visible =
      p.causal ? std::clamp<int64_t>(p.kv_len - p.q_len + i + 1, 0, p.kv_len)
               : p.kv_len;
  float best = -inf;
  for (j = 0; j < visible; ++j) {
    float s = scores[j] * scale;
    if (mask)
      s += float(mask[b * p.mask_strides[0] + h * p.mask_strides[1] +
                      i * p.mask_strides[2] + j * p.mask_strides[3]]);
    scores[j] = s;
    best = max_nan<float>(best, s);
  }
  if (best == -inf || best == inf || best != best) {
    // Every key masked (0 / 0, as the ONNX reference gives), or a NaN or
    // +inf score: NaN (the double reference's inf - inf).
    for (int64_t d = 0; d < p.value_dim; ++d)
      o[d] = std::numeric_limits<float>::quiet_NaN();
    return;
  }
  double sum = 0;
  for (j = 0; j < visible; ++j) {
    scores[j] = exp_f32(scores[j] - best);
    sum += double(scores[j]);
  }
  std::fill(acc, acc + p.value_dim, 0.0f);
  for (j = 0; j < visible; ++j)
    if (scores[j] != 0.0f)
      axpy<0>(acc, vb + j * p.value_dim, scores[j], p.value_dim);
  const float inverse = float(1.0 / sum); // sum >= 1: the best key's is 1
  for (int64_t d = 0; d < p.value_dim; ++d)
    o[d] = acc[d] * inverse;
}
} // namespace detail

/// out[b, h, i] = softmax_j(scale q[b,h,i] . k[b,g,j] + mask) v[b,g,j], with
/// g = h / (q_heads / kv_heads). Scores and the softmax are in double; a row
/// whose every key is masked gives NaN, as the ONNX reference does. (The
/// 16-bit types' path; float32 takes attention_f32 below.)
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

/// float32 attention: the same formula with scores, weights and the
/// weighted sum in float32 (detail::attention_row_f32; the reference above
/// computes in double, one row's dot products at a time, and ran 30x
/// slower than ONNX Runtime on a 12-head, 128-token block). Each row's
/// result is independent of the threads and of the other rows.
template <class M>
int attention_f32(const anvil_host_api *host, const AttentionParams &p,
                  const float *q, const float *k, const float *v, const M *mask,
                  float *out) {
  const int64_t group = p.q_heads / p.kv_heads;
  const int64_t rows = p.batch * p.q_heads * p.q_len;
  const int64_t rowWork =
      std::max<int64_t>(1, p.kv_len * (p.head_dim + p.value_dim));
  const int64_t grain = std::max<int64_t>(1, kMinChunkMacs / rowWork);
  parallel_for(host, rows, grain, [&](int64_t begin, int64_t end, int thread) {
    float *scores = scratch<float>(host, thread, p.kv_len + p.value_dim);
    if (!scores) {
      fail(host, "attention: out of scratch memory");
      return;
    }
    for (int64_t row = begin; row < end; ++row) {
      const int64_t i = row % p.q_len, h = (row / p.q_len) % p.q_heads,
                    b = row / (p.q_len * p.q_heads), g = h / group;
      detail::attention_row_f32(
          p, q + row * p.head_dim,
          k + (b * p.kv_heads + g) * p.kv_len * p.head_dim,
          v + (b * p.kv_heads + g) * p.kv_len * p.value_dim, mask, b, h, i,
          scores, scores + p.kv_len, out + row * p.value_dim);
    }
  });
  return run_failed(host) ? 1 : 0;
}

template <class T, class M>
int attention(const anvil_host_api *host, const AttentionParams &p, const T *q,
              const T *k, const T *v, const M *mask, T *out) {
  if constexpr (std::is_same<T, float>::value)
    return attention_f32<M>(host, p, q, k, v, mask, out);
  else
    return attention_impl<T, M>(host, p, q, k, v, mask, out);
}

template <class T>
int attention(const anvil_host_api *host, const AttentionParams &p, const T *q,
              const T *k, const T *v, T *out) {
  return attention<T, T>(host, p, q, k, v, nullptr, out);
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_ATTENTION_H
