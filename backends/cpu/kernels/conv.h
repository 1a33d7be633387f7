// conv.h - 2-D convolution and N-d pooling, channels first (NCHW).
#ifndef ANVIL_CPU_KERNELS_CONV_H
#define ANVIL_CPU_KERNELS_CONV_H

#include "common.h"

namespace anvil {
namespace cpu {

template <class T>
int conv2d(const anvil_host_api *host, const Conv2dParams &p, const T *in,
           const T *weight, const T *bias, T *out) {
  const int64_t cg = p.c / p.group, mg = p.m / p.group;
  parallel_for(host, p.n * p.m, 1, [&](int64_t begin, int64_t end, int thread) {
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
          for (int64_t kx = 0; kx < p.kw; ++kx) {
            const Acc wv = static_cast<Acc>(wk[ky * p.kw + kx]);
            for (int64_t oy = 0; oy < p.oh; ++oy) {
              int64_t iy = oy * p.strides[0] - p.pads[0] + ky * p.dilations[0];
              if (iy < 0 || iy >= p.h)
                continue;
              const T *xr = x + iy * p.w;
              Acc *orow = o + oy * p.ow;
              for (int64_t ox = 0; ox < p.ow; ++ox) {
                int64_t ix =
                    ox * p.strides[1] - p.pads[1] + kx * p.dilations[1];
                if (ix >= 0 && ix < p.w)
                  orow[ox] += wv * static_cast<Acc>(xr[ix]);
              }
            }
          }
        }
      }
      if (!std::is_same<Acc, T>::value)
        for (int64_t i = 0; i < p.oh * p.ow; ++i)
          out[nm * p.oh * p.ow + i] = static_cast<T>(plane[i]);
    }
  });
  return run_failed(host) ? 1 : 0;
}

template <class T>
int conv2d(const anvil_host_api *host, const Conv2dParams &p, const T *in,
           const T *weight, T *out) {
  return conv2d<T>(host, p, in, weight, nullptr, out);
}

/// Max or average pooling over 1 to 3 spatial dims (missing dims are 1).
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
  const int64_t inSize = d[0] * d[1] * d[2], outSize = o[0] * o[1] * o[2];
  parallel_for(host, p.outer, 1, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const T *x = in + plane * inSize;
      T *y = out + plane * outSize;
      for (int64_t oz = 0; oz < o[0]; ++oz)
        for (int64_t oy = 0; oy < o[1]; ++oy)
          for (int64_t ox = 0; ox < o[2]; ++ox) {
            double acc = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
            int64_t valid = 0, padded = 0;
            bool nan = false;
            for (int64_t kz = 0; kz < k[0]; ++kz) {
              int64_t iz = oz * s[0] - pb[0] + kz * dl[0];
              for (int64_t ky = 0; ky < k[1]; ++ky) {
                int64_t iy = oy * s[1] - pb[1] + ky * dl[1];
                for (int64_t kx = 0; kx < k[2]; ++kx) {
                  int64_t ix = ox * s[2] - pb[2] + kx * dl[2];
                  // Taps in the padding count for count_include_pad; taps
                  // beyond it (ceil_mode windows) never do.
                  if (iz < d[0] + pe[0] && iy < d[1] + pe[1] &&
                      ix < d[2] + pe[2])
                    ++padded;
                  if (iz < 0 || iz >= d[0] || iy < 0 || iy >= d[1] || ix < 0 ||
                      ix >= d[2])
                    continue;
                  double v =
                      static_cast<double>(x[(iz * d[1] + iy) * d[2] + ix]);
                  ++valid;
                  if (v != v)
                    nan = true;
                  else if (isMax)
                    acc = v > acc ? v : acc;
                  else
                    acc += v;
                }
              }
            }
            if (!isMax)
              acc /= double(p.count_include_pad ? padded : (valid ? valid : 1));
            if (nan)
              acc = std::numeric_limits<double>::quiet_NaN();
            y[(oz * o[1] + oy) * o[2] + ox] = static_cast<T>(acc);
          }
    }
  });
  return 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_CONV_H
