// matmul_panels.h - f32 products with a weight prepacked in column panels.
//
// The layout (written at compile time by the cpu target's weight packing,
// dialects/Kernel/WeightData.cpp): the [K, N] weight is cut into panels of
// kPanelWidth = 32 output columns (the last one narrower when N is not a
// multiple), each stored K-major: panel p starts at element p * 32 * K and
// holds its (k, j) at k * width_p + j. A micro-kernel then streams one
// contiguous run of memory per panel, never a stride of N floats (which
// at N = 1024 lands every row of a tile on the same cache sets).
//
// Register blocking after the GotoBLAS/BLIS micro-kernel (Goto & van de
// Geijn, "Anatomy of high-performance matrix multiplication", TOMS 2008):
// MR rows x NP panels of accumulators stay in vector registers over the
// whole K loop, each weight vector loaded once for MR rows. A decode GEMV
// (m = 1) takes 4 panels at once, so 8 (AVX-512) independent FMA chains
// hide the FMA latency (8 panels when the weight has 32 or more: more
// read streams per thread); prefill takes 12 rows of one panel (24
// accumulators), its lhs packed once per call, row tile by row tile, and
// shared by the threads.
//
// Every output element is one FMA chain over k in increasing order, the
// same whatever MR, NP, the tiling or the thread count: a sequence's
// logits do not depend on what else is in its batch.
#ifndef ANVIL_CPU_KERNELS_MATMUL_PANELS_H
#define ANVIL_CPU_KERNELS_MATMUL_PANELS_H

#include "common.h"

#include "cpu_tuning.h"
#include "simd.h"

#include <algorithm>
#include <memory>
#include <new>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace anvil {
namespace cpu {

/// Columns per weight panel (the compiler's kWeightPanelWidth).
constexpr int64_t kPanelWidth = 32;

namespace panels {
using simd::Vec;

// Fixed-trip loops over registers must unroll fully (#pragma GCC unroll,
// which Clang honours too), or the accumulators live in memory: GCC's -O2
// does not unroll on its own.

/// Vectors per panel row.
constexpr int kVecs = int(kPanelWidth) / Vec::kLanes;

/// Width of panel `panel` of an n-column weight.
inline int64_t panel_width(int64_t n, int64_t panel) {
  return std::min<int64_t>(kPanelWidth, n - panel * kPanelWidth);
}

/// Portable: 16-bit weights widened one by one.
template <class W>
inline Vec widen(const W *p, typename Vec::Mask lanes, int64_t count) {
  float wide[Vec::kLanes] = {};
  for (int64_t l = 0; l < Vec::kLanes && l < count; ++l)
    wide[l] = float(p[l]);
  return Vec::load(wide, lanes);
}

#if defined(__AVX2__) && !defined(__AVX512F__)
/// Up to 8 16-bit values from p (the rest zero) without reading past
/// `count` of them: AVX2 has no masked 16-bit load.
inline __m128i load_halves(const void *p, int64_t count) {
  if (count >= 8)
    return _mm_loadu_si128(static_cast<const __m128i *>(p));
  uint16_t part[8] = {};
  std::memcpy(part, p, 2 * std::max<int64_t>(count, 0));
  return _mm_loadu_si128(reinterpret_cast<const __m128i *>(part));
}
#endif

/// `count` (up to kLanes; `lanes` the same as a mask) weights from p as
/// floats: f32 as they are, f16 and bf16 widened exactly.
inline Vec load_weights(const float *p, typename Vec::Mask lanes, int64_t) {
  return Vec::load(p, lanes);
}
inline Vec load_weights(const bf16 *p, typename Vec::Mask lanes,
                        int64_t count) {
#if defined(__AVX512F__)
  (void)count; // bf16 is the high half of a float
  const __m256i h = _mm256_maskz_loadu_epi16(lanes, p);
  return {_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16))};
#elif defined(__AVX2__) && defined(__FMA__)
  (void)lanes;
  const __m128i h = load_halves(p, count);
  return {_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16))};
#else
  return widen(p, lanes, count);
#endif
}
inline Vec load_weights(const f16 *p, typename Vec::Mask lanes, int64_t count) {
#if defined(__AVX512F__)
  (void)count;
  return {_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(lanes, p))};
#elif defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
  (void)lanes;
  const __m128i h = load_halves(p, count);
  return {_mm256_cvtph_ps(h)};
#else
  return widen(p, lanes, count);
#endif
}

