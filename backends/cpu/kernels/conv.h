// conv.h - 2-D convolution and N-d pooling, channels first (NCHW).
#ifndef ANVIL_CPU_KERNELS_CONV_H
#define ANVIL_CPU_KERNELS_CONV_H

#include "common.h"
#include "conv_channels_last.h"
#include "conv_depthwise.h"
#include "conv_depthwise_blocked.h"
#include "conv_gemm.h"
#include "matmul.h" // detail::axpy

#include <memory>
#include <new>

namespace anvil {
namespace cpu {

namespace detail {
/// conv2d's body, for Epilogue NoEpilogue or EpilogueRef only.
template <class T, class Epilogue>
int conv2d_impl(const anvil_host_api *host, const Conv2dParams &p, const T *in,
                const T *weight, const T *bias, T *out, const Epilogue &epi) {
  if (p.weight_tile_rows) {
    // Row tiles are conv_gemm.h's product's layout alone.
    if constexpr (std::is_same<T, float>::value) {
      if (!p.in_nhwc && !p.out_nhwc && !p.weight_panel && conv_gemm::applies(p))
        return conv_gemm::conv2d(host, p, in, weight, bias, out, epi);
    }
    fail(host, "conv: a weight in row tiles needs a float32 convolution "
               "that runs as a product (4 or more output channels, 8 or "
               "more taps, planar tensors)");
    return 1;
  }
  if (p.in_nhwc || p.out_nhwc) {
    if constexpr (std::is_same<T, float>::value) {
      if (conv_channels_last::applies(p))
        return conv_channels_last::conv2d(host, p, in, weight, bias, out, epi);
    }
    fail(host, "conv: channels-last tensors need a float32 1x1 convolution "
               "with its weight in column panels, or a depthwise one "
               "channels last on both sides");
    return 1;
  }
  if constexpr (std::is_same<T, float>::value) {
    if (conv_gemm::pixel_rows_chosen(p))
      return conv_gemm::conv2d_pixel_rows(host, p, in, weight, bias, out, epi);
#if defined(__AVX512F__)
    if (conv_depthwise_blocked::applies(p))
      return conv_depthwise_blocked::conv2d(host, p, in, weight, bias, out,
                                            epi);
#endif
    if (conv_depthwise::applies(p))
      return conv_depthwise::conv2d(host, p, in, weight, bias, out, epi);
    if (conv_gemm::applies(p))
      return conv_gemm::conv2d(host, p, in, weight, bias, out, epi);
  }
  if (p.weight_panel) {
    fail(host, "conv: a weight in column panels needs float32");
    return 1;
  }
  const int64_t cg = p.c / p.group, mg = p.m / p.group;
  const int64_t planeMacs =
      std::max<int64_t>(1, cg * p.kh * p.kw * p.oh * p.ow);
  parallel_for(
      host, p.n * p.m, std::max<int64_t>(1, kMinChunkMacs / planeMacs),
      [&](int64_t begin, int64_t end, int thread) {
        // 16-bit floats accumulate in a float plane (per-thread scratch, no
        // allocation per chunk), rounded once.
        using Acc = accumulator_t<T>;
        Acc *plane = nullptr;
        if (!std::is_same<Acc, T>::value) {
          plane = scratch<Acc>(host, thread, p.oh * p.ow);
          if (!plane) {
            fail(host, "conv: out of scratch memory");
            return;
          }
        }
        for (int64_t nm = begin; nm < end; ++nm) {
          int64_t b = nm / p.m, oc = nm % p.m, g = oc / mg;
          Acc *o = std::is_same<Acc, T>::value
                       ? reinterpret_cast<Acc *>(out + nm * p.oh * p.ow)
                       : plane;
          Acc init = p.has_bias ? static_cast<Acc>(bias[oc]) : Acc(0);
          for (int64_t i = 0; i < p.oh * p.ow; ++i)
            o[i] = init;
          for (int64_t ic = 0; ic < cg; ++ic) {
            const T *x = in + (b * p.c + g * cg + ic) * p.h * p.w;
            const T *wk = weight + (oc * cg + ic) * p.kh * p.kw;
            for (int64_t ky = 0; ky < p.kh; ++ky) {
              const int64_t offY = ky * p.dilations[0] - p.pads[0];
              const auto [oy0, oy1] = tap_range(p.h, p.strides[0], offY, p.oh);
              for (int64_t kx = 0; kx < p.kw; ++kx) {
                const Acc wv = static_cast<Acc>(wk[ky * p.kw + kx]);
                const int64_t offX = kx * p.dilations[1] - p.pads[1];
                const auto [ox0, ox1] =
                    tap_range(p.w, p.strides[1], offX, p.ow);
                for (int64_t oy = oy0; oy < oy1; ++oy) {
                  const T *xr = x + (oy * p.strides[0] + offY) * p.w + offX;
                  Acc *orow = o + oy * p.ow;
                  if (p.strides[1] == 1) {
                    detail::axpy<0>(orow + ox0, xr + ox0, wv, ox1 - ox0);
                  } else {
                    for (int64_t ox = ox0; ox < ox1; ++ox)
                      orow[ox] += wv * static_cast<Acc>(xr[ox * p.strides[1]]);
                  }
                }
              }
            }
          }
          if (!std::is_same<Acc, T>::value)
            for (int64_t i = 0; i < p.oh * p.ow; ++i)
              out[nm * p.oh * p.ow + i] = static_cast<T>(plane[i]);
          if constexpr (!is_no_epilogue<Epilogue>())
            epi(nm, nm + 1, 0, p.oh * p.ow);
        }
      });
  return run_failed(host) ? 1 : 0;
}

} // namespace detail

/// out = conv(in, weight) + bias, NCHW: in [n, c, h, w], weight [m, c /
/// group, kh, kw], bias [m] (null: none), out [n, m, oh, ow]; pads are
/// {top, left, bottom, right}. float32 takes a depthwise kernel with one
/// input channel per group (on AVX-512 with one output channel each,
/// conv_depthwise_blocked.h's 16-channel blocks, large planes in bands of
/// rows; else conv_depthwise.h's planes), or, with enough channels
/// per group, runs as a product on the matmul micro-kernel (conv_gemm.h);
/// the rest (few output channels per group, 16-bit types) accumulates tap
/// by tap over each output plane, a row's valid outputs at a time
/// (vectorized for stride 1), in a float plane for 16-bit types, rounded
/// once. `epi` (common.h; anvil-fuse-matmul-epilogue) runs on each
/// finished block of the output seen as [n * m, oh * ow]: rows are (image,
/// channel) planes, columns their pixels. With p.in_nhwc / p.out_nhwc the
/// input / output is channels last ([n, h, w, c] / [n, oh, ow, m]; a 1x1
/// or depthwise float32 convolution only, conv_channels_last.h; a
/// channels-last output's epilogue must be a unary loop in place, which
/// sees runs of the buffer in memory order). With p.weight_tile_rows = 12
/// the weight is in row tiles (WeightData.h's row_tiles12; group 1, the
/// product form only).
template <class T, class Epilogue = NoEpilogue>
int conv2d(const anvil_host_api *host, const Conv2dParams &p, const T *in,
           const T *weight, const T *bias, T *out,
           const Epilogue &epi = Epilogue()) {
  if constexpr (is_no_epilogue<Epilogue>() ||
                std::is_same<Epilogue, EpilogueRef>::value)
    return detail::conv2d_impl<T>(host, p, in, weight, bias, out, epi);
  else // one instantiation of the kernels for every fused launch
    return detail::conv2d_impl<T>(host, p, in, weight, bias, out,
                                  EpilogueRef(epi));
}

/// conv2d without a bias.
template <class T>
int conv2d(const anvil_host_api *host, const Conv2dParams &p, const T *in,
           const T *weight, T *out) {
  return conv2d<T>(host, p, in, weight, nullptr, out);
}

/// conv2d without a bias, with an epilogue (a callable, never a pointer:
/// a call with a non-const bias pointer is the overload above).
template <
    class T, class Epilogue,
    class = typename std::enable_if<!std::is_pointer<Epilogue>::value>::type>
int conv2d(const anvil_host_api *host, const Conv2dParams &p, const T *in,
           const T *weight, T *out, const Epilogue &epi) {
  return conv2d<T, Epilogue>(host, p, in, weight, nullptr, out, epi);
}

namespace detail {
/// Along one pooled dim: for output o, its taps k in [first[o], last[o])
/// read the input (o * stride - pad_begin + k * dilation in [0, size)),
/// and padded[o] of its taps lie within the padded extent (before size +
/// pad_end: count_include_pad counts those; ceil_mode windows reach
/// beyond it). The three arrays of `out` entries live in `buffer`.
struct PoolTaps {
  const int64_t *first, *last, *padded;
  void fill(int64_t *buffer, int64_t size, int64_t out, int64_t kernel,
            int64_t stride, int64_t pb, int64_t pe, int64_t dilation) {
    int64_t *f = buffer, *l = buffer + out, *n = buffer + 2 * out;
    for (int64_t o = 0; o < out; ++o) {
      f[o] = kernel, l[o] = 0, n[o] = 0;
      for (int64_t k = 0; k < kernel; ++k) {
        const int64_t i = o * stride - pb + k * dilation;
        if (i < size + pe)
          ++n[o];
        if (i >= 0 && i < size) {
          f[o] = std::min(f[o], k);
          l[o] = k + 1;
        }
      }
      if (f[o] >= l[o])
        f[o] = l[o] = 0;
    }
    first = f, last = l, padded = n;
  }
};
/// The larger of m and v as one select: max_select for floats (NaN
/// propagates), plain for integers.
template <class T> inline T pool_max(T m, T v) {
  if constexpr (std::is_same<T, float>::value)
    return max_select(m, v);
  else
    return m > v ? m : v;
}

/// Float max pooling of one plane (see pool), row by row: each output row
/// starts at -inf and folds in every valid (kz, ky) input row, the taps in
/// max_nan's order per output (kz, ky, kx), so the same bits. The interior
/// columns [xa, xb), whose windows read every x tap, loop over all taps
/// with no bounds; the edge columns take their valid taps one by one. The
/// compilers do not vectorize the column loop (GCC 12 and clang 16: the
/// strided taps), but the select (max_select) has no branches: one output
/// at a time with max_nan's branches had been 14% of ResNet-18 on one
/// thread (docs/performance.md, "Convolutional networks"). Also for 8- to
/// 64-bit integers (the max pools of quantized CNNs), which start from the
/// type's lowest value where floats start from -inf.
template <class T>
inline void max_pool_plane(const T *x, T *y, const int64_t *d, const int64_t *o,
                           const int64_t *k, const int64_t *s,
                           const int64_t *pb, const int64_t *dl,
                           const PoolTaps &tz, const PoolTaps &ty,
                           const PoolTaps &tx, int64_t xa, int64_t xb) {
  const int64_t kx = k[2], sx = s[2], dx = dl[2], px = pb[2];
  const T lowest = std::numeric_limits<T>::has_infinity
                       ? -std::numeric_limits<T>::infinity()
                       : std::numeric_limits<T>::lowest();
  for (int64_t oz = 0; oz < o[0]; ++oz)
    for (int64_t oy = 0; oy < o[1]; ++oy) {
      T *dst = y + (oz * o[1] + oy) * o[2];
      std::fill(dst, dst + o[2], lowest);
      const int64_t z0 = oz * s[0] - pb[0], y0 = oy * s[1] - pb[1];
      for (int64_t kz = tz.first[oz]; kz < tz.last[oz]; ++kz)
        for (int64_t ky = ty.first[oy]; ky < ty.last[oy]; ++ky) {
          const T *row =
              x + ((z0 + kz * dl[0]) * d[1] + y0 + ky * dl[1]) * d[2];
          auto edge = [&](int64_t ox) {
            for (int64_t t = tx.first[ox]; t < tx.last[ox]; ++t)
              dst[ox] = pool_max(dst[ox], row[ox * sx - px + t * dx]);
          };
          for (int64_t ox = 0; ox < xa; ++ox)
            edge(ox);
          for (int64_t ox = xa; ox < xb; ++ox) {
            T m = dst[ox];
            for (int64_t t = 0; t < kx; ++t)
              m = pool_max(m, row[ox * sx - px + t * dx]);
            dst[ox] = m;
          }
          for (int64_t ox = std::max(xa, xb); ox < o[2]; ++ox)
            edge(ox);
        }
    }
}

/// Float max pooling of one 2-D plane (see pool), in two passes:
/// `rows` [h][ow] takes each input row's maxima over the x taps of each
/// output column, then each output row folds the rows its y taps read.
/// Per output that is max_pool_plane's fold in the same (ky, kx) order cut
/// in two, and max_select, which keeps the last of equal maxima and the
/// first NaN, gives the same bits either way (-inf where no tap is valid,
/// as there). The interior columns [xa, xb), whose windows read every x
/// tap, and the row folds run on simd::Vec: at stride 1 reading the row in
/// place, at stride 2 its even and odd columns copied apart
/// (conv_pad::copy_every_second into `phases`, two runs of (w + 1) / 2);
/// other strides and the edge columns one output at a time.
/// ResNet's 3x3/2 pooling of 64 planes of 112 x 112, one thread on the
/// Xeon host: 1.01 -> 0.25-0.26 ms (ONNX Runtime 0.42; two threads 0.55 ->
/// 0.15-0.22, ONNX Runtime 0.20).
inline void max_pool_plane_rows(const float *x, float *y, const int64_t *d,
                                const int64_t *o, const int64_t *k,
                                const int64_t *s, const int64_t *pb,
                                const int64_t *dl, const PoolTaps &ty,
                                const PoolTaps &tx, int64_t xa, int64_t xb,
                                float *rows, float *phases) {
  using simd::Vec;
  const int64_t h = d[1], w = d[2], ow = o[2], kx = k[2], sx = s[2];
  const int64_t dx = dl[2], px = pb[2];
  const float lowest = -std::numeric_limits<float>::infinity();
  const int64_t half = (w + 1) / 2;
  for (int64_t r = 0; r < h; ++r) {
    const float *row = x + r * w;
    float *dst = rows + r * ow;
    auto edge = [&](int64_t ox) {
      float m = lowest;
      for (int64_t t = tx.first[ox]; t < tx.last[ox]; ++t)
        m = max_select(m, row[ox * sx - px + t * dx]);
      dst[ox] = m;
    };
    for (int64_t ox = 0; ox < xa; ++ox)
      edge(ox);
    for (int64_t ox = std::max(xa, xb); ox < ow; ++ox)
      edge(ox);
    if (xb <= xa)
      continue;
    if (sx == 1 || sx == 2) {
      if (sx == 2) { // even columns, then odd ones
        conv_pad::copy_every_second(phases, row, half);
        conv_pad::copy_every_second(phases + half, row + 1, w / 2);
      }
      for (int64_t ox = xa; ox < xb; ox += Vec::kLanes) {
        const typename Vec::Mask lanes = Vec::mask(xb - ox);
        Vec m = Vec::splat(lowest);
        for (int64_t t = 0; t < kx; ++t) {
          // Input column c = ox * sx + off (>= 0 in the interior).
          const int64_t off = t * dx - px;
          const float *src = sx == 1
                                 ? row + ox + off
                                 : phases + (off & 1) * half + ox + (off >> 1);
          m = Vec::max_select(m, Vec::load(src, lanes));
        }
        m.store(dst + ox, lanes);
      }
    } else {
      for (int64_t ox = xa; ox < xb; ++ox)
        edge(ox);
    }
  }
  const int64_t sy = s[1], dy = dl[1], py = pb[1];
  for (int64_t oy = 0; oy < o[1]; ++oy) {
    float *dst = y + oy * ow;
    for (int64_t ox = 0; ox < ow; ox += Vec::kLanes) {
      const typename Vec::Mask lanes = Vec::mask(ow - ox);
      Vec m = Vec::splat(lowest);
      for (int64_t ky = ty.first[oy]; ky < ty.last[oy]; ++ky)
        m = Vec::max_select(
            m, Vec::load(rows + (oy * sy - py + ky * dy) * ow + ox, lanes));
      m.store(dst + ox, lanes);
    }
  }
}
} // namespace detail

/// Max or average pooling over 1 to 3 spatial dims (missing dims are 1):
/// in [outer, in_dims...] -> out [outer, out_dims...]. A window's max
/// propagates NaN and is -inf when every tap is padding; its average sums
/// in double and divides by the taps read (count_include_pad: by the taps
/// within the padded extent). Each dim's valid taps are worked out once
/// per call, so the loops over a window test no bounds.
template <class T>
int pool(const anvil_host_api *host, const PoolParams &p, const T *in, T *out) {
  const bool isMax = std::strcmp(p.kind, "max") == 0;
  int64_t d[3] = {1, 1, 1}, o[3] = {1, 1, 1}, k[3] = {1, 1, 1},
          s[3] = {1, 1, 1}, pb[3] = {0, 0, 0}, pe[3] = {0, 0, 0},
          dl[3] = {1, 1, 1};
  for (int64_t i = 0; i < p.rank; ++i) {
    int64_t j = 3 - p.rank + i;
    d[j] = p.in_dims[i], o[j] = p.out_dims[i], k[j] = p.kernel[i];
    s[j] = p.strides[i], pb[j] = p.pads[i], pe[j] = p.pads[p.rank + i];
    dl[j] = p.dilations[i];
  }
  std::unique_ptr<int64_t[]> taps(new (std::nothrow)
                                      int64_t[3 * (o[0] + o[1] + o[2])]);
  if (!taps) {
    fail(host, "pool: out of memory");
    return 1;
  }
  detail::PoolTaps tz, ty, tx;
  tz.fill(taps.get(), d[0], o[0], k[0], s[0], pb[0], pe[0], dl[0]);
  ty.fill(taps.get() + 3 * o[0], d[1], o[1], k[1], s[1], pb[1], pe[1], dl[1]);
  tx.fill(taps.get() + 3 * (o[0] + o[1]), d[2], o[2], k[2], s[2], pb[2], pe[2],
          dl[2]);
  const int64_t inSize = d[0] * d[1] * d[2], outSize = o[0] * o[1] * o[2];
  const int64_t planeWork = std::max<int64_t>(1, outSize * k[0] * k[1] * k[2]);
  // Max is exact in T; float's runs in float, the others as before in
  // double (the same value).
  using MaxT = typename std::conditional<std::is_same<T, float>::value, float,
                                         double>::type;
  // The output columns whose window reads every x tap (the interior).
  int64_t xa = 0, xb = 0;
  for (int64_t ox = 0; ox < o[2]; ++ox)
    if (tx.first[ox] == 0 && tx.last[ox] == k[2]) {
      xa = xb == 0 ? ox : xa;
      xb = ox + 1;
    }
  // Float 2-D max pooling takes the two-pass rows (max_pool_plane_rows),
  // with [h][ow] row maxima and two stride-2 phases of a row in the
  // thread's scratch.
  const bool rowPasses =
      std::is_same<T, float>::value && isMax && d[0] == 1 && o[0] == 1;
  const size_t rowFloats = size_t(d[1] * o[2] + 2 * ((d[2] + 1) / 2));
  parallel_for(
      host, p.outer, std::max<int64_t>(1, kMinChunkMacs / planeWork),
      [&](int64_t begin, int64_t end, int thread) {
        float *rows = nullptr;
        std::unique_ptr<float[]> own;
        if (rowPasses) {
          rows = scratch_or_own<float>(host, thread, rowFloats, own);
          if (!rows) {
            fail(host, "pool: out of scratch memory");
            return;
          }
        }
        for (int64_t plane = begin; plane < end; ++plane) {
          const T *x = in + plane * inSize;
          T *y = out + plane * outSize;
          if constexpr (std::is_same<T, float>::value) {
            if (rowPasses) {
              detail::max_pool_plane_rows(x, y, d, o, k, s, pb, dl, ty, tx, xa,
                                          xb, rows, rows + d[1] * o[2]);
              continue;
            }
          }
          if constexpr (std::is_same<T, float>::value ||
                        (std::is_integral<T>::value &&
                         !std::is_same<T, bool>::value)) {
            if (isMax) {
              detail::max_pool_plane(x, y, d, o, k, s, pb, dl, tz, ty, tx, xa,
                                     xb);
              continue;
            }
          }
          for (int64_t oz = 0; oz < o[0]; ++oz)
            for (int64_t oy = 0; oy < o[1]; ++oy)
              for (int64_t ox = 0; ox < o[2]; ++ox) {
                const int64_t z0 = oz * s[0] - pb[0], y0 = oy * s[1] - pb[1],
                              x0 = ox * s[2] - pb[2];
                T *dst = y + (oz * o[1] + oy) * o[2] + ox;
                // Folds every tap the window reads into acc.
                auto fold = [&](auto acc, auto step) {
                  for (int64_t kz = tz.first[oz]; kz < tz.last[oz]; ++kz)
                    for (int64_t ky = ty.first[oy]; ky < ty.last[oy]; ++ky) {
                      const T *row =
                          x +
                          ((z0 + kz * dl[0]) * d[1] + y0 + ky * dl[1]) * d[2] +
                          x0;
                      for (int64_t kx = tx.first[ox]; kx < tx.last[ox]; ++kx)
                        acc = step(acc, row[kx * dl[2]]);
                    }
                  return acc;
                };
                if (isMax) {
                  *dst = static_cast<T>(
                      fold(-std::numeric_limits<MaxT>::infinity(),
                           [](MaxT acc, T v) {
                             return max_nan<MaxT>(acc, static_cast<MaxT>(v));
                           }));
                  continue;
                }
                const double sum = fold(0.0, [](double acc, T v) {
                  return acc + static_cast<double>(v);
                });
                const int64_t valid = (tz.last[oz] - tz.first[oz]) *
                                      (ty.last[oy] - ty.first[oy]) *
                                      (tx.last[ox] - tx.first[ox]);
                const int64_t padded =
                    tz.padded[oz] * ty.padded[oy] * tx.padded[ox];
                *dst = static_cast<T>(sum / double(p.count_include_pad
                                                       ? padded
                                                       : (valid ? valid : 1)));
              }
        }
      });
  return run_failed(host) ? 1 : 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_CONV_H
