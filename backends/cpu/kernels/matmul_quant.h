// matmul_quant.h - matmul with a weight-quantized right-hand side, read
// from its packed layout: out[i, n] = sum_k lhs[i, k] * W[n, k] with
//   W[n, k] = (u(n, k) - z(n, g)) * s(n, g),   g = k / group,
// where u is the stored unsigned value (uint8 or uint4), z the effective
// zero point (the model's plus `zero_offset`, the bias the packing added to
// make signed values unsigned) and s the scale (scale[n * scale_n_stride +
// g * scale_g_stride]; zero points alike). No float weight exists at run
// time.
//
// Layout (kernel.weight layouts "q8_..."/"q4_...", dialects/Kernel/
// WeightData.h): output channels in panels of 16; a panel holds k_stored
// k-rows. 8-bit: groups of four consecutive k per channel, channel after
// channel (byte ((k / 4) * 16 + c) * 4 + k % 4: the operand order of
// AVX512-VNNI's vpdpbusd). 4-bit: two k per byte, low nibble the even k
// (byte (k / 2) * 16 + c).
//
// Each group is summed in float (x times the value less its zero point)
// and scaled once; with quantize_lhs, in int32 over per-token int8
// activations, where the zero point comes off through the activations'
// sum (exact in integers): sum_k xq (u - z) = sum_k xq u - z sum_k xq. Tiles of
// rows x one panel are spread over the threads, so a decode GEMV (m = 1) still
// uses every thread.
#ifndef ANVIL_CPU_KERNELS_MATMUL_QUANT_H
#define ANVIL_CPU_KERNELS_MATMUL_QUANT_H

#include "common.h"