/// A whole vector of weights (kLanes of them, no mask) as floats.
inline Vec load_full(const float *p) { return Vec::loadu(p); }
inline Vec load_full(const bf16 *p) {
  return load_weights(p, Vec::mask(Vec::kLanes), Vec::kLanes);
}
inline Vec load_full(const f16 *p) {
  return load_weights(p, Vec::mask(Vec::kLanes), Vec::kLanes);
}

/// The panel span of one tile: panels [p0, min(p0 + NP, pend)) over k in
/// [k0, k1) of a [k, n] weight; with `accumulate` the sums continue from
/// what `out` holds (a float round-trips memory exactly, so a product cut
/// into k blocks has the bits of one uncut FMA chain).
struct Span {
  int64_t n, k, k0, k1, p0, pend;
  bool accumulate;
  /// Bytes to prefetch while the k loop runs (the block a later tile
  /// reads), spread over its iterations with the T1 hint (L2 as Intel
  /// documents it; L1 too on AMD Zen 3, bench/README.md's
  /// anvil-prefetch-hints); none when null.
  const char *prefetch = nullptr;
  int64_t prefetch_bytes = 0;
  /// On the last k block only: + column_bias[column] (one value per output
  /// column, as a convolution's bias is when its channels are the
  /// columns), then `clamp` (common.h), as the sums are stored.
  const float *column_bias = nullptr;
  const ClampBounds *clamp = nullptr;
  /// f32 weights read by unpacked rows (CS == 0): each panel prefetches its
  /// own lines kF32BatchPrefetchK k ahead (a small batch's one row tile on
  /// the CPUs tuning::kF32SmallBatchPrefetch names).
  bool stream_prefetch = false;
};

/// How many k ahead the unpacked-lhs tiles (decode GEMVs, small batches)
/// prefetch 16-bit weights: one line per panel and k (32 columns x 2
/// bytes), 1 KiB ahead in each panel's stream. The widening (a shift or a
/// conversion per 16 weights) doubles the loop's instructions per byte,
/// so fewer of a panel's lines are in flight than with f32 weights, whose
/// GEMV measured no faster with a prefetch. 250M decoder, bf16 weights, 2
/// threads, 3 alternated pairs of 5-run medians: 55.6-58.2 -> 64.4-67.5
/// tok/s. On AMD Zen 4 the same prefetch cost a fifth of the decode speed,
/// so only the CPUs tuning::kHalfGemvPrefetch names issue it.
constexpr int64_t kHalfGemvPrefetchK = 16;

/// How many k ahead a small batch's tiles over f32 weights prefetch (with
/// Span::stream_prefetch): a panel row is 128 bytes, two lines, so 1 KiB
/// ahead as kHalfGemvPrefetchK is. On AMD Zen 3 it made the 250M decoder's
/// f32 decode of 4 sequences 1.3-1.4x faster; the decode GEMV (one row)
/// lost a fifth with it and does not ask (cpu_tuning.h).
constexpr int64_t kF32BatchPrefetchK = 8;

/// Rows from which tile_impl keeps a packed tile's weight vectors in
/// registers (see there). AVX2, AMD Zen 3: 250M decoder, f32, 2 threads,
/// decode of 16 sequences at depth 128 (6 + 6 + 4 rows): x1.06 (6/6
/// alternated rounds); anvil-kernel-bench m = 16, k x n = 1024 x 2816, one
/// thread, weights warm: 1448 -> 1279 us (medians of 8). AVX-512, AMD Zen
/// 4 (12 + 4 rows), with tile_panels' narrow tiles: 1064 -> 920 us.
constexpr int kRegisterWeightsMinRows = 3;

/// out[i, the span's panels] (+)= a[i, k0:k1] x w[k0:k1, those panels] for
/// MR rows of `a`: acc stays in registers for the whole k loop. With CS > 0
/// the rows are packed (element (i, k0 + t) at a[t * CS + i]: one
/// contiguous line of broadcasts per k), with CS == 0 they are row-major
/// (at a[i * rs + t]). Panels from `pend` on are neither read nor written.
template <int MR, int NP, int CS, class W, bool Full, int V0, int VN>
inline void tile_impl(const float *a, int64_t rs, const W *w, const Span &s,
                      float *out, int64_t ldo) {
  // Locals, not s's fields: the stores to `out` may alias *s as far as the
  // compiler knows, which would reload them on every k.
  const int64_t k0 = s.k0, k1 = s.k1;
  const W *base[NP];
  int64_t width[NP];
  typename Vec::Mask lanes[NP][kVecs]; // valid lanes of a panel row's vectors
#pragma GCC unroll 16
  for (int p = 0; p < NP; ++p) {
    const int64_t panel = std::min<int64_t>(s.p0 + p, s.pend - 1);
    width[p] = s.p0 + p < s.pend ? panel_width(s.n, panel) : 0;
    base[p] = w + panel * kPanelWidth * s.k + k0 * width[p];
#pragma GCC unroll 16
    for (int v = 0; v < kVecs; ++v)
      lanes[p][v] = Vec::mask(width[p] - int64_t(v) * Vec::kLanes);
  }
  float *o = out + s.p0 * kPanelWidth;
  Vec acc[MR][NP][VN];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p)
