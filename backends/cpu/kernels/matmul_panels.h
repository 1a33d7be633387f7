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
// hide the FMA latency; prefill takes 8 rows of one panel.
//
// Every output element is one FMA chain over k in increasing order, the
// same whatever MR, NP, the tiling or the thread count: a sequence's
// logits do not depend on what else is in its batch.
#ifndef ANVIL_CPU_KERNELS_MATMUL_PANELS_H
#define ANVIL_CPU_KERNELS_MATMUL_PANELS_H

#include "common.h"

#include "simd.h"

#include <algorithm>
#include <memory>
#include <new>

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
  __m128i h;
  if (count >= 8) {
    h = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
  } else {
    uint16_t part[8] = {};
    std::memcpy(part, p, 2 * std::max<int64_t>(count, 0));
    h = _mm_loadu_si128(reinterpret_cast<const __m128i *>(part));
  }
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
  __m128i h;
  if (count >= 8) {
    h = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
  } else {
    uint16_t part[8] = {};
    std::memcpy(part, p, 2 * std::max<int64_t>(count, 0));
    h = _mm_loadu_si128(reinterpret_cast<const __m128i *>(part));
  }
  return {_mm256_cvtph_ps(h)};
#else
  return widen(p, lanes, count);
#endif
}

/// The panel span of one tile: panels [p0, min(p0 + NP, pend)) over k in
/// [k0, k1) of a [k, n] weight; with `accumulate` the sums continue from
/// what `out` holds (a float round-trips memory exactly, so a product cut
/// into k blocks has the bits of one uncut FMA chain).
struct Span {
  int64_t n, k, k0, k1, p0, pend;
  bool accumulate;
};

/// out[i, the span's panels] (+)= a[i, k0:k1] x w[k0:k1, those panels] for
/// MR rows of `a`, element (i, k0 + t) at a[i * rs + t * cs]: acc stays in
/// registers for the whole k loop. Panels from `pend` on are neither read
/// nor written.
template <int MR, int NP, class W>
inline void tile(const float *a, int64_t rs, int64_t cs, const W *w,
                 const Span &s, float *out, int64_t ldo) {
  const W *base[NP];
  int64_t width[NP];
  typename Vec::Mask lanes[NP][kVecs]; // valid lanes of a panel row's vectors
#pragma GCC unroll 16
  for (int p = 0; p < NP; ++p) {
    const int64_t panel = std::min<int64_t>(s.p0 + p, s.pend - 1);
    width[p] = s.p0 + p < s.pend ? panel_width(s.n, panel) : 0;
    base[p] = w + panel * kPanelWidth * s.k;
#pragma GCC unroll 16
    for (int v = 0; v < kVecs; ++v)
      lanes[p][v] = Vec::mask(width[p] - int64_t(v) * Vec::kLanes);
  }
  float *o = out + s.p0 * kPanelWidth;
  Vec acc[MR][NP][kVecs];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p)
#pragma GCC unroll 16
      for (int v = 0; v < kVecs; ++v)
        acc[i][p][v] =
            s.accumulate
                ? Vec::load(o + i * ldo + p * kPanelWidth + v * Vec::kLanes,
                            lanes[p][v])
                : Vec::zero();
  for (int64_t t = s.k0; t < s.k1; ++t) {
    Vec b[NP][kVecs];
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p)
#pragma GCC unroll 16
      for (int v = 0; v < kVecs; ++v)
        b[p][v] =
            load_weights(base[p] + t * width[p] + v * Vec::kLanes, lanes[p][v],
                         width[p] - int64_t(v) * Vec::kLanes);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const Vec ai = Vec::splat(a[i * rs + (t - s.k0) * cs]);
#pragma GCC unroll 16
      for (int p = 0; p < NP; ++p)
#pragma GCC unroll 16
        for (int v = 0; v < kVecs; ++v)
          acc[i][p][v] = Vec::fma(ai, b[p][v], acc[i][p][v]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p)
#pragma GCC unroll 16
      for (int v = 0; v < kVecs; ++v)
        acc[i][p][v].store(o + i * ldo + p * kPanelWidth + v * Vec::kLanes,
                           lanes[p][v]);
}

/// Rows per register tile, and panels per tile for a given row count:
/// about 16 accumulators on AVX-512 (32 registers), 8-12 on AVX2 (16).
constexpr int kMaxRows = Vec::kLanes == 16 ? 8 : 3;
constexpr int panels_for_rows(int rows) {
  return Vec::kLanes == 16 ? (rows == 1   ? 4
                              : rows <= 4 ? 2
                                          : 1)
                           : (rows == 1 ? 2 : 1);
}

/// The k block of a product with several row tiles: its slice of the lhs
/// (all rows x kBlock floats, 128 KiB for 128 rows) stays in L2 while a
/// thread's panels pass over it, and a panel's block (kBlock x 32 floats,
/// 32 KiB) in L1 while the row tiles pass over it (the loop order of
/// BLIS's five loops around the micro-kernel, Van Zee & van de Geijn,
/// TOMS 2015).
constexpr int64_t kBlock = 256;

