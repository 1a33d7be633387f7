// matmul_dot.h - f32 products with a row-major [n, k] right-hand side.
//
// out[i, j] = dot(lhs[i, :], rhs[j, :]): the form of a weight the compiler
// cannot repack, such as an LM head that shares its matrix with the token
// embedding (the gather reads rows of the same bytes). Both operands are
// read along k, contiguously; a tile of kRows x kCols dot products keeps
// its 16 vector accumulators in registers and loads each vector once for
// the tile. Each dot product accumulates lane-wise over k in increasing
// order and is then reduced by a fixed tree (simd.h), the same for any m,
// tiling or thread count.
#ifndef ANVIL_CPU_KERNELS_MATMUL_DOT_H
#define ANVIL_CPU_KERNELS_MATMUL_DOT_H

#include "common.h"
#include "simd.h"

#include <algorithm>

namespace anvil {
namespace cpu {

namespace dot {
using simd::Vec;

/// out[i0 + r, j0 + c] for r < MR, c < NC, all in range.
template <int MR, int NC>
inline void tile(const float *a, const float *w, int64_t k, float *out,
                 int64_t ldo) {
  Vec acc[MR][NC];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < NC; ++c)
      acc[r][c] = Vec::zero();
  for (int64_t t = 0; t < k; t += Vec::kLanes) {
    const typename Vec::Mask lanes = Vec::mask(k - t);
    Vec wv[NC];
#pragma GCC unroll 16
    for (int c = 0; c < NC; ++c)
      wv[c] = Vec::load(w + c * k + t, lanes);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const Vec av = Vec::load(a + r * k + t, lanes);
#pragma GCC unroll 16
      for (int c = 0; c < NC; ++c)
        acc[r][c] = Vec::fma(av, wv[c], acc[r][c]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < NC; ++c)
      out[r * ldo + c] = acc[r][c].sum();
}

constexpr int64_t kRows = 4, kCols = 4;

/// A tile of `rows` x `cols` (each 1 .. 4) dot products.
inline void tile_any(int64_t rows, int64_t cols, const float *a, const float *w,
                     int64_t k, float *out, int64_t ldo) {
  if (rows == kRows && cols == kCols)
    return tile<4, 4>(a, w, k, out, ldo);
  // Edges: one row or one column at a time.
  for (int64_t r = 0; r < rows; ++r) {
    if (cols == kCols) {
      tile<1, 4>(a + r * k, w, k, out + r * ldo, ldo);
      continue;
    }
    for (int64_t c = 0; c < cols; ++c)
      tile<1, 1>(a + r * k, w + c * k, k, out + r * ldo + c, ldo);
  }
}
} // namespace dot

/// out [m, n] = lhs [m, k] x rhs^T for a row-major rhs [n, k]. Tiles of
/// 4 columns by 4 rows go over the threads column-major, so a decode GEMV
/// (m = 1) splits the weight rows over them.
inline int matmul_dot(const anvil_host_api *host, int64_t m, int64_t n,
                      int64_t k, const float *lhs, const float *rhs,
                      float *out) {
  using namespace dot;
  const int64_t rowTiles = (m + kRows - 1) / kRows;
  const int64_t colTiles = (n + kCols - 1) / kCols;
  const int64_t tileMacs = std::max<int64_t>(1, kRows * kCols * k);
  const int64_t grain = std::max<int64_t>(8, kMinChunkMacs / tileMacs);
  parallel_for(
      host, rowTiles * colTiles, grain, [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) {
          const int64_t j0 = (t / rowTiles) * kCols,
                        i0 = (t % rowTiles) * kRows;
          tile_any(std::min(kRows, m - i0), std::min(kCols, n - j0),
                   lhs + i0 * k, rhs + j0 * k, k, out + i0 * n + j0, n);
        }
      });
  return 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_MATMUL_DOT_H
