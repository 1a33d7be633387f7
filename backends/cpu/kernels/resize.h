// resize.h - ONNX Resize (nearest, linear, cubic; every coordinate
// transformation; antialias), N-d, any layout.
//
// Follows the ONNX reference implementation (onnx/reference/ops/op_resize.py)
// in double precision: every output coordinate is mapped back to an input
// coordinate x per axis (coord_mode), the axis contributes a window of taps
// around x with weights from the mode, and the output is the sum over the
// tensor product of the axes' windows. Taps beyond the input read the edge
// value (the reference pads with "edge"); exclude_outside zeroes their
// weights and renormalizes. With tf_crop_and_resize, an output whose x falls
// outside [0, in - 1] on any axis is extrapolation_value.
#ifndef ANVIL_CPU_KERNELS_RESIZE_H
#define ANVIL_CPU_KERNELS_RESIZE_H

#include "common.h"

#include <cstdlib>

namespace anvil {
namespace cpu {

/// ResizeParams::coord_mode values.
enum ResizeCoordMode : int64_t {
  kResizeHalfPixel = 0,
  kResizeHalfPixelSymmetric = 1,
  kResizePytorchHalfPixel = 2,
  kResizeAlignCorners = 3,
  kResizeAsymmetric = 4,
  kResizeTfCropAndResize = 5,
};
/// ResizeParams::mode values.
enum ResizeMode : int64_t {
  kResizeNearest = 0,
  kResizeLinear = 1,
  kResizeCubic = 2
};
/// ResizeParams::nearest_mode values.
enum ResizeNearestMode : int64_t {
  kResizeRoundPreferFloor = 0,
  kResizeRoundPreferCeil = 1,
  kResizeFloor = 2,
  kResizeCeil = 3,
};

namespace detail {

/// The cubic convolution kernel with coefficient a.
inline double resize_cubic(double x, double a) {
  x = std::fabs(x);
  double x2 = x * x, x3 = x2 * x;
  if (x <= 1)
    return (a + 2) * x3 - (a + 3) * x2 + 1;
  if (x < 2)
    return a * x3 - 5 * a * x2 + 8 * a * x - 4 * a;
  return 0.0;
}

/// Taps per output coordinate on one axis.
inline int64_t resize_taps(const ResizeParams &p, double scale) {
  if (p.mode == kResizeNearest)
    return 1;
  double s = p.antialias && scale < 1 ? scale : 1.0;
  if (p.mode == kResizeLinear)
    return 2 - 2 * static_cast<int64_t>(std::floor(-1 / s) + 1);
  return 2 - 2 * static_cast<int64_t>(std::floor(-2 / s) + 1);
}

/// Fills one axis's table: for output coordinate o, taps idx[o * n + j]
/// (clamped into the input) with weights w[o * n + j]; outside[o] when
/// tf_crop_and_resize maps o outside the input.
inline void resize_axis(const ResizeParams &p, int64_t axis, int64_t n,
                        int64_t *idx, double *w, unsigned char *outside) {
  const int64_t in = p.in_shape[axis], out = p.out_shape[axis];
  const double scale = p.scales[axis];
  const double outWidth = scale * static_cast<double>(in);
  const double roiStart = p.roi[axis], roiEnd = p.roi[p.rank + axis];
  for (int64_t o = 0; o < out; ++o) {
    const double xo = static_cast<double>(o);
    double x = 0;
    outside[o] = 0;
    switch (p.coord_mode) {
    case kResizeAlignCorners:
      x = outWidth == 1 ? 0.0 : xo * double(in - 1) / (outWidth - 1);
      break;
    case kResizeAsymmetric:
      x = xo / scale;
      break;
    case kResizeTfCropAndResize:
      x = outWidth == 1
              ? (roiEnd - roiStart) * double(in - 1) / 2
              : xo * (roiEnd - roiStart) * double(in - 1) / (outWidth - 1);
      x += roiStart * double(in - 1);
      if (x < 0 || x > double(in - 1))
        outside[o] = 1;
      break;
    case kResizePytorchHalfPixel:
      x = outWidth == 1 ? -0.5 : (xo + 0.5) / scale - 0.5;
      break;
    case kResizeHalfPixelSymmetric: {
      double adjustment = double(out) / outWidth;
      double center = double(in) / 2;
      double offset = center * (1 - adjustment);
      x = offset + (xo + 0.5) / scale - 0.5;
      break;
    }
    default: // half_pixel
      x = (xo + 0.5) / scale - 0.5;
      break;
    }
    int64_t *ti = idx + o * n;
    double *tw = w + o * n;
    const double fl = std::floor(x);
    const bool integral = fl == x;
    if (p.mode == kResizeNearest) {
      int64_t k = static_cast<int64_t>(fl);
      if (!integral) {
        double r = x - fl;
        bool up = p.nearest_mode == kResizeRoundPreferFloor ? r > 0.5
                  : p.nearest_mode == kResizeRoundPreferCeil
                      ? r >= 0.5
                      : p.nearest_mode == kResizeCeil;
        k += up ? 1 : 0;
      }
      ti[0] = k < 0 ? 0 : (k >= in ? in - 1 : k);
      tw[0] = 1;
      continue;
    }
    // The window's left tap is `base`, x = base + ratio with ratio in (0, 1].
    const int64_t base = static_cast<int64_t>(fl) - (integral ? 1 : 0);
    const double ratio = integral ? 1.0 : x - fl;
    const double s = p.antialias && scale < 1 ? scale : 1.0;
    const int64_t first = 1 - n / 2; // offset of tap 0 from base
    double sum = 0;
    for (int64_t j = 0; j < n; ++j) {
      double d = static_cast<double>(first + j) - ratio; // tap - x
      double c;
      if (p.mode == kResizeLinear) {
        c = 1 - std::fabs(d * s);
        c = c < 0 ? 0 : c;
      } else {
        c = resize_cubic(d * s, p.cubic_coeff_a);
      }
      tw[j] = c;
      sum += c;
    }
    if (p.antialias)
      for (int64_t j = 0; j < n; ++j)
        tw[j] /= sum;
    // The reference takes the n nearest indices of the edge-padded input
    // (ceil(n / 2) on each side): the window slides in when x is far out.
    const int64_t pad = (n + 1) / 2;
    int64_t start = base + first;
    if (start < -pad)
      start = -pad;
    if (start > in + pad - n)
      start = in + pad - n;
    if (p.exclude_outside) {
      double kept = 0;
      for (int64_t j = 0; j < n; ++j) {
        int64_t i = start + j;
        if (i < 0 || i >= in)
          tw[j] = 0;
        kept += tw[j];
      }
      for (int64_t j = 0; j < n; ++j)
        tw[j] /= kept;
    }
    for (int64_t j = 0; j < n; ++j) {
      int64_t i = start + j;
      ti[j] = i < 0 ? 0 : (i >= in ? in - 1 : i);
    }
  }
}

} // namespace detail

/// Resizes `in` (in_shape) to `out` (out_shape), both row-major of rank
/// p.rank <= 8. Scales and roi per axis as the ONNX operator defines them
/// (roi: starts, then ends; used by tf_crop_and_resize only).
template <class T>
int resize(const anvil_host_api *host, const ResizeParams &p, const T *in,
           T *out) {
  const int64_t rank = p.rank;
  int64_t taps[8], tableOffset[8], total = 0, outCount = 1;
  for (int64_t a = 0; a < rank; ++a) {
    taps[a] = detail::resize_taps(p, p.scales[a]);
    tableOffset[a] = total;
    total += taps[a] * p.out_shape[a];
    outCount *= p.out_shape[a];
  }
  if (outCount == 0)
    return 0;
  int64_t outsideTotal = 0;
  for (int64_t a = 0; a < rank; ++a)
    outsideTotal += p.out_shape[a];
  int64_t *idx = static_cast<int64_t *>(
      std::malloc(sizeof(int64_t) * (total ? total : 1)));
  double *w =
      static_cast<double *>(std::malloc(sizeof(double) * (total ? total : 1)));
  unsigned char *outside = static_cast<unsigned char *>(
      std::malloc(outsideTotal ? outsideTotal : 1));
  if (!idx || !w || !outside) {
    std::free(idx);
    std::free(w);
    std::free(outside);
    return fail(host, "resize: out of memory for the tap tables");
  }
  int64_t outsideOffset[8], off = 0;
  for (int64_t a = 0; a < rank; ++a) {
    outsideOffset[a] = off;
    detail::resize_axis(p, a, taps[a], idx + tableOffset[a], w + tableOffset[a],
                        outside + off);
    off += p.out_shape[a];
  }
  int64_t inStrides[8];
  for (int64_t a = rank - 1, s = 1; a >= 0; --a) {
    inStrides[a] = s;
    s *= p.in_shape[a];
  }
  parallel_for(host, outCount, 256, [&](int64_t begin, int64_t end) {
    int64_t pos[8], tap[8];
    for (int64_t e = begin; e < end; ++e) {
      int64_t rest = e;
      bool out_of_roi = false;
      for (int64_t a = rank - 1; a >= 0; --a) {
        pos[a] = rest % p.out_shape[a];
        rest /= p.out_shape[a];
        out_of_roi |= outside[outsideOffset[a] + pos[a]] != 0;
      }
      if (out_of_roi) {
        out[e] = static_cast<T>(p.extrapolation_value);
        continue;
      }
      for (int64_t a = 0; a < rank; ++a)
        tap[a] = 0;
      double acc = 0;
      while (true) {
        double weight = 1;
        int64_t offset = 0;
        for (int64_t a = 0; a < rank; ++a) {
          int64_t t = tableOffset[a] + pos[a] * taps[a] + tap[a];
          weight *= w[t];
          offset += idx[t] * inStrides[a];
        }
        acc += weight * static_cast<double>(in[offset]);
        int64_t a = rank - 1;
        while (a >= 0 && ++tap[a] == taps[a])
          tap[a--] = 0;
        if (a < 0)
          break;
      }
      out[e] = static_cast<T>(acc);
    }
  });
  std::free(idx);
  std::free(w);
  std::free(outside);
  return run_failed(host) ? 1 : 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_RESIZE_H
