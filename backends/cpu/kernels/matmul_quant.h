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
// AVX512-VNNI's vpdpbusd). 4-bit ("q4_n16_k8"): eight consecutive k per
// channel in one 32-bit word, channel after channel, byte i of the word
// holding k + i (low nibble) and k + 4 + i (high): byte ((k / 8) * 16 + c)
// * 4 + k % 4, the high nibble for k % 8 >= 4. A 64-byte line is a panel's
// k-octet: one load, and each k's 16 values are a shift (and a mask, or
// vpermps's index bits) away, for float activations and int8 ones alike.
//
// Each group is summed in float (x times the value less its zero point)
// and scaled once; with quantize_lhs, in int32 over per-token int8
// activations (or static per-tensor ones with a zero point, as a QDQ
// model's QuantizeLinear gives them: lhs_scale > 0), where the zero point
// comes off through the activations' sum (exact in integers): sum_k xq (u -
// z) = sum_k xq u - z sum_k xq. Tiles of
// rows x a few panels (up to four for small batches, two for prefill and
// with quantize_lhs) are spread over the threads, and a decode GEMV (m = 1)
// in items of a few panels, so it still uses every thread. The float GEMV
// prefetches its panel ahead of the loads, symmetric int4 looks its values up
// with vpermps (no mask, no int-to-float conversion per value), and symmetric
// int8 moves each byte to the top of its 32-bit lane with vpshufb
// (kTopByteScale: no shifts).
//
// Float activations on AVX-512 sum each group as one FMA chain per row and
// channel, k increasing, as the portable path does; the ISA's paths (decode
// GEMV, small batches, prefill) all keep that order, so a row's result does
// not depend on how many rows share its tile or step. Prefill (a tile of
// kUnpackMinRows rows or more; AVX-512 here, AVX2 below): each group's
// values are unpacked to floats once per tile, two panels at a time, and
// read by up to 12 rows x two panels at a time (on AVX-512 from the rows
// packed in tiles of 12, as the fp32 panels read them). Small batches unpack in
// registers, up to 16 rows a call (few_rows_sums_avx512). W8A8 runs up to
// 8 rows x 2 panels of vpdpbusd chains per weight load; its decode GEMV
// and W4A8's take kGemvPanels panels per item, as the float one does, and
// leave the prefetching to the hardware.
//
// With AVX512-BF16 (--mcpu=native on such a CPU), symmetric 4-bit weights
// with f32 scales and float activations take matmul_int4_bf16 instead at
// every m: the activations rounded to bf16 once per launch and vdpbf16ps
// over weights widened to bf16 in registers (matmul_int4_bf16.h); its
// paths share one micro-kernel, so batch invariance holds there too.
//
// Without AVX-512 but with AVX2 and FMA (--mcpu=x86-64-v3): float
// activations run group_dot_avx2 (8 lanes; values to floats by OR-ing them
// into 2^23's mantissa, no vcvtdq2ps; symmetric 8- and 4-bit panels moved
// to the top of their lanes and converted, kTopByteScale and
// kTopNibbleScale) on two chains per row and half
// panel (even and odd k; its paths keep that order among themselves), and
// prefill unpacks each group once per tile too, read by
// three rows at a time (rows_dot_unpacked_avx2). The
// integer products are vpmaddwd (8-bit weights: six rows per widened
// weight vector in tiles of 8 rows or more, rows_dot_int8_wide_avx2) or
// vpmaddubsw (4-bit: prefill tiles unpack each line once for up to 4
// rows and sum two lines in int16 before widening, rows_dot_int4_avx2;
// W4A8's decode GEMV of symmetric weights, gemv_w4a8_symmetric_avx2,
// keeps its scales and sums in registers as the VNNI one does), and the
// activations' per-token quantization runs 8 lanes at a time. Otherwise
// portable C++.
#ifndef ANVIL_CPU_KERNELS_MATMUL_QUANT_H
#define ANVIL_CPU_KERNELS_MATMUL_QUANT_H

#include "common.h"
#include "matmul_int4_bf16.h"
#include "matmul_panels.h"
#include "simd.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <utility>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

/// AMX int8 tiles (--mcpu with amx-tile and amx-int8, on Linux, which
/// hands the tile state to a process that asks for it).
#if defined(__AMX_TILE__) && defined(__AMX_INT8__) && defined(__linux__)
#define ANVIL_QUANT_AMX 1
#include <sys/syscall.h>
#include <unistd.h>
#endif

/// An AVX2 machine without AVX-512 (--mcpu=x86-64-v3): 8-lane paths for
/// float activations.
#if !defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__)
#define ANVIL_QUANT_AVX2 1
#endif

namespace anvil {
namespace cpu {

namespace quant {

constexpr int64_t kPanel = 16; // output channels per panel
constexpr int64_t kRows = 4;   // rows sharing each unpacked weight vector
/// Rows per group_dot call where the activations are not float on
/// AVX-512 (AVX2, the portable path; AVX-512 float rows go through
/// few_rows_sums_avx512).
constexpr int64_t kFewRows = kRows;
/// Panels per work item of the small-batch path (tile_group_sums): 4 rows
/// or fewer take up to 4 panels per group_dot_avx512 call
/// (kFewRowsPanels).
constexpr int64_t kFewPanels = 4;
constexpr int64_t kTileRows = 32;
/// Tiles of at least this many rows unpack each group once (prefill).
/// Fewer rows run the decode path's group sums a few rows at a time
/// (tile_group_sums), unpacking each weight vector in registers for every
/// call. On AVX-512 (then four rows a call) that was as fast up to about
/// 24 rows and faster below 16 (2026-12-03; k x n = 1024 x 2816 weights
/// from memory, one thread, g++): 8 rows int4 49-78 -> 92-103 GFLOP/s,
/// int8 37-53 -> 85-103; 16 rows int8 45-73 -> 70-96, int4 the same.
/// Measured again with one chain per group (12 x 2 prefill tiles, 16-row
/// calls), alternated, 40-call medians: unpacking from 16 rows was no
/// faster at 16, 24 or 31 rows (int4 72-107 / 67-96, 78-82 / 74-103, 73-78
/// / 75-106; int8 72-100 / 57-73, 79-86 / 67-69, 97-106 / 59-101).
/// AVX2's group_dot takes 2 rows at a time, so it unpacks from 8.
#if defined(__AVX512F__)
constexpr int64_t kUnpackMinRows = 32;
#else
constexpr int64_t kUnpackMinRows = 8;
#endif
/// Rows per tile when they do: an unpacked group (up to k x 16 floats)
/// then serves 132 rows (a 128-token prompt is one tile), a multiple of
/// kUnpackedRows, so AVX-512's packed row tiles (panels::pack_rows) line up
/// with them.
constexpr int64_t kUnpackTileRows = 132;
/// Rows the unpacked prefill tile's result buffer holds per panel (the
/// most rows_dot_unpacked takes at once).
#if defined(__AVX512F__)
constexpr int64_t kUnpackedRows = 12;
#else
constexpr int64_t kUnpackedRows = 6;
#endif
static_assert(kUnpackTileRows % kUnpackedRows == 0,
              "prefill tiles start at a packed row tile");

/// Row tiles of `rows` rows over m rows, the last one short.
struct UniformRowTiles {
  int64_t rows, m;
  int64_t begin(int64_t rt) const { return rt * rows; }
  int64_t end(int64_t rt) const { return std::min(m, (rt + 1) * rows); }
};

/// The row tiles of a prefill product (m >= kUnpackMinRows):
/// kUnpackTileRows rows each, the last also taking the rows after it when
/// they are fewer than kUnpackMinRows, so every tile unpacks its groups for
/// at least that many rows.
struct PrefillTiles {
  static constexpr int64_t kMaxRows = kUnpackTileRows + kUnpackMinRows - 1;
  int64_t m, tiles;
  explicit PrefillTiles(int64_t rows)
      : m(rows), tiles(std::max<int64_t>(
                     1, rows / kUnpackTileRows +
                            (rows % kUnpackTileRows >= kUnpackMinRows))) {}
  int64_t begin(int64_t rt) const { return rt * kUnpackTileRows; }
  int64_t end(int64_t rt) const {
    return rt + 1 == tiles ? m : (rt + 1) * kUnpackTileRows;
  }
};

/// Panels per work item of the decode GEMV (one stream each). AVX2's 16
/// registers hold the accumulators of two.
#if defined(__AVX512F__)
constexpr int64_t kGemvPanels = 4;
#else
constexpr int64_t kGemvPanels = 2;
#endif

/// Calls f(std::integral_constant<int, np>) for np in 1 .. kGemvPanels,
/// so a kernel templated on its panel count serves a last short item.
template <class F> inline void with_panels(int64_t np, F &&f) {
  switch (np) {
  case 1:
    return f(std::integral_constant<int, 1>());
#if defined(__AVX512F__)
  case 3:
    return f(std::integral_constant<int, 3>());
  case 4:
    return f(std::integral_constant<int, 4>());
#endif
  default:
    return f(std::integral_constant<int, 2>());
  }
}

/// The decode GEMV's work items over the threads: f(pi, np, step) for the
/// np <= kGemvPanels panels pi, pi + step, ..., pi + (np - 1) * step, at
/// least `grain` items a chunk. Item i takes panels i, i + items, i + 2 x
/// items, ... (items = the item count, `step`), so a chunk of consecutive
/// items reads np long sequential streams, one per panel slot, instead of
/// np panel-long ones that restart every item: the hardware prefetchers
/// keep a stream that runs on, and the software prefetch past a panel's
/// end lands on the stream's next panel. A panel's sums do not depend on
/// which item holds it.
template <class F>
inline void for_each_gemv_item(const anvil_host_api *host, int64_t panels,
                               int64_t grain, F &&f) {
  const int64_t items = (panels + kGemvPanels - 1) / kGemvPanels;
  parallel_for(host, items, grain, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item)
      f(item, (panels - item + items - 1) / items, items);
  });
}

/// How far ahead of its loads the GEMV prefetches its panel (bytes):
/// measured with anvil-kernel-bench, 2 KB-4 KB gain the same.
constexpr int64_t kPrefetchBytes = 4096;

/// Symmetric 8-bit weights (every zero point 128) are read as (u - 128) *
/// 2^24 where AVX512BW or AVX2 allows: one vpshufb moves each byte (its top bit
/// flipped, so it is u - 128 as a signed byte) to the top of its 32-bit
/// lane, where vcvtdq2ps reads it with its sign, with no shifts (shifts and
/// conversions share one port of AVX-512 cores). The sums are scaled back
/// by 2^-24 at the end: the bits of the unscaled sums, since a power of two
/// commutes with every rounding in the normal range, and below it the
/// unscaled products and sums (multiples of 2^-149 under 2^-125) are exact
/// and so are their scaled images. Only overflow differs: a row whose
/// scaled sums are not all finite (activations near 1e29, or an infinity
/// or NaN) is summed again unscaled. So a row's bits still do not depend
/// on which path, or which batch, it is in.
constexpr float kTopByteScale = 16777216.0f;          // 2^24
constexpr float kTopByteUnscale = 1.0f / 16777216.0f; // 2^-24

/// The same read for symmetric 4-bit weights on AVX2 (every zero point 8):
/// each nibble, its top bit flipped (so it is u - 8 as a 4-bit signed
/// value), moved to the top of its 32-bit lane is (u - 8) * 2^28, and the
/// sums are scaled back by 2^-28, with kTopByteScale's argument: the same
/// bits, an overflow summed again unscaled.
constexpr float kTopNibbleScale = 268435456.0f; // 2^28

/// The vpshufb index of byte j of the 32-bit lane d (0 .. 3) of a 128-bit
/// lane: byte j to the top byte, the rest zeroed (kTopByteScale's reads).
constexpr int32_t top_byte_lane(int j, int d) {
  return int32_t((uint32_t(4 * d + j) << 24) | 0x808080u);
}

#if defined(__AVX512BW__)
/// vpshufb indices (within each 128-bit lane) moving byte j of each 32-bit
/// lane to its top byte and zeroing the rest (kTopByteScale's reads).
inline __m512i top_byte_index(int j) {
  return _mm512_set4_epi32(top_byte_lane(j, 3), top_byte_lane(j, 2),
                           top_byte_lane(j, 1), top_byte_lane(j, 0));
}
#elif defined(__AVX2__)
/// top_byte_index for 256-bit vectors (the AVX2 GEMV's reads).
inline __m256i top_byte_index(int j) {
  return _mm256_setr_epi32(top_byte_lane(j, 0), top_byte_lane(j, 1),
                           top_byte_lane(j, 2), top_byte_lane(j, 3),
                           top_byte_lane(j, 0), top_byte_lane(j, 1),
                           top_byte_lane(j, 2), top_byte_lane(j, 3));
}
#endif

#if defined(__AVX512F__)
/// Whether all 16 lanes of v are finite.
inline bool all_finite(__m512 v) {
  return _mm512_cmp_ps_mask(_mm512_sub_ps(v, v), _mm512_setzero_ps(),
                            _CMP_EQ_OQ) == 0xffff;
}
#elif defined(__AVX2__)
/// Whether all 8 lanes of v are finite.
inline bool all_finite(__m256 v) {
  return _mm256_movemask_ps(_mm256_cmp_ps(
             _mm256_sub_ps(v, v), _mm256_setzero_ps(), _CMP_EQ_OQ)) == 0xff;
}
#endif

/// A tile's results for one panel, result[r][c] for r < rows and c < cols
/// (cols <= kPanel), to out[r * n + c] as C. Float rows on AVX-512 take one
/// masked store each: g++ made the element loop a 64-byte memcpy call per
/// row (1.3% of an int4-g128 prefill's samples, most at the call).
template <class C>
inline void store_panel_rows(const float (*result)[kPanel], int64_t rows,
                             int64_t cols, C *out, int64_t n) {
#if defined(__AVX512F__)
  if constexpr (std::is_same<C, float>::value) {
    const __mmask16 mask = __mmask16((1u << cols) - 1);
    for (int64_t r = 0; r < rows; ++r)
      _mm512_mask_storeu_ps(out + r * n, mask, _mm512_loadu_ps(result[r]));
    return;
  }
#endif
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[r * n + c] = static_cast<C>(result[r][c]);
}

inline int64_t panel_bytes(const MatmulQuantParams &p) {
  return p.bits == 4 ? kPanel * (p.k_stored / 2) : kPanel * p.k_stored;
}

/// Where k's nibble sits in its channel's 32-bit word of the 4-bit layout
/// ("q4_n16_k8"): bit 8 (k % 4), plus 4 in the high half of the octet.
constexpr unsigned k8_shift(int64_t k) {
  return unsigned(8 * (k & 3) + 4 * ((k >> 2) & 1));
}

/// Where the stored values of k lie in a panel, in both layouts: the
/// 64-byte line holding them (its offset in the panel, channel c's 32-bit
/// word at 4c) and the bit of the word their value starts at; `mask`
/// keeps the value's bits after the shift.
struct StoredBits {
  int64_t line;
  unsigned shift;
  int32_t mask;
};
constexpr StoredBits stored_bits(int bits, int64_t k) {
  return bits == 4 ? StoredBits{(k >> 3) * 64, k8_shift(k), 0xf}
                   : StoredBits{(k >> 2) * 64, unsigned(8 * (k & 3)), 0xff};
}

/// The stored value of channel c at k inside a panel.
inline int32_t stored(const MatmulQuantParams &p, const uint8_t *panel,
                      int64_t k, int64_t c) {
  if (p.bits == 4) { // "q4_n16_k8"
    const uint8_t byte = panel[((k >> 3) * kPanel + c) * 4 + (k & 3)];
    return (k & 4) ? byte >> 4 : byte & 15;
  }
  return panel[((k >> 2) * kPanel + c) * 4 + (k & 3)];
}

#if defined(__AVX512F__)
/// group_dot for R rows of float activations (R a constant, so the
/// accumulators stay in registers) over NP panels (panel q at panel + q *
/// stride, its zero points at z + q * kPanel, its sums to acc[q *
/// acc_stride + r]): one FMA chain per row and channel, k increasing (as
/// the portable path and the fp32 panels sum), so R x NP chains run at
/// once (a chain waits 4 cycles for its last FMA: callers take several
/// panels for few rows where they have them). A panel's sums do not depend on
/// NP or R. Symmetric 8-bit panels are read scaled (kTopByteScale) unless
/// `allow_scaled` is false. Row r of x starts at x + r * ldx (0: p.k); or,
/// with Packed rows (panels::pack_rows' tiles of that many), row r's value at k
/// = t is x[t * Packed + r] (ldx unused): one pointer for every row's
/// broadcasts, where 16 row-major rows took 16 row pointers and g++ kept
/// most of them on the stack, a reload per FMA.
template <int R, int NP = 1, int Packed = 0>
inline void group_dot_avx512(const MatmulQuantParams &p, const uint8_t *panel,
                             int64_t stride, const float *x, int64_t k0,
                             int64_t k1, const float *z, float (*acc)[kPanel],
                             bool allow_scaled = true, int64_t acc_stride = R,
                             int64_t ldx = 0) {
  static_assert(Packed == 0 || Packed >= R, "a call's rows lie in one tile");
  const int64_t rs = ldx ? ldx : p.k; // x's row stride (row-major)
  // Every loop over the accumulators is unrolled: g++ -O2 leaves a loop
  // over r rolled, and the accumulators then live in memory (one load and
  // store per FMA; the 4-row tile ran at a fraction of its FMA rate).
  __m512 a[NP][R];
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q)
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
      a[q][r] = _mm512_setzero_ps();
  const __m512i low = _mm512_set1_epi32(0xff);
  const __m512i nibble = _mm512_set1_epi32(0xf);
  __m512 zv[NP];
  bool all_equal[2] = {true, true}; // every zero point 128, every one 8
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q) {
    zv[q] = _mm512_loadu_ps(z + q * kPanel);
    all_equal[0] &= _mm512_cmpneq_ps_mask(zv[q], _mm512_set1_ps(128.0f)) == 0;
    all_equal[1] &= _mm512_cmpneq_ps_mask(zv[q], _mm512_set1_ps(8.0f)) == 0;
  }
  // The stored values as floats, less the zero point.
  auto value = [&](int q, __m512i v) {
    return _mm512_sub_ps(_mm512_cvtepi32_ps(v), zv[q]);
  };
  auto fma = [&](int q, int64_t t, __m512 w) {
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
      a[q][r] = _mm512_fmadd_ps(
          _mm512_set1_ps(Packed ? x[t * Packed + r] : x[r * rs + t]), w,
          a[q][r]);
  };
  // A panel is one sequential stream, which the hardware prefetchers alone
  // keep at about a third of the read bandwidth: ask for the line
  // kPrefetchBytes ahead (past the panel's end it is the next panel, which
  // this thread's chunk usually takes next).
  auto prefetch = [](const uint8_t *at) {
    _mm_prefetch(reinterpret_cast<const char *>(at + kPrefetchBytes),
                 _MM_HINT_T0);
  };
  int64_t t = k0;
  bool scaled = false; // the sums are 2^24 times the unscaled ones
  if (p.bits == 8) {
#if defined(__AVX512BW__)
    scaled = allow_scaled && all_equal[0];
#endif
    auto word = [&](int q, int64_t u) { // k-quad u / 4 of panel q
      return _mm512_loadu_si512(panel + q * stride + (u >> 2) * 64);
    };
    auto one = [&](int q, int64_t u) { // the value at k = u alone
      const __m512 v = value(
          q, _mm512_and_si512(
                 _mm512_srli_epi32(word(q, u), unsigned(8 * (u & 3))), low));
      return scaled ? _mm512_mul_ps(v, _mm512_set1_ps(kTopByteScale)) : v;
    };
    for (; t < k1 && (t & 3); ++t)
#pragma GCC unroll 4
      for (int q = 0; q < NP; ++q)
        fma(q, t, one(q, t));
#if defined(__AVX512BW__)
    // Symmetric weights, scaled (kTopByteScale); unscaled ones (the redo
    // after an overflow, or no AVX512BW) take the general loop below.
    if (scaled) {
      const __m512i flip = _mm512_set1_epi32(int32_t(0x80808080u));
      const __m512i top0 = top_byte_index(0), top1 = top_byte_index(1),
                    top2 = top_byte_index(2), top3 = top_byte_index(3);
      auto byte = [](__m512i v, __m512i index) {
        return _mm512_cvtepi32_ps(_mm512_shuffle_epi8(v, index));
      };
      for (; t + 4 <= k1; t += 4)
#pragma GCC unroll 4
        for (int q = 0; q < NP; ++q) {
          prefetch(panel + q * stride + (t >> 2) * 64);
          const __m512i v = _mm512_xor_si512(word(q, t), flip);
          fma(q, t, byte(v, top0));
          fma(q, t + 1, byte(v, top1));
          fma(q, t + 2, byte(v, top2));
          fma(q, t + 3, byte(v, top3));
        }
    }
#endif
    for (; t + 4 <= k1; t += 4)
#pragma GCC unroll 4
      for (int q = 0; q < NP; ++q) {
        prefetch(panel + q * stride + (t >> 2) * 64);
        const __m512i v = word(q, t);
        fma(q, t, value(q, _mm512_and_si512(v, low)));
        fma(q, t + 1, value(q, _mm512_and_si512(_mm512_srli_epi32(v, 8), low)));
        fma(q, t + 2,
            value(q, _mm512_and_si512(_mm512_srli_epi32(v, 16), low)));
        fma(q, t + 3, value(q, _mm512_srli_epi32(v, 24)));
      }
    for (; t < k1; ++t)
#pragma GCC unroll 4
      for (int q = 0; q < NP; ++q)
        fma(q, t, one(q, t));
  } else {
    // "q4_n16_k8": k-octet u / 8 of panel q is one 64-byte line, channel
    // c's nibble of k = u at bit k8_shift(u) of its word c.
    auto line = [&](int q, int64_t u) {
      return _mm512_loadu_si512(panel + q * stride + (u >> 3) * 64);
    };
    auto nib = [&](__m512i v, int64_t u) { // k = u's values in a line
      const unsigned at = k8_shift(u);
      return at == 28 ? _mm512_srli_epi32(v, 28)
                      : _mm512_and_si512(_mm512_srli_epi32(v, at), nibble);
    };
    // The NP panels' lines of k-octet t / 8: each k takes its values from
    // them with a shift, panel after panel, so the NP chains' FMAs of one
    // k issue together (a panel's eight k in a row, each shift with the
    // line's load folded in, ran 35% slower than the two-k-a-byte layout:
    // one chain's dependent FMAs filled the scheduler).
    auto lines = [&](__m512i(&v)[NP], int64_t t) {
#pragma GCC unroll 4
      for (int q = 0; q < NP; ++q) {
        prefetch(panel + q * stride + (t >> 3) * 64);
        v[q] = line(q, t);
      }
    };
    for (; t < k1 && (t & 7); ++t)
#pragma GCC unroll 4
      for (int q = 0; q < NP; ++q)
        fma(q, t, value(q, nib(line(q, t), t)));
    // Symmetric weights (every zero point 8): u - 8 is one of 16 floats,
    // which vpermps looks up by the low four bits of each lane, so the
    // nibble needs no mask and no conversion (the same floats as value()):
    // a line's 128 values take its load, 7 shifts, 8 vpermps and the 8
    // FMAs (two k per byte in k order took 2 vpmovzxbd more, on vpermps's
    // port: 2026-12-04, one thread, panels in L1, 24 -> 28 G weights/s).
    if (all_equal[1]) {
      const __m512 table = _mm512_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1,
                                          2, 3, 4, 5, 6, 7);
      auto look = [&](__m512i v, unsigned at) {
        return _mm512_permutexvar_ps(at ? _mm512_srli_epi32(v, at) : v, table);
      };
      for (; t + 8 <= k1; t += 8) {
        __m512i v[NP];
        lines(v, t);
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j)
#pragma GCC unroll 4
          for (int q = 0; q < NP; ++q)
            fma(q, t + j, look(v[q], k8_shift(j)));
      }
    }
    for (; t + 8 <= k1; t += 8) {
      __m512i v[NP];
      lines(v, t);
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j)
#pragma GCC unroll 4
        for (int q = 0; q < NP; ++q)
          fma(q, t + j, value(q, nib(v[q], j)));
    }
    for (; t < k1; ++t)
