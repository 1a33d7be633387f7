// grid_sample.h - ONNX GridSample (opsets 16 to 22): nearest, linear and
// cubic sampling of 1 to 3 spatial dims at normalized grid locations.
#ifndef ANVIL_CPU_KERNELS_GRID_SAMPLE_H
#define ANVIL_CPU_KERNELS_GRID_SAMPLE_H

#include "common.h"

namespace anvil {
namespace cpu {

/// GridSampleParams::mode and padding values.
enum GridSampleMode : int64_t {
  kGridNearest = 0,
  kGridLinear = 1,
  kGridCubic = 2
};
enum GridSamplePadding : int64_t {
  kGridZeros = 0,
  kGridBorder = 1,
  kGridReflection = 2
};

namespace detail {

/// Reflects x by the nearer border until it lies in [lo, hi] (the ONNX
/// reference's _gs_reflect).
template <class C> C grid_reflect(C x, C lo, C hi) {
  C range = hi - lo;
  if (x < lo) {
    C dx = lo - x;
    int64_t n = static_cast<int64_t>(dx / range);
    C r = dx - static_cast<C>(n) * range;
    return n % 2 == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    C dx = x - hi;
    int64_t n = static_cast<int64_t>(dx / range);
    C r = dx - static_cast<C>(n) * range;
    return n % 2 == 0 ? hi - r : lo + r;
  }
  return x;
}

} // namespace detail

/// Samples `in` [n, c, in_dims...] at `grid` [n, out_dims..., rank] (the
/// last dim holds x, y[, z]: the innermost spatial dim first, each in
/// [-1, 1]) into `out` [n, c, out_dims...]. Coordinates follow the ONNX
/// reference: denormalized with align_corners, rounded half to even for
/// nearest, moved into the borders for border and reflection padding;
/// taps outside the input read 0 (zeros), the edge (border) or the
/// reflected index (reflection). Cubic uses Keys' kernel with a = -0.75.
template <class T, class G>
int grid_sample(const anvil_host_api *host, const GridSampleParams &p,
                const T *in, const G *grid, T *out) {
  using C = accumulator_t<G>; // coordinates in the grid's precision
  const int64_t rank = p.rank;
  int64_t inSize = 1, outSize = 1;
  for (int64_t i = 0; i < rank; ++i) {
    inSize *= p.in_dims[i];
    outSize *= p.out_dims[i];
  }
  const int64_t taps = p.mode == kGridNearest  ? 1
                       : p.mode == kGridLinear ? 2
                                               : 4;
  parallel_for(host, p.n * outSize, 64, [&](int64_t begin, int64_t end) {
    int64_t idx[3][4];
    double w[3][4];
    for (int64_t e = begin; e < end; ++e) {
      const int64_t b = e / outSize, pos = e % outSize;
      const G *g = grid + e * rank;
      for (int64_t i = 0; i < rank; ++i) {
        const int64_t len = p.in_dims[i];
        const C v = static_cast<C>(g[rank - 1 - i]);
        C lo = p.align_corners ? C(0) : C(-0.5);
        C hi = p.align_corners ? C(len - 1) : C(len) - C(0.5);
        C x = p.align_corners ? (v + 1) / C(2) * C(len - 1)
                              : ((v + 1) * C(len) - 1) / C(2);
        if (p.mode == kGridNearest)
          x = std::nearbyint(x);
        if (x < lo || x > hi) {
          if (p.padding == kGridBorder)
            x = x < 0 ? C(0) : (x > C(len - 1) ? C(len - 1) : x);
          else if (p.padding == kGridReflection)
            x = detail::grid_reflect(x, lo, hi);
        }
        // Taps and weights, then each tap's index after padding (-1: 0).
        int64_t first;
        if (p.mode == kGridNearest) {
          first = static_cast<int64_t>(x);
          w[i][0] = 1;
        } else {
          C fl = std::floor(x);
          double t = static_cast<double>(x - fl);
          first = static_cast<int64_t>(fl);
          if (p.mode == kGridLinear) {
            w[i][0] = 1 - t;
            w[i][1] = t;
          } else {
            const double a = -0.75;
            first -= 1;
            double t1 = t + 1, t2 = 1 - t, t3 = 2 - t;
            w[i][0] = ((a * t1 - 5 * a) * t1 + 8 * a) * t1 - 4 * a;
            w[i][1] = ((a + 2) * t - (a + 3)) * t * t + 1;
            w[i][2] = ((a + 2) * t2 - (a + 3)) * t2 * t2 + 1;
            w[i][3] = ((a * t3 - 5 * a) * t3 + 8 * a) * t3 - 4 * a;
          }
        }
        for (int64_t j = 0; j < taps; ++j) {
          int64_t k = first + j;
          if (k < 0 || k >= len) {
            if (p.padding == kGridZeros)
              k = -1;
            else if (p.padding == kGridBorder)
              k = k < 0 ? 0 : len - 1;
            else
              k = static_cast<int64_t>(
                  detail::grid_reflect(static_cast<C>(k), lo, hi));
          }
          idx[i][j] = k;
        }
      }
      for (int64_t ch = 0; ch < p.c; ++ch) {
        const T *x = in + (b * p.c + ch) * inSize;
        double acc = 0;
        int64_t tap[3] = {0, 0, 0};
        while (true) {
          double weight = 1;
          int64_t offset = 0;
          bool zero = false;
          for (int64_t i = 0; i < rank; ++i) {
            weight *= w[i][tap[i]];
            int64_t k = idx[i][tap[i]];
            zero |= k < 0;
            offset = offset * p.in_dims[i] + (k < 0 ? 0 : k);
          }
          if (!zero)
            acc += weight * static_cast<double>(x[offset]);
          int64_t i = rank - 1;
          while (i >= 0 && ++tap[i] == taps)
            tap[i--] = 0;
          if (i < 0)
            break;
        }
        out[(b * p.c + ch) * outSize + pos] = static_cast<T>(acc);
      }
    }
  });
  return run_failed(host) ? 1 : 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_GRID_SAMPLE_H