#pragma GCC unroll 16
      for (int v = V0; v < V0 + VN; ++v)
        acc[i][p][v - V0] =
            !s.accumulate ? Vec::zero()
            : Full ? Vec::loadu(o + i * ldo + p * kPanelWidth + v * Vec::kLanes)
                   : Vec::load(o + i * ldo + p * kPanelWidth + v * Vec::kLanes,
                               lanes[p][v]);
  // Bytes of s.prefetch per k (at most two lines: a block of the same
  // shape as this one has a panel row of at most 128 bytes per k; a
  // smaller share prefetches a line on several k, which costs little).
  // Only the packed (multi-row-tile) path prefetches: the GEMV's loop
  // stays as tight as it was.
  const int64_t pfStep =
      CS > 0 && s.prefetch ? (s.prefetch_bytes + (k1 - k0) - 1) / (k1 - k0) : 0;
  // The unpacked-lhs tiles over 16-bit weights prefetch their own panels
  // for t < halfPfEnd (none where the CPU measured slower with it).
  const int64_t halfPfEnd =
      tuning::kHalfGemvPrefetch ? (k1 - k0) - kHalfGemvPrefetchK : 0;
  // The f32 small batches' own prefetch, for t < f32PfEnd; a panel row's
  // second line only where the panel is wider than one line.
  const int64_t f32PfEnd =
      s.stream_prefetch ? (k1 - k0) - kF32BatchPrefetchK : 0;
  for (int64_t t = 0; t < k1 - k0; ++t) {
    if constexpr (CS > 0) {
      if (pfStep) {
        __builtin_prefetch(s.prefetch + t * pfStep, 0, 2);
        if (pfStep > 64)
          __builtin_prefetch(s.prefetch + t * pfStep + 64, 0, 2);
      }
    }
    if constexpr (CS == 0 && !std::is_same<W, float>::value) {
      if (t < halfPfEnd) {
#pragma GCC unroll 16
        for (int p = 0; p < NP; ++p)
          __builtin_prefetch(base[p] + (t + kHalfGemvPrefetchK) * width[p], 0,
                             3);
      }
    }
    if constexpr (CS == 0 && std::is_same<W, float>::value) {
      if (t < f32PfEnd) {
#pragma GCC unroll 16
        for (int p = 0; p < NP; ++p) {
          const W *row = base[p] + (t + kF32BatchPrefetchK) * width[p];
          __builtin_prefetch(row, 0, 3);
          if (width[p] > 64 / int64_t(sizeof(W)))
            __builtin_prefetch(row + 64 / sizeof(W), 0, 3);
        }
      }
    }
    Vec b[NP][VN];
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p)
#pragma GCC unroll 16
      for (int v = V0; v < V0 + VN; ++v)
        b[p][v - V0] =
            Full ? load_full(base[p] + t * kPanelWidth + v * Vec::kLanes)
                 : load_weights(base[p] + t * width[p] + v * Vec::kLanes,
                                lanes[p][v],
                                width[p] - int64_t(v) * Vec::kLanes);
#if defined(__AVX2__) && defined(__FMA__)
    // Packed tiles of 3 rows or more keep their weight vectors in
    // registers. On AVX2 (half a panel: two weight vectors per k, each used
    // by every row) g++ folded the weight loads into the FMAs of the 3- and
    // 4-row tiles (not the 5- and 6-row ones), so each vector was loaded
    // once per row (4 rows: 8 weight loads and 4 broadcasts per 8 FMAs,
    // beyond Zen 3's two 256-bit loads a cycle); on AVX-512 it folds those
    // of the 2- to 4-row tiles (a batch of 16 rows' 4-row tail tile: 8
    // 64-byte loads per 8 FMAs, which Zen 4 serves at one a cycle). An
    // empty asm makes the loaded vectors opaque, so they stay in registers: 2
    // loads and 4 broadcasts. The same FMAs, the same bits. Not for 1- and
    // 2-row tiles nor for rows read in place (CS == 0: the decode GEMV and
    // small batches, which stream their weights; AVX2's 2-row tiles
    // measured 7-10% slower with it, AVX-512's no faster).
    // docs/performance.md, sessions 44 and 46.
    if constexpr (MR >= kRegisterWeightsMinRows && CS > 0) {
#pragma GCC unroll 16
      for (int p = 0; p < NP; ++p)
#pragma GCC unroll 16
        for (int v = 0; v < VN; ++v)
#if defined(__AVX512F__)
          asm("" : "+v"(b[p][v].v)); // any of the 32 vector registers
#else
          asm("" : "+x"(b[p][v].v));
#endif
    }
