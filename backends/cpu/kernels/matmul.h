// matmul.h - batched matrix products.
#ifndef ANVIL_CPU_KERNELS_MATMUL_H
#define ANVIL_CPU_KERNELS_MATMUL_H

#include "common.h"
#include "matmul_dot.h"
#include "matmul_panels.h"

#include <algorithm>

namespace anvil {
namespace cpu {

/// The accumulator of a product of A and B stored as C (anvil.matmul's
/// table): double if any of them is double, else the accumulator of C
/// (float for floats, int32_t for the i32 result of 8/16-bit integers).
template <class A, class B, class C>
using matmul_accumulator_t =
    typename std::conditional<std::is_same<A, double>::value ||
                                  std::is_same<B, double>::value ||
                                  std::is_same<C, double>::value,
                              double, accumulator_t<C>>::type;

namespace detail {
/// y[j] += a * x[j] for j < (Width ? Width : n). The output never overlaps
/// the inputs (distinct buffers of the kernel program): restrict on the
/// parameters, and a constant width for whole blocks, let GCC's -O2
/// vectorize it without versioning or an epilogue.
template <int64_t Width, class C, class B>
inline void axpy(C *__restrict y, const B *__restrict x, C a, int64_t n) {
  if constexpr (Width == 0) {
    // GCC's -O2 cost model leaves a loop of unknown length scalar: whole
    // blocks of 16 go through the constant-width form, the rest one by
    // one (each element's sum is the same either way).
    constexpr int64_t kBlock = 16;
    int64_t j = 0;
    for (; j + kBlock <= n; j += kBlock)
      axpy<kBlock>(y + j, x + j, a, kBlock);
    for (; j < n; ++j)
      y[j] += a * static_cast<C>(x[j]);
  } else {
    for (int64_t j = 0; j < Width; ++j)
      y[j] += a * static_cast<C>(x[j]);
  }
}
} // namespace detail

/// out[b] = lhs[b] x rhs[b], row-major, in tiles of kRowBlock rows by
/// kColBlock columns spread over the threads: a tile streams its columns
/// of rhs once for all of its rows (a batched decode step reads the
/// weights once per 8 tokens, not per token), and a single row (a decode
/// GEMV) is still split over the threads by columns. Every output element
/// accumulates over k in increasing order, as a row at a time would, so
/// results do not depend on the tiling.
/// `epi` (common.h): called on each finished block of a float result of
/// one matrix (batch_rank 0), the only case anvil-fuse-matmul-epilogue
/// fuses.
template <class A, class B, class C, class Epilogue = NoEpilogue>
int matmul(const anvil_host_api *host, const MatmulParams &p, const A *lhs,
           const B *rhs, C *out, const Epilogue &epi = Epilogue()) {
  if (p.rhs_panel) {
    // A weight the compiler packed in column panels: f32, or f16/bf16
    // storage widened as it is loaded; f32 activations; one matrix.
    if constexpr (std::is_same<A, float>::value &&
                  (std::is_same<B, float>::value ||
                   std::is_same<B, bf16>::value ||
                   std::is_same<B, f16>::value) &&
                  std::is_same<C, float>::value) {
      if (p.rhs_panel == kPanelWidth && p.batch_rank == 0 && !p.transpose_rhs)
        return matmul_panels(host, p.m, p.n, p.k, lhs, rhs, out, epi);
    }
    fail(host, "matmul: unsupported panel layout");
    return 1;
  }
  if constexpr (std::is_same<A, float>::value &&
                std::is_same<B, float>::value &&
                std::is_same<C, float>::value) {
    // A [n, k] rhs read in place (a weight shared with another op).
    if (p.transpose_rhs && p.batch_rank == 0) {
      const int status = matmul_dot(host, p.m, p.n, p.k, lhs, rhs, out);
      if (!status && !is_no_epilogue<Epilogue>())
        parallel_for(
            host, p.m, std::max<int64_t>(1, (1 << 15) / p.n),
            [&](int64_t begin, int64_t end) { epi(begin, end, 0, p.n); });
      return status;
    }
  }
  constexpr int64_t kRowBlock = 8, kColBlock = 256;
  int64_t batches = 1;
  for (int64_t d = 0; d < p.batch_rank; ++d)
    batches *= p.batch[d];
  const int64_t m = p.m, n = p.n, k = p.k;
  const int64_t rowBlocks = (m + kRowBlock - 1) / kRowBlock;
  const int64_t colBlocks = (n + kColBlock - 1) / kColBlock;
  const int64_t tiles = batches * rowBlocks * colBlocks;
  using Acc = matmul_accumulator_t<A, B, C>;
  parallel_for(host, tiles, 1, [&](int64_t begin, int64_t end, int thread) {
    for (int64_t tile = begin; tile < end; ++tile) {
      int64_t b = tile / (rowBlocks * colBlocks);
      int64_t rb = (tile / colBlocks) % rowBlocks, cb = tile % colBlocks;
      int64_t lOff = 0, rOff = 0, rest = b;
      for (int64_t d = p.batch_rank - 1; d >= 0; --d) {
        int64_t idx = rest % p.batch[d];
        rest /= p.batch[d];
        lOff += idx * p.lhs_batch_strides[d];
        rOff += idx * p.rhs_batch_strides[d];
      }
      const int64_t i0 = rb * kRowBlock, i1 = std::min(m, i0 + kRowBlock);
      const int64_t j0 = cb * kColBlock, j1 = std::min(n, j0 + kColBlock);
      const A *a = lhs + lOff;
      const B *w = rhs + rOff;
      C *o = out + b * m * n;
      if constexpr (std::is_same<A, float>::value &&
                    std::is_same<B, float>::value &&
                    std::is_same<C, float>::value) {
        if (p.transpose_rhs) {
          // rhs is [n, k] (a batched Q x K^T): matmul_dot's register
          // tiles, each dot product summed lane-wise over k and reduced
          // by a fixed tree, the same for any tiling.
          for (int64_t j = j0; j < j1; j += dot::kCols)
            for (int64_t i = i0; i < i1; i += dot::kRows)
              dot::tile_any(std::min(dot::kRows, i1 - i),
                            std::min(dot::kCols, j1 - j), a + i * k, w + j * k,
                            k, o + i * n + j, n);
          if constexpr (!is_no_epilogue<Epilogue>())
            epi(i0, i1, j0, j1);
          continue;
        }
      }
      if (p.transpose_rhs) {
        // rhs is [n, k]: the tile's columns stay in cache while its rows
        // use them. Each dot product sums over k in order; kLanes of them
        // at a time are independent chains the CPU overlaps.
        constexpr int64_t kLanes = 8;
        int64_t j = j0;
        for (; j + kLanes <= j1; j += kLanes)
          for (int64_t i = i0; i < i1; ++i) {
            const A *ai = a + i * k;
            Acc acc[kLanes] = {};
            for (int64_t t = 0; t < k; ++t) {
              const Acc at = static_cast<Acc>(ai[t]);
              for (int64_t l = 0; l < kLanes; ++l)
                acc[l] += at * static_cast<Acc>(w[(j + l) * k + t]);
            }
            for (int64_t l = 0; l < kLanes; ++l)
              o[i * n + j + l] = static_cast<C>(acc[l]);
          }
        for (; j < j1; ++j) {
          const B *wj = w + j * k;
          for (int64_t i = i0; i < i1; ++i) {
            const A *ai = a + i * k;
            Acc acc = 0;
            for (int64_t t = 0; t < k; ++t)
              acc += static_cast<Acc>(ai[t]) * static_cast<Acc>(wj[t]);
            o[i * n + j] = static_cast<C>(acc);
          }
        }
      } else if (std::is_same<Acc, C>::value) {
        for (int64_t i = i0; i < i1; ++i)
          for (int64_t j = j0; j < j1; ++j)
            o[i * n + j] = 0;
        for (int64_t t = 0; t < k; ++t) {
          const B *wt = w + t * n + j0;
          for (int64_t i = i0; i < i1; ++i) {
            const C at = static_cast<C>(a[i * k + t]);
            if (j1 - j0 == kColBlock)
              detail::axpy<kColBlock>(o + i * n + j0, wt, at, kColBlock);
            else
              detail::axpy<0>(o + i * n + j0, wt, at, j1 - j0);
          }
        }
      } else { // a wider accumulator tile, rounded once
        // Per-thread scratch: no allocation per tile on the hot path.
        Acc *acc = scratch<Acc>(host, thread, kRowBlock * kColBlock);
        if (!acc) {
          fail(host, "matmul: out of scratch memory");
          return;
        }
        const int64_t width = j1 - j0;
        for (int64_t e = 0; e < (i1 - i0) * width; ++e)
          acc[e] = Acc(0);
        for (int64_t t = 0; t < k; ++t) {
          const B *__restrict wt = w + t * n + j0;
          for (int64_t i = i0; i < i1; ++i) {
            const Acc at = static_cast<Acc>(a[i * k + t]);
            Acc *__restrict row = acc + (i - i0) * width;
            for (int64_t j = 0; j < width; ++j)
              row[j] += at * static_cast<Acc>(wt[j]);
          }
        }
        for (int64_t i = i0; i < i1; ++i)
          for (int64_t j = 0; j < width; ++j)
            o[i * n + j0 + j] = static_cast<C>(acc[(i - i0) * width + j]);
      }
      if constexpr (!is_no_epilogue<Epilogue>()) // one matrix: b is 0
        epi(i0, i1, j0, j1);
    }
  });
  return run_failed(host) ? 1 : 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_MATMUL_H
