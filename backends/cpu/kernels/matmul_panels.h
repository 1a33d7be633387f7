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

namespace anvil {
namespace cpu {

/// Columns per weight panel (the compiler's kWeightPanelWidth).
constexpr int64_t kPanelWidth = 32;

namespace panels {
using simd::Vec;

// Fixed-trip loops over registers must unroll fully, or the accumulators
// live in memory (GCC's -O2 does not unroll on its own).
#define ANVIL_UNROLL _Pragma("GCC unroll 16")

/// Vectors per panel row.
constexpr int kVecs = int(kPanelWidth) / Vec::kLanes;

/// Width of panel `panel` of an n-column weight.
inline int64_t panel_width(int64_t n, int64_t panel) {
  return std::min<int64_t>(kPanelWidth, n - panel * kPanelWidth);
}

/// out[i, panels p0 .. min(p0 + NP, pend)) = a[i, :] x w for MR rows: acc
/// stays in registers for the whole K loop. Panels from `pend` on are
/// neither read nor written.
template <int MR, int NP>
inline void tile(const float *a, int64_t lda, const float *w, int64_t n,
                 int64_t k, int64_t p0, int64_t pend, float *out, int64_t ldo) {
  const float *base[NP];
  int64_t width[NP];
  typename Vec::Mask lanes[NP][kVecs]; // valid lanes of a panel row's vectors
  ANVIL_UNROLL
  for (int p = 0; p < NP; ++p) {
    const int64_t panel = std::min<int64_t>(p0 + p, pend - 1);
    width[p] = p0 + p < pend ? panel_width(n, panel) : 0;
    base[p] = w + panel * kPanelWidth * k;
    ANVIL_UNROLL
    for (int v = 0; v < kVecs; ++v)
      lanes[p][v] = Vec::mask(width[p] - int64_t(v) * Vec::kLanes);
  }
  Vec acc[MR][NP][kVecs];
  ANVIL_UNROLL
  for (int i = 0; i < MR; ++i)
    ANVIL_UNROLL
  for (int p = 0; p < NP; ++p)
    ANVIL_UNROLL
  for (int v = 0; v < kVecs; ++v)
    acc[i][p][v] = Vec::zero();
  for (int64_t t = 0; t < k; ++t) {
    Vec b[NP][kVecs];
    ANVIL_UNROLL
    for (int p = 0; p < NP; ++p)
      ANVIL_UNROLL
    for (int v = 0; v < kVecs; ++v)
      b[p][v] =
          Vec::load(base[p] + t * width[p] + v * Vec::kLanes, lanes[p][v]);
    ANVIL_UNROLL
    for (int i = 0; i < MR; ++i) {
      const Vec ai = Vec::splat(a[i * lda + t]);
      ANVIL_UNROLL
      for (int p = 0; p < NP; ++p)
        ANVIL_UNROLL
      for (int v = 0; v < kVecs; ++v)
        acc[i][p][v] = Vec::fma(ai, b[p][v], acc[i][p][v]);
    }
  }
  ANVIL_UNROLL
  for (int i = 0; i < MR; ++i)
    ANVIL_UNROLL
  for (int p = 0; p < NP; ++p)
    ANVIL_UNROLL
  for (int v = 0; v < kVecs; ++v)
    acc[i][p][v].store(out + i * ldo + (p0 + p) * kPanelWidth + v * Vec::kLanes,
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

template <int MR>
inline void tile_rows(const float *a, int64_t lda, const float *w, int64_t n,
                      int64_t k, int64_t p0, int64_t pend, float *out,
                      int64_t ldo) {
  tile<MR, panels_for_rows(MR)>(a, lda, w, n, k, p0, pend, out, ldo);
}

/// Dispatches a tile of `rows` (1 .. kMaxRows) rows to its template.
inline void tile_any(int64_t rows, const float *a, int64_t lda, const float *w,
                     int64_t n, int64_t k, int64_t p0, int64_t pend, float *out,
                     int64_t ldo) {
  switch (rows) {
  case 1:
    return tile_rows<1>(a, lda, w, n, k, p0, pend, out, ldo);
  case 2:
    return tile_rows<2>(a, lda, w, n, k, p0, pend, out, ldo);
  case 3:
    return tile_rows<3>(a, lda, w, n, k, p0, pend, out, ldo);
#if defined(__AVX512F__)
  case 4:
    return tile_rows<4>(a, lda, w, n, k, p0, pend, out, ldo);
  case 5:
    return tile_rows<5>(a, lda, w, n, k, p0, pend, out, ldo);
  case 6:
    return tile_rows<6>(a, lda, w, n, k, p0, pend, out, ldo);
  case 7:
    return tile_rows<7>(a, lda, w, n, k, p0, pend, out, ldo);
  case 8:
    return tile_rows<8>(a, lda, w, n, k, p0, pend, out, ldo);
#endif
  default:
    return;
  }
}

#undef ANVIL_UNROLL
} // namespace panels

/// out [m, n] = lhs [m, k] x rhs, rhs a [k, n] weight in column panels (see
/// the top of this file). Tiles of kMaxRows rows by the panels a tile of
/// that many rows takes are spread over the threads panel-major, so a
/// thread's consecutive tiles reuse one panel from its cache; a decode
/// GEMV (m = 1) splits its panels over the threads.
inline int matmul_panels(const anvil_host_api *host, int64_t m, int64_t n,
                         int64_t k, const float *lhs, const float *rhs,
                         float *out) {
  using namespace panels;
  if (m <= 0 || n <= 0)
    return 0;
  const int64_t panelCount = (n + kPanelWidth - 1) / kPanelWidth;
  const int64_t rowTiles = (m + kMaxRows - 1) / kMaxRows;
  // The widest tile (its last row tile may be shorter) sets the grouping.
  const int64_t groupPanels =
      panels_for_rows(int(std::min<int64_t>(m, kMaxRows)));
  const int64_t groups = (panelCount + groupPanels - 1) / groupPanels;
  if (k == 0) {
    for (int64_t e = 0; e < m * n; ++e)
      out[e] = 0;
    return 0;
  }
  parallel_for(host, groups * rowTiles, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t group = t / rowTiles, rowTile = t % rowTiles;
      const int64_t i0 = rowTile * kMaxRows;
      const int64_t rows = std::min<int64_t>(kMaxRows, m - i0);
      // A shorter last row tile takes fewer panels per call: cover the
      // group's panels with as many calls as that needs.
      const int64_t step = panels_for_rows(int(rows));
      const int64_t pend = std::min(panelCount, (group + 1) * groupPanels);
      for (int64_t p = group * groupPanels; p < pend; p += step)
        tile_any(rows, lhs + i0 * k, k, rhs, n, k, p, pend, out + i0 * n, n);
    }
  });
  return 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_MATMUL_PANELS_H