#pragma GCC unroll 4
      for (int q = 0; q < NP; ++q)
        fma(q, t, value(q, nib(line(q, t), t)));
  }
  bool overflowed = false;
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q)
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      __m512 sum = a[q][r];
      if (scaled) {
        overflowed |= !all_finite(sum);
        sum = _mm512_mul_ps(sum, _mm512_set1_ps(kTopByteUnscale));
      }
      _mm512_storeu_ps(acc[q * acc_stride + r], sum);
    }
  if (overflowed) // rare: redo the rows whose scaled sums were not finite
    for (int q = 0; q < NP; ++q)
      for (int r = 0; r < R; ++r)
        if (!all_finite(_mm512_loadu_ps(acc[q * acc_stride + r])))
          group_dot_avx512<1, 1, Packed>(
              p, panel + q * stride, 0, Packed ? x + r : x + r * rs, k0, k1,
              z + q * kPanel, acc + q * acc_stride + r, false, 1, ldx);
}

/// Prefill: the values (u - z) of one group [k0, k1) of a panel as floats,
/// buf[(t - k0) * kPanel + c], unpacked once and then read by every row of
/// a tile (group_dot_avx512 unpacks them in registers again for every
/// call, of up to 16 rows).
/// Returns whether they are scaled, (u - 128) * 2^24, as group_dot_avx512
/// reads the panel (kTopByteScale; finish with unscale_rows).
inline bool unpack_group_avx512(const MatmulQuantParams &p,
                                const uint8_t *panel, int64_t k0, int64_t k1,
                                const float z[kPanel], float *buf) {
  const __m512 zv = _mm512_loadu_ps(z);
#if defined(__AVX512BW__)
  const bool scaled =
      p.bits == 8 && _mm512_cmpneq_ps_mask(zv, _mm512_set1_ps(128.0f)) == 0;
#else
  const bool scaled = false;
#endif
  const __m512 factor = _mm512_set1_ps(scaled ? kTopByteScale : 1.0f);
  auto put = [&](int64_t t, __m512 w) {
    _mm512_storeu_ps(buf + (t - k0) * kPanel, w);
  };
  // A k alone (a group's k before its first whole line or after its
  // last): its line shifted and masked (stored_bits).
  const __m512i mask = _mm512_set1_epi32(stored_bits(int(p.bits), 0).mask);
  auto one = [&](int64_t t) {
    const StoredBits at = stored_bits(int(p.bits), t);
    const __m512i v = _mm512_loadu_si512(panel + at.line);
    put(t,
        _mm512_mul_ps(_mm512_sub_ps(_mm512_cvtepi32_ps(_mm512_and_si512(
                                        _mm512_srli_epi32(v, at.shift), mask)),
                                    zv),
                      factor));
  };
  // Whole lines take their values as group_dot_avx512 does, with shifts
  // by constants (a shift by a register count is two operations), and
  // give the same floats: (u - z) exactly, times 2^24 where scaled.
  auto line = [&](int64_t t) {
    return _mm512_loadu_si512(panel + stored_bits(int(p.bits), t).line);
  };
  int64_t t = k0;
  if (p.bits == 8) {
    for (; t < k1 && (t & 3); ++t)
      one(t);
#if defined(__AVX512BW__)
    if (scaled) {
      // Each byte's top bit flipped (u - 128 as a signed byte) and moved
      // to the top of its 32-bit lane by vpshufb: (u - 128) * 2^24 after
      // vcvtdq2ps, with no shift and no subtraction.
      const __m512i flip = _mm512_set1_epi32(int32_t(0x80808080u));
      const __m512i top[4] = {top_byte_index(0), top_byte_index(1),
                              top_byte_index(2), top_byte_index(3)};
      for (; t + 4 <= k1; t += 4) {
        const __m512i v = _mm512_xor_si512(line(t), flip);
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j)
          put(t + j, _mm512_cvtepi32_ps(_mm512_shuffle_epi8(v, top[j])));
      }
    }
#endif
    const __m512i low = _mm512_set1_epi32(0xff);
    for (; t + 4 <= k1; t += 4) {
      const __m512i v = line(t);
      put(t, _mm512_sub_ps(_mm512_cvtepi32_ps(_mm512_and_si512(v, low)), zv));
      put(t + 1, _mm512_sub_ps(_mm512_cvtepi32_ps(_mm512_and_si512(
                                   _mm512_srli_epi32(v, 8), low)),
                               zv));
      put(t + 2, _mm512_sub_ps(_mm512_cvtepi32_ps(_mm512_and_si512(
                                   _mm512_srli_epi32(v, 16), low)),
                               zv));
      put(t + 3,
          _mm512_sub_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(v, 24)), zv));
    }
  } else {
    for (; t < k1 && (t & 7); ++t)
      one(t);
    // vpermps looks a nibble up by the low four bits of its lane: no mask
    // and no conversion. With every zero point 8 the table holds u - 8
    // itself, else u, less the zero points after.
    const bool symmetric = _mm512_cmpneq_ps_mask(zv, _mm512_set1_ps(8.0f)) == 0;
    const __m512 table = _mm512_sub_ps(
        _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_ps(symmetric ? 8.0f : 0.0f));
    for (; t + 8 <= k1; t += 8) {
      const __m512i v = line(t);
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) {
        const unsigned at = k8_shift(j);
        const __m512 w =
            _mm512_permutexvar_ps(at ? _mm512_srli_epi32(v, at) : v, table);
        put(t + j, symmetric ? w : _mm512_sub_ps(w, zv));
      }
    }
  }
  for (; t < k1; ++t)
    one(t);
  return scaled;
}

/// The sums of `rows` rows over a scaled unpacked group (acc[r], from
/// rows_dot_unpacked) back to the unscaled, as group_dot_avx512 finishes
/// them: times 2^-24 where all finite, else that row's group is summed
/// again from the packed panel, unscaled (the same bits as there).
inline void unscale_rows(const MatmulQuantParams &p, const uint8_t *panel,
                         const float *x, int64_t ldx, int64_t rows, int64_t k0,
                         int64_t k1, const float z[kPanel],
                         float (*acc)[kPanel]) {
  for (int64_t r = 0; r < rows; ++r) {
    const __m512 sum = _mm512_loadu_ps(acc[r]);
    if (all_finite(sum))
      _mm512_storeu_ps(acc[r],
                       _mm512_mul_ps(sum, _mm512_set1_ps(kTopByteUnscale)));
    else
      group_dot_avx512<1, 1>(p, panel, 0, x + r * ldx, k0, k1, z, acc + r,
                             false);
  }
}

/// AVX-512 prefill (rows_dot_unpacked): group_dot_avx512 for R rows over
/// NP (1 or 2) panels' unpacked values (panel q's group [k0, k1) at buf +
/// q * span; sums to acc[q * kUnpackedRows + r]): the same chain per row
/// and channel (k increasing) and the same final sum, so a row's result has
/// the same bits in a prefill tile as in a decode GEMV. R rows share each
/// weight vector, and with two panels each broadcast of x feeds both: at R
/// = 12, 2 weight loads and 12 broadcasts per 24 FMAs, the fp32 panels'
/// register tile (4 chains per row and panel, until 2026-12-03, left room
/// for 3 rows x 2 panels: 5 loads per 6 FMAs).
///
/// The rows come packed (panels::pack_rows' row tiles): row r's value at k
/// = t is x[t * ldx + r], ldx = panels::kMaxRows, so a k's R broadcasts
/// read consecutive floats from one pointer. Read from R row-major rows
/// (R pointers, each its own stream), the tile ran at 88% of the FMA peak
/// with its operands in cache and g++ spilled three of the row offsets to
/// the stack; packed, 94% (2026-12-05, Xeon, one thread).
template <int R, int NP>
inline void rows_dot_unpacked_fixed(const MatmulQuantParams &p,
                                    const float *buf, int64_t span,
                                    const float *x, int64_t ldx, int64_t k0,
                                    int64_t k1, float acc[][kPanel]) {
  __m512 a[NP][R];
#pragma GCC unroll 2
  for (int q = 0; q < NP; ++q)
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
      a[q][r] = _mm512_setzero_ps();
  // k = t's weights at wt (panel 0; panel q at wt + q * span) and its
  // activations at xt (row 0; row r at xt + r): the loop steps both
  // pointers, so each k costs no address arithmetic beyond its loads
  // (computed from t, the scalar work per k passed the core's issue width).
  auto fma = [&](const float *wt, const float *xt) {
    __m512 w[NP];
#pragma GCC unroll 2
    for (int q = 0; q < NP; ++q)
      w[q] = _mm512_loadu_ps(wt + q * span);
    // In registers (as rows_dot_unpacked_avx2's): g++ would fold the
    // load into every row's FMA, R x NP + R loads per R x NP FMAs
    // instead of NP + R, and AVX-512 cores load two 64-byte vectors a
    // cycle, so the loads bound the loop at two thirds of the FMA peak.
    if constexpr (NP == 2)
      asm("" : "+v"(w[0]), "+v"(w[1]));
    else
      asm("" : "+v"(w[0]));
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512 xv = _mm512_set1_ps(xt[r]);
#pragma GCC unroll 2
      for (int q = 0; q < NP; ++q)
        a[q][r] = _mm512_fmadd_ps(xv, w[q], a[q][r]);
    }
  };
  const float *wt = buf, *xt = x + k0 * ldx;
  for (int64_t t = k0; t < k1; ++t, wt += kPanel, xt += ldx)
    fma(wt, xt);
#pragma GCC unroll 2
  for (int q = 0; q < NP; ++q)
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
      _mm512_storeu_ps(acc[q * kUnpackedRows + r], a[q][r]);
}

/// Rows per call of rows_dot_unpacked_fixed over NP panels: 12 x 2 = 24
/// accumulators of the 32 zmm registers, and 12 with one panel.
template <int NP> constexpr int64_t kUnpackedRowsFor = 12;
#endif

#if defined(ANVIL_QUANT_AVX2)
/// 2^23: a float whose last mantissa bit is 1, so kMagic + u is the float
/// with the integer u (below 2^23) in its low mantissa bits.
constexpr float kMagic = 8388608.0f;

/// The stored values v (integers 0 .. 255 in 32-bit lanes) less their zero
/// points, given as zm = z + 2^23: (2^23 + v) - (2^23 + z) = v - z exactly,
/// the same float as cvt(v) - z, with an OR in place of vcvtdq2ps (one or
/// two of Zen's FP pipes; the OR runs on any vector pipe). Zero points are
/// integers (the models' zero points are integer tensors, plus the
/// packing's integer offset) below 2^22 in magnitude, so 2^23 + z is exact.
inline __m256 stored_less_zero(__m256i v, __m256 zm) {
  return _mm256_sub_ps(_mm256_castsi256_ps(_mm256_or_si256(
                           v, _mm256_castps_si256(_mm256_set1_ps(kMagic)))),
                       zm);
}

/// group_dot for R (1 or 2) rows of float activations over NP panels
/// (panel q at panel + q * stride, its zero points at z + q * kPanel, its
/// sums to acc[q * kRows + r]) with 8-lane vectors: a panel's 16 channels
/// are two halves, and each (half, row) has two chains, for even and odd
/// k, so a row's sums have the same bits for any R and NP (batch
/// invariance) and 8 FMAs are in flight for R = 2 or NP = 2 (16 ymm
/// registers leave no room for more chains). Row r of x starts at x + r *
/// ldx (0: p.k).
///
/// Symmetric panels (every zero point 128 with 8 bits, 8 with 4) are read
/// scaled unless `allow_scaled` is false: each value, its top bit flipped,
/// moved to the top of its 32-bit lane (a vpshufb, a shift or an AND) and
/// converted, (u - z) * 2^24 (kTopByteScale) or 2^28 (kTopNibbleScale), in
/// 3 operations per 8 weights where the general read takes 4-5 (shift,
/// mask, the OR into 2^23's mantissa, the subtraction). The sums are scaled
/// back at the end: the same bits (kTopByteScale explains why), a row
/// whose scaled sums are not all finite summed again unscaled.
template <int R, int NP = 1>
inline void group_dot_avx2(const MatmulQuantParams &p, const uint8_t *panel,
                           int64_t stride, const float *x, int64_t k0,
                           int64_t k1, const float *z, float (*acc)[kPanel],
                           int64_t ldx = 0, bool allow_scaled = true) {
  const int64_t rs = ldx ? ldx : p.k; // x's row stride
  __m256 a[NP][2][2][R];              // panel, half, chain (k parity), row
#pragma GCC unroll 2
  for (int q = 0; q < NP; ++q)
#pragma GCC unroll 4
    for (int h = 0; h < 2; ++h)
#pragma GCC unroll 4
      for (int j = 0; j < 2; ++j)
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r)
          a[q][h][j][r] = _mm256_setzero_ps();
  __m256 zm[NP][2]; // the zero points plus 2^23 (kMagic)
  const __m256 symmetricZero = _mm256_set1_ps(p.bits == 8 ? 128.0f : 8.0f);
  bool symmetric = true;
#pragma GCC unroll 2
  for (int q = 0; q < NP; ++q)
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m256 zq = _mm256_loadu_ps(z + q * kPanel + h * 8);
      symmetric &= _mm256_movemask_ps(
                       _mm256_cmp_ps(zq, symmetricZero, _CMP_NEQ_UQ)) == 0;
      zm[q][h] = _mm256_add_ps(zq, _mm256_set1_ps(kMagic));
    }
  const bool scaled = allow_scaled && symmetric;
  const float factor = !scaled       ? 1.0f
                       : p.bits == 8 ? kTopByteScale
                                     : kTopNibbleScale;
  // Chain j of (q, h) takes k = t, which has parity j. j is a constant at
  // every call (the loops step t by 2 or 4 from an even t), so the
  // accumulators stay in registers: indexed by t & 1 itself, g++ kept them
  // on the stack, a load and a store per FMA.
  auto fma_w = [&](auto j, int q, int h, int64_t t, __m256 w) {
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
      a[q][h][j][r] =
          _mm256_fmadd_ps(_mm256_set1_ps(x[r * rs + t]), w, a[q][h][j][r]);
  };
  auto fma_on = [&](auto j, int q, int h, int64_t t, __m256i v) {
    fma_w(j, q, h, t, stored_less_zero(v, zm[q][h]));
  };
  using Even = std::integral_constant<int, 0>;
  using Odd = std::integral_constant<int, 1>;
  // A lone k (a head or tail), on the chain of its parity, scaled as the
  // loop around it reads.
  auto fma = [&](int q, int h, int64_t t, __m256i v) {
    const __m256 w =
        _mm256_mul_ps(stored_less_zero(v, zm[q][h]), _mm256_set1_ps(factor));
    if (t & 1)
      fma_w(Odd(), q, h, t, w);
    else
      fma_w(Even(), q, h, t, w);
  };
  auto top = [](__m256i v) { return _mm256_cvtepi32_ps(v); };
  auto prefetch = [](const uint8_t *at) {
    _mm_prefetch(reinterpret_cast<const char *>(at + kPrefetchBytes),
                 _MM_HINT_T0);
  };
  int64_t t = k0;
  if (p.bits == 8) {
    // A 64-byte line holds k-quad t / 4 of the panel: channel c's four
    // bytes at 4c, so half h is the line's 32 bytes at 32h.
    const __m256i low = _mm256_set1_epi32(0xff);
    auto word = [&](int q, int h, int64_t u) {
      return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(
          panel + q * stride + (u >> 2) * 64 + h * 32));
    };
    auto byte = [&](__m256i v, int64_t u) { // the byte of k = u
      switch (u & 3) {
      case 0:
        return _mm256_and_si256(v, low);
      case 1:
        return _mm256_and_si256(_mm256_srli_epi32(v, 8), low);
      case 2:
        return _mm256_and_si256(_mm256_srli_epi32(v, 16), low);
      default:
        return _mm256_srli_epi32(v, 24);
      }
    };
    for (; t < k1; ++t) {
      if ((t & 3) == 0 && t + 4 <= k1)
        break;
#pragma GCC unroll 2
      for (int q = 0; q < NP; ++q)
#pragma GCC unroll 4
        for (int h = 0; h < 2; ++h)
          fma(q, h, t, byte(word(q, h, t), t));
    }
    if (scaled) {
      // Byte 0 to the top by a shift, byte 3 by a mask, bytes 1 and 2 by
      // vpshufb, each u - 128 once the word's top bits are flipped.
      const __m256i flip = _mm256_set1_epi32(int32_t(0x80808080u));
      const __m256i topByte = _mm256_set1_epi32(int32_t(0xff000000u));
      const __m256i top1 = top_byte_index(1), top2 = top_byte_index(2);
      for (; t + 4 <= k1; t += 4)
#pragma GCC unroll 2
        for (int q = 0; q < NP; ++q) {
          prefetch(panel + q * stride + (t >> 2) * 64);
#pragma GCC unroll 4
          for (int h = 0; h < 2; ++h) {
            const __m256i v = _mm256_xor_si256(word(q, h, t), flip);
            fma_w(Even(), q, h, t, top(_mm256_slli_epi32(v, 24)));
            fma_w(Odd(), q, h, t + 1, top(_mm256_shuffle_epi8(v, top1)));
            fma_w(Even(), q, h, t + 2, top(_mm256_shuffle_epi8(v, top2)));
            fma_w(Odd(), q, h, t + 3, top(_mm256_and_si256(v, topByte)));
          }
        }
    }
    for (; t + 4 <= k1; t += 4)
#pragma GCC unroll 2
      for (int q = 0; q < NP; ++q) {
        prefetch(panel + q * stride + (t >> 2) * 64);
#pragma GCC unroll 4
        for (int h = 0; h < 2; ++h) {
          const __m256i v = word(q, h, t);
          fma_on(Even(), q, h, t, _mm256_and_si256(v, low));
          fma_on(Odd(), q, h, t + 1,
                 _mm256_and_si256(_mm256_srli_epi32(v, 8), low));
          fma_on(Even(), q, h, t + 2,
                 _mm256_and_si256(_mm256_srli_epi32(v, 16), low));
          fma_on(Odd(), q, h, t + 3, _mm256_srli_epi32(v, 24));
        }
      }
    for (; t < k1; ++t)
#pragma GCC unroll 2
      for (int q = 0; q < NP; ++q)
#pragma GCC unroll 4
        for (int h = 0; h < 2; ++h)
          fma(q, h, t, byte(word(q, h, t), t));
  } else {
    // "q4_n16_k8": k-octet u / 8 of a panel is a 64-byte line, channel
    // c's word at 4c (its nibble of k = u at bit k8_shift(u)), so half h is
    // the line's 32 bytes at 32h.
    const __m256i nibble = _mm256_set1_epi32(0xf);
    auto word = [&](int q, int h, int64_t u) {
      return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(
          panel + q * stride + (u >> 3) * 64 + h * 32));
    };
    auto nib = [&](__m256i v, int64_t u) {
      const unsigned at = k8_shift(u);
      return at == 28 ? _mm256_srli_epi32(v, 28)
                      : _mm256_and_si256(_mm256_srli_epi32(v, at), nibble);
    };
    for (; t < k1 && (t & 7); ++t)
#pragma GCC unroll 2
      for (int q = 0; q < NP; ++q)
#pragma GCC unroll 4
        for (int h = 0; h < 2; ++h)
          fma(q, h, t, nib(word(q, h, t), t));
    if (scaled) {
      // Byte i of a word holds k + i (low nibble) and k + 4 + i (high).
      // With every nibble's top bit flipped (u - 8, signed), the high
      // nibbles masked in place (hi) and the low ones moved up to them
      // (lo), a k's value is one byte of either at the top of the lane:
      // k and k + 4 by a shift, k + 3 and k + 7 by a mask, the rest by
      // vpshufb.
      const __m256i flip = _mm256_set1_epi32(int32_t(0x88888888u));
      const __m256i highs = _mm256_set1_epi32(int32_t(0xf0f0f0f0u));
      const __m256i topNibble = _mm256_set1_epi32(int32_t(0xf0000000u));
      const __m256i top1 = top_byte_index(1), top2 = top_byte_index(2);
      for (; t + 8 <= k1; t += 8)
#pragma GCC unroll 2
        for (int q = 0; q < NP; ++q) {
          prefetch(panel + q * stride + (t >> 3) * 64);
#pragma GCC unroll 4
          for (int h = 0; h < 2; ++h) {
            const __m256i v = _mm256_xor_si256(word(q, h, t), flip);
            const __m256i lo = _mm256_and_si256(_mm256_slli_epi32(v, 4), highs);
            const __m256i hi = _mm256_and_si256(v, highs);
            fma_w(Even(), q, h, t, top(_mm256_slli_epi32(v, 28)));
            fma_w(Odd(), q, h, t + 1, top(_mm256_shuffle_epi8(lo, top1)));
            fma_w(Even(), q, h, t + 2, top(_mm256_shuffle_epi8(lo, top2)));
            fma_w(Odd(), q, h, t + 3, top(_mm256_and_si256(lo, topNibble)));
            fma_w(Even(), q, h, t + 4, top(_mm256_slli_epi32(hi, 24)));
            fma_w(Odd(), q, h, t + 5, top(_mm256_shuffle_epi8(hi, top1)));
            fma_w(Even(), q, h, t + 6, top(_mm256_shuffle_epi8(hi, top2)));
            fma_w(Odd(), q, h, t + 7, top(_mm256_and_si256(v, topNibble)));
          }
        }
    }
    for (; t + 8 <= k1; t += 8)
#pragma GCC unroll 2
      for (int q = 0; q < NP; ++q) {
        prefetch(panel + q * stride + (t >> 3) * 64);
#pragma GCC unroll 4
        for (int h = 0; h < 2; ++h) {
          const __m256i v = word(q, h, t);
          fma_on(Even(), q, h, t, nib(v, 0));
          fma_on(Odd(), q, h, t + 1, nib(v, 1));
          fma_on(Even(), q, h, t + 2, nib(v, 2));
          fma_on(Odd(), q, h, t + 3, nib(v, 3));
          fma_on(Even(), q, h, t + 4, nib(v, 4));
          fma_on(Odd(), q, h, t + 5, nib(v, 5));
          fma_on(Even(), q, h, t + 6, nib(v, 6));
          fma_on(Odd(), q, h, t + 7, nib(v, 7));
        }
      }
    for (; t < k1; ++t)
#pragma GCC unroll 2
      for (int q = 0; q < NP; ++q)
#pragma GCC unroll 4
        for (int h = 0; h < 2; ++h)
          fma(q, h, t, nib(word(q, h, t), t));
  }
  const __m256 unscale = _mm256_set1_ps(1.0f / factor);
  bool overflowed = false;
#pragma GCC unroll 2
  for (int q = 0; q < NP; ++q)
#pragma GCC unroll 4
    for (int h = 0; h < 2; ++h)
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        __m256 sum = _mm256_add_ps(a[q][h][0][r], a[q][h][1][r]);
        if (scaled) {
          overflowed |= !all_finite(sum);
          sum = _mm256_mul_ps(sum, unscale);
        }
        _mm256_storeu_ps(acc[q * kRows + r] + h * 8, sum);
      }
  if (overflowed) // rare: redo the rows whose scaled sums were not finite
    for (int q = 0; q < NP; ++q)
      for (int r = 0; r < R; ++r)
        if (!all_finite(_mm256_loadu_ps(acc[q * kRows + r])) ||
            !all_finite(_mm256_loadu_ps(acc[q * kRows + r] + 8)))
          group_dot_avx2<1, 1>(p, panel + q * stride, 0, x + r * rs, k0, k1,
                               z + q * kPanel, acc + q * kRows + r, rs, false);
}
#endif