#include <algorithm>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace anvil {
namespace cpu {

namespace quant {

constexpr int64_t kPanel = 16; // output channels per panel
constexpr int64_t kRows = 4;   // rows sharing each unpacked weight vector
constexpr int64_t kTileRows = 32;

inline int64_t panel_bytes(const MatmulQuantParams &p) {
  return p.bits == 4 ? kPanel * (p.k_stored / 2) : kPanel * p.k_stored;
}

/// The stored value of channel c at k inside a panel.
inline int32_t stored(const MatmulQuantParams &p, const uint8_t *panel,
                      int64_t k, int64_t c) {
  if (p.bits == 4) {
    const uint8_t byte = panel[(k >> 1) * kPanel + c];
    return (k & 1) ? byte >> 4 : byte & 15;
  }
  return panel[((k >> 2) * kPanel + c) * 4 + (k & 3)];
}

#if defined(__AVX512F__)
/// group_dot for R rows of float activations (R a constant, so the
/// accumulators stay in registers): four independent chains per row (one
/// per k of a group of four), so a single row (decode) is not bound by the
/// FMA latency.
template <int R>
inline void group_dot_avx512(const MatmulQuantParams &p, const uint8_t *panel,
                             const float *x, int64_t k0, int64_t k1,
                             const float z[kPanel], float acc[kRows][kPanel]) {
  const int64_t k = p.k;
  __m512 a[4][R];
  for (int j = 0; j < 4; ++j)
    for (int r = 0; r < R; ++r)
      a[j][r] = _mm512_setzero_ps();
  const __m512i low = _mm512_set1_epi32(0xff);
  const __m512i nibble = _mm512_set1_epi32(0xf);
  const __m512 zv = _mm512_loadu_ps(z);
  // The stored values as floats, less the zero point.
  auto value = [&](__m512i v) {
    return _mm512_sub_ps(_mm512_cvtepi32_ps(v), zv);
  };
  auto fma = [&](int j, int64_t t, __m512 w) {
    for (int r = 0; r < R; ++r)
      a[j][r] = _mm512_fmadd_ps(_mm512_set1_ps(x[r * k + t]), w, a[j][r]);
  };
  int64_t t = k0;
  if (p.bits == 8) {
    auto one = [&](int64_t u) { // the value at k = u alone
      const __m512i v = _mm512_loadu_si512(panel + (u >> 2) * 64);
      return value(
          _mm512_and_si512(_mm512_srli_epi32(v, unsigned(8 * (u & 3))), low));
    };
    for (; t < k1 && (t & 3); ++t)
      fma(0, t, one(t));
    for (; t + 4 <= k1; t += 4) {
      const __m512i v = _mm512_loadu_si512(panel + (t >> 2) * 64);
      fma(0, t, value(_mm512_and_si512(v, low)));
      fma(1, t + 1, value(_mm512_and_si512(_mm512_srli_epi32(v, 8), low)));
      fma(2, t + 2, value(_mm512_and_si512(_mm512_srli_epi32(v, 16), low)));
      fma(3, t + 3, value(_mm512_srli_epi32(v, 24)));
    }
    for (; t < k1; ++t)
      fma(0, t, one(t));
  } else {
    auto load = [&](int64_t pair) {
      return _mm512_cvtepu8_epi32(_mm_loadu_si128(
          reinterpret_cast<const __m128i *>(panel + pair * kPanel)));
    };
    if (t < k1 && (t & 1)) {
      fma(0, t, value(_mm512_srli_epi32(load(t >> 1), 4)));
      ++t;
    }
    for (; t + 4 <= k1; t += 4) {
      const __m512i v = load(t >> 1), u = load((t >> 1) + 1);
      fma(0, t, value(_mm512_and_si512(v, nibble)));
      fma(1, t + 1, value(_mm512_srli_epi32(v, 4)));
      fma(2, t + 2, value(_mm512_and_si512(u, nibble)));
      fma(3, t + 3, value(_mm512_srli_epi32(u, 4)));
    }
    for (; t + 2 <= k1; t += 2) {
      const __m512i v = load(t >> 1);
      fma(0, t, value(_mm512_and_si512(v, nibble)));
      fma(1, t + 1, value(_mm512_srli_epi32(v, 4)));
    }
    if (t < k1)
      fma(0, t, value(_mm512_and_si512(load(t >> 1), nibble)));
  }
  for (int r = 0; r < R; ++r)
    _mm512_storeu_ps(acc[r], _mm512_add_ps(_mm512_add_ps(a[0][r], a[1][r]),
                                           _mm512_add_ps(a[2][r], a[3][r])));
}
#endif

/// One group of one panel for `rows` rows: acc[r][c] = sum_k x[r][k] *
/// (u(c, k) - z[c]) over [k0, k1), in float. The zero point comes off each
/// value (exact: small integers) before the product, so a sum that
/// cancels loses no more than the dequantized weights' matmul would.
template <class A>
inline void group_dot(const MatmulQuantParams &p, const uint8_t *panel,
                      const A *lhs, int64_t rows, int64_t k0, int64_t k1,
                      const float z[kPanel], float acc[kRows][kPanel]) {
  const int64_t k = p.k;
#if defined(__AVX512F__)
  if (std::is_same<A, float>::value) {
    const float *x = reinterpret_cast<const float *>(lhs);
    static_assert(kRows == 4, "one case per row count");
    switch (rows) {
    case 1:
      return group_dot_avx512<1>(p, panel, x, k0, k1, z, acc);
    case 2:
      return group_dot_avx512<2>(p, panel, x, k0, k1, z, acc);
    case 3:
      return group_dot_avx512<3>(p, panel, x, k0, k1, z, acc);
    default:
      return group_dot_avx512<4>(p, panel, x, k0, k1, z, acc);
    }
  }
#endif
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < kPanel; ++c)
      acc[r][c] = 0.0f;
  for (int64_t t = k0; t < k1; ++t) {
    float w[kPanel];
    for (int64_t c = 0; c < kPanel; ++c)
      w[c] = static_cast<float>(stored(p, panel, t, c)) - z[c];
    for (int64_t r = 0; r < rows; ++r) {
      const float xv = static_cast<float>(lhs[r * k + t]);
      for (int64_t c = 0; c < kPanel; ++c)
        acc[r][c] += xv * w[c];
    }
  }
}

/// The int8 product of one panel for one row: acc[c] = sum_k xq[k] *
/// u(c, k) over the whole (padded) k, exact in int32. xq is padded with
/// zeros to k_stored.
inline void row_dot_int8(const MatmulQuantParams &p, const uint8_t *panel,
                         const int8_t *xq, int32_t acc[kPanel]) {
#if defined(__AVX512VNNI__)
  __m512i a = _mm512_setzero_si512();
  for (int64_t t = 0; t < p.k_stored; t += 4) {
    int32_t quad;
    std::memcpy(&quad, xq + t, 4);
    // vpdpbusd: unsigned bytes (the weights) times signed (activations).
    a = _mm512_dpbusd_epi32(a, _mm512_loadu_si512(panel + t * kPanel),
                            _mm512_set1_epi32(quad));
  }
  _mm512_storeu_si512(acc, a);
#else
  for (int64_t c = 0; c < kPanel; ++c)
    acc[c] = 0;
  for (int64_t t = 0; t < p.k_stored; ++t) {
    const int32_t xv = xq[t];
    for (int64_t c = 0; c < kPanel; ++c)
      acc[c] += xv * stored(p, panel, t, c);
  }
#endif
}

} // namespace quant

