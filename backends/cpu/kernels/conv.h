// conv.h - 2-D convolution and pooling, channels first (NCHW).
#ifndef ANVIL_CPU_KERNELS_CONV_H
#define ANVIL_CPU_KERNELS_CONV_H

#include "common.h"

namespace anvil {
namespace cpu {

struct Conv2dParams {
  int64_t n, c, h, w, m, kh, kw, oh, ow;
  const int64_t *strides;   // h, w
  const int64_t *pads;      // top, left, bottom, right
  const int64_t *dilations; // h, w
  int64_t group;
  bool has_bias;
};

template <class T>
int conv2d(const anvil_host_api *host, const Conv2dParams &p, const T *in,
           const T *weight, const T *bias, T *out) {
  const int64_t cg = p.c / p.group, mg = p.m / p.group;
  parallel_for(host, p.n * p.m, 1, [&](int64_t begin, int64_t end) {
    for (int64_t nm = begin; nm < end; ++nm) {
      int64_t b = nm / p.m, oc = nm % p.m, g = oc / mg;
      T *o = out + nm * p.oh * p.ow;
      T init = p.has_bias ? bias[oc] : T(0);
      for (int64_t i = 0; i < p.oh * p.ow; ++i)
        o[i] = init;
      for (int64_t ic = 0; ic < cg; ++ic) {
        const T *x = in + (b * p.c + g * cg + ic) * p.h * p.w;
        const T *wk = weight + (oc * cg + ic) * p.kh * p.kw;
        for (int64_t ky = 0; ky < p.kh; ++ky) {
          for (int64_t kx = 0; kx < p.kw; ++kx) {
            const T wv = wk[ky * p.kw + kx];
            for (int64_t oy = 0; oy < p.oh; ++oy) {
              int64_t iy = oy * p.strides[0] - p.pads[0] + ky * p.dilations[0];
              if (iy < 0 || iy >= p.h)
                continue;
              const T *xr = x + iy * p.w;
              T *orow = o + oy * p.ow;
              for (int64_t ox = 0; ox < p.ow; ++ox) {
                int64_t ix =
                    ox * p.strides[1] - p.pads[1] + kx * p.dilations[1];
                if (ix >= 0 && ix < p.w)
                  orow[ox] += wv * xr[ix];
              }
            }
          }
        }
      }
    }
  });
  return 0;
}

template <class T>
int conv2d(const anvil_host_api *host, const Conv2dParams &p, const T *in,
           const T *weight, T *out) {
  return conv2d<T>(host, p, in, weight, nullptr, out);
}

struct Pool2dParams {
  const char *kind; // max or avg
  int64_t n, c, h, w, kh, kw, oh, ow;
  const int64_t *strides;
  const int64_t *pads; // top, left, bottom, right
  bool count_include_pad;
};

template <class T>
int pool2d(const anvil_host_api *host, const Pool2dParams &p, const T *in,
           T *out) {
  const bool isMax = std::strcmp(p.kind, "max") == 0;
  parallel_for(host, p.n * p.c, 1, [&](int64_t begin, int64_t end) {
    for (int64_t nc = begin; nc < end; ++nc) {
      const T *x = in + nc * p.h * p.w;
      T *o = out + nc * p.oh * p.ow;
      for (int64_t oy = 0; oy < p.oh; ++oy) {
        for (int64_t ox = 0; ox < p.ow; ++ox) {
          int64_t y0 = oy * p.strides[0] - p.pads[0];
          int64_t x0 = ox * p.strides[1] - p.pads[1];
          double acc = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
          int64_t valid = 0, padded = 0;
          for (int64_t ky = 0; ky < p.kh; ++ky) {
            int64_t iy = y0 + ky;
            for (int64_t kx = 0; kx < p.kw; ++kx) {
              int64_t ix = x0 + kx;
              // Positions in the padding count for count_include_pad; those
              // beyond it (ceil_mode windows) never do.
              if (iy < p.h + p.pads[2] && ix < p.w + p.pads[3])
                ++padded;
              if (iy < 0 || iy >= p.h || ix < 0 || ix >= p.w)
                continue;
              double v = x[iy * p.w + ix];
              ++valid;
              if (isMax)
                acc = (v > acc || v != v) ? v : acc;
              else
                acc += v;
            }
          }
          if (!isMax)
            acc /= double(p.count_include_pad ? padded : (valid ? valid : 1));
          o[oy * p.ow + ox] = static_cast<T>(acc);
        }
      }
    }
  });
  return 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_CONV_H