#if defined(ANVIL_QUANT_AVX2)
/// Prefill on AVX2: the values (u - z) of one group [k0, k1) of a panel as
/// floats, buf[(t - k0) * kPanel + c], unpacked once per tile and then read
/// by every row of it (group_dot_avx2 converts each value again for every
/// one or two rows). The same floats group_dot_avx2 multiplies. Never
/// scaled (AVX2 has no top-byte path), so always returns false.
inline bool unpack_group_avx2(const MatmulQuantParams &p, const uint8_t *panel,
                              int64_t k0, int64_t k1, const float z[kPanel],
                              float *buf) {
  const __m256 magic = _mm256_set1_ps(kMagic);
  const __m256 z0 = _mm256_add_ps(_mm256_loadu_ps(z), magic),
               z1 = _mm256_add_ps(_mm256_loadu_ps(z + 8), magic);
  auto put = [&](int64_t t, __m256i v0, __m256i v1) {
    float *at = buf + (t - k0) * kPanel;
    _mm256_storeu_ps(at, stored_less_zero(v0, z0));
    _mm256_storeu_ps(at + 8, stored_less_zero(v1, z1));
  };
  // A k's 16 values: its line shifted and masked (stored_bits), half h
  // the line's 32 bytes at 32h.
  const __m256i mask = _mm256_set1_epi32(stored_bits(int(p.bits), 0).mask);
  for (int64_t t = k0; t < k1; ++t) {
    const StoredBits at = stored_bits(int(p.bits), t);
    const __m128i shift = _mm_cvtsi32_si128(int(at.shift));
    auto half = [&](int h) {
      return _mm256_and_si256(
          _mm256_srl_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(
                               panel + at.line + 32 * h)),
                           shift),
          mask);
    };
    put(t, half(0), half(1));
  }
  return false;
}

/// group_dot_avx2 for R rows over one panel's unpacked group (buf from
/// unpack_group_avx2; sums to acc[r]): the same chains, (half, k parity)
/// per row, each k on the chain group_dot_avx2 gives it, and the same final
/// sum, so a row's result has the same bits in a prefill tile as in a
/// decode GEMV. The two weight vectors of a k serve all R rows: 4R
/// accumulators, 2 weights and a broadcast of the 16 ymm registers.
template <int R>
inline void rows_dot_unpacked_avx2(const MatmulQuantParams &p, const float *buf,
                                   const float *x, int64_t ldx, int64_t k0,
                                   int64_t k1, float acc[][kPanel]) {
  const int64_t k = ldx; // x's row stride
  __m256 a[2][2][R];     // half, chain (k parity), row
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h)
#pragma GCC unroll 2
    for (int j = 0; j < 2; ++j)
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
        a[h][j][r] = _mm256_setzero_ps();
  auto fma = [&](int j, int64_t t) {
    __m256 w0 = _mm256_loadu_ps(buf + (t - k0) * kPanel);
    __m256 w1 = _mm256_loadu_ps(buf + (t - k0) * kPanel + 8);
    // In registers: g++ would fold the loads into each row's FMA, 3R + R
    // loads per 2R FMAs instead of 2 + R, and the loads bound the loop.
    asm("" : "+x"(w0), "+x"(w1));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 xv = _mm256_broadcast_ss(x + r * k + t);
      a[0][j][r] = _mm256_fmadd_ps(xv, w0, a[0][j][r]);
      a[1][j][r] = _mm256_fmadd_ps(xv, w1, a[1][j][r]);
    }
  };
  int64_t t = k0;
  if (t < k1 && (t & 1)) {
    fma(1, t);
    ++t;
  }
  for (; t + 2 <= k1; t += 2) {
    fma(0, t);
    fma(1, t + 1);
  }
  if (t < k1)
    fma(0, t);
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h)
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      _mm256_storeu_ps(acc[r] + h * 8, _mm256_add_ps(a[h][0][r], a[h][1][r]));
}

/// Rows per call of rows_dot_unpacked_avx2: 4 chains x 3 rows = 12
/// accumulators, with two weight vectors and a broadcast 15 ymm registers.
template <int NP> constexpr int64_t kUnpackedRowsFor = 3;

/// R rows over NP (1 or 2) panels' unpacked groups, for rows_dot_unpacked:
/// one panel at a time (16 registers hold one panel's chains).
template <int R, int NP>
inline void rows_dot_unpacked_fixed(const MatmulQuantParams &p,
                                    const float *buf, int64_t span,
                                    const float *x, int64_t ldx, int64_t k0,
                                    int64_t k1, float acc[][kPanel]) {
#pragma GCC unroll 2
  for (int q = 0; q < NP; ++q)
    rows_dot_unpacked_avx2<R>(p, buf + q * span, x, ldx, k0, k1,
                              acc + q * kUnpackedRows);
}
#endif

#if defined(__AVX512F__) || defined(ANVIL_QUANT_AVX2)
/// The next smaller row count rows_dot_unpacked has a register tile for:
/// 12, 8, 4, 3, 2, 1 (fewer instances than every count; a tile's last
/// rows take two calls at most).
constexpr int kUnpackedRowsBelow(int r) {
  return r > 8 ? 8 : r > 4 ? 4 : r - 1;
}

/// Up to R of `rows` (at least 1) rows of x over NP (1 or 2) panels'
/// unpacked groups (panel q's at buf + q * span, its sums to acc[q *
/// kUnpackedRows + r]), through the ISA's rows_dot_unpacked_fixed with a
/// constant row count (the accumulators stay in registers). Returns the
/// rows it took: the largest tile of at most `rows`. x and ldx as the
/// ISA's kernel reads them: on AVX-512 a packed row tile (row r at k = t
/// in x[t * ldx + r]; the rows must lie in one tile), with AVX2 row-major
/// rows (x[r * ldx + t]).
template <int NP, int R = int(kUnpackedRowsFor<NP>)>
inline int64_t rows_dot_unpacked(const MatmulQuantParams &p, const float *buf,
                                 int64_t span, const float *x, int64_t ldx,
                                 int64_t rows, int64_t k0, int64_t k1,
                                 float acc[][kPanel]) {
  if constexpr (R > 1) {
    if (rows < R)
      return rows_dot_unpacked<NP, kUnpackedRowsBelow(R)>(p, buf, span, x, ldx,
                                                          rows, k0, k1, acc);
  }
  rows_dot_unpacked_fixed<R, NP>(p, buf, span, x, ldx, k0, k1, acc);
  return R;
}

/// Prefill: one group of a panel unpacked to floats once per tile
/// (unpack_group_avx512 or unpack_group_avx2); returns whether the values
/// are scaled (kTopByteScale, AVX-512 only: finish with unscale_rows).
inline bool unpack_group(const MatmulQuantParams &p, const uint8_t *panel,
                         int64_t k0, int64_t k1, const float z[kPanel],
                         float *buf) {
#if defined(__AVX512F__)
  return unpack_group_avx512(p, panel, k0, k1, z, buf);
#else
  return unpack_group_avx2(p, panel, k0, k1, z, buf);
#endif
}
#endif

#if defined(__AVX512F__)
/// The element offsets of a panel's 16 channels' scales (channel c at c *
/// scale_n_stride from the first), for a masked gather of one group's.
inline __m512i scale_gather_index(const MatmulQuantParams &p) {
  return _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      _mm512_set1_epi32(static_cast<int32_t>(p.scale_n_stride)));
}

/// One group's f32 scales of a panel's channels: channel c (lane c, for
/// the lanes set in `lanes`; 0 in the others) at base + c *
/// scale_n_stride, `index` from scale_gather_index. One masked load where
/// the channels' scales are adjacent (scale_n_stride 1: the CPU target's
/// weight packing stores group-wise scales [groups, n], WeightPacking.cpp),
/// else a gather. vgatherdps is microcoded on AMD Zen 4: the int4 bf16
/// decode GEMV (1024 x 1024, group 128, one thread, weights in L2) ran 19-40%
/// faster with the load (2026-12-07).
inline __m512 load_panel_scales(const MatmulQuantParams &p, __m512i index,
                                __mmask16 lanes, const float *base) {
  if (p.scale_n_stride == 1)
    return _mm512_maskz_loadu_ps(lanes, base);
  return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), lanes, index, base, 4);
}

/// The decode GEMV of symmetric 4-bit groups (every zero point 8, f32
/// scales) over NP panels from `panel` (stride apart), all groups in one
/// loop: out[c] of panel q = sum_g s(c, g) * sum_{k in g} x[k] (u(c, k) -
/// 8), the group sums from group_dot_avx512<1, NP> and the general path's
/// update, so the same bits. That update, result += s * acc, is one FMA
/// there (the contraction gemv_int4_symmetric_avx2 explains), so it is an
/// explicit one here rather than a product and a sum left for g++ to fuse.
/// Keeping the results and the scale loads (load_panel_scales) in
/// registers saves the general path's per-group parameter reads (params)
/// and scalar update. `cols[q]` channels of panel q are real; scales of
/// channel c of panel q at scale + q * scale_stride + c * n_stride + g *
/// g_stride. Flattened: g++ called group_dot_avx512 once per group, its
/// setup, final sums and the caller's spills around each call about 7% of
/// the loop (one thread, the panels in L2: 24.8 -> 26.5 G weights/s).
template <int NP>
__attribute__((flatten)) inline void
gemv_int4_symmetric_avx512(const MatmulQuantParams &p, const uint8_t *panel,
                           int64_t stride, const float *x, const float *scale,
                           int64_t scale_stride, const int64_t *cols,
                           float *result) {
  const int64_t k = p.k, group = p.group;
  const __m512i index = scale_gather_index(p);
  float z[NP * kPanel];
  for (float &v : z)
    v = 8.0f;
  __m512 res[NP];
  __mmask16 lanes[NP];
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q) {
    res[q] = _mm512_setzero_ps();
    lanes[q] = __mmask16((1u << cols[q]) - 1u);
  }
  for (int64_t k0 = 0, g = 0; k0 < k; k0 += group, ++g) {
    float acc[NP][kPanel];
    group_dot_avx512<1, NP>(p, panel, stride, x, k0, std::min(k, k0 + group), z,
                            acc);
#pragma GCC unroll 4
    for (int q = 0; q < NP; ++q) {
      const __m512 s = load_panel_scales(
          p, index, lanes[q], scale + q * scale_stride + g * p.scale_g_stride);
      res[q] = _mm512_fmadd_ps(s, _mm512_loadu_ps(acc[q]), res[q]);
    }
  }
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q)
    _mm512_storeu_ps(result + q * kPanel, res[q]);
}
#endif

#if defined(ANVIL_QUANT_AVX2)
/// The f32 scales of a decode GEMV item's NP panels on AVX2, group by
/// group: channel c of panel q in group g at scale + q * scale_stride + c *
/// n_stride + g * g_stride, one masked load or gather per half panel (`cols[q]`
/// channels of panel q are real; the others read as 0) instead of the
/// general path's strided scalar reads, which missed the cache every
/// group. Construction asks for the next item's scales (kPanel channels on
/// from these: with scales [n, groups] a panel's are kPanel x n_stride
/// contiguous floats, with [groups, n] (n_stride 1, as the CPU target
/// stores them) one line a group, g_stride apart), which the loads would
/// otherwise wait for.
template <int NP> struct GemvScalesAvx2 {
  GemvScalesAvx2(const MatmulQuantParams &p, const float *scale,
                 int64_t scale_stride, const int64_t *cols)
      : scale(scale), scale_stride(scale_stride), n_stride(p.scale_n_stride),
        g_stride(p.scale_g_stride) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    index = _mm256_mullo_epi32(lane, _mm256_set1_epi32(int32_t(n_stride)));
    const bool rows = n_stride == 1;
    const int64_t groups = p.group > 0 ? (p.k + p.group - 1) / p.group : 1;
    const int64_t lines =
        rows ? groups : (kPanel * n_stride * int64_t(sizeof(float)) + 63) / 64;
    const int64_t lineStride = rows ? g_stride : 64 / int64_t(sizeof(float));
#pragma GCC unroll 4
    for (int q = 0; q < NP; ++q) {
      const float *next = scale + q * scale_stride + kPanel * n_stride;
      for (int64_t l = 0; l < lines; ++l)
        _mm_prefetch(reinterpret_cast<const char *>(next + l * lineStride),
                     _MM_HINT_T0);
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h)
        mask[q][h] = _mm256_castsi256_ps(_mm256_cmpgt_epi32(
            _mm256_set1_epi32(int32_t(cols[q] - 8 * h)), lane));
    }
  }
  /// Channels 8h .. 8h + 7 of panel q in group g.
  /// One masked load where they are adjacent (n_stride 1, as the CPU
  /// target stores group-wise scales), else a gather.
  __m256 of(int q, int h, int64_t g) const {
    const float *base =
        scale + q * scale_stride + (8 * h) * n_stride + g * g_stride;
    if (n_stride == 1)
      return _mm256_maskload_ps(base, _mm256_castps_si256(mask[q][h]));
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), base, index,
                                    mask[q][h], 4);
  }
  const float *scale;
  int64_t scale_stride, n_stride, g_stride;
  __m256i index;
  __m256 mask[NP][2]; // the real channels' lanes
};

/// gemv_int4_symmetric_avx512 on AVX2: the decode GEMV of symmetric 4-bit
/// groups (every zero point 8, f32 scales) over NP panels, all groups in
/// one loop, the group sums from group_dot_avx2<1, NP> and the general
/// path's update, so the same bits. That update, result += s * acc, is one
/// FMA: g++ contracts it (the kernel headers build under C++'s default
/// -ffp-contract=fast; the generated code turns contraction off only after
/// them, docs/folding.md); written as a product and a sum here, g++
/// fused three of four and a row's decode differed from its prefill. The
/// scales: GemvScalesAvx2. Flattened, as the AVX-512 one is: group_dot_avx2
/// inlined into the group loop (one thread, k x n = 1024 x 2816: 1.05x).
template <int NP>
__attribute__((flatten)) inline void
gemv_int4_symmetric_avx2(const MatmulQuantParams &p, const uint8_t *panel,
                         int64_t stride, const float *x, const float *scale,
                         int64_t scale_stride, const int64_t *cols,
                         float *result) {
  const int64_t k = p.k, group = p.group;
  const GemvScalesAvx2<NP> scales(p, scale, scale_stride, cols);
  float z[NP * kPanel];
  for (float &v : z)
    v = 8.0f;
  __m256 res[NP][2];
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q)
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h)
      res[q][h] = _mm256_setzero_ps();
  for (int64_t k0 = 0, g = 0; k0 < k; k0 += group, ++g) {
    float acc[NP * kRows][kPanel];
    group_dot_avx2<1, NP>(p, panel, stride, x, k0, std::min(k, k0 + group), z,
                          acc);
#pragma GCC unroll 4
    for (int q = 0; q < NP; ++q)
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h)
        res[q][h] =
            _mm256_fmadd_ps(scales.of(q, h, g),
                            _mm256_loadu_ps(acc[q * kRows] + 8 * h), res[q][h]);
  }
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q)
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h)
      _mm256_storeu_ps(result + q * kPanel + 8 * h, res[q][h]);
}
#endif

/// One group of one panel for `rows` (1 .. kFewRows) rows, the decode
/// path's chains whatever the row count: acc[r][c] = sum_k x[r][k] *
/// (u(c, k) - z[c]) over [k0, k1), in float. The zero point comes off each
/// value (exact: small integers) before the product, so a sum that
/// cancels loses no more than the dequantized weights' matmul would. Row r
/// of lhs starts at lhs + r * ldx (0: p.k).
template <class A>
inline void group_dot(const MatmulQuantParams &p, const uint8_t *panel,
                      const A *lhs, int64_t rows, int64_t k0, int64_t k1,
                      const float z[kPanel], float (*acc)[kPanel],
                      int64_t ldx = 0) {
  const int64_t rs = ldx ? ldx : p.k; // lhs's row stride
#if defined(ANVIL_QUANT_AVX2)
  if (std::is_same<A, float>::value) {
    const float *x = reinterpret_cast<const float *>(lhs);
    for (int64_t r = 0; r < rows; r += 2) {
      if (rows - r >= 2)
        group_dot_avx2<2>(p, panel, 0, x + r * rs, k0, k1, z, acc + r, rs);
      else
        group_dot_avx2<1>(p, panel, 0, x + r * rs, k0, k1, z, acc + r, rs);
    }
    return;
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
      const float xv = static_cast<float>(lhs[r * rs + t]);
      for (int64_t c = 0; c < kPanel; ++c)
        acc[r][c] += xv * w[c];
    }
  }
}

#if defined(__AVX512F__)
/// Panels per group_dot_avx512 call of few_rows_sums_avx512 for R rows,
/// where the tile has that many left: 4 for 4 rows or fewer, 2 for 5, so
/// that more chains than R alone run at once (a chain waits 4 cycles for
/// its last FMA, and two FMAs issue a cycle); 6 rows and more, one.
template <int R> constexpr int kFewRowsPanels = R <= 4 ? 4 : R <= 5 ? 2 : 1;

/// Rows per packed tile of the small-batch path: its largest call's.
constexpr int kFewPackedRows = 16;
static_assert(kTileRows % kFewPackedRows == 0,
              "small-batch tiles start at a packed tile");

/// The row counts few_rows_sums_avx512 has a call for: 1-8, 12 and 16.
constexpr int64_t few_rows_call(int64_t rows) {
  return rows >= 16 ? 16 : rows >= 12 ? 12 : rows >= 8 ? 8 : rows;
}

/// tile_group_sums for float activations on AVX-512: group_dot_avx512 over
/// as many rows at once as its registers hold. A weight vector unpacked in
/// registers (a vpermps per 16 int4 weights and the nibble extraction, on
/// the ports the FMAs use) then feeds up to 16 rows, so FMAs take r / (r +
/// 2) of those ports' cycles (six rows a call, with four chains a row
/// until 2026-12-03, took three quarters); few rows take several panels a
/// call (kFewRowsPanels). Row counts go 16, 12, 8, then the rest in one
/// call (few_rows_call). x holds the rows packed in tiles of
/// kFewPackedRows (panels::pack_rows<kFewPackedRows>), `tile` floats
/// apart: row r's value at k = t is x[(r / kFewPackedRows) * tile + t *
/// kFewPackedRows + r % kFewPackedRows] (a call's rows lie in one tile:
/// calls of 16 rows start at a multiple of 16, the smaller ones take what
/// is left of it).
inline void few_rows_sums_avx512(const MatmulQuantParams &p,
                                 const uint8_t *panel, int64_t stride,
                                 int64_t np, const float *x, int64_t tile,
                                 int64_t rows, int64_t k0, int64_t k1,
                                 const float (*z)[kPanel],
                                 float (*acc)[kPanel]) {
  // Rows [i, i + R) of every panel: kFewRowsPanels<R> panels a call, the
  // last ones (or a narrow tile's) 2 and then 1 at a time.
  auto rowsOf = [&](auto rowCount, int64_t i) {
    constexpr int R = decltype(rowCount)::value;
    constexpr int NP = kFewRowsPanels<R>;
    int64_t q = 0;
    auto call = [&](auto panelCount) {
      constexpr int N = decltype(panelCount)::value;
      group_dot_avx512<R, N, kFewPackedRows>(
          p, panel + q * stride, stride,
          x + (i / kFewPackedRows) * tile + i % kFewPackedRows, k0, k1, z[q],
          acc + q * kTileRows + i, true, kTileRows);
      q += N;
    };
    if constexpr (NP >= 4)
      while (q + 4 <= np)
        call(std::integral_constant<int, 4>());
    if constexpr (NP >= 2)
      while (q + 2 <= np)
        call(std::integral_constant<int, 2>());
    while (q < np)
      call(std::integral_constant<int, 1>());
  };
  for (int64_t i = 0; i < rows;) {
    const int64_t r = few_rows_call(rows - i);
    switch (r) {
#define ANVIL_FEW_ROWS_CASE(R)                                                 \
  case R:                                                                      \
    rowsOf(std::integral_constant<int, R>(), i);                               \
    break;
      ANVIL_FEW_ROWS_CASE(1)
      ANVIL_FEW_ROWS_CASE(2)
      ANVIL_FEW_ROWS_CASE(3)
      ANVIL_FEW_ROWS_CASE(4)
      ANVIL_FEW_ROWS_CASE(5)
      ANVIL_FEW_ROWS_CASE(6)
      ANVIL_FEW_ROWS_CASE(7)
      ANVIL_FEW_ROWS_CASE(8)
      ANVIL_FEW_ROWS_CASE(12)
      ANVIL_FEW_ROWS_CASE(16)
#undef ANVIL_FEW_ROWS_CASE
    }
    i += r;
  }
}
#endif

/// The group sums of one group [k0, k1) for a small-batch tile: `rows` (1
/// .. kTileRows) rows of lhs over np (1 .. kFewPanels) panels (panel q at
/// panel + q * stride, its zero points z[q]), panel q's row r to acc[q *
/// kTileRows + r]. Row r of lhs starts at lhs + r * ldx; float rows on
/// AVX-512 come packed instead, as few_rows_sums_avx512 reads them (ldx the
/// floats per packed tile). The same sums, bit for bit, as the decode
/// GEMV's and the prefill tile's for each row.
template <class A>
inline void tile_group_sums(const MatmulQuantParams &p, const uint8_t *panel,
                            int64_t stride, int64_t np, const A *lhs,
                            int64_t ldx, int64_t rows, int64_t k0, int64_t k1,
                            const float (*z)[kPanel], float (*acc)[kPanel]) {
#if defined(__AVX512F__)
  if constexpr (std::is_same<A, float>::value) {
    few_rows_sums_avx512(p, panel, stride, np, lhs, ldx, rows, k0, k1, z, acc);
    return;
  }
#endif
  for (int64_t q = 0; q < np; ++q)
    for (int64_t i = 0; i < rows; i += kFewRows)
      group_dot(p, panel + q * stride, lhs + i * ldx,
                std::min(kFewRows, rows - i), k0, k1, z[q],
                acc + q * kTileRows + i, ldx);
}

/// max(m, max |x[t]| for t in [t0, k)), NaNs skipped: quantize_row_int8's
/// scalar scan (its portable path and the SIMD paths' tails).
template <class A>
inline float max_abs(const A *x, int64_t t0, int64_t k, float m) {
  for (int64_t t = t0; t < k; ++t) {
    const float v = std::fabs(static_cast<float>(x[t]));
    m = v > m ? v : m;
  }
  return m;
}

/// q[t] = x[t] / scale rounded half to even, clamped to +-127, for t in
/// [t0, k); returns their sum: quantize_row_int8's scalar steps.
template <class A>
inline int32_t quantize_values(const A *x, int64_t t0, int64_t k, float scale,
                               int8_t *q) {
  int32_t s = 0;
  for (int64_t t = t0; t < k; ++t) {
    float v = std::nearbyint(static_cast<float>(x[t]) / scale);
    v = v < -127.0f ? -127.0f : (v > 127.0f ? 127.0f : v);
    q[t] = static_cast<int8_t>(v);
    s += q[t];
  }
  return s;
}