/// A tile of `rows` (1 .. kMaxRows) rows over every panel of
/// [span.p0, span.pend), in as many calls as that row count needs.
template <class W>
inline void tile_rows(int64_t rows, const float *a, int64_t rs, int64_t cs,
                      const W *w, Span span, float *out, int64_t ldo) {
  const int64_t step = panels_for_rows(int(rows));
  const int64_t pend = span.pend;
  for (int64_t p = span.p0; p < pend; p += step) {
    span.p0 = p;
    switch (rows) {
    case 1:
      tile<1, panels_for_rows(1), W>(a, rs, cs, w, span, out, ldo);
      break;
    case 2:
      tile<2, panels_for_rows(2), W>(a, rs, cs, w, span, out, ldo);
      break;
    case 3:
      tile<3, panels_for_rows(3), W>(a, rs, cs, w, span, out, ldo);
      break;
#if defined(__AVX512F__)
    case 4:
      tile<4, panels_for_rows(4), W>(a, rs, cs, w, span, out, ldo);
      break;
    case 5:
      tile<5, panels_for_rows(5), W>(a, rs, cs, w, span, out, ldo);
      break;
    case 6:
      tile<6, panels_for_rows(6), W>(a, rs, cs, w, span, out, ldo);
      break;
    case 7:
      tile<7, panels_for_rows(7), W>(a, rs, cs, w, span, out, ldo);
      break;
    case 8:
      tile<8, panels_for_rows(8), W>(a, rs, cs, w, span, out, ldo);
      break;
#endif
    default:
      return;
    }
  }
}

} // namespace panels

/// out [m, n] = lhs [m, k] x rhs, rhs a [k, n] weight in column panels (see
/// the top of this file). Threads split the panels: a chunk of panel
/// groups goes k block by k block, each block over the chunk's panels,
/// each panel over the row tiles (one k block when there is one row tile:
/// a decode GEMV streams each panel once, 4 panels at a time).
template <class W>
inline int matmul_panels(const anvil_host_api *host, int64_t m, int64_t n,
                         int64_t k, const float *lhs, const W *rhs,
                         float *out) {
  using namespace panels;
  if (m <= 0 || n <= 0)
    return 0;
  if (k == 0) {
    for (int64_t e = 0; e < m * n; ++e)
      out[e] = 0;
    return 0;
  }
  const int64_t panelCount = (n + kPanelWidth - 1) / kPanelWidth;
  const int64_t rowTiles = (m + kMaxRows - 1) / kMaxRows;
  // Panels per group: what the widest row tile takes in one call.
  const int64_t groupPanels =
      panels_for_rows(int(std::min<int64_t>(m, kMaxRows)));
  const int64_t groups = (panelCount + groupPanels - 1) / groupPanels;
  // Chunks of at least kMinChunkMacs multiply-adds: a small product (a
  // small model's decode step) costs less on one thread than the pool's
  // hand-off to another.
  const int64_t groupMacs =
      std::max<int64_t>(1, m * k * groupPanels * kPanelWidth);
  const int64_t grain = std::max<int64_t>(1, kMinChunkMacs / groupMacs);
  if (rowTiles == 1) { // a GEMV or a small batch: one pass over k
    parallel_for(host, groups, grain, [&](int64_t begin, int64_t end) {
      Span span{n,
                k,
                0,
                k,
                begin * groupPanels,
                std::min(panelCount, end * groupPanels),
                false};
      tile_rows(m, lhs, k, 1, rhs, span, out, n);
    });
    return 0;
  }
  parallel_for(
      host, groups, grain, [&](int64_t begin, int64_t end, int thread) {
        // The chunk's copy of the lhs k block, kMaxRows rows interleaved
        // ([row tile][t][row]): a tile's broadcasts then read one contiguous
        // line per k instead of kMaxRows rows a page apart.
        const int64_t tileFloats = kMaxRows * kBlock;
        float *packed = scratch<float>(host, thread, rowTiles * tileFloats);
        std::unique_ptr<float[]> own; // no runtime host (kernel unit tests)
        if (!packed) {
          own.reset(new (std::nothrow) float[rowTiles * tileFloats]);
          packed = own.get();
        }
        const int64_t pbegin = begin * groupPanels;
        const int64_t pend = std::min(panelCount, end * groupPanels);
        for (int64_t k0 = 0; k0 < k; k0 += kBlock) {
          const int64_t k1 = std::min(k, k0 + kBlock);
          if (packed)
            for (int64_t i = 0; i < m; ++i)
              for (int64_t t = k0; t < k1; ++t)
                packed[(i / kMaxRows) * tileFloats + (t - k0) * kMaxRows +
                       i % kMaxRows] = lhs[i * k + t];
          for (int64_t p = pbegin; p < pend; p += groupPanels)
            for (int64_t rowTile = 0; rowTile < rowTiles; ++rowTile) {
              const int64_t i0 = rowTile * kMaxRows;
              const int64_t rows = std::min<int64_t>(kMaxRows, m - i0);
              Span span{n,     k, k0, k1, p, std::min(pend, p + groupPanels),
                        k0 > 0};
              if (packed)
                tile_rows(rows, packed + rowTile * tileFloats, 1, kMaxRows, rhs,
                          span, out + i0 * n, n);
              else // out of memory: the rows in place
                tile_rows(rows, lhs + i0 * k + k0, k, 1, rhs, span,
                          out + i0 * n, n);
            }
        }
      });
  return 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_MATMUL_PANELS_H