#endif
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const Vec ai = Vec::splat(CS > 0 ? a[t * CS + i] : a[i * rs + t]);
#pragma GCC unroll 16
      for (int p = 0; p < NP; ++p)
#pragma GCC unroll 16
        for (int v = V0; v < V0 + VN; ++v)
          acc[i][p][v - V0] = Vec::fma(ai, b[p][v - V0], acc[i][p][v - V0]);
    }
  }
  if (const float *columnBias = s.column_bias) {
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p)
#pragma GCC unroll 16
      for (int v = V0; v < V0 + VN; ++v) {
        const Vec bias =
            Vec::load(columnBias + (s.p0 + p) * kPanelWidth + v * Vec::kLanes,
                      lanes[p][v]);
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i)
          acc[i][p][v - V0] = Vec::add(acc[i][p][v - V0], bias);
      }
  }
  if (const ClampBounds *clamp = s.clamp) {
    const Vec lo = Vec::splat(clamp->lo), hi = Vec::splat(clamp->hi);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 16
      for (int p = 0; p < NP; ++p)
#pragma GCC unroll 16
        for (int v = V0; v < V0 + VN; ++v)
          acc[i][p][v - V0] = Vec::clamp(acc[i][p][v - V0], lo, hi);
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p)
#pragma GCC unroll 16
      for (int v = V0; v < V0 + VN; ++v)
        if (Full)
          acc[i][p][v - V0].storeu(o + i * ldo + p * kPanelWidth +
                                   v * Vec::kLanes);
        else
          acc[i][p][v - V0].store(
              o + i * ldo + p * kPanelWidth + v * Vec::kLanes, lanes[p][v]);
}

/// Rows per register tile, and panels per tile for a given row count: up
/// to 24 accumulators on AVX-512 (32 registers: 12 rows x one panel's two
/// vectors, the two weight vectors and a broadcast). With 8 lanes (AVX2's
/// 16 registers), tiles of 3 rows or more take half a panel (16 columns,
/// two vectors) at a time: 6 rows x 2 vectors are 12 accumulators, with
/// the two weight vectors and a broadcast 15 registers (the Haswell
/// micro-kernel of BLIS); 3 rows x a whole panel's 4 needed 17 and spilled.
/// A 2-row tile takes the whole panel: 8 accumulators, where half a panel
/// left 4 FMA chains, too few to cover the FMA latency on two pipes.
constexpr int kMaxRows = Vec::kLanes == 16 ? 12 : 6;

/// tile_impl, with whole-vector loads and stores when the span's NP panels
/// all exist and are full width (every panel but a narrow last one): on
/// AVX2 a masked vmaskmovps is slow on AMD Zen, and the masks held ymm
/// registers the tile needs. On AVX-512 the packed (prefill) tiles and
/// full-height tiles (kMaxRows rows) take both versions: a zero-masking load is
/// one more uop on the ports the FMAs use, and the 12 x 32 tile with its
/// operands in L1 ran at 122-151 GFLOP/s with masks and 170-177 without (Xeon,
/// Emerald Rapids, one thread, 180 the FMA peak; the 250M decoder's fp32
/// prefill took 8-27% fewer CPU samples in 2 alternated pairs). The decode
/// GEMV (MR == 1) takes both too: with masks g++ kept the 16 masks and 8
/// panel strides of the 8-panel tile on the stack and reloaded them every
/// k (a `kmovw` from memory per load); unmasked, the loop is 16 FMAs with
/// memory operands and a broadcast. Though it waits on memory, the 250M
/// decoder's fp32 decode ran 6% faster (Xeon, 2 threads, 5 alternated
/// rounds: 31.6 -> 33.6 tok/s, 87% -> 89% of the read roofline); bf16
/// did not move. Small batches keep one version: generated code compiles
/// every tile the kernels instantiate. With the half-panel tiles
/// (kHalfPanelTiles), AMD EPYC (Zen 3), 128 x 1024 x 2816 f32: 33.6 -> 54.0
/// GFLOP/s on one thread, 67 -> 87 on two (OpenBLAS's sgemm 69 and 105); the
/// 250M decoder's fp32 prefill 144 -> 247 tok/s and decode 13.1 -> 25.1 tok/s.
/// Full-height tiles of unpacked rows (CS == 0: conv_gemm.h's weight rows
/// in place, attention's query rows) gained from it too: a 3x3
/// convolution of 256 channels at 14 x 14 ran 7-9% faster (one thread,
/// 3 alternated pairs: 99.5-103.9 -> 108.8-111.0 GFLOP/s).
template <int MR, int NP, int CS, class W, int V0 = 0, int VN = kVecs>
inline void tile(const float *a, int64_t rs, const W *w, const Span &s,
                 float *out, int64_t ldo) {
  if constexpr (Vec::kLanes == 8 || CS > 0 || MR == kMaxRows || MR == 1) {
    bool full = s.p0 + NP <= s.pend;
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p)
      full = full && panel_width(s.n, s.p0 + p) == kPanelWidth;
    if (full)
      return tile_impl<MR, NP, CS, W, true, V0, VN>(a, rs, w, s, out, ldo);
  }
  tile_impl<MR, NP, CS, W, false, V0, VN>(a, rs, w, s, out, ldo);
}