/// One row of activations x [k] as per-token symmetric int8
/// (anvil.quantize_per_token's formula: scale max|x| / 127, or 1 for an
/// all-zero row; q = x / scale rounded half to even, clamped to +-127),
/// with the scale and the sum of the q. The AVX-512 path gives the scalar
/// one's bytes (IEEE division, round to nearest even): where the scale is a
/// normal float it multiplies by r = 1 / scale instead, whose product y
/// lies within 2^-15 of the rounded quotient (|x / scale| <= 127 (1 +
/// 2^-24): r and y each add a relative 2^-24, the quotient's rounding
/// 2^-18), so round(y) is the quotient's rounding wherever y is further
/// than that from a half-integer; the lanes within 2^-12 of one divide.
/// (vdivps was most of this loop's time: 3% of a 16-sequence W8A8 decode
/// step.)
template <class A>
inline void quantize_row_int8(const A *x, int64_t k, int8_t *q, float &scale,
                              int32_t &sum) {
#if defined(__AVX512F__)
  if constexpr (std::is_same<A, float>::value) {
    __m512 amax = _mm512_setzero_ps();
    int64_t t = 0;
    for (; t + 16 <= k; t += 16) // max(|x|, amax): a NaN keeps amax
      amax = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + t)), amax);
    float m = _mm512_reduce_max_ps(amax);
    m = max_abs(x, t, k, m);
    scale = m > 0 ? m / 127.0f : 1.0f;
    const __m512 sv = _mm512_set1_ps(scale);
    const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
    constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    // A subnormal scale's reciprocal may overflow; an infinite one's is 0.
    const bool reciprocal = std::isnormal(scale);
    const __m512 rv = _mm512_set1_ps(1.0f / scale);
    const __m512 half = _mm512_set1_ps(0.5f),
                 nearTie = _mm512_set1_ps(0x1p-12f);
    __m512i total = _mm512_setzero_si512();
    for (t = 0; t + 16 <= k; t += 16) {
      const __m512 xv = _mm512_loadu_ps(x + t);
      __m512 v;
      if (reciprocal) {
        const __m512 y = _mm512_mul_ps(xv, rv);
        v = _mm512_roundscale_ps(y, kNearest);
        // ||y - v| - 1/2| < 2^-12 (never for NaN): divide those lanes.
        const __mmask16 near =
            _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(
                                   _mm512_abs_ps(_mm512_sub_ps(y, v)), half)),
                               nearTie, _CMP_LT_OQ);
        if (near)
          v = _mm512_mask_roundscale_ps(v, near, _mm512_div_ps(xv, sv),
                                        kNearest);
      } else {
        v = _mm512_roundscale_ps(_mm512_div_ps(xv, sv), kNearest);
      }
      const __m512i i32 =
          _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(v, lo), hi));
      total = _mm512_add_epi32(total, i32);
      _mm_storeu_si128(reinterpret_cast<__m128i *>(q + t),
                       _mm512_cvtepi32_epi8(i32));
    }
    sum = _mm512_reduce_add_epi32(total) + quantize_values(x, t, k, scale, q);
    return;
  }
#elif defined(ANVIL_QUANT_AVX2)
  if constexpr (std::is_same<A, float>::value) {
    // The AVX-512 path's steps 8 lanes at a time, so the same bytes (on
    // AVX2 this row ran scalar, a division per value: with one thread
    // quantizing a decode step's row, about 7% of a W4A8 decode step).
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 amax = _mm256_setzero_ps();
    int64_t t = 0;
    for (; t + 8 <= k; t += 8) // max(|x|, amax): a NaN keeps amax
      amax =
          _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + t), magnitude), amax);
    __m128 half_max = _mm_max_ps(_mm256_castps256_ps128(amax),
                                 _mm256_extractf128_ps(amax, 1));
    half_max = _mm_max_ps(half_max, _mm_movehl_ps(half_max, half_max));
    half_max = _mm_max_ss(half_max, _mm_movehdup_ps(half_max));
    float m = _mm_cvtss_f32(half_max);
    m = max_abs(x, t, k, m);
    scale = m > 0 ? m / 127.0f : 1.0f;
    const __m256 sv = _mm256_set1_ps(scale);
    const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
    constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    const bool reciprocal = std::isnormal(scale);
    const __m256 rv = _mm256_set1_ps(1.0f / scale);
    const __m256 half = _mm256_set1_ps(0.5f),
                 nearTie = _mm256_set1_ps(0x1p-12f);
    // 8 values as int32 in [-127, 127] (a NaN as -127).
    auto quantize8 = [&](const float *at) {
      const __m256 xv = _mm256_loadu_ps(at);
      __m256 v;
      if (reciprocal) {
        const __m256 y = _mm256_mul_ps(xv, rv);
        v = _mm256_round_ps(y, kNearest);
        const __m256 near = _mm256_cmp_ps(
            _mm256_and_ps(
                _mm256_sub_ps(_mm256_and_ps(_mm256_sub_ps(y, v), magnitude),
                              half),
                magnitude),
            nearTie, _CMP_LT_OQ);
        if (_mm256_movemask_ps(near))
          v = _mm256_blendv_ps(
              v, _mm256_round_ps(_mm256_div_ps(xv, sv), kNearest), near);
      } else {
        v = _mm256_round_ps(_mm256_div_ps(xv, sv), kNearest);
      }
      return _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, lo), hi));
    };
    __m256i total = _mm256_setzero_si256();
    // 32 values a step, packed to bytes in order: the two packs leave
    // 4-byte runs in the order 0, 2, 4, 6, 1, 3, 5, 7.
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (t = 0; t + 32 <= k; t += 32) {
      const __m256i a = quantize8(x + t), b = quantize8(x + t + 8),
                    c = quantize8(x + t + 16), d = quantize8(x + t + 24);
      total = _mm256_add_epi32(total, _mm256_add_epi32(_mm256_add_epi32(a, b),
                                                       _mm256_add_epi32(c, d)));
      const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(a, b),
                                               _mm256_packs_epi32(c, d));
      _mm256_storeu_si256(reinterpret_cast<__m256i *>(q + t),
                          _mm256_permutevar8x32_epi32(bytes, order));
    }
    for (; t + 8 <= k; t += 8) {
      const __m256i a = quantize8(x + t);
      total = _mm256_add_epi32(total, a);
      const __m256i bytes =
          _mm256_packs_epi16(_mm256_packs_epi32(a, a), _mm256_setzero_si256());
      _mm_storel_epi64(reinterpret_cast<__m128i *>(q + t),
                       _mm_unpacklo_epi32(_mm256_castsi256_si128(bytes),
                                          _mm256_extracti128_si256(bytes, 1)));
    }
    __m128i sum4 = _mm_add_epi32(_mm256_castsi256_si128(total),
                                 _mm256_extracti128_si256(total, 1));
    sum4 = _mm_add_epi32(sum4, _mm_shuffle_epi32(sum4, 0x4e));
    sum4 = _mm_add_epi32(sum4, _mm_shuffle_epi32(sum4, 0xb1));
    sum = _mm_cvtsi128_si32(sum4) + quantize_values(x, t, k, scale, q);
    return;
  }
#endif
  const float m = max_abs(x, 0, k, 0.0f);
  scale = m > 0 ? m / 127.0f : 1.0f;
  sum = quantize_values(x, 0, k, scale, q);
}

/// The sum of n int8 values (W4A8's per-group activation sums). On AVX2
/// 32 at a time: each byte flipped to unsigned (v + 128) and summed by
/// vpsadbw, the 128s taken off at the end; exact.
inline int32_t sum_int8(const int8_t *q, int64_t n) {
  int64_t t = 0;
  int32_t sum = 0;
#if defined(__AVX2__)
  const __m256i flip = _mm256_set1_epi8(-128);
  __m256i acc = _mm256_setzero_si256();
  for (; t + 32 <= n; t += 32)
    acc = _mm256_add_epi64(
        acc, _mm256_sad_epu8(
                 _mm256_xor_si256(_mm256_loadu_si256(
                                      reinterpret_cast<const __m256i *>(q + t)),
                                  flip),
                 _mm256_setzero_si256()));
  const __m128i half = _mm_add_epi64(_mm256_castsi256_si128(acc),
                                     _mm256_extracti128_si256(acc, 1));
  sum = int32_t(
      _mm_cvtsi128_si64(_mm_add_epi64(half, _mm_unpackhi_epi64(half, half))) -
      128 * t);
#endif
  for (; t < n; ++t)
    sum += q[t];
  return sum;
}

/// One row of activations x [k] quantized as ONNX QuantizeLinear does with
/// one static scale and zero point (anvil.quantize's kernel: q =
/// saturate(round_half_even(x / scale) + zero_point), NaN to the lowest
/// value) into 8 bits, uint8 when `is_unsigned`, stored as the signed byte
/// q - offset (offset 128 for uint8, else 0) for vpdpbusd; `sum` is the sum
/// of those bytes. The AVX-512 path divides, rounds and saturates as the
/// scalar one does, so both give the same bytes.
inline void quantize_row_static(const float *x, int64_t k, float scale,
                                int64_t zero_point, bool is_unsigned, int8_t *q,
                                int32_t &sum) {
  const int32_t offset = is_unsigned ? 128 : 0;
  const float lo = is_unsigned ? 0.0f : -128.0f;
  const float hi = is_unsigned ? 255.0f : 127.0f;
  const float z = static_cast<float>(zero_point);
  int64_t t = 0;
  int32_t s = 0;
#if defined(__AVX512F__)
  const __m512 sv = _mm512_set1_ps(scale), zv = _mm512_set1_ps(z);
  const __m512 lov = _mm512_set1_ps(lo), hiv = _mm512_set1_ps(hi);
  const __m512i ov = _mm512_set1_epi32(offset);
  __m512i total = _mm512_setzero_si512();
  for (; t + 16 <= k; t += 16) {
    const __m512 rounded =
        _mm512_roundscale_ps(_mm512_div_ps(_mm512_loadu_ps(x + t), sv),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    // max(v, lo) is lo for a NaN v (the second operand), as saturate_round.
    const __m512 v =
        _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(rounded, zv), lov), hiv);
    const __m512i i8 = _mm512_sub_epi32(_mm512_cvtps_epi32(v), ov);
    total = _mm512_add_epi32(total, i8);
    _mm_storeu_si128(reinterpret_cast<__m128i *>(q + t),
                     _mm512_cvtepi32_epi8(i8));
  }
  s = _mm512_reduce_add_epi32(total);
#endif
  for (; t < k; ++t) {
    const float v = std::nearbyint(x[t] / scale) + z;
    const float c = !(v >= lo) ? lo : (v > hi ? hi : v);
    q[t] = static_cast<int8_t>(static_cast<int32_t>(c) - offset);
    s += q[t];
  }
  sum = s;
}

#if defined(ANVIL_QUANT_AVX2)
/// rows_dot_int8_fixed without vpdpbusd, for RR rows of NP panels (RR x
/// NP <= 2; panel j at panel0 + j * stride, its sums into acc[r][j0 + j]):
/// the bytes widened to int16 and vpmaddwd, exact (a product is below 2^15
/// in magnitude, a pair's sum below 2^31). Quarter u of a k-quad's 64-byte
/// line is channels 4u .. 4u + 3, four k each; vpmaddwd leaves each
/// channel's sum in two lanes, added at the end. Two rows share the
/// widened weights; one row takes two panels at once (a decode GEMV's two
/// read streams). 8 accumulators either way.
template <int RR, int NP = 1, int AN>
inline void rows_dot_int8_avx2(const uint8_t *panel0, int64_t stride,
                               const int8_t *xq, int64_t ks,
                               int32_t (*acc)[AN][kPanel], int j0,
                               bool prefetch) {
  static_assert(RR * NP <= 2, "8 accumulators");
  __m256i a[RR][NP][4];
#pragma GCC unroll 4
  for (int r = 0; r < RR; ++r)
#pragma GCC unroll 2
    for (int j = 0; j < NP; ++j)
#pragma GCC unroll 4
      for (int u = 0; u < 4; ++u)
        a[r][j][u] = _mm256_setzero_si256();
  for (int64_t t = 0; t < ks; t += 4) {
    __m256i x[RR];
#pragma GCC unroll 4
    for (int r = 0; r < RR; ++r) {
      int32_t x4;
      std::memcpy(&x4, xq + r * ks + t, 4);
      x[r] = _mm256_broadcastq_epi64(_mm_cvtepi8_epi16(_mm_cvtsi32_si128(x4)));
    }
#pragma GCC unroll 2
    for (int j = 0; j < NP; ++j) {
      const uint8_t *line = panel0 + j * stride + t * kPanel;
      if (prefetch) // a decode GEMV streams its panels
        _mm_prefetch(reinterpret_cast<const char *>(line + kPrefetchBytes),
                     _MM_HINT_T0);
      __m256i w[4];
#pragma GCC unroll 4
      for (int u = 0; u < 4; ++u)
        w[u] = _mm256_cvtepu8_epi16(
            _mm_loadu_si128(reinterpret_cast<const __m128i *>(line + 16 * u)));
#pragma GCC unroll 4
      for (int r = 0; r < RR; ++r)
#pragma GCC unroll 4
        for (int u = 0; u < 4; ++u)
          a[r][j][u] =
              _mm256_add_epi32(a[r][j][u], _mm256_madd_epi16(w[u], x[r]));
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < RR; ++r)
#pragma GCC unroll 2
    for (int j = 0; j < NP; ++j)
#pragma GCC unroll 4
      for (int u = 0; u < 4; ++u) {
        alignas(32) int32_t lanes[8];
        _mm256_store_si256(reinterpret_cast<__m256i *>(lanes), a[r][j][u]);
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c)
          acc[r][j0 + j][4 * u + c] = lanes[2 * c] + lanes[2 * c + 1];
      }
}
#endif

#if defined(ANVIL_QUANT_AVX2)
/// W8A8 tiles of at least this many rows take rows_dot_int8_wide_avx2 on
/// AVX2 (their activations widened to int16 once); fewer take
/// rows_dot_int8_avx2.
constexpr int64_t kInt8WideMinRows = 8;
/// Rows per call of rows_dot_int8_wide_avx2: 6 rows x 2 accumulators, two
/// weight vectors, a broadcast and vpmaddwd's product take all 16 ymm
/// registers.
constexpr int64_t kInt8WideRows = 6;

/// rows_dot_int8_avx2 for R rows of one half (8 channels) of a panel, with
/// the activations already widened to int16 (xw, rows ks apart): per
/// k-quad, the half's 32 weight bytes widened once (two vectors, four
/// channels each) serve R rows, and each row is one 8-byte broadcast and
/// two vpmaddwd (exact, as there) and adds. acc[r][j][8h + c] gets the
/// sums of channels 8h .. 8h + 7.
template <int R>
inline void rows_dot_int8_wide_avx2(const uint8_t *panel, const int16_t *xw,
                                    int64_t ks, int h, int32_t acc[][2][kPanel],
                                    int j) {
  __m256i a[R][2];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    a[r][0] = a[r][1] = _mm256_setzero_si256();
  for (int64_t t = 0; t < ks; t += 4) {
    const uint8_t *half = panel + t * kPanel + 32 * h;
    __m256i w0 = _mm256_cvtepu8_epi16(
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(half)));
    __m256i w1 = _mm256_cvtepu8_epi16(
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(half + 16)));
    asm("" : "+x"(w0), "+x"(w1));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256i x = _mm256_castpd_si256(_mm256_broadcast_sd(
          reinterpret_cast<const double *>(xw + r * ks + t)));
      a[r][0] = _mm256_add_epi32(a[r][0], _mm256_madd_epi16(w0, x));
      a[r][1] = _mm256_add_epi32(a[r][1], _mm256_madd_epi16(w1, x));
      // Updated in place: without this g++ 12 renamed the accumulators
      // every step and, short of registers, kept some on the stack.
      asm("" : "+x"(a[r][0]), "+x"(a[r][1]));
    }
  }
  // a[r][u]: channel 8h + 4u + c in lanes 2c and 2c + 1. hadd gives
  // 64-bit elements (c0 c1) (c4 c5) (c2 c3) (c6 c7); vpermq orders them.
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    _mm256_storeu_si256(
        reinterpret_cast<__m256i *>(acc[r][j] + 8 * h),
        _mm256_permute4x64_epi64(_mm256_hadd_epi32(a[r][0], a[r][1]), 0xd8));
}

/// rows (1 .. R) rows of rows_dot_int8_wide_avx2.
template <int R = int(kInt8WideRows)>
inline void rows_dot_int8_wide(const uint8_t *panel, const int16_t *xw,
                               int64_t ks, int h, int64_t rows,
                               int32_t acc[][2][kPanel], int j) {
  if constexpr (R > 1) {
    if (rows < R)
      return rows_dot_int8_wide<R - 1>(panel, xw, ks, h, rows, acc, j);
  }
  rows_dot_int8_wide_avx2<R>(panel, xw, ks, h, acc, j);
}

/// The exact int32 products of `rows` rows (activations widened to int16,
/// xw, rows ks apart) and np panels from panel0 over the whole padded k,
/// acc[r][j][c] = sum_k xq[r][k] * u(c, k), as rows_dot_int8 gives them.
///
/// The rows go in calls of near-equal size (a 32-row tile as 6, 6, 5, 5, 5
/// and 5; 16 rows as 6, 5, 5), never a short last call: each call widens
/// its weight vectors once for all its rows, so a call of 2 rows (32 = 5 x
/// 6 + 2, every full prefill tile) paid the widening and the loop of a
/// 6-row call for a third of its products, and there g++ also kept its
/// accumulators on the stack. The sums are exact, so the bits do not
/// depend on the split.
inline void tile_dot_int8_wide_avx2(const MatmulQuantParams &p,
                                    const uint8_t *panel0, int64_t np,
                                    const int16_t *xw, int64_t rows,
                                    int32_t acc[][2][kPanel]) {
  const int64_t ks = p.k_stored, stride = panel_bytes(p);
  const int64_t calls = (rows + kInt8WideRows - 1) / kInt8WideRows;
  const int64_t small = rows / calls, large = rows % calls;
  for (int64_t j = 0; j < np; ++j)
    for (int h = 0; h < 2; ++h) {
      const uint8_t *panel = panel0 + j * stride;
      int64_t i = 0;
      for (int64_t c = 0; c < calls; ++c) {
        const int64_t take = small + (c < large ? 1 : 0);
        rows_dot_int8_wide(panel, xw + i * ks, ks, h, take, acc + i, int(j));
        i += take;
      }
    }
}
#endif

/// The int8 products of NP panels (panel j at panel0 + j * stride; by
/// default the panels are consecutive) for R rows: acc[r][j][c] = sum_k
/// xq[r][k] * u(c, k) over the whole (padded) k, exact in int32; row r's
/// activations at xq + r * p.k_stored, padded with zeros to k_stored. With
/// VNNI, R x NP x KC independent vpdpbusd chains (KC of them along k, for few
/// rows: the sums are exact, so their order does not matter) share the loads:
/// one chain alone would wait out the instruction's latency on every step.
///
/// With `prefetch`, each step also asks L2 for the line at the same offset
/// of `prefetch_panels` panels from `prefetch` (stride apart): a tile's
/// calls prefetch the next tile's weights while they read this one's (see
/// next_pair_prefetch).
template <int R, int NP, int KC, int AN>
inline void rows_dot_int8_fixed(const MatmulQuantParams &p,
                                const uint8_t *panel0, const int8_t *xq,
                                int32_t (*acc)[AN][kPanel], int64_t stride = 0,
                                const uint8_t *prefetch = nullptr,
                                int prefetch_panels = 0) {
  static_assert(AN >= NP, "a row of acc holds every panel");
  const int64_t ks = p.k_stored;
  if (stride == 0)
    stride = panel_bytes(p);
#if defined(__AVX512VNNI__)
  __m512i a[KC][R][NP];
#pragma GCC unroll 4
  for (int c = 0; c < KC; ++c)
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int j = 0; j < NP; ++j)
        a[c][r][j] = _mm512_setzero_si512();
  // vpdpbusd: unsigned bytes (the weights) times signed (activations).
  auto quad = [&](int c, int64_t t) {
    if (prefetch)
      for (int j = 0; j < prefetch_panels; ++j)
        _mm_prefetch(
            reinterpret_cast<const char *>(prefetch + j * stride + t * kPanel),
            _MM_HINT_T1);
    __m512i w[NP];
#pragma GCC unroll 4
    for (int j = 0; j < NP; ++j)
      w[j] = _mm512_loadu_si512(panel0 + j * stride + t * kPanel);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      int32_t x4;
      std::memcpy(&x4, xq + r * ks + t, 4);
      const __m512i x = _mm512_set1_epi32(x4);
#pragma GCC unroll 4
      for (int j = 0; j < NP; ++j)
        a[c][r][j] = _mm512_dpbusd_epi32(a[c][r][j], w[j], x);
    }
  };
  int64_t t = 0;
  for (; t + 4 * KC <= ks; t += 4 * KC)
#pragma GCC unroll 4
    for (int c = 0; c < KC; ++c)
      quad(c, t + 4 * c);
  for (; t < ks; t += 4)
    quad(0, t);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < NP; ++j) {
      __m512i sum = a[0][r][j];
#pragma GCC unroll 4
      for (int c = 1; c < KC; ++c)
        sum = _mm512_add_epi32(sum, a[c][r][j]);
      _mm512_storeu_si512(acc[r][j], sum);
    }
#elif defined(ANVIL_QUANT_AVX2)
  if constexpr (R == 1) {
    // One row (a decode GEMV's): two panels at a time.
    int j = 0;
    for (; j + 2 <= NP; j += 2)
      rows_dot_int8_avx2<1, 2>(panel0 + j * stride, stride, xq, ks, acc, j,
                               true);
    if (j < NP)
      rows_dot_int8_avx2<1>(panel0 + j * stride, 0, xq, ks, acc, j, true);
  } else {
    for (int j = 0; j < NP; ++j) {
      const uint8_t *panel = panel0 + j * stride;
      int r = 0;
      for (; r + 2 <= R; r += 2)
        rows_dot_int8_avx2<2>(panel, 0, xq + r * ks, ks, acc + r, j, false);
      if (r < R)
        rows_dot_int8_avx2<1>(panel, 0, xq + r * ks, ks, acc + r, j, false);
    }
  }
#else
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < NP; ++j) {
      const int8_t *row = xq + r * ks;
      const uint8_t *panel = panel0 + j * stride;
      for (int64_t c = 0; c < kPanel; ++c)
        acc[r][j][c] = 0;
      for (int64_t t = 0; t < ks; ++t) {
        const int32_t xv = row[t];
        for (int64_t c = 0; c < kPanel; ++c)
          acc[r][j][c] += xv * stored(p, panel, t, c);
      }
    }
#endif
}

/// Rows per call of rows_dot_int8.
constexpr int64_t kInt8Rows = 8;

/// rows (1 .. R) rows of the quantized activations times NP (1 or 2)
/// panels from panel0; one or two rows split k over 4 or 2 chains.
template <int NP, int R = kInt8Rows>
inline void
rows_dot_int8(const MatmulQuantParams &p, const uint8_t *panel0,
              const int8_t *xq, int64_t rows, int32_t acc[][2][kPanel],
              const uint8_t *prefetch = nullptr, int prefetch_panels = 0) {
  if constexpr (R > 1) {
    if (rows < R)
      return rows_dot_int8<NP, R - 1>(p, panel0, xq, rows, acc, prefetch,
                                      prefetch_panels);
  }
  rows_dot_int8_fixed<R, NP, R == 1 ? 4 : (R == 2 ? 2 : 1)>(
      p, panel0, xq, acc, 0, prefetch, prefetch_panels);
}

/// Rows per call of rows_dot_int4: with VNNI, 8 rows x 2 panels are 16
/// accumulators, and each unpacked nibble vector serves 8 rows (4 measured
/// 20-27% slower in anvil-kernel-bench's W4A8 GEMM, m = 128); AVX2's 16
/// registers take them 4 rows and one panel at a time (rows_dot_int4_avx2).
constexpr int64_t kInt4Rows = 8;

