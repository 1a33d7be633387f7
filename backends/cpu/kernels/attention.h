// attention.h - scaled dot-product attention with grouped KV heads (the
// rotary embedding is in rope.h).
#ifndef ANVIL_CPU_KERNELS_ATTENTION_H
#define ANVIL_CPU_KERNELS_ATTENTION_H

#include "common.h"
#include "matmul.h" // detail::axpy and matmul_dot.h

#include <algorithm>
#include <cstring>
#include <memory>

namespace anvil {
namespace cpu {

namespace detail {
/// How many keys query row i sees: all kv_len, or with `causal` those up
/// to its diagonal (kv_len - q_len + i, the queries being the last q_len
/// positions), clamped to [0, kv_len].
inline int64_t visible_keys(const AttentionParams &p, int64_t i) {
  return p.causal ? std::clamp<int64_t>(p.kv_len - p.q_len + i + 1, 0, p.kv_len)
                  : p.kv_len;
}

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
  const int64_t visible = visible_keys(p, i);
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
  // Every visible key, zero weights too: 0 x inf is NaN, as in the ONNX
  // reference (softmax, then the product) and in the blocked kernel.
  for (j = 0; j < visible; ++j)
    axpy<0>(acc, vb + j * p.value_dim, scores[j], p.value_dim);
  const float inverse = float(1.0 / sum); // sum >= 1: the best key's is 1
  for (int64_t d = 0; d < p.value_dim; ++d)
    o[d] = acc[d] * inverse;
}
} // namespace detail

/// out[b, h, i] = softmax_j(scale q[b,h,i] . k[b,g,j] + mask) v[b,g,j], with
/// g = h / (q_heads / kv_heads). Scores and the softmax are in double; a row
/// whose every key is masked gives NaN, as the ONNX reference does. (The
/// 16-bit types' path; float32 takes attention_blocked_f32 or
/// attention_rows_f32 below.)
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

namespace detail {
/// K [kv_len, head_dim] row-major as the column panels of K^T, a
/// [head_dim, kv_len] weight in matmul_panels' layout (panel p holds keys
/// [32p, 32p + w), head_dim rows of w floats; kv_len x head_dim floats in
/// all), so that the scores of a query block are one panel product.
inline void pack_keys(const float *k, int64_t kv_len, int64_t head_dim,
                      float *packed) {
  for (int64_t p = 0; p * kPanelWidth < kv_len; ++p) {
    const int64_t width = panels::panel_width(kv_len, p);
    float *dst = packed + p * kPanelWidth * head_dim;
    const float *src = k + p * kPanelWidth * head_dim;
    for (int64_t c = 0; c < width; ++c)
      for (int64_t d = 0; d < head_dim; ++d)
        dst[d * width + c] = src[c * head_dim + d];
  }
}

/// V [kv_len, value_dim] row-major in matmul_panels' layout (panel p holds
/// columns [32p, 32p + w), kv_len rows of w floats).
inline void pack_values(const float *v, int64_t kv_len, int64_t value_dim,
                        float *packed) {
  for (int64_t p = 0; p * kPanelWidth < value_dim; ++p) {
    const int64_t width = panels::panel_width(value_dim, p);
    float *dst = packed + p * kPanelWidth * kv_len;
    for (int64_t j = 0; j < kv_len; ++j)
      std::memcpy(dst + j * width, v + j * value_dim + p * kPanelWidth,
                  size_t(width) * sizeof(float));
  }
}

/// Turns a query row's scores s[0, visible) into unnormalized softmax
/// weights in place (s = s x scale + mask, then e^(s - max) by exp_f32, the
/// max and the sum over the visible keys only) and zeroes s[visible, end).
/// Returns 1 / the sum (summed in double, 16 partial sums), or NaN when
/// every key is masked or a score is NaN or +inf (0 / 0 and inf - inf, as
/// the ONNX reference gives).
template <class M>
inline float softmax_weights(const AttentionParams &p, const M *mask, int64_t b,
                             int64_t h, int64_t i, int64_t visible, int64_t end,
                             float *s) {
  // Every loop goes in blocks of kLanes with a fixed inner count, so that
  // GCC vectorizes it at -O2 (its cheap cost model leaves a loop of run-
  // time length scalar): scalar, the scaling and the max took half of an
  // encoder block's time.
  constexpr int64_t kLanes = 16;
  const float scale = float(p.scale);
  const float inf = std::numeric_limits<float>::infinity();
  const M *row = mask ? mask + b * p.mask_strides[0] + h * p.mask_strides[1] +
                            i * p.mask_strides[2]
                      : nullptr;
  const int64_t stride = p.mask_strides[3];
  // s x scale (+ mask) and the running max of each lane (max_select: NaN
  // wins, as max_nan).
  float most[kLanes];
  std::fill(most, most + kLanes, -inf);
  auto logits = [&](int64_t j, int64_t count) {
    if (!row) {
      for (int64_t l = 0; l < count; ++l)
        s[j + l] *= scale;
    } else {
      // The mask's block goes through a local array: s and the mask may
      // alias as far as GCC knows, and it would not vectorize the sum.
      float add[kLanes];
      if (stride == 1)
        for (int64_t l = 0; l < count; ++l)
          add[l] = float(row[j + l]);
      else
        for (int64_t l = 0; l < count; ++l)
          add[l] = float(row[(j + l) * stride]);
      for (int64_t l = 0; l < count; ++l)
        s[j + l] = s[j + l] * scale + add[l];
    }
    for (int64_t l = 0; l < count; ++l)
      most[l] = max_select(most[l], s[j + l]);
  };
  int64_t j = 0;
  for (; j + kLanes <= visible; j += kLanes)
    logits(j, kLanes);
  logits(j, visible - j);
  float best = -inf;
  for (float m : most)
    best = max_nan<float>(best, m);
  std::fill(s + visible, s + end, 0.0f);
  if (best == -inf || best == inf || best != best) {
    std::fill(s, s + visible, 0.0f);
    return std::numeric_limits<float>::quiet_NaN();
  }
  double partial[kLanes] = {};
  auto weights = [&](int64_t j, int64_t count) {
    for (int64_t l = 0; l < count; ++l) {
      s[j + l] = exp_f32(s[j + l] - best);
      partial[l] += double(s[j + l]);
    }
  };
  for (j = 0; j + kLanes <= visible; j += kLanes)
    weights(j, kLanes);
  weights(j, visible - j);
  double sum = 0;
  for (double e : partial)
    sum += e;
  return float(1.0 / sum); // sum >= 1: the best key's term is 1
}
} // namespace detail

/// float32 attention in query blocks (the tiling of FlashAttention, Dao et
/// al. 2022, with the whole score row of a block held, so the softmax is
/// the exact two-pass one): per KV head, K is packed once as the column
/// panels of K^T and V as panels of its columns; per block of up to
/// panels::kMaxRows query rows of one head, the scores are one register-
/// tiled panel product (matmul_panels' micro-kernel, scores[r, j] one FMA
/// chain over head_dim), the softmax runs over each contiguous score row,
/// and the output is a second panel product of the weights by V (one FMA
/// chain over the keys), scaled by 1 / the row's sum. A causal block stops
/// at the last key its last row sees. Each row's result has the same bits
/// whatever the chunking over threads. Scratch per thread: kv_len x
/// head_dim floats of packed K, kv_len x value_dim of packed V when
/// value_dim > 32 (one panel is V's own layout), and kMaxRows score rows
/// of kv_len rounded up to 16. Every key masked, or a NaN/+inf score: NaN,
/// as attention_row_f32. A NaN or inf in V reaches every row whose product
/// multiplies it, by a zero weight too (0 x inf is NaN, as in the ONNX
/// reference): all rows without `causal`; with it, the rows of a block run
/// up to the block's last visible key, so a non-finite value in V past a
/// row's diagonal reaches that row when a later row of its block sees it
/// (blocks of kMaxRows rows: 12 on AVX-512, 6 below; the importers express
/// causality as a mask, so `causal` comes only from hand-written IR).
template <class M>
int attention_blocked_f32(const anvil_host_api *host, const AttentionParams &p,
                          const float *q, const float *k, const float *v,
                          const M *mask, float *out) {
  constexpr int64_t kRows = panels::kMaxRows;
  const int64_t group = p.q_heads / p.kv_heads;
  const int64_t blocks = (p.q_len + kRows - 1) / kRows;
  const int64_t items = p.batch * p.q_heads * blocks;
  const int64_t scoreStride = (p.kv_len + 15) / 16 * 16;
  const int64_t valuePanels = (p.value_dim + kPanelWidth - 1) / kPanelWidth;
  // A value_dim of one panel is already V's layout: no copy.
  const bool packValues = valuePanels > 1;
  const size_t scratchFloats =
      size_t(p.kv_len * p.head_dim) +
      (packValues ? size_t(p.kv_len * p.value_dim) : 0) +
      size_t(kRows * scoreStride);
  const int64_t itemWork =
      std::max<int64_t>(1, kRows * p.kv_len * (p.head_dim + p.value_dim));
  const int64_t grain = std::max<int64_t>(1, kMinChunkMacs / itemWork);
  parallel_for(host, items, grain, [&](int64_t begin, int64_t end, int thread) {
    std::unique_ptr<float[]> own;
    float *keys = scratch_or_own<float>(host, thread, scratchFloats, own);
    if (!keys) {
      fail(host, "attention: out of scratch memory");
      return;
    }
    float *values = keys + p.kv_len * p.head_dim;
    float *scores = values + (packValues ? p.kv_len * p.value_dim : 0);
    int64_t packedHead = -1; // b * kv_heads + g of the packed K/V
    for (int64_t item = begin; item < end; ++item) {
      const int64_t block = item % blocks, row = item / blocks;
      const int64_t h = row % p.q_heads, b = row / p.q_heads, g = h / group;
      const int64_t kvHead = b * p.kv_heads + g;
      const float *vb = v + kvHead * p.kv_len * p.value_dim;
      if (kvHead != packedHead) {
        detail::pack_keys(k + kvHead * p.kv_len * p.head_dim, p.kv_len,
                          p.head_dim, keys);
        if (packValues)
          detail::pack_values(vb, p.kv_len, p.value_dim, values);
        packedHead = kvHead;
      }
      const int64_t i0 = block * kRows;
      const int64_t rows = std::min(kRows, p.q_len - i0);
      // Keys past the causal diagonal are masked; the block's last row
      // sees the most.
      const int64_t keysSeen = detail::visible_keys(p, i0 + rows - 1);
      const int64_t first = (b * p.q_heads + h) * p.q_len + i0;
      float *o = out + first * p.value_dim;
      float inverse[kRows];
      if (keysSeen > 0) {
        panels::Span scoresSpan{
            p.kv_len,   p.head_dim, 0,
            p.head_dim, 0,          (keysSeen + kPanelWidth - 1) / kPanelWidth,
            false};
        panels::tile_rows<kRows, 0, float>(rows, q + first * p.head_dim,
                                           p.head_dim, keys, scoresSpan, scores,
                                           scoreStride);
        for (int64_t r = 0; r < rows; ++r)
          inverse[r] = detail::softmax_weights(
              p, mask, b, h, i0 + r, detail::visible_keys(p, i0 + r), keysSeen,
              scores + r * scoreStride);
        panels::Span outSpan{p.value_dim, p.kv_len,    0,    keysSeen,
                             0,           valuePanels, false};
        panels::tile_rows<kRows, 0, float>(rows, scores, scoreStride,
                                           packValues ? values : vb, outSpan, o,
                                           p.value_dim);
      } else {
        std::fill(inverse, inverse + rows,
                  std::numeric_limits<float>::quiet_NaN());
      }
      for (int64_t r = 0; r < rows; ++r) {
        float *orow = o + r * p.value_dim;
        if (inverse[r] != inverse[r])
          std::fill(orow, orow + p.value_dim, inverse[r]);
        else
          for (int64_t d = 0; d < p.value_dim; ++d)
            orow[d] *= inverse[r];
      }
    }
  });
  return run_failed(host) ? 1 : 0;
}

/// The smallest q_len that takes attention_blocked_f32: below it the
/// packing of K/V per head costs about as much as the rows' products, and
/// the row kernel reads K and V in place.
constexpr int64_t kBlockedAttentionMinRows = 4;

/// float32 attention: the same formula with scores, weights and the
/// weighted sum in float32 (detail::attention_row_f32; the reference above
/// computes in double, one row's dot products at a time, and ran 30x
/// slower than ONNX Runtime on a 12-head, 128-token block). Each row's
/// result is independent of the threads and of the other rows.
template <class M>
int attention_rows_f32(const anvil_host_api *host, const AttentionParams &p,
                       const float *q, const float *k, const float *v,
                       const M *mask, float *out) {
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
  if constexpr (std::is_same<T, float>::value) {
    if (p.kv_len > 0 && p.q_len >= kBlockedAttentionMinRows)
      return attention_blocked_f32<M>(host, p, q, k, v, mask, out);
    return attention_rows_f32<M>(host, p, q, k, v, mask, out);
  } else
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