/// Whether tiles of kHalfPanelMinRows rows or more take half a panel at a
/// time (see kMaxRows), and panels per tile for a given row count
/// (panels_for_rows, below).
constexpr bool kHalfPanelTiles = Vec::kLanes == 8;
constexpr int kHalfPanelMinRows = 3;
constexpr int panels_for_rows(int rows) {
  return Vec::kLanes == 16 ? (rows == 1   ? 4
                              : rows <= 4 ? 2
                                          : 1)
                           : (rows == 1 ? 2 : 1);
}

/// Panels per tile of a wide decode GEMV (0: none), on AVX-512 only: 8
/// panels are 16 accumulators of the 32 registers. Measured on the 250M
/// decoder (2 threads, alternated A/B): fp32 decode 24.7 -> 26.5 tok/s,
/// bf16 44.7 -> 49 (medians of 7 and 4 runs).
constexpr int kWideGemvPanels = Vec::kLanes == 16 ? 8 : 0;

/// The k block of a product with several row tiles: its slice of the
/// packed lhs (all rows x kBlock floats, 128 KiB for 128 rows) stays in L2
/// while a thread's panels pass over it, and a panel's block (kBlock x 32
/// floats, 32 KiB) in L1 while the row tiles pass over it (the loop order
/// of BLIS's five loops around the micro-kernel, Van Zee & van de Geijn,
/// TOMS 2015).
constexpr int64_t kBlock = 256;

/// The tile of Rows rows over panels [at.p0, min(at.p0 + NP, at.pend)):
/// tile_rows' register tile of NP panels, or narrower ones where the span
/// has fewer panels left.
template <int Rows, int NP, int CS, class W>
inline void tile_panels(const float *a, int64_t rs, const W *w, const Span &at,
                        float *out, int64_t ldo) {
  if constexpr (NP > 1) {
    if (at.pend - at.p0 >= NP)
      return tile<Rows, NP, CS, W>(a, rs, w, at, out, ldo);
    // Fewer panels than the register tile takes (a product's chunk of
    // one-panel groups, cut for its full-height tiles, reaching a tail
    // tile of 1-4 rows): the tile of NP panels would compute its missing
    // ones in full, from masked loads. Two narrower tiles instead.
    tile_panels<Rows, NP / 2, CS, W>(a, rs, w, at, out, ldo);
    if (at.p0 + NP / 2 < at.pend) {
      Span rest = at;
      rest.p0 += NP / 2;
      tile_panels<Rows, NP / 2, CS, W>(a, rs, w, rest, out, ldo);
    }
  } else if constexpr (kHalfPanelTiles && Rows >= kHalfPanelMinRows) {
    tile<Rows, 1, CS, W, 0, kVecs / 2>(a, rs, w, at, out, ldo);
    tile<Rows, 1, CS, W, kVecs / 2, kVecs / 2>(a, rs, w, at, out, ldo);
  } else if (kVecs == 2 && panel_width(at.n, at.p0) <= Vec::kLanes) {
    // A last panel of at most one vector takes one: its second would be
    // all masked lanes, as much work as the first (conv_gemm.h's
    // gathered panels of a 14 x 14 plane end with 4 pixels).
    tile<Rows, 1, CS, W, 0, 1>(a, rs, w, at, out, ldo);
  } else {
    tile<Rows, 1, CS, W>(a, rs, w, at, out, ldo);
  }
}