#if defined(ANVIL_QUANT_AVX2)
/// rows_dot_int4_fixed's AVX2 body for R (1, 2 or 4) rows of one panel
/// (panel j of acc's rows): acc[r][j][c] = sum over k in [t0, t1) (t0 a
/// multiple of 8; whole 8-k lines, the activations zero past k) of
/// xq[r * ks + k] * u(c, k), exact. vpmaddubsw of the
/// nibbles (unsigned, at most 15) and the int8 activations gives pairs of
/// at most 2 * 15 * 128 = 3840 in int16; two lines' low and high nibbles
/// (16 k) are four such products, summed in int16 (at most 15360), then
/// widened to int32 by one vpmaddwd by ones. Each line (8 k of the panel's
/// 16 channels; half h is channels 8h .. 8h + 7) is unpacked once for the
/// R rows: per two lines and half, 6 unpacking operations and 9 per row,
/// where a row at a time took 16 per row.
template <int R, int AN>
inline void rows_dot_int4_avx2(const uint8_t *panel, const int8_t *xq,
                               int64_t ks, int64_t t0, int64_t t1,
                               int32_t (*acc)[AN][kPanel], int j) {
  const __m256i mask = _mm256_set1_epi8(0x0f);
  const __m256i ones = _mm256_set1_epi16(1);
  auto x4 = [&](int r, int64_t t) { // xq[r][t .. t + 3] in every lane
    int32_t x;
    std::memcpy(&x, xq + r * ks + t, 4);
    return _mm256_set1_epi32(x);
  };
  // Row r's int16 products of line t's unpacked half: low nibbles by
  // k = t .. t + 3, high ones by t + 4 .. t + 7.
  auto products = [&](__m256i lo, __m256i hi, int r, int64_t t) {
    return _mm256_add_epi16(_mm256_maddubs_epi16(lo, x4(r, t)),
                            _mm256_maddubs_epi16(hi, x4(r, t + 4)));
  };
  // One half at a time: R accumulators, and each row's broadcasts used
  // as they are made (both halves at once kept 4 per row live, and g++
  // spilled the accumulators).
  for (int h = 0; h < 2; ++h) {
    auto line = [&](int64_t t) {
      return _mm256_loadu_si256(
          reinterpret_cast<const __m256i *>(panel + (t >> 3) * 64 + 32 * h));
    };
    __m256i a[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
      a[r] = _mm256_setzero_si256();
    int64_t t = t0;
    for (; t + 16 <= t1; t += 16) {
      const __m256i v0 = line(t), v1 = line(t + 8);
      const __m256i lo0 = _mm256_and_si256(v0, mask),
                    hi0 = _mm256_and_si256(_mm256_srli_epi32(v0, 4), mask),
                    lo1 = _mm256_and_si256(v1, mask),
                    hi1 = _mm256_and_si256(_mm256_srli_epi32(v1, 4), mask);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const __m256i pairs = _mm256_add_epi16(products(lo0, hi0, r, t),
                                               products(lo1, hi1, r, t + 8));
        a[r] = _mm256_add_epi32(a[r], _mm256_madd_epi16(pairs, ones));
      }
    }
    for (; t < t1; t += 8) { // a last single line
      const __m256i v = line(t);
      const __m256i lo = _mm256_and_si256(v, mask),
                    hi = _mm256_and_si256(_mm256_srli_epi32(v, 4), mask);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r)
        a[r] = _mm256_add_epi32(
            a[r], _mm256_madd_epi16(products(lo, hi, r, t), ones));
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
      _mm256_storeu_si256(reinterpret_cast<__m256i *>(acc[r][j] + 8 * h), a[r]);
  }
}
#endif

/// W4A8: the int32 products of one group [k0, k1) (k0 a multiple of 8) of
/// NP panels in the "q4_n16_k8" layout (panel j at panel0 + j * stride; by
/// default the panels are consecutive) for R rows: acc[r][j][c] = sum_k
/// xq[r][k] * u(c, k), exact. Row r's activations at
/// xq + r * p.k_stored, zero past k (so a last group that ends inside a
/// word adds nothing for the padding). A 64-byte load holds eight k of
/// the panel's 16 channels: the low nibbles are vpdpbusd's bytes for k ..
/// k + 3, the high ones (shifted down) for k + 4 .. k + 7, on separate
/// chains.
template <int R, int NP, int AN = 2>
inline void rows_dot_int4_fixed(const MatmulQuantParams &p,
                                const uint8_t *panel0, const int8_t *xq,
                                int64_t k0, int64_t k1,
                                int32_t acc[][AN][kPanel], int64_t stride = 0) {
  static_assert(AN >= NP, "a row of acc holds every panel");
  const int64_t ks = p.k_stored;
  if (stride == 0)
    stride = panel_bytes(p);
  const int64_t t1 = std::min((k1 + 7) / 8 * 8, ks);
#if defined(__AVX512VNNI__)
  // One row keeps the low and high halves on separate chains (4 in all,
  // so the instruction's latency overlaps); more rows have chains enough
  // with one per (row, panel), and GCC 12 keeps them all in registers
  // only then (two per pair spilled and copied accumulators every step).
  constexpr int C = R == 1 ? 2 : 1;
  __m512i a[C][R][NP];
#pragma GCC unroll 2
  for (int h = 0; h < C; ++h)
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int j = 0; j < NP; ++j)
        a[h][r][j] = _mm512_setzero_si512();
  const __m512i mask = _mm512_set1_epi8(0x0f);
  for (int64_t t = k0; t < t1; t += 8) {
    __m512i lo[NP], hi[NP];
#pragma GCC unroll 4
    for (int j = 0; j < NP; ++j) {
      // No software prefetch: the hardware prefetchers keep the decode
      // GEMV's streams faster without it, as they do W8A8's (measured at
      // gemv_w4a8_symmetric; prefill tiles the same either way).
      const __m512i v = _mm512_loadu_si512(panel0 + j * stride + (t >> 3) * 64);
      lo[j] = _mm512_and_si512(v, mask);
      hi[j] = _mm512_and_si512(_mm512_srli_epi32(v, 4), mask);
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      int32_t x0, x1;
      std::memcpy(&x0, xq + r * ks + t, 4);
      std::memcpy(&x1, xq + r * ks + t + 4, 4);
      const __m512i xlo = _mm512_set1_epi32(x0), xhi = _mm512_set1_epi32(x1);
#pragma GCC unroll 4
      for (int j = 0; j < NP; ++j) {
        a[0][r][j] = _mm512_dpbusd_epi32(a[0][r][j], lo[j], xlo);
        a[C - 1][r][j] = _mm512_dpbusd_epi32(a[C - 1][r][j], hi[j], xhi);
      }
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < NP; ++j)
      _mm512_storeu_si512(acc[r][j],
                          C == 2 ? _mm512_add_epi32(a[0][r][j], a[C - 1][r][j])
                                 : a[0][r][j]);
#elif defined(ANVIL_QUANT_AVX2)
  // No vpdpbusd: vpmaddubsw of the nibbles (unsigned, at most 15) and the
  // int8 activations (rows_dot_int4_avx2 says why int16 holds them). The
  // sums are integers, exact in any order: every path has the same bits.
  if constexpr (R == 1) {
    // The decode GEMV's row: every panel in one loop (NP read streams at
    // once; a panel at a time measured slower), the panels prefetched.
    const __m256i mask = _mm256_set1_epi8(0x0f);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i a[NP][2];
#pragma GCC unroll 2
    for (int j = 0; j < NP; ++j)
      a[j][0] = a[j][1] = _mm256_setzero_si256();
    for (int64_t t = k0; t < t1; t += 8) {
      int32_t x0, x1;
      std::memcpy(&x0, xq + t, 4);
      std::memcpy(&x1, xq + t + 4, 4);
      const __m256i xlo = _mm256_set1_epi32(x0), xhi = _mm256_set1_epi32(x1);
#pragma GCC unroll 2
      for (int j = 0; j < NP; ++j) {
        const uint8_t *at = panel0 + j * stride + (t >> 3) * 64;
        _mm_prefetch(reinterpret_cast<const char *>(at + kPrefetchBytes),
                     _MM_HINT_T0);
#pragma GCC unroll 4
        for (int h = 0; h < 2; ++h) {
          const __m256i v = _mm256_loadu_si256(
              reinterpret_cast<const __m256i *>(at + 32 * h));
          const __m256i lo = _mm256_and_si256(v, mask);
          const __m256i hi = _mm256_and_si256(_mm256_srli_epi32(v, 4), mask);
          const __m256i pairs = _mm256_add_epi16(_mm256_maddubs_epi16(lo, xlo),
                                                 _mm256_maddubs_epi16(hi, xhi));
          a[j][h] = _mm256_add_epi32(a[j][h], _mm256_madd_epi16(pairs, ones));
        }
      }
    }
#pragma GCC unroll 2
    for (int j = 0; j < NP; ++j)
#pragma GCC unroll 4
      for (int h = 0; h < 2; ++h)
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(acc[0][j] + 8 * h),
                            a[j][h]);
  } else {
    // A tile's rows: a panel at a time, each unpacked line read by up to
    // 4 rows.
    for (int j = 0; j < NP; ++j) {
      const uint8_t *panel = panel0 + j * stride;
      int r = 0;
      for (; r + 4 <= R; r += 4)
        rows_dot_int4_avx2<4>(panel, xq + r * ks, ks, k0, t1, acc + r, j);
      if constexpr (R % 4 >= 2) {
        rows_dot_int4_avx2<2>(panel, xq + r * ks, ks, k0, t1, acc + r, j);
        r += 2;
      }
      if constexpr (R % 2 == 1)
        rows_dot_int4_avx2<1>(panel, xq + r * ks, ks, k0, t1, acc + r, j);
    }
  }
#else
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < NP; ++j) {
      const int8_t *row = xq + r * ks;
      const uint8_t *panel = panel0 + j * stride;
      for (int64_t c = 0; c < kPanel; ++c) {
        int32_t sum = 0;
        for (int64_t t = k0; t < t1; ++t)
          sum += int32_t(row[t]) * stored(p, panel, t, c);
        acc[r][j][c] = sum;
      }
    }
#endif
}

#if defined(__AVX512VNNI__)
/// W4A8's decode GEMV for symmetric weights (zero point `zero_offset` for
/// every channel, f32 scales) over NP panels of the "q4_n16_k8" layout
/// (panel q at panel0 + q * stride), every group in one loop:
/// result[q * kPanel + c] = sum_g s(c, g) * (sum_{k in g} xq[k] u(c, k) -
/// z * qsums[g]), with the integer sums of rows_dot_int4_fixed<1, NP, NP> and
/// the tile path's float update per group, so the same bits as a row of a
/// prefill tile. Keeping the results, the zero point and the scale loads
/// (load_panel_scales) in registers saves the tile path's per-group parameter
/// reads (group_params, the epilogue loop). Scales of channel c of panel q at
/// scale + q * scale_stride + c * n_stride + g * g_stride; `cols[q]`
/// channels of panel q are real (the rest come out 0).
///
/// The caller hands it up to kGemvPanels panels `items` apart
/// (for_each_gemv_item), as the float and W8A8 GEMVs take theirs: four
/// read streams a thread.
/// Measured on Zen 4, one thread, n x k = 2816 x 1024 (2026-12-04): two
/// consecutive panels a call with a software prefetch kPrefetchBytes ahead
/// read 12 GB/s of weights where W8A8's GEMV reads 24-26 (the first
/// panel's prefetch reached the second one's lines only after that panel's
/// own loads had missed them); four panels apart 14-16; and with the
/// prefetch left to the hardware (rows_dot_int4_fixed) 19-22 (two threads
/// 25-26 -> 27-28).
template <int NP>
inline void gemv_w4a8_symmetric(const MatmulQuantParams &p,
                                const uint8_t *panel0, int64_t stride,
                                const int8_t *xq, const int32_t *qsums,
                                const float *scale, int64_t scale_stride,
                                const int64_t *cols, float *result) {
  const int64_t k = p.k;
  const int64_t group = p.group > 0 ? p.group : k;
  const __m512i index = scale_gather_index(p);
  const __m512i zero = _mm512_set1_epi32(static_cast<int32_t>(p.zero_offset));
  __m512 res[NP];
  __mmask16 lanes[NP];
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q) {
    res[q] = _mm512_setzero_ps();
    lanes[q] = __mmask16((1u << cols[q]) - 1u);
  }
  for (int64_t k0 = 0, g = 0; k0 < k; k0 += group, ++g) {
    alignas(64) int32_t acc[1][NP][kPanel];
    rows_dot_int4_fixed<1, NP, NP>(p, panel0, xq, k0, std::min(k, k0 + group),
                                   acc, stride);
    const __m512i zsum = _mm512_mullo_epi32(zero, _mm512_set1_epi32(qsums[g]));
#pragma GCC unroll 4
    for (int q = 0; q < NP; ++q) {
      const __m512 sum = _mm512_cvtepi32_ps(
          _mm512_sub_epi32(_mm512_load_si512(acc[0][q]), zsum));
      const __m512 s = load_panel_scales(
          p, index, lanes[q], scale + q * scale_stride + g * p.scale_g_stride);
      res[q] = _mm512_add_ps(res[q], _mm512_mul_ps(s, sum));
    }
  }
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q)
    _mm512_storeu_ps(result + q * kPanel, res[q]);
}
#endif

#if defined(ANVIL_QUANT_AVX2)
/// gemv_w4a8_symmetric on AVX2: W4A8's decode GEMV for symmetric weights
/// (zero point `zero_offset` for every channel, f32 scales) over NP panels
/// of the "q4_n16_k8" layout (panel q at panel0 + q * stride), every group
/// in one loop: result[q * kPanel + c] = sum_g s(c, g) * (sum_{k in g}
/// xq[k] u(c, k) - z * qsums[g]), the integer sums of
/// rows_dot_int4_fixed<1, NP, NP> (vpmaddubsw, exact) and the tile path's
/// update per group, one explicit FMA in both, so the same bits as a row of
/// a prefill tile. The tile path reads each group's scales and zero points
/// channel by channel and updates a row in memory; this keeps them in
/// registers (GemvScalesAvx2). Without it a W4A8 decode read its int4
/// weights at the float GEMV's rate (about 9 GB/s a thread on Zen 3), though
/// its integer products take a third of the float loop's instructions.
template <int NP>
__attribute__((flatten)) inline void
gemv_w4a8_symmetric_avx2(const MatmulQuantParams &p, const uint8_t *panel0,
                         int64_t stride, const int8_t *xq, const int32_t *qsums,
                         const float *scale, int64_t scale_stride,
                         const int64_t *cols, float *result) {
  const int64_t k = p.k;
  const int64_t group = p.group > 0 ? p.group : k;
  const GemvScalesAvx2<NP> scales(p, scale, scale_stride, cols);
  const __m256i zero = _mm256_set1_epi32(static_cast<int32_t>(p.zero_offset));
  __m256 res[NP][2];
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q)
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h)
      res[q][h] = _mm256_setzero_ps();
  for (int64_t k0 = 0, g = 0; k0 < k; k0 += group, ++g) {
    alignas(32) int32_t acc[1][NP][kPanel];
    rows_dot_int4_fixed<1, NP, NP>(p, panel0, xq, k0, std::min(k, k0 + group),
                                   acc, stride);
    const __m256i zsum = _mm256_mullo_epi32(zero, _mm256_set1_epi32(qsums[g]));
#pragma GCC unroll 4
    for (int q = 0; q < NP; ++q)
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        const __m256 sum = _mm256_cvtepi32_ps(_mm256_sub_epi32(
            _mm256_load_si256(
                reinterpret_cast<const __m256i *>(acc[0][q] + 8 * h)),
            zsum));
        res[q][h] = _mm256_fmadd_ps(scales.of(q, h, g), sum, res[q][h]);
      }
  }
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q)
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h)
      _mm256_storeu_ps(result + q * kPanel + 8 * h, res[q][h]);
}
#endif

/// out[c] = xscale * in[c] for c < cols, a vector of channels a store:
/// a W4A8 tile's rows of results times their activation scale. One
/// multiply per value, as the scalar loop's, so the same bits. Scalar,
/// its 32 stores a row queued on the tile's freshly missed output lines:
/// 5% of the 250M decoder's W4A8 prefill on AMD Zen 3.
inline void store_scaled(float *out, const float *in, float xscale,
                         int64_t cols) {
  int64_t c = 0;
#if defined(__AVX512F__)
  const __m512 xs = _mm512_set1_ps(xscale);
  for (; c + 16 <= cols; c += 16)
    _mm512_storeu_ps(out + c, _mm512_mul_ps(xs, _mm512_loadu_ps(in + c)));
#elif defined(__AVX2__)
  const __m256 xs = _mm256_set1_ps(xscale);
  for (; c + 8 <= cols; c += 8)
    _mm256_storeu_ps(out + c, _mm256_mul_ps(xs, _mm256_loadu_ps(in + c)));
#endif
  for (; c < cols; ++c)
    out[c] = xscale * in[c];
}

#if defined(__AVX512F__)
/// W8A8's result for 16 channels of one row (the scalar epilogue's
/// operations, 16 at a time, so the same bits): out = (xscale * s) *
/// float(acc - z * qsum), `mask` the real channels.
inline void store_w8a8_channels(float *out, __mmask16 mask, const int32_t *acc,
                                __m512i z, __m512i qsum, __m512 xscale,
                                const float *s) {
  const __m512 product = _mm512_cvtepi32_ps(
      _mm512_sub_epi32(_mm512_loadu_si512(acc), _mm512_mullo_epi32(z, qsum)));
  _mm512_mask_storeu_ps(
      out, mask,
      _mm512_mul_ps(_mm512_mul_ps(xscale, _mm512_loadu_ps(s)), product));
}
#endif

/// rows (1 .. R) rows of rows_dot_int4_fixed.
template <int NP, int R = kInt4Rows>
inline void rows_dot_int4(const MatmulQuantParams &p, const uint8_t *panel0,
                          const int8_t *xq, int64_t rows, int64_t k0,
                          int64_t k1, int32_t acc[][2][kPanel]) {
  if constexpr (R > 1) {
    if (rows < R)
      return rows_dot_int4<NP, R - 1>(p, panel0, xq, rows, k0, k1, acc);
  }
  rows_dot_int4_fixed<R, NP>(p, panel0, xq, k0, k1, acc);
}

#if defined(ANVIL_QUANT_AMX)
/// Rows at least this many take the AMX tiles in W8A8 (below, the VNNI
/// chains: a tile's 16 rows would be mostly padding).
constexpr int64_t kAmxMinRows = 16;

/// Whether this process may use the AMX tile registers: Linux (5.16+)
/// enables their state per process on request (arch_prctl
/// ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA); asked once. False where
/// the kernel refuses (an older kernel, AMX disabled): VNNI then.
inline bool amx_permitted() {
  static const bool permitted =
      syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */,
              18 /* XFEATURE_XTILEDATA */) == 0;
  return permitted;
}

/// Loads the tile configuration rows_dot_int8_amx uses (palette 1, eight
/// tiles of 16 rows x 64 bytes) on the calling thread; _tile_release()
/// gives the state back.
inline void amx_configure() {
  struct alignas(64) Config {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
  } config = {};
  config.palette = 1;
  for (int t = 0; t < 8; ++t)
    config.colsb[t] = 64, config.rows[t] = 16;
  _tile_loadconfig(&config);
}

/// W8A8 products of up to 32 rows by NP (1 or 2) panels with AMX, over
/// k in [k0, k1) (multiples of 64): acc[r][j][c] = sum_k xq[r][k] * u(c, k),
/// exact in int32 (the same sums as rows_dot_int8). TDPBSUD multiplies
/// signed bytes (the activations, an A tile of 16 rows x 64 k) by unsigned
/// ones (the weights): a panel's "q8_n16" k-quad lines are a B tile's rows
/// as stored, 16 of them per 64 k (panel j's at b[j]). Tiles 0-3
/// accumulate (row block b, panel j) at 2b + j, 4-5 hold A, 6-7 B. Needs
/// amx_configure() and 32 readable rows of xq (k_stored apart; rows past
/// `rows` are computed and dropped).
template <int NP>
inline void rows_dot_int8_amx(const MatmulQuantParams &p,
                              const uint8_t *const b[2], const int8_t *xq,
                              int64_t rows, int64_t k0, int64_t k1,
                              int32_t acc[][2][kPanel]) {
  const int64_t ks = p.k_stored;
  const bool two = rows > 16;
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int64_t t = k0; t < k1; t += 64) {
    _tile_loadd(4, xq + t, ks);
    _tile_loadd(6, b[0] + t * kPanel, 64);
    if (NP == 2)
      _tile_loadd(7, b[1] + t * kPanel, 64);
    _tile_dpbsud(0, 4, 6);
    if (NP == 2)
      _tile_dpbsud(1, 4, 7);
    if (two) {
      _tile_loadd(5, xq + 16 * ks + t, ks);
      _tile_dpbsud(2, 5, 6);
      if (NP == 2)
        _tile_dpbsud(3, 5, 7);
    }
  }
  constexpr int64_t rowBytes = 2 * kPanel * sizeof(int32_t);
  _tile_stored(0, acc[0][0], rowBytes);
  if (NP == 2)
    _tile_stored(1, acc[0][1], rowBytes);
  if (two) {
    _tile_stored(2, acc[16][0], rowBytes);
    if (NP == 2)
      _tile_stored(3, acc[16][1], rowBytes);
  }
}

/// How far ahead of its loads unpack_int4_lines_amx prefetches a panel:
/// one 128-k group's lines. Measured with anvil-kernel-bench, 16 x 1024 x
/// 2816 (2026-12-05, Xeon): none 187-194 us on one thread, 1 KB 161-166,
/// 2 KB 163-172, 4 KB 171-178 (two threads 111, 100, 99-106, 107-121).
constexpr int64_t kAmxUnpackPrefetchBytes = 1024;

/// Zero points z that can come off 4-bit values u before the products:
/// u - z is a signed byte for every u in [0, 15] when -112 <= z <= 127.
/// (Weights' own 4-bit zero points, 0 .. 15, always can; a model's wider
/// ones, a hostile model's, take the exact int32 zero share instead.)
constexpr int32_t kAmxSignedZeroMin = -112, kAmxSignedZeroMax = 127;

/// Whether every one of the 2 x kPanel zero points zi fits a signed
/// unpacking (kAmxSignedZeroMin .. kAmxSignedZeroMax).
inline bool zeros_fit_signed_bytes(const int32_t *zi) {
  const __m512i lo =
      _mm512_min_epi32(_mm512_load_si512(zi), _mm512_load_si512(zi + kPanel));
  const __m512i hi =
      _mm512_max_epi32(_mm512_load_si512(zi), _mm512_load_si512(zi + kPanel));
  return _mm512_reduce_min_epi32(lo) >= kAmxSignedZeroMin &&
         _mm512_reduce_max_epi32(hi) <= kAmxSignedZeroMax;
}

/// A panel's 16 zero points (int32, each fitting a signed byte) as the
/// bytes unpack_int4_lines_amx subtracts: channel c's in bytes 4c .. 4c + 3,
/// where the unpacked k-quad rows hold that channel's four values.
inline __m512i zero_bytes(const int32_t *zi) {
  return _mm512_mullo_epi32(
      _mm512_and_si512(_mm512_load_si512(zi), _mm512_set1_epi32(0xff)),
      _mm512_set1_epi32(0x01010101));
}

/// W4A8 on AMX: the k in [t0, t1) (multiples of 8) of a "q4_n16_k8" panel
/// as the "q8_n16" k-quad rows the AMX tiles read, each value u of channel
/// c less its zero point z (byte 4c .. 4c + 3 of `zero`, zero_bytes) as a
/// signed byte. A 64-byte line (8 k of 16 channels; byte i of a channel's
/// word holds k + i in its low nibble, k + 4 + i in its high) is two such
/// rows: the low nibbles (k .. k + 3), then the high ones. TDPBSSD's sums
/// of these are sum_k xq (u - z) at once, with no zero-point share to take
/// off; with `zero` 0 they are the stored values' sum_k xq u.
inline void unpack_int4_lines_amx(const uint8_t *panel, int64_t t0, int64_t t1,
                                  __m512i zero, int8_t *out) {
  const __m512i mask = _mm512_set1_epi8(0x0f);
  for (int64_t t = t0; t < t1; t += 8) {
    _mm_prefetch(reinterpret_cast<const char *>(panel + (t >> 3) * 64 +
                                                kAmxUnpackPrefetchBytes),
                 _MM_HINT_T0);
    const __m512i v = _mm512_loadu_si512(panel + (t >> 3) * 64);
    _mm512_storeu_si512(out + t * kPanel,
                        _mm512_sub_epi8(_mm512_and_si512(v, mask), zero));
    _mm512_storeu_si512(
        out + t * kPanel + 64,
        _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi32(v, 4), mask), zero));
  }
  // The tile loads are asm statements that name no memory: these stores
  // must come before them.
  asm volatile("" ::: "memory");
}