/// See the file comment. Inputs: lhs [m, k], the packed weight, scales,
/// optional zero points (of the model's type; `zero_offset` is added).
template <class A, class Q, class S, class Z, class C>
int matmul_quant(const anvil_host_api *host, const MatmulQuantParams &p,
                 const A *lhs, const Q *packed, const S *scale,
                 const Z *zero_point, C *out) {
  using namespace quant;
  const int64_t m = p.m, n = p.n, k = p.k;
  if (m <= 0 || n <= 0)
    return 0;
  const int64_t group = p.group > 0 ? p.group : (k > 0 ? k : 1);
  const int64_t groups = k > 0 ? (k + group - 1) / group : 0;
  const int64_t panels = (n + kPanel - 1) / kPanel;
  const int64_t rowTiles = (m + kTileRows - 1) / kTileRows;
  const uint8_t *weights = reinterpret_cast<const uint8_t *>(packed);
  const int64_t panelBytes = panel_bytes(p);
  // The scales and effective zero points of channels [n0, n0 + cols) in
  // group g (the rest of the panel stays 0).
  auto params = [&](int64_t n0, int64_t cols, int64_t g, float *s, float *z) {
    const int64_t base = n0 * p.scale_n_stride + g * p.scale_g_stride;
    const S *sp = scale + base;
    for (int64_t c = 0; c < cols; ++c)
      s[c] = static_cast<float>(sp[c * p.scale_n_stride]);
    const float offset = static_cast<float>(p.zero_offset);
    if (zero_point) {
      const Z *zp = zero_point + base;
      for (int64_t c = 0; c < cols; ++c)
        z[c] = static_cast<float>(zp[c * p.scale_n_stride]) + offset;
    } else {
      for (int64_t c = 0; c < cols; ++c)
        z[c] = offset;
    }
  };
  if (!p.quantize_lhs) {
    parallel_for(host, rowTiles * panels, 1, [&](int64_t begin, int64_t end) {
      for (int64_t tile = begin; tile < end; ++tile) {
        const int64_t pi = tile % panels, rt = tile / panels;
        const int64_t n0 = pi * kPanel, cols = std::min(kPanel, n - n0);
        const uint8_t *panel = weights + pi * panelBytes;
        const int64_t i0 = rt * kTileRows, i1 = std::min(m, i0 + kTileRows);
        float result[kTileRows][kPanel] = {};
        float acc[kRows][kPanel];
        // Group by group: its scales and zero points are read once per
        // tile, its weights stay in L1 for every row of the tile.
        for (int64_t g = 0; g < groups; ++g) {
          const int64_t k0 = g * group, k1 = std::min(k, k0 + group);
          float s[kPanel] = {}, z[kPanel] = {};
          params(n0, cols, g, s, z);
          for (int64_t i = i0; i < i1; i += kRows) {
            const int64_t rows = std::min(kRows, i1 - i);
            group_dot(p, panel, lhs + i * k, rows, k0, k1, z, acc);
            for (int64_t r = 0; r < rows; ++r)
              for (int64_t c = 0; c < kPanel; ++c)
                result[i - i0 + r][c] += s[c] * acc[r][c];
          }
        }
        for (int64_t i = i0; i < i1; ++i)
          for (int64_t c = 0; c < cols; ++c)
            out[i * n + n0 + c] = static_cast<C>(result[i - i0][c]);
      }
    });
    return run_failed(host) ? 1 : 0;
  }
  // W8A8: per-token symmetric int8 activations (anvil.quantize_per_token's
  // formula), one group along k (the lowering fuses nothing else): the rows
  // quantized once (padded to k_stored), with their scales and sums, by
  // all threads into this thread's scratch, then read by all.
  char *shared = scratch<char>(host, 0, size_t(m * (p.k_stored + 8) + 64));
  if (!shared)
    return fail(host, "matmul_quant: out of scratch memory");
  int32_t *qsums = reinterpret_cast<int32_t *>(shared);
  float *xscale = reinterpret_cast<float *>(shared + m * 4);
  int8_t *xq = reinterpret_cast<int8_t *>(shared + m * 8);
  parallel_for(host, m, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const A *x = lhs + i * k;
      float amax = 0;
      for (int64_t t = 0; t < k; ++t) {
        const float v = std::fabs(static_cast<float>(x[t]));
        amax = v > amax ? v : amax;
      }
      const float s = amax > 0 ? amax / 127.0f : 1.0f;
      int32_t total = 0;
      int8_t *row = xq + i * p.k_stored;
      for (int64_t t = 0; t < k; ++t) {
        float v = std::nearbyint(static_cast<float>(x[t]) / s);
        v = v < -127.0f ? -127.0f : (v > 127.0f ? 127.0f : v);
        row[t] = static_cast<int8_t>(v);
        total += row[t];
      }
      for (int64_t t = k; t < p.k_stored; ++t)
        row[t] = 0;
      xscale[i] = s;
      qsums[i] = total;
    }
  });
  parallel_for(host, rowTiles * panels, 1, [&](int64_t begin, int64_t end) {
    for (int64_t tile = begin; tile < end; ++tile) {
      const int64_t pi = tile % panels, rt = tile / panels;
      const int64_t n0 = pi * kPanel, cols = std::min(kPanel, n - n0);
      const uint8_t *panel = weights + pi * panelBytes;
      float s[kPanel] = {}, z[kPanel] = {};
      params(n0, cols, 0, s, z);
      const int64_t i1 = std::min(m, (rt + 1) * kTileRows);
      for (int64_t i = rt * kTileRows; i < i1; ++i) {
        int32_t acc[kPanel];
        row_dot_int8(p, panel, xq + i * p.k_stored, acc);
        for (int64_t c = 0; c < cols; ++c)
          out[i * n + n0 + c] = static_cast<C>(
              xscale[i] * s[c] *
              static_cast<float>(acc[c] -
                                 static_cast<int32_t>(z[c]) * qsums[i]));
      }
    }
  });
  return run_failed(host) ? 1 : 0;
}

template <class A, class Q, class S, class C>
int matmul_quant(const anvil_host_api *host, const MatmulQuantParams &p,
                 const A *lhs, const Q *packed, const S *scale, C *out) {
  return matmul_quant(host, p, lhs, packed, scale,
                      static_cast<const uint8_t *>(nullptr), out);
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_MATMUL_QUANT_H