/// The tile of `rows` rows (Rows >= rows >= 1) over every panel of
/// [span.p0, span.pend), in as many calls as that row count needs.
///
/// The span comes by reference and is copied only when it takes several
/// calls: a prefill's packed row tiles are one call each, and a copy
/// there read the caller's freshly stored fields with 32-byte loads,
/// which cannot take them from the store buffer and so waited for every
/// older store to drain, the previous tile's 24 output rows included
/// (2.4% of an fp32 prefill's samples on one instruction after it).
template <int Rows, int CS, class W>
inline void tile_rows(int64_t rows, const float *a, int64_t rs, const W *w,
                      const Span &span, float *out, int64_t ldo) {
  if constexpr (Rows > 1) {
    if (rows < Rows)
      return tile_rows<Rows - 1, CS, W>(rows, a, rs, w, span, out, ldo);
  }
  constexpr int step = panels_for_rows(Rows);
  static_assert(!(kHalfPanelTiles && Rows >= kHalfPanelMinRows) || step == 1,
                "half-panel tiles take one panel");
  if (span.p0 >= span.pend)
    return;
  if (span.p0 + step >= span.pend) {
    tile_panels<Rows, step, CS, W>(a, rs, w, span, out, ldo);
    return;
  }
  Span at = span;
  for (int64_t p = span.p0; p < span.pend; p += step) {
    at.p0 = p;
    tile_panels<Rows, step, CS, W>(a, rs, w, at, out, ldo);
  }
}

/// lhs [m, k] row-major into row tiles of TileRows rows (the micro-kernel's
/// kMaxRows unless a caller reads taller tiles), each [k][TileRows]
/// (a tail tile's missing rows left as they are: never read). In blocks of
/// kPackBlock k, so the block of the tile being written (kPackBlock x
/// TileRows floats, 3-4 KiB) stays in L1 while each row fills its column;
/// row by row over the whole k, the tile (48 KiB at k = 1024) left L1
/// between rows.
///
/// Full tiles of a multiple of 4 rows (AVX-512's 12, or 16) go four rows at a
/// time through 4 x 4 transposes of 128-bit vectors (SSE shuffles, which
/// Intel cores run on two ports): a quarter of the stores of the scalar
/// loop, which had every value's own load and store (128 x 1024 rows, one
/// thread: 56 -> 19 us; 1.5% of a 128-token prefill's samples before).
constexpr int64_t kPackBlock = 64;
template <int TileRows = kMaxRows>
inline void pack_rows(const float *lhs, int64_t m, int64_t k, int64_t tile0,
                      int64_t tile1, float *packed) {
  for (int64_t tile = tile0; tile < tile1; ++tile) {
    const int64_t i0 = tile * TileRows;
    const int64_t rows = std::min<int64_t>(TileRows, m - i0);
    float *dst = packed + tile * TileRows * k;
#if defined(__SSE__)
    if constexpr (TileRows % 4 == 0) {
      if (rows == TileRows) {
        for (int64_t t0 = 0; t0 < k; t0 += kPackBlock) {
          const int64_t t1 = std::min(k, t0 + kPackBlock);
          for (int64_t r = 0; r < TileRows; r += 4) {
            const float *src = lhs + (i0 + r) * k;
            int64_t t = t0;
            for (; t + 4 <= t1; t += 4) {
              __m128 v0 = _mm_loadu_ps(src + t), v1 = _mm_loadu_ps(src + k + t),
                     v2 = _mm_loadu_ps(src + 2 * k + t),
                     v3 = _mm_loadu_ps(src + 3 * k + t);
              _MM_TRANSPOSE4_PS(v0, v1, v2, v3);
              float *at = dst + t * TileRows + r;
              _mm_storeu_ps(at, v0);
              _mm_storeu_ps(at + TileRows, v1);
              _mm_storeu_ps(at + 2 * TileRows, v2);
              _mm_storeu_ps(at + 3 * TileRows, v3);
            }
            for (; t < t1; ++t)
              for (int64_t j = 0; j < 4; ++j)
                dst[t * TileRows + r + j] = src[j * k + t];
          }
        }
        continue;
      }
    }
#endif
    for (int64_t t0 = 0; t0 < k; t0 += kPackBlock) {
      const int64_t t1 = std::min(k, t0 + kPackBlock);
      for (int64_t r = 0; r < rows; ++r) {
        const float *src = lhs + (i0 + r) * k;
        for (int64_t t = t0; t < t1; ++t)
          dst[t * TileRows + r] = src[t];
      }
    }
  }
}