/// The AMX accumulator tiles of rows_dot_int4_amx come in two
/// sets: set S is tiles 2S (panel 0) and 2S + 1 (panel 1), multiplying A
/// tile 4 + S by B tiles 6 and 7. The tile intrinsics take their tile
/// numbers as literals (they are spelled into the instruction), hence one
/// branch per set.
template <int S> inline void amx_zero_set() {
  if constexpr (S == 0) {
    _tile_zero(0);
    _tile_zero(1);
  } else {
    _tile_zero(2);
    _tile_zero(3);
  }
}
template <int S> inline void amx_load_a(const int8_t *at, int64_t stride) {
  if constexpr (S == 0)
    _tile_loadd(4, at, stride);
  else
    _tile_loadd(5, at, stride);
}
template <int S, int NP> inline void amx_dpbssd_set() {
  if constexpr (S == 0) {
    _tile_dpbssd(0, 4, 6);
    if constexpr (NP == 2)
      _tile_dpbssd(1, 4, 7);
  } else {
    _tile_dpbssd(2, 5, 6);
    if constexpr (NP == 2)
      _tile_dpbssd(3, 5, 7);
  }
}
/// amx_dpbssd_set's tiles with unsigned B bytes (the 8-bit weights).
template <int S, int NP> inline void amx_dpbsud_set() {
  if constexpr (S == 0) {
    _tile_dpbsud(0, 4, 6);
    if constexpr (NP == 2)
      _tile_dpbsud(1, 4, 7);
  } else {
    _tile_dpbsud(2, 5, 6);
    if constexpr (NP == 2)
      _tile_dpbsud(3, 5, 7);
  }
}
template <int S, int NP> inline void amx_store_set(int32_t (*acc)[2][kPanel]) {
  constexpr int64_t rowBytes = 2 * kPanel * sizeof(int32_t);
  if constexpr (S == 0) {
    _tile_stored(0, acc[0][0], rowBytes);
    if constexpr (NP == 2)
      _tile_stored(1, acc[0][1], rowBytes);
  } else {
    _tile_stored(2, acc[0][0], rowBytes);
    if constexpr (NP == 2)
      _tile_stored(3, acc[0][1], rowBytes);
  }
}

/// One group's signed products over [k0, k1) (multiples of 64) into
/// accumulator set S for xq's rows 0-15, and with Two (then S is 0) set 1
/// for rows 16-31; stored to acc's rows 0-15 (16-31).
template <int NP, int S, bool Two>
inline void group_products_amx(const int8_t *const b[2], const int8_t *xq,
                               int64_t ks, int64_t k0, int64_t k1,
                               int32_t (*acc)[2][kPanel]) {
  static_assert(!Two || S == 0, "two row blocks use both sets");
  amx_zero_set<S>();
  if constexpr (Two)
    amx_zero_set<1>();
  for (int64_t t = k0; t < k1; t += 64) {
    amx_load_a<S>(xq + t, ks);
    _tile_loadd(6, b[0] + t * kPanel, 64);
    if constexpr (NP == 2)
      _tile_loadd(7, b[1] + t * kPanel, 64);
    amx_dpbssd_set<S, NP>();
    if constexpr (Two) {
      amx_load_a<1>(xq + 16 * ks + t, ks);
      amx_dpbssd_set<1, NP>();
    }
  }
  amx_store_set<S, NP>(acc);
  if constexpr (Two)
    amx_store_set<1, NP>(acc + 16);
}

/// W8A8 products of up to 16 rows of xq (k_stored = ks apart) by NP
/// panels (panel j's "q8_n16" lines at b[j]) over k in [k0, k1) (multiples
/// of 64), into accumulator set S and left there: amx_store_set<S, NP>
/// stores them. The sums of rows_dot_int8_amx's first row block. With two
/// sets a tile's products are issued before the previous tile's epilogue,
/// so the vector epilogue runs while the AMX unit waits on the weights.
/// Needs amx_configure() and 16 readable rows of xq.
template <int S, int NP>
inline void rows_dot_int8_amx_set(const uint8_t *const b[2], const int8_t *xq,
                                  int64_t ks, int64_t k0, int64_t k1) {
  amx_zero_set<S>();
  for (int64_t t = k0; t < k1; t += 64) {
    amx_load_a<S>(xq + t, ks);
    _tile_loadd(6, b[0] + t * kPanel, 64);
    if constexpr (NP == 2)
      _tile_loadd(7, b[1] + t * kPanel, 64);
    amx_dpbsud_set<S, NP>();
  }
}

/// W4A8 on AMX: the float sums of a tile of `rows` (1 .. 32; Two when
/// over 16) rows of xq (k_stored apart, 32 readable) by NP panels of
/// signed values (unpack_int4_lines_amx; panel j at b[j]), group after
/// group:
///   result[r][j * kPanel + c] += s_g[j * kPanel + c] *
///                                float(sum_{k in g} xq[r][k] (u - z)),
/// `params(g, s_g, z_g)` writing group g's 2 x kPanel scales and integer
/// zero points and returning whether the group's values were unpacked
/// less those zero points (zeros_fit_signed_bytes); where not, they were
/// unpacked as stored and z times the row's group sum (qsums[r * groups +
/// g]) comes off the sums, as on the VNNI tiles. `unpack(t0, t1)` makes
/// the values of k in [t0, t1) ready (called one group ahead of the
/// products, so the panels' reads overlap the AMX unit's work; a no-op
/// where a tile before this one unpacked them). The same exact integer
/// sums, and the same float operations in the same order, as the VNNI
/// tiles' update (the sum less z times the row's group sum there) and
/// gemv_w4a8_symmetric, so the same bits. Group g's float update runs
/// after group g + 1's products are issued, from g's stored sums, so the
/// vector units update while the AMX unit multiplies; with 16 rows or
/// fewer consecutive groups also alternate accumulator sets, so one
/// group's tile stores wait for no other's products. (Before, each group's
/// products, stores and update ran in turn, and the zero point's share
/// came off every sum: 16 sequences' decode steps ran the W4A8 products
/// at half W8A8's rate of weight bytes, 2026-12-05.) Needs amx_configure().
template <int NP, bool Two, class Params, class Unpack>
inline void rows_dot_int4_amx(const MatmulQuantParams &p,
                              const int8_t *const b[2], const int8_t *xq,
                              const int32_t *qsums, int64_t rows,
                              Params &&params, Unpack &&unpack,
                              float (*result)[2 * kPanel]) {
  const int64_t k = p.k, group = p.group, ks = p.k_stored;
  const int64_t groups = (k + group - 1) / group;
  alignas(64) int32_t sums[2][kTileRows][2][kPanel];
  auto update = [&](int64_t g) {
    alignas(64) float s[2 * kPanel];
    alignas(64) int32_t zi[2 * kPanel];
    const bool zeroTaken = params(g, s, zi);
    int32_t(*acc)[2][kPanel] = sums[g & 1];
    for (int64_t r = 0; r < rows; ++r)
#pragma GCC unroll 2
      for (int h = 0; h < NP; ++h) {
        __m512i exact = _mm512_load_si512(acc[r][h]);
        if (!zeroTaken)
          exact = _mm512_sub_epi32(
              exact,
              _mm512_mullo_epi32(_mm512_load_si512(zi + h * kPanel),
                                 _mm512_set1_epi32(qsums[r * groups + g])));
        const __m512 product = _mm512_cvtepi32_ps(exact);
        _mm512_storeu_ps(
            result[r] + h * kPanel,
            _mm512_add_ps(
                _mm512_loadu_ps(result[r] + h * kPanel),
                _mm512_mul_ps(_mm512_load_ps(s + h * kPanel), product)));
      }
  };
  unpack(0, std::min(k, group));
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t k0 = g * group, k1 = std::min(k, k0 + group);
    if (Two || g % 2 == 0)
      group_products_amx<NP, 0, Two>(b, xq, ks, k0, k1, sums[g & 1]);
    else
      group_products_amx<NP, 1, false>(b, xq, ks, k0, k1, sums[g & 1]);
    if (g + 1 < groups)
      unpack(k1, std::min(k, k1 + group));
    if (g > 0)
      update(g - 1);
  }
  update(groups - 1);
}
#endif

/// Static activations with a zero point z' (the stored bytes x' - z' are
/// the quantized values): acc[r][j][c] -= z' * u[c] for `rows` rows of
/// panel j, u the panel's channel sums of their stored weights (the
/// "_sums" layout's). In uint32: the wrap-around of the int32 vector
/// paths, defined in C++.
template <int AN>
inline void subtract_zero_share(int32_t (*acc)[AN][kPanel], int64_t rows,
                                int64_t j, int32_t zero, const int32_t *u) {
#if defined(__AVX512F__)
  const __m512i share =
      _mm512_mullo_epi32(_mm512_set1_epi32(zero), _mm512_loadu_si512(u));
  for (int64_t r = 0; r < rows; ++r)
    _mm512_storeu_si512(acc[r][j],
                        _mm512_sub_epi32(_mm512_loadu_si512(acc[r][j]), share));
#else
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < kPanel; ++c)
      acc[r][j][c] =
          int32_t(uint32_t(acc[r][j][c]) - uint32_t(zero) * uint32_t(u[c]));
#endif
}

#if defined(ANVIL_QUANT_BF16)
/// Calls f(R, NP) with std::integral_constant row (1 .. quant_bf16::kCallRows)
/// and panel (1, 2) counts, for the bf16 tiles' last short rows and panel.
template <class F> inline void with_bf16_tile(int64_t rows, int64_t np, F &&f) {
  auto panels = [&](auto R) {
    if (np == 1)
      f(R, std::integral_constant<int, 1>());
    else
      f(R, std::integral_constant<int, 2>());
  };
  static_assert(quant_bf16::kCallRows == 8, "one case per row count");
  switch (rows) {
  case 1:
    return panels(std::integral_constant<int, 1>());
  case 2:
    return panels(std::integral_constant<int, 2>());
  case 3:
    return panels(std::integral_constant<int, 3>());
  case 4:
    return panels(std::integral_constant<int, 4>());
  case 5:
    return panels(std::integral_constant<int, 5>());
  case 6:
    return panels(std::integral_constant<int, 6>());
  case 7:
    return panels(std::integral_constant<int, 7>());
  default:
    return panels(std::integral_constant<int, 8>());
  }
}

/// Whether matmul_quant runs matmul_int4_bf16 for float activations and
/// f32 scales without zero points under these parameters (a CPU with
/// AVX512-BF16 only; lhs_bf16, which the compiler sets for the weights its
/// own --quantize=int4-g* made, permits the rounding): its results then carry
/// the activations' rounding to bf16 (relative error up to 2^-8 of sum_k |x_k
/// W[n, k]|, where the float path's is about 1e-6).
inline bool int4_bf16_path(const MatmulQuantParams &p) {
  return p.lhs_bf16 && !p.quantize_lhs && p.bits == 4 && p.zero_offset == 8 &&
         p.group > 0 && p.group % 8 == 0;
}

/// Rows per work item of the bf16 tiles (m > 1): a group's lines of the
/// item's two panels (2 KB at group 128) stay in L1 for its 8-row calls.
constexpr int64_t kBf16BlockRows = 64;

/// matmul_quant for float activations and symmetric 4-bit weights (every
/// zero point 8, f32 scales, groups a multiple of 8 k) on AVX512-BF16:
/// out[i, n] = sum_g s(n, g) * (sum_{k in g} bf16(x[i, k]) (128 + u(n, k))
/// - 136 sum_{k in g} bf16(x[i, k])), matmul_int4_bf16.h's arithmetic, each
/// group's term added by one FMA in group order from 0. A row and group
/// whose term is not finite (activations near 1e34, infinities, NaN) is
/// summed again by the float path's group_dot_avx512, in every path alike,
/// so a row's bits never depend on its batch. The decode GEMV (m = 1) takes
/// kGemvPanels panels per item, as the float one does; more rows take
/// tiles of kBf16BlockRows rows x 2 panels, 8 rows a micro-kernel call.
/// `finished` and `finished_tiles`: matmul_quant_impl's epilogue calls.
/// Returns 0, or 1 after fail() (out of memory).
template <class C, class Finished, class FinishedTiles>
inline int matmul_int4_bf16(const anvil_host_api *host,
                            const MatmulQuantParams &p, const float *x,
                            const uint8_t *weights, const float *scale, C *out,
                            const Finished &finished,
                            const FinishedTiles &finished_tiles) {
  using namespace quant_bf16;
  const int64_t m = p.m, n = p.n, k = p.k, group = p.group;
  const int64_t groups = (k + group - 1) / group;
  const int64_t octets = (k + 7) / 8, groupOctets = group / 8;
  const int64_t panels = (n + kPanel - 1) / kPanel;
  const int64_t panelBytes = panel_bytes(p);
  const int64_t tr = tile_rows(m);
  const int64_t xbDwords = (m + tr - 1) / tr * tr * octets * 4;
  // The packed activations and their group sums, in thread 0's scratch
  // (nothing below asks for scratch while they are read).
  std::unique_ptr<uint32_t[]> own;
  uint32_t *xb = scratch_or_own<uint32_t>(
      host, 0, size_t(std::max<int64_t>(1, xbDwords + m * groups)), own);
  if (!xb)
    return fail(host, "matmul_quant: out of memory for the bf16 activations");
  float *corr = reinterpret_cast<float *>(xb + xbDwords);
  parallel_for(host, m, rows_grain(k), [&](int64_t i0, int64_t i1) {
    pack_bf16_pair_rows(x, k, octets, group, groups, tr, i0, i1, xb, corr);
  });
  const __m512i index = scale_gather_index(p);
  // The scales of channels n0 .. n0 + cols - 1 in group g (0 past them).
  auto scales = [&](int64_t n0, int64_t cols, int64_t g) {
    return load_panel_scales(p, index, __mmask16((1u << cols) - 1u),
                             scale + n0 * p.scale_n_stride +
                                 g * p.scale_g_stride);
  };
  // Row i's sums over group g of the panel at `panel` less the bias; where
  // not finite, the float path's sums instead.
  auto term = [&](__m512 sum, int64_t i, int64_t g, const uint8_t *panel) {
    const __m512 d = _mm512_sub_ps(sum, _mm512_set1_ps(corr[i * groups + g]));
    if (all_finite(d))
      return d;
    float z[kPanel], acc[1][kPanel];
    std::fill(z, z + kPanel, 8.0f);
    group_dot_avx512<1, 1>(p, panel, 0, x + i * k, g * group,
                           std::min(k, (g + 1) * group), z, acc);
    return _mm512_loadu_ps(acc[0]);
  };
  auto grain = [](int64_t itemMacs) {
    return std::max<int64_t>(1, kMinChunkMacs / std::max<int64_t>(1, itemMacs));
  };
  if (m == 1) {
    for_each_gemv_item(
        host, panels, grain(kGemvPanels * kPanel * k),
        [&](int64_t pi, int64_t np, int64_t step) {
          const uint8_t *panel = weights + pi * panelBytes;
          const int64_t stride = step * panelBytes;
          with_panels(np, [&](auto NPc) {
            constexpr int NP = decltype(NPc)::value;
            __m512 res[NP];
            int64_t cols[NP];
#pragma GCC unroll 4
            for (int q = 0; q < NP; ++q) {
              res[q] = _mm512_setzero_ps();
              cols[q] = std::min(kPanel, n - (pi + q * step) * kPanel);
            }
            for (int64_t g = 0; g < groups; ++g) {
              const int64_t o0 = g * groupOctets;
              __m512 acc[NP][1];
              int4_group_sums<1, NP>(panel, stride, xb, 1, o0,
                                     std::min(octets, o0 + groupOctets), acc);
#pragma GCC unroll 4
              for (int q = 0; q < NP; ++q)
                res[q] = _mm512_fmadd_ps(
                    scales((pi + q * step) * kPanel, cols[q], g),
                    term(acc[q][0], 0, g, panel + q * stride), res[q]);
            }
            for (int q = 0; q < NP; ++q) {
              float result[1][kPanel];
              _mm512_storeu_ps(result[0], res[q]);
              const int64_t n0 = (pi + q * step) * kPanel;
              store_panel_rows(result, 1, cols[q], out + n0, n);
              finished(0, 1, n0, cols[q]);
            }
          });
        });
    return run_failed(host) ? 1 : 0;
  }
  const int64_t blocks = (m + kBf16BlockRows - 1) / kBf16BlockRows;
  const int64_t pairs = (panels + 1) / 2;
  parallel_for(
      host, blocks * pairs, grain(std::min(m, kBf16BlockRows) * 2 * kPanel * k),
      [&](int64_t begin, int64_t end) {
        for (int64_t tile = begin; tile < end; ++tile) {
          const int64_t pi = 2 * (tile % pairs), rb = tile / pairs;
          const int64_t np = std::min<int64_t>(2, panels - pi);
          const int64_t i0 = rb * kBf16BlockRows,
                        i1 = std::min(m, i0 + kBf16BlockRows);
          const uint8_t *panel = weights + pi * panelBytes;
          int64_t cols[2] = {};
          for (int64_t q = 0; q < np; ++q)
            cols[q] = std::min(kPanel, n - (pi + q) * kPanel);
          float result[2][kBf16BlockRows][kPanel];
          if (groups == 0)
            std::memset(result, 0, sizeof result);
          for (int64_t g = 0; g < groups; ++g) {
            const int64_t o0 = g * groupOctets,
                          o1 = std::min(octets, o0 + groupOctets);
            // The next group's lines (or the next tile's first) into L2
            // while this group's rows run.
            const uint8_t *next =
                g + 1 < groups ? panel + o1 * 64
                : tile + 1 < end
                    ? weights + 2 * ((tile + 1) % pairs) * panelBytes
                    : nullptr;
            if (next)
              for (int64_t q = 0; q < 2; ++q)
                for (int64_t o = 0; o < groupOctets; ++o)
                  _mm_prefetch(reinterpret_cast<const char *>(
                                   next + q * panelBytes + o * 64),
                               _MM_HINT_T1);
            __m512 s[2];
            for (int64_t q = 0; q < np; ++q)
              s[q] = scales((pi + q) * kPanel, cols[q], g);
            for (int64_t i = i0; i < i1; i += kCallRows) {
              with_bf16_tile(
                  std::min(kCallRows, i1 - i), np, [&](auto Rc, auto NPc) {
                    constexpr int R = decltype(Rc)::value;
                    constexpr int NP = decltype(NPc)::value;
                    __m512 acc[NP][R];
                    int4_group_sums<R, NP>(
                        panel, panelBytes,
                        xb + packed_row_offset(i, tr, octets), tr, o0, o1, acc);
#pragma GCC unroll 2
                    for (int q = 0; q < NP; ++q)
#pragma GCC unroll 8
                      for (int r = 0; r < R; ++r) {
                        float *row = result[q][i - i0 + r];
                        const __m512 before =
                            g == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(row);
                        _mm512_storeu_ps(
                            row, _mm512_fmadd_ps(s[q],
                                                 term(acc[q][r], i + r, g,
                                                      panel + q * panelBytes),
                                                 before));
                      }
                  });
            }
          }
          for (int64_t q = 0; q < np; ++q) {
            const int64_t n0 = (pi + q) * kPanel;
            store_panel_rows(result[q], i1 - i0, cols[q], out + i0 * n + n0, n);
          }
        }
        finished_tiles(begin, end, pairs, UniformRowTiles{kBf16BlockRows, m},
                       2 * kPanel);
      });
  return run_failed(host) ? 1 : 0;
}
#endif

} // namespace quant

/// See the file comment. Inputs: lhs [m, k], the packed weight, scales,
/// optional zero points (of the model's type; `zero_offset` is added);
/// with p.lhs_runtime, the activations' per-tensor scale and zero point
/// read by the caller (the public overloads below).
template <class A, class Q, class S, class Z, class C, class Epilogue>
int matmul_quant_impl(const anvil_host_api *host, const MatmulQuantParams &p,
                      const A *lhs, const Q *packed, const S *scale,
                      const Z *zero_point, float runtime_scale,
                      int64_t runtime_zero, C *out, const Epilogue &epi) {
  using namespace quant;
  const int64_t m = p.m, n = p.n, k = p.k;
  if (m <= 0 || n <= 0)
    return 0;
  // The layouts' whole words (the compiler's packing; see the file
  // comment): a 4-bit panel holds k-octets, an 8-bit one k-quads.
  if (p.k_stored < k || p.k_stored % (p.bits == 4 ? 8 : 4) != 0)
    return fail(host, "matmul_quant: k_stored is not the packed layout's");
  // The GEMVs call this on each panel they have stored.
  [[maybe_unused]] auto finished = [&](int64_t i0, int64_t i1, int64_t n0,
                                       int64_t cols) {
    if constexpr (!is_no_epilogue<Epilogue>())
      epi(i0, i1, n0, n0 + cols);
  };
  // The tile paths on the tiles [begin, end) of a chunk, tile = row tile *
  // per_row + column tile, once they are all stored: one block per row
  // tile, its columns contiguous, so the epilogue walks whole rows (a
  // residual read a tile's 16 or 32 columns at a time, row after row,
  // missed the prefetchers: int8 prefill ran 10-15% slower).
  // row_tiles: UniformRowTiles or PrefillTiles.
  auto finished_tiles = [&](int64_t begin, int64_t end, int64_t per_row,
                            const auto &row_tiles, int64_t tile_cols) {
    if constexpr (!is_no_epilogue<Epilogue>())
      for (int64_t t = begin; t < end;) {
        const int64_t rt = t / per_row;
        const int64_t stop = std::min(end, (rt + 1) * per_row);
        epi(row_tiles.begin(rt), row_tiles.end(rt),
            (t - rt * per_row) * tile_cols,
            std::min(n, (stop - rt * per_row) * tile_cols));
        t = stop;
      }
  };
  const int64_t group = p.group > 0 ? p.group : (k > 0 ? k : 1);
  const int64_t groups = k > 0 ? (k + group - 1) / group : 0;
  const int64_t panels = (n + kPanel - 1) / kPanel;
  const int64_t rowTiles = (m + kTileRows - 1) / kTileRows;
  const uint8_t *weights = reinterpret_cast<const uint8_t *>(packed);
  const int64_t panelBytes = panel_bytes(p);
  // Work items per chunk of a parallel loop: at least kMinChunkMacs
  // multiply-adds, so a small model's product stays on one thread rather
  // than paying the pool's hand-off.
  auto grain = [](int64_t itemMacs) {
    return std::max<int64_t>(1, kMinChunkMacs / std::max<int64_t>(1, itemMacs));
  };
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
    // Channels past the matrix (a last, partial panel): 0, as if the
    // arrays had been zeroed.
    for (int64_t c = cols; c < kPanel; ++c)
      s[c] = z[c] = 0.0f;
  };
  // The packed values of group [k0, k0 + group) of panels first ..
  // first + count - 1 (those that exist) into L2, for the group a tile
  // reads next while this one's rows run: the hardware prefetchers do not
  // run ahead of streams read in bursts of a group (250M decoder,
  // int4-g128 prefill: the unpack's first instruction after each load was
  // the hottest of the tile loop outside the micro-kernel; 16 sequences'
  // decode, 4 panels a tile, 16 rows a group call: the first loads of each
  // group).
  [[maybe_unused]] auto prefetch_group = [&](int64_t first, int64_t count,
                                             int64_t k0) {
#if defined(__AVX512F__) || defined(__AVX2__)
    const int64_t from = k0 * kPanel * p.bits / 8;
    const int64_t to = std::min(k, k0 + group) * kPanel * p.bits / 8;
    for (int64_t q = first; q < std::min(panels, first + count); ++q) {
      const char *at = reinterpret_cast<const char *>(weights + q * panelBytes);
      for (int64_t b = from; b < to; b += 64)
        _mm_prefetch(at + b, _MM_HINT_T1);
    }
#endif
  };