/// out [m, n] = the packed lhs (pack_rows' row tiles of [k][kMaxRows]) x
/// rhs [k, n] in column panels: matmul_panels' product with several row
/// tiles, also conv_gemm.h's pixel rows. Threads split the panels; a chunk
/// of panel groups goes k block by k block, each block over the chunk's
/// panels, each panel over the row tiles. `finish(p0, p1)` runs once the
/// columns of panels [p0, p1) are final, in the chunk's thread. Row tile t
/// holds rows [t * tileRows, (t + 1) * tileRows) (tileRows <= kMaxRows;
/// the tile's [k][kMaxRows] layout either way).
template <class W, class Finish>
inline void product_packed_rows(const anvil_host_api *host, int64_t m,
                                int64_t n, int64_t k, const float *packed,
                                const W *rhs, float *out, const Finish &finish,
                                int64_t tileRows = kMaxRows) {
  const int64_t panelCount = (n + kPanelWidth - 1) / kPanelWidth;
  const int64_t rowTiles = (m + tileRows - 1) / tileRows;
  const int64_t tileFloats = kMaxRows * k;
  // Panels per tile call: 1 for tiles of 5 rows or more; a single tile of
  // 1-4 rows (a conv's 2 x 2 plane as pixel rows) takes 2 or 4, as its
  // register tile does (a span of one would leave the others masked).
  const int64_t groupPanels =
      panels_for_rows(int(std::min<int64_t>(tileRows, kMaxRows)));
  const int64_t groups = (panelCount + groupPanels - 1) / groupPanels;
  const int64_t groupMacs =
      std::max<int64_t>(1, m * k * groupPanels * kPanelWidth);
  const int64_t grain = std::max<int64_t>(1, kMinChunkMacs / groupMacs);
  parallel_for(host, groups, grain, [&](int64_t begin, int64_t end) {
    const int64_t pbegin = begin * groupPanels;
    const int64_t pend = std::min(panelCount, end * groupPanels);
    for (int64_t k0 = 0; k0 < k; k0 += kBlock) {
      const int64_t k1 = std::min(k, k0 + kBlock);
      for (int64_t p = pbegin; p < pend; p += groupPanels) {
        // The block the next panel (or the next k block) reads, fetched
        // by the row tiles' k loops (up to two lines per k, the T1 hint:
        // into L2 as Intel documents it, into L1 as well on AMD Zen 3,
        // where it shares L1 with the block in use): the next block's
        // first row tile would otherwise wait on memory for every weight
        // line. On Zen 3 at m = 16 (three row tiles) the products ran
        // 1.5-2x longer without it, and a k block of 128 (a 16 KiB block,
        // half of L1) was no faster (docs/performance.md, session 45).
        const bool lastPanel = p + groupPanels >= pend;
        const int64_t nextPanel = lastPanel ? pbegin : p + groupPanels;
        const int64_t nextK0 = lastPanel ? k0 + kBlock : k0;
        const char *next = nullptr;
        int64_t nextBytes = 0;
        if (nextK0 < k) {
          const int64_t width = panel_width(n, nextPanel);
          next = reinterpret_cast<const char *>(
              rhs + nextPanel * kPanelWidth * k + nextK0 * width);
          nextBytes = (std::min(k, nextK0 + kBlock) - nextK0) * width *
                      int64_t(sizeof(W));
        }
        // Each row tile fetches its share: the memory stream then overlaps
        // the tiles that compute from L1, not only the first one.
        const int64_t slice = (nextBytes / rowTiles + 63) / 64 * 64;
        for (int64_t rowTile = 0; rowTile < rowTiles; ++rowTile) {
          const int64_t i0 = rowTile * tileRows;
          const int64_t rows = std::min<int64_t>(tileRows, m - i0);
          Span span{n, k, k0, k1, p, std::min(pend, p + groupPanels), k0 > 0};
          if (rowTile * slice < nextBytes) {
            span.prefetch = next + rowTile * slice;
            span.prefetch_bytes = std::min(slice, nextBytes - rowTile * slice);
          }
          tile_rows<kMaxRows, kMaxRows>(
              rows, packed + rowTile * tileFloats + k0 * kMaxRows, 0, rhs, span,
              out + i0 * n, n);
        }
      }
    }
    finish(pbegin, pend);
  });
}

} // namespace panels