#if defined(ANVIL_QUANT_BF16)
  // Symmetric 4-bit weights, f32 scales, groups of whole k-octets:
  // vdpbf16ps on bf16 activations (matmul_int4_bf16.h), every m.
  if constexpr (std::is_same<A, float>::value && std::is_same<S, float>::value)
    if (!zero_point && int4_bf16_path(p))
      return matmul_int4_bf16(host, p, lhs, weights, scale, out, finished,
                              finished_tiles);
#endif
#if defined(__AVX512F__) || defined(ANVIL_QUANT_AVX2)
  if constexpr (std::is_same<A, float>::value) {
    if (!p.quantize_lhs && m == 1) {
      // A decode GEMV: kGemvPanels panels per item, so each thread reads
      // that many streams at once (one kept the read bandwidth ~20% lower
      // than two). Every panel's sums are those of the one-panel path.
      const float *x = reinterpret_cast<const float *>(lhs);
      // Symmetric 4-bit groups: one loop over the groups
      // (gemv_int4_symmetric_avx512 or _avx2), the general path's bits.
      [[maybe_unused]] const bool int4Symmetric =
          p.bits == 4 && !zero_point && p.zero_offset == 8 && p.group > 0;
      for_each_gemv_item(
          host, panels, grain(kGemvPanels * kPanel * k),
          [&](int64_t pi, int64_t np, int64_t step) {
            const uint8_t *panel = weights + pi * panelBytes;
            const int64_t panelStride = step * panelBytes;
            // Not zeroed, nor are s and z below: g++ cleared each with
            // `rep stosq` per item (3-4% of an in-cache 1024 x 256 int8
            // GEMV on Zen 3; end to end within the noise, docs/
            // performance.md, session 42). Every element read is written
            // first; with k = 0 (no groups) the sums are the empty ones.
            float result[kGemvPanels][kPanel];
            if (groups == 0)
              std::fill(&result[0][0], &result[0][0] + kGemvPanels * kPanel,
                        0.0f);
#if defined(__AVX512F__) || defined(ANVIL_QUANT_AVX2)
            if constexpr (std::is_same<S, float>::value) {
              if (int4Symmetric) {
                int64_t cols[kGemvPanels] = {};
                for (int64_t q = 0; q < np; ++q)
                  cols[q] = std::min(kPanel, n - (pi + q * step) * kPanel);
                const float *s = scale + pi * kPanel * p.scale_n_stride;
                with_panels(np, [&](auto NP) {
#if defined(__AVX512F__)
                  gemv_int4_symmetric_avx512<NP>(
                      p, panel, panelStride, x, s,
                      step * kPanel * p.scale_n_stride, cols, result[0]);
#else
                  gemv_int4_symmetric_avx2<NP>(
                      p, panel, panelStride, x, s,
                      step * kPanel * p.scale_n_stride, cols, result[0]);
#endif
                });
                for (int64_t q = 0; q < np; ++q) {
                  for (int64_t c = 0; c < cols[q]; ++c)
                    out[(pi + q * step) * kPanel + c] =
                        static_cast<C>(result[q][c]);
                  finished(0, 1, (pi + q * step) * kPanel, cols[q]);
                }
                return;
              }
            }
#endif
            for (int64_t g = 0; g < groups; ++g) {
              const int64_t k0 = g * group, k1 = std::min(k, k0 + group);
              float s[kGemvPanels][kPanel], z[kGemvPanels][kPanel];
              for (int64_t q = 0; q < np; ++q) {
                const int64_t n0 = (pi + q * step) * kPanel;
                params(n0, std::min(kPanel, n - n0), g, s[q], z[q]);
              }
              float acc[kGemvPanels * kRows][kPanel];
              with_panels(np, [&](auto NP) {
#if defined(__AVX512F__)
                group_dot_avx512<1, NP>(p, panel, panelStride, x, k0, k1, z[0],
                                        acc, true, kRows);
#else
                  group_dot_avx2<1, NP>(p, panel, panelStride, x, k0, k1, z[0],
                                        acc);
#endif
              });
              // The first group adds to 0 as the zeroed sums did (the same
              // bits, -0 included).
              for (int64_t q = 0; q < np; ++q)
                for (int64_t c = 0; c < kPanel; ++c)
                  result[q][c] = (g == 0 ? 0.0f : result[q][c]) +
                                 s[q][c] * acc[q * kRows][c];
            }
            for (int64_t q = 0; q < np; ++q) {
              const int64_t n0 = (pi + q * step) * kPanel;
              for (int64_t c = 0; c < std::min(kPanel, n - n0); ++c)
                out[n0 + c] = static_cast<C>(result[q][c]);
              finished(0, 1, n0, std::min(kPanel, n - n0));
            }
          });
      return run_failed(host) ? 1 : 0;
    }
  }
#endif
  if (!p.quantize_lhs) {
#if defined(__AVX512F__) || defined(ANVIL_QUANT_AVX2)
    // Prefill: tiles of rows x two panels. Each group of both panels is
    // unpacked once per tile into this thread's scratch, then every x
    // broadcast feeds both (rows_dot_unpacked), the taller the tile the
    // less unpacking per product.
    if (std::is_same<A, float>::value && m >= kUnpackMinRows) {
      const PrefillTiles tiling(m);
      const int64_t tiles = tiling.tiles;
      const float *x = reinterpret_cast<const float *>(lhs);
      // The rows as rows_dot_unpacked reads them: on AVX-512 packed in
      // row tiles (panels::pack_rows, one pass shared by the threads; its
      // tiles start at multiples of kMaxRows, as the prefill tiles do, so
      // no micro-kernel call straddles two), with AVX2 the rows themselves.
      const float *rows = x;
      int64_t ldx = k; // rows_dot_unpacked's stride
      std::unique_ptr<float[]> packedRows;
#if defined(__AVX512F__)
      static_assert(panels::kMaxRows == kUnpackedRows,
                    "a packed row tile is one micro-kernel call's rows");
      {
        const int64_t rowTilesPacked =
            (m + panels::kMaxRows - 1) / panels::kMaxRows;
        const int64_t tileFloats = panels::kMaxRows * k;
        packedRows.reset(
            new (std::nothrow) float[size_t(rowTilesPacked * tileFloats)]);
        if (!packedRows)
          return fail(host, "matmul_quant: out of memory for the packed rows");
        float *dst = packedRows.get();
        parallel_for(host, rowTilesPacked,
                     std::max<int64_t>(1, kMinChunkMacs / (8 * tileFloats)),
                     [&](int64_t begin, int64_t end) {
                       panels::pack_rows(x, m, k, begin, end, dst);
                     });
        rows = dst;
        ldx = panels::kMaxRows;
      }
#endif
      // Row i of rows_dot_unpacked's operand.
      auto rowAt = [&](int64_t i) {
#if defined(__AVX512F__)
        return rows + (i / panels::kMaxRows) * panels::kMaxRows * k +
               i % panels::kMaxRows;
#else
        return rows + i * ldx;
#endif
      };
      const int64_t pairs = (panels + 1) / 2;
      parallel_for(
          host, tiles * pairs,
          grain(std::min(m, kUnpackTileRows) * 2 * kPanel * k),
          [&](int64_t begin, int64_t end, int thread) {
            float *unpacked =
                scratch<float>(host, thread, size_t(2 * group * kPanel));
            if (!unpacked) {
              fail(host, "matmul_quant: out of scratch memory");
              return;
            }
            for (int64_t tile = begin; tile < end; ++tile) {
              const int64_t pair = tile % pairs, rt = tile / pairs;
              const int64_t pi = 2 * pair,
                            np = std::min<int64_t>(2, panels - pi);
              const int64_t i0 = tiling.begin(rt), i1 = tiling.end(rt);
              float result[2][PrefillTiles::kMaxRows][kPanel];
              for (int64_t q = 0; q < np; ++q)
                std::memset(result[q], 0,
                            sizeof(float) * kPanel * size_t(i1 - i0));
              for (int64_t g = 0; g < groups; ++g) {
                const int64_t k0 = g * group, k1 = std::min(k, k0 + group);
                float s[2][kPanel] = {}, z[2][kPanel] = {};
                for (int64_t q = 0; q < np; ++q) {
                  const int64_t n0 = (pi + q) * kPanel;
                  params(n0, std::min(kPanel, n - n0), g, s[q], z[q]);
                }
                const uint8_t *panel = weights + pi * panelBytes;
                const int64_t span = group * kPanel;
                bool scaled[2] = {false, false};
                for (int64_t q = 0; q < np; ++q)
                  scaled[q] = unpack_group(p, panel + q * panelBytes, k0, k1,
                                           z[q], unpacked + q * span);
                // The next group's packed values (this pair's, or the
                // next tile's first) into L2 while this group's rows run:
                // the unpacking otherwise waits on memory for each line,
                // the hardware prefetchers not running ahead of a stream
                // read in bursts (250M decoder, int4-g128 prefill: the
                // unpack's first instruction after each load was the
                // hottest of the tile loop outside the micro-kernel).
                if (g + 1 < groups)
                  prefetch_group(pi, np, k1);
                else if (tile + 1 < end)
                  prefetch_group(2 * ((tile + 1) % pairs), 2, 0);
                float acc[2 * kUnpackedRows][kPanel];
                for (int64_t i = i0, taken = 0; i < i1; i += taken) {
                  taken =
                      np == 2
                          ? rows_dot_unpacked<2>(p, unpacked, span, rowAt(i),
                                                 ldx, i1 - i, k0, k1, acc)
                          : rows_dot_unpacked<1>(p, unpacked, span, rowAt(i),
                                                 ldx, i1 - i, k0, k1, acc);
#if defined(__AVX512F__)
                  for (int64_t q = 0; q < np; ++q)
                    if (scaled[q])
                      unscale_rows(p, panel + q * panelBytes, x + i * k, k,
                                   taken, k0, k1, z[q],
                                   acc + q * kUnpackedRows);
#endif
                  for (int64_t q = 0; q < np; ++q)
                    for (int64_t r = 0; r < taken; ++r)
                      for (int64_t c = 0; c < kPanel; ++c)
                        result[q][i - i0 + r][c] +=
                            s[q][c] * acc[q * kUnpackedRows + r][c];
                }
              }
              for (int64_t q = 0; q < np; ++q) {
                const int64_t n0 = (pi + q) * kPanel;
                store_panel_rows(result[q], i1 - i0, std::min(kPanel, n - n0),
                                 out + i0 * n + n0, n);
              }
            }
            finished_tiles(begin, end, pairs, tiling, 2 * kPanel);
          });
      return run_failed(host) ? 1 : 0;
    }
#endif
    // Few rows (decode without the GEMV path, small batches): tiles of
    // kTileRows rows x (up to) kFewPanels panels, group by group; a group's
    // scales and zero points are read once per tile, its weights stay in L1 for
    // every row.
    const int64_t tiles = (m + kTileRows - 1) / kTileRows;
    // Fewer panels a tile where kFewPanels would leave threads without a
    // tile (a narrow product on a many-core machine).
    const int64_t threads = host ? std::max(1, host->num_threads) : 1;
    int64_t tilePanels = kFewPanels;
    while (tilePanels > 1 &&
           tiles * ((panels + tilePanels - 1) / tilePanels) < threads)
      tilePanels /= 2;
    const int64_t panelGroups = (panels + tilePanels - 1) / tilePanels;
    // The rows as the tiles read them: lhs itself, or (float rows on
    // AVX-512, where few_rows_sums_avx512 broadcasts from up to 16 rows at
    // once) packed in tiles of kFewPackedRows, ldx floats per tile, in
    // thread 0's scratch (the loop below asks for none). A tile's rows
    // start at a packed tile (kTileRows is a multiple of it), at lhsRows +
    // (i0 / kFewPackedRows) * ldx, which is i0 * ldx / kFewPackedRows.
    const A *lhsRows = lhs;
    int64_t ldx = k, rowsPerStride = 1;
    std::unique_ptr<float[]> ownRows;
#if defined(__AVX512F__)
    if constexpr (std::is_same<A, float>::value) {
      const int64_t packedTiles = (m + kFewPackedRows - 1) / kFewPackedRows;
      float *packedRows = scratch_or_own<float>(
          host, 0, size_t(packedTiles * kFewPackedRows * k), ownRows);
      if (!packedRows)
        return fail(host, "matmul_quant: out of memory for the packed rows");
      panels::pack_rows<kFewPackedRows>(lhs, m, k, 0, packedTiles, packedRows);
      lhsRows = packedRows;
      ldx = kFewPackedRows * k;
      rowsPerStride = kFewPackedRows;
    }
#endif
    parallel_for(
        host, tiles * panelGroups,
        grain(std::min(m, kTileRows) * tilePanels * kPanel * k),
        [&](int64_t begin, int64_t end) {
          for (int64_t tile = begin; tile < end; ++tile) {
            const int64_t pi = (tile % panelGroups) * tilePanels,
                          rt = tile / panelGroups;
            const int64_t np = std::min(tilePanels, panels - pi);
            const uint8_t *panel = weights + pi * panelBytes;
            const int64_t i0 = rt * kTileRows, i1 = std::min(m, i0 + kTileRows);
            // Only the tile's rows are zeroed: a small batch uses few.
            float result[kFewPanels][kTileRows][kPanel];
            for (int64_t q = 0; q < np; ++q)
              std::memset(result[q], 0,
                          sizeof(float) * kPanel * size_t(i1 - i0));
            float acc[kFewPanels * kTileRows][kPanel];
            for (int64_t g = 0; g < groups; ++g) {
              const int64_t k0 = g * group, k1 = std::min(k, k0 + group);
              float s[kFewPanels][kPanel] = {}, z[kFewPanels][kPanel] = {};
              for (int64_t q = 0; q < np; ++q) {
                const int64_t n0 = (pi + q) * kPanel;
                params(n0, std::min(kPanel, n - n0), g, s[q], z[q]);
              }
              if (g + 1 < groups)
                prefetch_group(pi, np, k1);
              else if (tile + 1 < end)
                prefetch_group(((tile + 1) % panelGroups) * tilePanels,
                               tilePanels, 0);
              tile_group_sums(p, panel, panelBytes, np,
                              lhsRows + i0 / rowsPerStride * ldx, ldx, i1 - i0,
                              k0, k1, z, acc);
              for (int64_t q = 0; q < np; ++q)
                for (int64_t r = 0; r < i1 - i0; ++r)
                  for (int64_t c = 0; c < kPanel; ++c)
                    result[q][r][c] += s[q][c] * acc[q * kTileRows + r][c];
            }
            for (int64_t q = 0; q < np; ++q) {
              const int64_t n0 = (pi + q) * kPanel;
              store_panel_rows(result[q], i1 - i0, std::min(kPanel, n - n0),
                               out + i0 * n + n0, n);
            }
          }
          finished_tiles(begin, end, panelGroups, UniformRowTiles{kTileRows, m},
                         tilePanels * kPanel);
        });
    return run_failed(host) ? 1 : 0;
  }
  // W8A8 and W4A8: per-token symmetric int8 activations
  // (anvil.quantize_per_token's formula): the rows quantized once (padded
  // to k_stored), with their scales and sums (per group for 4-bit
  // weights), by all threads into this thread's scratch, then read by all.
  // 8-bit weights come in one group along k (the lowering fuses nothing
  // else).
  //
  // Static activations (lhs_scale > 0; 8-bit weights): every row quantized
  // with the one scale and zero point z, stored as bytes x' = q - offset
  // (vpdpbusd's signed operand; offset 128 for uint8), z' = z - offset. Then
  // sum_k (q - z)(u - zw) = sum_k (x' - z')(u - zw) = (acc - z' U) - zw
  // sum_k (x' - z'), acc = sum_k x' u and U = sum_k u per channel: the sums
  // below hold sum_k (x' - z'), and U comes packed after the panels (the
  // "_sums" layout the packing gives a launch with z' != 0). In int32 with
  // wrap-around, exact when the result fits: the lowering takes K <= 2^31
  // / 255^2.
  //
  // With lhs_runtime the scale and zero point come from the model's
  // tensors at run time (ONNX Runtime's quantize_dynamic computes them per
  // call), the same arithmetic otherwise; the packing always gives such a
  // weight its channel sums.
  const bool staticLhs = p.lhs_scale > 0 || p.lhs_runtime;
  if (staticLhs && (p.bits != 8 || !std::is_same<A, float>::value))
    return fail(host, "matmul_quant: static activation quantization takes "
                      "float activations and 8-bit weights");
  const float lhsScale =
      p.lhs_runtime ? runtime_scale : static_cast<float>(p.lhs_scale);
  const int64_t lhsZeroPoint = p.lhs_runtime ? runtime_zero : p.lhs_zero_point;
  const int32_t lhsZero =
      staticLhs ? int32_t(lhsZeroPoint) - (p.lhs_unsigned ? 128 : 0) : 0;
  const int64_t sumsPerRow = p.bits == 4 ? groups : 1;
  // AMX tiles read whole 32-row tiles: rows past m (padding) are read,
  // their products dropped.
  bool amx = false;
#if defined(ANVIL_QUANT_AMX)
  // 8-bit weights: one group over k_stored; 4-bit (W4A8): groups whole
  // 64-k steps, unpacked to bytes per panel pair.
  amx = m >= kAmxMinRows && p.k_stored % 64 == 0 &&
        (p.bits == 8 || (p.group % 64 == 0 && k == p.k_stored)) &&
        amx_permitted();
#endif
  const int64_t xqRows = amx ? (m + kTileRows - 1) / kTileRows * kTileRows : m;
  const int64_t pairs = (panels + 1) / 2;
  // Then, for W4A8 on AMX, each thread's panel pair unpacked to bytes
  // (64-byte aligned).
  const int64_t unpackBytes = 2 * kPanel * p.k_stored;
  const int64_t unpackOffset =
      (m * 4 * (sumsPerRow + 1) + xqRows * p.k_stored + 63) / 64 * 64;
  const int64_t threads = host && host->num_threads > 0 ? host->num_threads : 1;
  // W8A8 on AVX2 with enough rows: the activations also widened to int16
  // (xw), for tile_dot_int8_wide_avx2.
  bool wideInt8 = false;
#if defined(ANVIL_QUANT_AVX2)
  wideInt8 = p.bits == 8 && m >= kInt8WideMinRows;