/// out [m, n] = lhs [m, k] x rhs, rhs a [k, n] weight in column panels (see
/// the top of this file). Threads split the panels: a chunk of panel
/// groups goes k block by k block, each block over the chunk's panels,
/// each panel over the row tiles (one k block when there is one row tile:
/// a decode GEMV streams each panel once, 4 panels at a time).
/// `epi` (common.h) runs on each chunk's columns once they are final.
template <class W, class Epilogue = NoEpilogue>
inline int matmul_panels(const anvil_host_api *host, int64_t m, int64_t n,
                         int64_t k, const float *lhs, const W *rhs, float *out,
                         const Epilogue &epi = Epilogue()) {
  using namespace panels;
  if (m <= 0 || n <= 0)
    return 0;
  if (k == 0) {
    for (int64_t e = 0; e < m * n; ++e)
      out[e] = 0;
    if constexpr (!is_no_epilogue<Epilogue>())
      epi(0, m, 0, n);
    return 0;
  }
  // The chunk's columns, every row, once its last k block is stored.
  auto finish = [&](int64_t p0, int64_t p1) {
    if constexpr (!is_no_epilogue<Epilogue>())
      epi(0, m, p0 * kPanelWidth, std::min(n, p1 * kPanelWidth));
  };
  const int64_t panelCount = (n + kPanelWidth - 1) / kPanelWidth;
  const int64_t rowTiles = (m + kMaxRows - 1) / kMaxRows;
  // Panels per group: what the widest row tile takes in one call. A decode
  // GEMV over at least 4 groups of kWideGemvPanels takes that many panels
  // per tile: more read streams per thread (the ceilings' read test found
  // 16 streams faster than 8), the same FMA chain per output.
  const bool wideGemv = kWideGemvPanels > 0 && m == 1 &&
                        panelCount >= 4 * std::max(kWideGemvPanels, 1);
  const int64_t groupPanels =
      wideGemv ? kWideGemvPanels
               : panels_for_rows(int(std::min<int64_t>(m, kMaxRows)));
  const int64_t groups = (panelCount + groupPanels - 1) / groupPanels;
  // Chunks of at least kMinChunkMacs multiply-adds: a small product (a
  // small model's decode step) costs less on one thread than the pool's
  // hand-off to another.
  const int64_t groupMacs =
      std::max<int64_t>(1, m * k * groupPanels * kPanelWidth);
  const int64_t grain = std::max<int64_t>(1, kMinChunkMacs / groupMacs);
  if (rowTiles == 1) { // a GEMV or a small batch: one pass over k
    // A small batch's rows, copied to padded_row_stride (common.h): in
    // place, rows 4 KiB apart would share one set of L1.
    const float *rows = lhs;
    int64_t ldx = k;
    std::unique_ptr<float[]> own;
    if (m > 1) {
      ldx = padded_row_stride(k);
      rows = copy_rows_padded(host, lhs, m, k, own);
      if (!rows)
        return 1;
    }
    parallel_for(host, groups, grain, [&](int64_t begin, int64_t end) {
      Span span{n,
                k,
                0,
                k,
                begin * groupPanels,
                std::min(panelCount, end * groupPanels),
                false};
      // A small batch of f32 rows streams its panels once: on the CPUs
      // that measured faster with it, each tile asks for its lines ahead.
      span.stream_prefetch = std::is_same<W, float>::value && m > 1 &&
                             tuning::kF32SmallBatchPrefetch;
      if constexpr (kWideGemvPanels > 0) {
        if (wideGemv) {
          for (int64_t p = span.p0, pend = span.pend; p < pend;
               p += kWideGemvPanels) {
            span.p0 = p;
            tile<1, kWideGemvPanels, 0, W>(lhs, k, rhs, span, out, n);
          }
          finish(begin * groupPanels, span.pend);
          return;
        }
      }
      tile_rows<kMaxRows, 0>(m, rows, ldx, rhs, span, out, n);
      finish(span.p0, span.pend);
    });
    return 0;
  }
  // The lhs packed once for every thread, row tile by row tile: outside a
  // parallel loop the calling thread is thread 0, and no chunk below asks
  // for scratch memory, so the buffer stays valid through the loop.
  const int64_t tileFloats = kMaxRows * k;
  std::unique_ptr<float[]> own;
  float *packed =
      scratch_or_own<float>(host, 0, size_t(rowTiles * tileFloats), own);
  if (!packed) {
    fail(host, "matmul: out of memory for the packed lhs");
    return 1;
  }
  parallel_for(host, rowTiles,
               std::max<int64_t>(1, kMinChunkMacs / (8 * tileFloats)),
               [&](int64_t begin, int64_t end) {
                 pack_rows(lhs, m, k, begin, end, packed);
               });
  panels::product_packed_rows(host, m, n, k, packed, rhs, out, finish);
  return 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_MATMUL_PANELS_H