#endif
  const int64_t xwOffset =
      (unpackOffset + (amx && p.bits == 4 ? threads * unpackBytes : 0) + 63) /
      64 * 64;
  char *shared = scratch<char>(
      host, 0, size_t(xwOffset + (wideInt8 ? m * p.k_stored * 2 : 0) + 64));
  if (!shared)
    return fail(host, "matmul_quant: out of scratch memory");
  [[maybe_unused]] int16_t *xw =
      wideInt8 ? reinterpret_cast<int16_t *>(shared + xwOffset) : nullptr;
  int32_t *qsums = reinterpret_cast<int32_t *>(shared);
  float *xscale = reinterpret_cast<float *>(shared + m * 4 * sumsPerRow);
  int8_t *xq = reinterpret_cast<int8_t *>(shared + m * 4 * (sumsPerRow + 1));
  // Channel c's U at sums[c] (panel after panel), after the panels.
  const int32_t *sums =
      lhsZero != 0
          ? reinterpret_cast<const int32_t *>(weights + panels * panelBytes)
          : nullptr;
  parallel_for(host, m, rows_grain(k), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      int8_t *row = xq + i * p.k_stored;
      int32_t total = 0;
      if constexpr (std::is_same<A, float>::value)
        if (staticLhs) {
          xscale[i] = lhsScale;
          quantize_row_static(lhs + i * k, k, xscale[i], lhsZeroPoint,
                              p.lhs_unsigned, row, total);
          total = int32_t(uint32_t(total) - uint32_t(k) * uint32_t(lhsZero));
        }
      if (!staticLhs)
        quantize_row_int8(lhs + i * k, k, row, xscale[i], total);
      for (int64_t t = k; t < p.k_stored; ++t)
        row[t] = 0;
      if (wideInt8)
        for (int64_t t = 0; t < p.k_stored; ++t)
          xw[i * p.k_stored + t] = row[t];
      if (sumsPerRow == 1) {
        qsums[i] = total;
        continue;
      }
      for (int64_t g = 0; g < groups; ++g) {
        const int64_t t = g * group;
        qsums[i * groups + g] = sum_int8(row + t, std::min(k, t + group) - t);
      }
    }
  });
  // Tiles of kTileRows rows x two panels (32 output channels).
  const int64_t tileMacs = std::min(m, kTileRows) * 2 * kPanel * k;
  struct PairTile {
    int64_t np, n0, cols, i0, i1; // panels, channels [n0, n0 + cols), rows
    const uint8_t *panel0;
  };
  // Tile t covers row tile t / pairs and panel pair t % pairs; with
  // `pairMajor`, panel pair t / rowTiles and row tile t % rowTiles (a
  // thread's consecutive tiles then share their weights, kept in L2).
  auto pair_tile = [&](int64_t tile, bool pairMajor = false) {
    const int64_t pair = pairMajor ? tile / rowTiles : tile % pairs,
                  rt = pairMajor ? tile % rowTiles : tile / pairs;
    PairTile t;
    t.np = std::min<int64_t>(2, panels - 2 * pair);
    t.n0 = pair * 2 * kPanel;
    t.cols = std::min(t.np * kPanel, n - t.n0);
    t.i0 = rt * kTileRows;
    t.i1 = std::min(m, t.i0 + kTileRows);
    t.panel0 = weights + 2 * pair * panelBytes;
    return t;
  };
  // The end of a tile chunk [begin, end) of the W8A8/W4A8 paths: the AMX
  // tiles given back, then the epilogue on what the chunk finished (AMX
  // tiles are pair-major: each run within one panel pair is a column
  // block).
  auto finish_pair_chunk = [&](int64_t begin, int64_t end) {
#if defined(ANVIL_QUANT_AMX)
    if (amx) {
      _tile_release();
      if constexpr (!is_no_epilogue<Epilogue>())
        for (int64_t t = begin; t < end;) {
          const int64_t pair = t / rowTiles;
          const int64_t stop = std::min(end, (pair + 1) * rowTiles);
          epi((t - pair * rowTiles) * kTileRows,
              std::min(m, (stop - pair * rowTiles) * kTileRows),
              pair * 2 * kPanel, std::min(n, (pair + 1) * 2 * kPanel));
          t = stop;
        }
      return;
    }
#endif
    finished_tiles(begin, end, pairs, UniformRowTiles{kTileRows, m},
                   2 * kPanel);
  };
  if (p.bits == 4) {
    // W4A8 ("q4_n16_k8"): group by group, the exact integer products less
    // the zero point's share (z times the group's sum of q), scaled by the
    // group's weight scale in float; the row's activation scale last. A
    // row's sums do not depend on the rows beside it.
    //
    // A group's scales and integer zero points of channels [n0, n0 +
    // cols), 0 past them. Once per group and tile pair; without zero
    // points (symmetric weights) the f32 scales come in two masked loads
    // or gathers (load_panel_scales). (A decode GEMV of symmetric weights
    // reads its own in gemv_w4a8_symmetric.)
#if defined(__AVX512F__)
    const __m512i index = scale_gather_index(p);
#endif
    auto group_params = [&](int64_t n0, int64_t cols, int64_t g, float *s,
                            int32_t *zi) {
#if defined(__AVX512F__)
      if constexpr (std::is_same<S, float>::value) {
        if (!zero_point) {
          for (int64_t h = 0; h < 2; ++h) {
            const int64_t lanes =
                std::clamp<int64_t>(cols - h * kPanel, 0, kPanel);
            const __mmask16 mask = __mmask16((1u << lanes) - 1u);
            const float *base = scale + (n0 + h * kPanel) * p.scale_n_stride +
                                g * p.scale_g_stride;
            _mm512_store_ps(s + h * kPanel,
                            load_panel_scales(p, index, mask, base));
            _mm512_store_si512(
                zi + h * kPanel,
                _mm512_set1_epi32(static_cast<int32_t>(p.zero_offset)));
          }
          return;
        }
      }
#endif
      float z[2 * kPanel] = {};
      for (int64_t c = 0; c < 2 * kPanel; ++c)
        s[c] = 0;
      params(n0, cols, g, s, z);
      for (int64_t c = 0; c < 2 * kPanel; ++c)
        zi[c] = static_cast<int32_t>(z[c]);
    };
#if defined(__AVX512VNNI__) || defined(ANVIL_QUANT_AVX2)
    if constexpr (std::is_same<S, float>::value) {
      if (m == 1 && !zero_point) {
        // A decode GEMV of symmetric weights: every group of kGemvPanels
        // panels in one loop (gemv_w4a8_symmetric, or its AVX2 twin), the
        // tiles' bits.
        for_each_gemv_item(
            host, panels, grain(kGemvPanels * kPanel * k),
            [&](int64_t pi, int64_t np, int64_t step) {
              int64_t cols[kGemvPanels] = {};
              for (int64_t q = 0; q < np; ++q)
                cols[q] = std::min(kPanel, n - (pi + q * step) * kPanel);
              alignas(64) float result[kGemvPanels][kPanel];
              with_panels(np, [&](auto NP) {
#if defined(__AVX512VNNI__)
                gemv_w4a8_symmetric<NP>(
#else
                gemv_w4a8_symmetric_avx2<NP>(
#endif
                    p, weights + pi * panelBytes, step * panelBytes, xq, qsums,
                    scale + pi * kPanel * p.scale_n_stride,
                    step * kPanel * p.scale_n_stride, cols, result[0]);
              });
              for (int64_t q = 0; q < np; ++q) {
                const int64_t n0 = (pi + q * step) * kPanel;
                for (int64_t c = 0; c < cols[q]; ++c)
                  out[n0 + c] = static_cast<C>(xscale[0] * result[q][c]);
                finished(0, 1, n0, cols[q]);
              }
            });
        return run_failed(host) ? 1 : 0;
      }
    }
#endif
    // A tile's rows of out, each row's result times its activation scale.
    auto store_scaled_rows = [&](int64_t i0, int64_t i1, int64_t n0,
                                 int64_t cols,
                                 const float(*result)[2 * kPanel]) {
      for (int64_t i = i0; i < i1; ++i) {
        if constexpr (std::is_same<C, float>::value)
          store_scaled(out + i * n + n0, result[i - i0], xscale[i], cols);
        else
          for (int64_t c = 0; c < cols; ++c)
            out[i * n + n0 + c] = static_cast<C>(xscale[i] * result[i - i0][c]);
      }
    };
    parallel_for(
        host, rowTiles * pairs, grain(tileMacs),
        [&](int64_t begin, int64_t end, [[maybe_unused]] int thread) {
          // AMX: the panel pair unpacked to bytes in this thread's buffer
          // (pair-major tiles: once per pair and chunk).
          [[maybe_unused]] uint8_t *unpacked = nullptr;
          [[maybe_unused]] int64_t unpackedPair = -1;
#if defined(ANVIL_QUANT_AMX)
          if (amx) {
            amx_configure();
            unpacked = reinterpret_cast<uint8_t *>(shared + unpackOffset +
                                                   thread * unpackBytes);
          }
#endif
          for (int64_t tile = begin; tile < end; ++tile) {
            const auto [np, n0, cols, i0, i1, panel0] = pair_tile(tile, amx);
            alignas(64) float result[kTileRows][2 * kPanel];
            std::memset(result, 0,
                        sizeof(float) * 2 * kPanel * size_t(i1 - i0));
#if defined(ANVIL_QUANT_AMX)
            if (amx) {
              // Signed values less their zero points, TDPBSSD, groups
              // pipelined (rows_dot_int4_amx).
              int8_t *values = reinterpret_cast<int8_t *>(unpacked);
              const int8_t *const b[2] = {values, values + p.k_stored * kPanel};
              // A pair's first tile unpacks it, group by group ahead of
              // the products (so the reads overlap the AMX unit's work);
              // the pair's other row tiles find it unpacked.
              const bool fresh = unpackedPair != n0;
              unpackedPair = n0;
              // Each group's zero points come off its values where they fit
              // a signed byte (always for 4-bit ones); params tells the
              // update which groups' did, from the same zero points.
              auto unpack = [&, np = np, n0 = n0, cols = cols,
                             panel0 = panel0](int64_t t0, int64_t t1) {
                if (!fresh)
                  return;
                // The group's zero points as its update will see them
                // (group_params; the scales are not needed here).
                alignas(64) float s[2 * kPanel];
                alignas(64) int32_t zi[2 * kPanel];
                group_params(n0, cols, t0 / group, s, zi);
                const bool fit = zeros_fit_signed_bytes(zi);
                for (int64_t j = 0; j < np; ++j)
                  unpack_int4_lines_amx(panel0 + j * panelBytes, t0, t1,
                                        fit ? zero_bytes(zi + j * kPanel)
                                            : _mm512_setzero_si512(),
                                        values + j * p.k_stored * kPanel);
              };
              const int8_t *rowsXq = xq + i0 * p.k_stored;
              const int32_t *rowsSums = qsums + i0 * groups;
              auto params = [&, n0 = n0, cols = cols](int64_t g, float *s,
                                                      int32_t *zi) {
                group_params(n0, cols, g, s, zi);
                return zeros_fit_signed_bytes(zi);
              };
              const bool two = i1 - i0 > 16;
              if (np == 2 && two)
                rows_dot_int4_amx<2, true>(p, b, rowsXq, rowsSums, i1 - i0,
                                           params, unpack, result);
              else if (np == 2)
                rows_dot_int4_amx<2, false>(p, b, rowsXq, rowsSums, i1 - i0,
                                            params, unpack, result);
              else if (two)
                rows_dot_int4_amx<1, true>(p, b, rowsXq, rowsSums, i1 - i0,
                                           params, unpack, result);
              else
                rows_dot_int4_amx<1, false>(p, b, rowsXq, rowsSums, i1 - i0,
                                            params, unpack, result);
              store_scaled_rows(i0, i1, n0, cols, result);
              continue;
            }
#endif
            for (int64_t g = 0; g < groups; ++g) {
              const int64_t k0 = g * group, k1 = std::min(k, k0 + group);
              alignas(64) float s[2 * kPanel];
              alignas(64) int32_t zi[2 * kPanel];
              group_params(n0, cols, g, s, zi);
              // The group's integer sums for the tile: VNNI chains
              // kInt4Rows rows at a time.
              int32_t tileAcc[kTileRows][2][kPanel];
              for (int64_t i = i0; i < i1; i += kInt4Rows) {
                const int64_t rows = std::min(kInt4Rows, i1 - i);
                int32_t(*acc)[2][kPanel] = tileAcc + (i - i0);
                if (np == 2)
                  rows_dot_int4<2>(p, panel0, xq + i * p.k_stored, rows, k0, k1,
                                   acc);
                else
                  rows_dot_int4<1>(p, panel0, xq + i * p.k_stored, rows, k0, k1,
                                   acc);
                for (int64_t r = 0; r < rows; ++r) {
                  const int32_t sum = qsums[(i + r) * groups + g];
                  const int32_t *a = acc[r][0];
                  float *out_row = result[i - i0 + r];
#if defined(__AVX512F__)
                  // The scalar loop's operations, 16 channels at a time
                  // (the same bits): scalar, this update cost more than
                  // the group's products for few rows.
                  const __m512i sumv = _mm512_set1_epi32(sum);
                  for (int64_t h = 0; h < np; ++h) {
                    const __m512 product = _mm512_cvtepi32_ps(_mm512_sub_epi32(
                        _mm512_loadu_si512(a + h * kPanel),
                        _mm512_mullo_epi32(_mm512_load_si512(zi + h * kPanel),
                                           sumv)));
                    _mm512_storeu_ps(
                        out_row + h * kPanel,
                        _mm512_add_ps(
                            _mm512_loadu_ps(out_row + h * kPanel),
                            _mm512_mul_ps(_mm512_load_ps(s + h * kPanel),
                                          product)));
                  }
#elif defined(ANVIL_QUANT_AVX2)
                  // One explicit FMA, as gemv_w4a8_symmetric_avx2's (left
                  // to g++, the scalar loop's contraction decided whether a
                  // row's decode and prefill agreed).
                  const __m256i sumv = _mm256_set1_epi32(sum);
                  for (int64_t h = 0; h < 2 * np; ++h) {
                    const __m256 product = _mm256_cvtepi32_ps(_mm256_sub_epi32(
                        _mm256_loadu_si256(
                            reinterpret_cast<const __m256i *>(a + 8 * h)),
                        _mm256_mullo_epi32(
                            _mm256_load_si256(
                                reinterpret_cast<const __m256i *>(zi + 8 * h)),
                            sumv)));
                    _mm256_storeu_ps(
                        out_row + 8 * h,
                        _mm256_fmadd_ps(_mm256_load_ps(s + 8 * h), product,
                                        _mm256_loadu_ps(out_row + 8 * h)));
                  }
#else
                  for (int64_t c = 0; c < np * kPanel; ++c)
                    out_row[c] += s[c] * static_cast<float>(a[c] - zi[c] * sum);
#endif
                }
              }
            }
            store_scaled_rows(i0, i1, n0, cols, result);
          }
          finish_pair_chunk(begin, end);
        });
    return run_failed(host) ? 1 : 0;
  }
#if defined(__AVX512VNNI__)
  if constexpr (std::is_same<C, float>::value) {
    if (m == 1) {
      // A W8A8 decode GEMV: kGemvPanels panels per item (read streams per
      // thread), the integer sums of rows_dot_int8_fixed<1, NP, 4> and
      // the tiles' epilogue per panel, so the tiles' bits.
      for_each_gemv_item(
          host, panels, grain(kGemvPanels * kPanel * k),
          [&](int64_t pi, int64_t np, int64_t step) {
            int32_t acc[1][kGemvPanels][kPanel];
            with_panels(np, [&](auto NP) {
              rows_dot_int8_fixed<1, NP, 4>(p, weights + pi * panelBytes, xq,
                                            acc, step * panelBytes);
            });
            if (sums)
              for (int64_t q = 0; q < np; ++q)
                subtract_zero_share(acc, 1, q, lhsZero,
                                    sums + (pi + q * step) * kPanel);
            const __m512 xs = _mm512_set1_ps(xscale[0]);
            const __m512i qs = _mm512_set1_epi32(qsums[0]);
            for (int64_t q = 0; q < np; ++q) {
              const int64_t n0 = (pi + q * step) * kPanel,
                            cols = std::min(kPanel, n - n0);
              float s[kPanel] = {}, z[kPanel] = {};
              params(n0, cols, 0, s, z);
              store_w8a8_channels(
                  out + n0, __mmask16((1u << cols) - 1u), acc[0][q],
                  _mm512_cvttps_epi32(_mm512_loadu_ps(z)), qs, xs, s);
              finished(0, 1, n0, cols);
            }
          });
      return run_failed(host) ? 1 : 0;
    }
  }
#endif
  // Which of the next tile's panels (its pair's) the row call `call` of a
  // tile of `rows` rows prefetches into L2: a call reads the tile's pair
  // once, so one call alone prefetches both next panels, more calls one
  // each. Without it a thread's tiles read DRAM only in their first call
  // (the others find the pair in L1): 16 sequences' decode read about 10
  // GB/s of weights in W8A8 against 25 in the GEMV.
  auto next_pair_prefetch = [&](int64_t tile, int64_t call, int64_t rows) {
    std::pair<const uint8_t *, int> none{nullptr, 0};
    if (tile + 1 >= rowTiles * pairs)
      return none;
    const PairTile next = pair_tile(tile + 1);
    if (rows <= kInt8Rows)
      return std::pair<const uint8_t *, int>{next.panel0, int(next.np)};
    if (call >= next.np)
      return none;
    return std::pair<const uint8_t *, int>{next.panel0 + call * panelBytes, 1};
  };
  // The epilogue of rows [i, i + rows) of a tile (t; its channels' scales
  // s and zero points z from params) whose integer sums are in acc: the
  // activations' zero point's share off (static activations), then out.
  auto finish_tile_rows = [&](const PairTile &t, const float *s, const float *z,
                              int64_t i, int64_t rows,
                              int32_t(*acc)[2][kPanel]) {
    const int64_t np = t.np, n0 = t.n0, cols = t.cols;
    if (sums)
      for (int64_t j = 0; j < np; ++j)
        subtract_zero_share(acc, rows, j, lhsZero, sums + n0 + j * kPanel);
#if defined(__AVX512F__)
    if constexpr (std::is_same<C, float>::value) {
      // The scalar loop below, 16 channels at a time (the same operations
      // in the same order, so the same bits): scalar, it took a large
      // share of a tile's time.
      __m512i zv[2];
      __mmask16 storeMask[2];
      for (int64_t h = 0; h < 2; ++h) {
        zv[h] = _mm512_cvttps_epi32(_mm512_loadu_ps(z + h * kPanel));
        const int64_t lanes = std::clamp<int64_t>(cols - h * kPanel, 0, kPanel);
        storeMask[h] = __mmask16((1u << lanes) - 1u);
      }
      for (int64_t r = 0; r < rows; ++r) {
        const __m512 xs = _mm512_set1_ps(xscale[i + r]);
        const __m512i qs = _mm512_set1_epi32(qsums[i + r]);
        for (int64_t h = 0; h < np; ++h)
          store_w8a8_channels(out + (i + r) * n + n0 + h * kPanel, storeMask[h],
                              acc[r][h], zv[h], qs, xs, s + h * kPanel);
      }
      return;
    }
#elif defined(ANVIL_QUANT_AVX2)
    if constexpr (std::is_same<C, float>::value) {
      // The scalar loop below, 8 channels at a time (the same operations
      // in the same order, so the same bits): scalar, it took 3% of the
      // 250M decoder's W8A8 prefill on AMD Zen 3.
      for (int64_t h = 0; h < np; ++h)
        for (int64_t e = 0; e < kPanel / 8; ++e) {
          const int64_t c0 = h * kPanel + 8 * e;
          const int64_t lanes = std::clamp<int64_t>(cols - c0, 0, 8);
          if (lanes == 0)
            break;
          const __m256i zv = _mm256_cvttps_epi32(_mm256_loadu_ps(z + c0));
          const __m256 sv = _mm256_loadu_ps(s + c0);
          for (int64_t r = 0; r < rows; ++r) {
            const __m256 product = _mm256_cvtepi32_ps(_mm256_sub_epi32(
                _mm256_loadu_si256(
                    reinterpret_cast<const __m256i *>(acc[r][h] + 8 * e)),
                _mm256_mullo_epi32(zv, _mm256_set1_epi32(qsums[i + r]))));
            const __m256 result = _mm256_mul_ps(
                _mm256_mul_ps(_mm256_set1_ps(xscale[i + r]), sv), product);
            float *o = out + (i + r) * n + n0 + c0;
            if (lanes == 8) {
              _mm256_storeu_ps(o, result);
            } else {
              alignas(32) float tail[8];
              _mm256_store_ps(tail, result);
              std::memcpy(o, tail, size_t(lanes) * sizeof(float));
            }
          }
        }
      return;
    }
#endif
    if constexpr (std::is_integral<C>::value) {
      // lhs_runtime's int32 output: the exact integer product
      // (MatMulInteger's), no scales; wraps as int32 would.
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          out[(i + r) * n + n0 + c] = static_cast<C>(
              uint32_t(acc[r][c / kPanel][c % kPanel]) -
              uint32_t(static_cast<int32_t>(z[c])) * uint32_t(qsums[i + r]));
      return;
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        out[(i + r) * n + n0 + c] = static_cast<C>(
            xscale[i + r] * s[c] *
            static_cast<float>(acc[r][c / kPanel][c % kPanel] -
                               static_cast<int32_t>(z[c]) * qsums[i + r]));
  };
#if defined(ANVIL_QUANT_AVX2)
  if (m == 1) {
    // A W8A8 decode GEMV on AVX2, as the VNNI one above: kGemvPanels
    // panels per item (two read streams a thread, for_each_gemv_item),
    // each panel's exact sums and the tiles' epilogue (finish_tile_rows),
    // so the tiles' bits. Through the tiles, a pair of consecutive panels
    // at a time, the 250M decoder's W8A8 GEMVs read 22-23 GB/s on two
    // threads where the weight-only int8 GEMV reads 25-27.
    for_each_gemv_item(
        host, panels, grain(kGemvPanels * kPanel * k),
        [&](int64_t pi, int64_t np, int64_t step) {
          int32_t acc[1][kGemvPanels][kPanel];
          with_panels(np, [&](auto NP) {
            rows_dot_int8_fixed<1, NP, 1>(p, weights + pi * panelBytes, xq, acc,
                                          step * panelBytes);
          });
          for (int64_t q = 0; q < np; ++q) {
            const int64_t n0 = (pi + q * step) * kPanel;
            const PairTile t{1, n0, std::min(kPanel, n - n0),
                             0, 1,  weights + (pi + q * step) * panelBytes};
            float s[2 * kPanel] = {}, z[2 * kPanel] = {};
            params(t.n0, t.cols, 0, s, z);
            int32_t one[1][2][kPanel];
            std::memcpy(one[0][0], acc[0][q], sizeof one[0][0]);
            finish_tile_rows(t, s, z, 0, 1, one);
            finished(0, 1, t.n0, t.cols);
          }
        });
    return run_failed(host) ? 1 : 0;
  }
#endif
  parallel_for(
      host, rowTiles * pairs, grain(tileMacs), [&](int64_t begin, int64_t end) {
#if defined(ANVIL_QUANT_AMX)
        if (amx)
          amx_configure();
        if (amx && m <= 16) {
          // One row block of 16 rows (AMX takes 16 or more; a 16-sequence
          // decode step): a tile's products accumulate in AMX set (tile -
          // begin) % 2 and its epilogue runs after the next tile's
          // products are issued, so the vector epilogue overlaps the AMX
          // unit's weight reads. With one set each tile's epilogue waited
          // for its last products and no weights were read meanwhile
          // (16 x 1024 x 2816 on one thread 236 -> 223 us, 2026-12-05).
          struct Pending {
            PairTile t;
            alignas(64) float s[2 * kPanel], z[2 * kPanel];
            alignas(64) int32_t acc[16][2][kPanel];
          } pending[2];
          for (int64_t tile = begin; tile < end; ++tile) {
            const int set = int((tile - begin) & 1);
            Pending &now = pending[set];
            now.t = pair_tile(tile, true);
            std::fill(now.s, now.s + 2 * kPanel, 0.0f);
            std::fill(now.z, now.z + 2 * kPanel, 0.0f);
            params(now.t.n0, now.t.cols, 0, now.s, now.z);
            const uint8_t *const b[2] = {now.t.panel0,
                                         now.t.panel0 + panelBytes};
            // f(set, panels) with both as integral constants (the tile
            // intrinsics spell their tile numbers into the instruction).
            auto in_set = [&](auto &&f) {
              using std::integral_constant;
              if (set == 0 && now.t.np == 2)
                f(integral_constant<int, 0>(), integral_constant<int, 2>());
              else if (set == 0)
                f(integral_constant<int, 0>(), integral_constant<int, 1>());
              else if (now.t.np == 2)
                f(integral_constant<int, 1>(), integral_constant<int, 2>());
              else
                f(integral_constant<int, 1>(), integral_constant<int, 1>());
            };
            in_set([&](auto Set, auto NP) {
              rows_dot_int8_amx_set<Set, NP>(b, xq, p.k_stored, 0, p.k_stored);
            });
            if (tile > begin) {
              Pending &last = pending[set ^ 1];
              finish_tile_rows(last.t, last.s, last.z, 0, m, last.acc);
            }
            in_set([&](auto Set, auto NP) { amx_store_set<Set, NP>(now.acc); });
          }
          if (end > begin) {
            Pending &last = pending[(end - 1 - begin) & 1];
            finish_tile_rows(last.t, last.s, last.z, 0, m, last.acc);
          }
          finish_pair_chunk(begin, end);
          return;
        }
#endif
        for (int64_t tile = begin; tile < end; ++tile) {
          const PairTile t = pair_tile(tile, amx);
          const auto [np, n0, cols, i0, i1, panel0] = t;
          float s[2 * kPanel] = {}, z[2 * kPanel] = {};
          params(n0, cols, 0, s, z);
          // The tile's integer sums: AMX tiles for the whole tile, or VNNI
          // chains kInt8Rows rows at a time (the same exact sums).
          int32_t tileAcc[kTileRows][2][kPanel];
#if defined(ANVIL_QUANT_AMX)
          if (amx) {
            const uint8_t *const b[2] = {panel0, panel0 + panelBytes};
            if (np == 2)
              rows_dot_int8_amx<2>(p, b, xq + i0 * p.k_stored, i1 - i0, 0,
                                   p.k_stored, tileAcc);
            else
              rows_dot_int8_amx<1>(p, b, xq + i0 * p.k_stored, i1 - i0, 0,
                                   p.k_stored, tileAcc);
          }
#endif
          bool tileDone = amx; // tileAcc holds the whole tile's sums
#if defined(ANVIL_QUANT_AVX2)
          if (wideInt8 && i1 - i0 >= kInt8WideMinRows) {
            tile_dot_int8_wide_avx2(p, panel0, np, xw + i0 * p.k_stored,
                                    i1 - i0, tileAcc);
            tileDone = true;
          }
#endif
          for (int64_t i = i0; i < i1; i += kInt8Rows) {
            const int64_t rows = std::min(kInt8Rows, i1 - i);
            int32_t(*acc)[2][kPanel] = tileAcc + (i - i0);
            if (!tileDone) {
              const auto [pf, pfPanels] =
                  next_pair_prefetch(tile, (i - i0) / kInt8Rows, i1 - i0);
              if (np == 2)
                rows_dot_int8<2>(p, panel0, xq + i * p.k_stored, rows, acc, pf,
                                 pfPanels);
              else
                rows_dot_int8<1>(p, panel0, xq + i * p.k_stored, rows, acc, pf,
                                 pfPanels);
            }
            finish_tile_rows(t, s, z, i, rows, acc);
          }
        }
        finish_pair_chunk(begin, end);
      });
  return run_failed(host) ? 1 : 0;
}

/// The launch's inputs: lhs, the packed weight, scales and zero points.
template <class A, class Q, class S, class Z, class C,
          class Epilogue = NoEpilogue>
int matmul_quant(const anvil_host_api *host, const MatmulQuantParams &p,
                 const A *lhs, const Q *packed, const S *scale,
                 const Z *zero_point, C *out,
                 const Epilogue &epi = Epilogue()) {
  return matmul_quant_impl(host, p, lhs, packed, scale, zero_point, 0.0f, 0,
                           out, epi);
}

/// Without zero points.
template <class A, class Q, class S, class C, class Epilogue = NoEpilogue>
int matmul_quant(const anvil_host_api *host, const MatmulQuantParams &p,
                 const A *lhs, const Q *packed, const S *scale, C *out,
                 const Epilogue &epi = Epilogue()) {
  return matmul_quant(host, p, lhs, packed, scale,
                      static_cast<const uint8_t *>(nullptr), out, epi);
}

/// lhs_runtime: the activations' scale [1] and zero point [1] (uint8 or
/// int8, as lhs_unsigned says) follow the weight's zero points.
template <class A, class Q, class S, class Z, class LS, class LZ, class C,
          class Epilogue = NoEpilogue>
int matmul_quant(const anvil_host_api *host, const MatmulQuantParams &p,
                 const A *lhs, const Q *packed, const S *scale,
                 const Z *zero_point, const LS *lhs_scale,
                 const LZ *lhs_zero_point, C *out,
                 const Epilogue &epi = Epilogue()) {
  if (!p.lhs_runtime)
    return fail(host, "matmul_quant: activation scale inputs without "
                      "lhs_runtime");
  return matmul_quant_impl(
      host, p, lhs, packed, scale, zero_point, static_cast<float>(*lhs_scale),
      p.lhs_unsigned ? int64_t(static_cast<uint8_t>(*lhs_zero_point))
                     : int64_t(static_cast<int8_t>(*lhs_zero_point)),
      out, epi);
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_MATMUL_QUANT_H
