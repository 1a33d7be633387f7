// conv_transpose.h - N-d transposed convolution (1 to 3 spatial dims),
// channels first.
#ifndef ANVIL_CPU_KERNELS_CONV_TRANSPOSE_H
#define ANVIL_CPU_KERNELS_CONV_TRANSPOSE_H

#include "common.h"

namespace anvil {
namespace cpu {

/// ONNX ConvTranspose with explicit pads: `in` [n, c, in_dims...], `weight`
/// [c, m / group, kernel...], `bias` [m] (when has_bias), `out`
/// [n, m, out_dims...]. Input tap i of kernel tap k lands on output
/// i * stride - pad_begin + k * dilation; taps outside the output are
/// dropped (negative or end pads). Missing spatial dims are 1.
template <class T>
int conv_transpose(const anvil_host_api *host, const ConvTransposeParams &p,
                   const T *in, const T *weight, const T *bias, T *out) {
  int64_t d[3] = {1, 1, 1}, o[3] = {1, 1, 1}, k[3] = {1, 1, 1},
          s[3] = {1, 1, 1}, pb[3] = {0, 0, 0}, dl[3] = {1, 1, 1};
  for (int64_t i = 0; i < p.rank; ++i) {
    int64_t j = 3 - p.rank + i;
    d[j] = p.in_dims[i], o[j] = p.out_dims[i], k[j] = p.kernel[i];
    s[j] = p.strides[i], pb[j] = p.pads[i], dl[j] = p.dilations[i];
  }
  const int64_t inSize = d[0] * d[1] * d[2], outSize = o[0] * o[1] * o[2],
                kSize = k[0] * k[1] * k[2];
  const int64_t cg = p.c / p.group, mg = p.m / p.group;
  using Acc = accumulator_t<T>;
  parallel_for(host, p.n * p.m, 1, [&](int64_t begin, int64_t end, int thread) {
    Acc *plane = scratch<Acc>(host, thread, outSize ? outSize : 1);
    if (!plane) {
      fail(host, "conv_transpose: out of scratch memory");
      return;
    }
    for (int64_t nm = begin; nm < end; ++nm) {
      const int64_t b = nm / p.m, oc = nm % p.m, g = oc / mg, ocl = oc % mg;
      const Acc init = p.has_bias ? static_cast<Acc>(bias[oc]) : Acc(0);
      for (int64_t i = 0; i < outSize; ++i)
        plane[i] = init;
      for (int64_t icl = 0; icl < cg; ++icl) {
        const int64_t ic = g * cg + icl;
        const T *x = in + (b * p.c + ic) * inSize;
        const T *wk = weight + (ic * mg + ocl) * kSize;
        for (int64_t kz = 0; kz < k[0]; ++kz)
          for (int64_t ky = 0; ky < k[1]; ++ky)
            for (int64_t kx = 0; kx < k[2]; ++kx) {
              const Acc wv = static_cast<Acc>(wk[(kz * k[1] + ky) * k[2] + kx]);
              for (int64_t iz = 0; iz < d[0]; ++iz) {
                int64_t oz = iz * s[0] - pb[0] + kz * dl[0];
                if (oz < 0 || oz >= o[0])
                  continue;
                for (int64_t iy = 0; iy < d[1]; ++iy) {
                  int64_t oy = iy * s[1] - pb[1] + ky * dl[1];
                  if (oy < 0 || oy >= o[1])
                    continue;
                  const T *xr = x + (iz * d[1] + iy) * d[2];
                  Acc *orow = plane + (oz * o[1] + oy) * o[2];
                  for (int64_t ix = 0; ix < d[2]; ++ix) {
                    int64_t ox = ix * s[2] - pb[2] + kx * dl[2];
                    if (ox >= 0 && ox < o[2])
                      orow[ox] += wv * static_cast<Acc>(xr[ix]);
                  }
                }
              }
            }
      }
      T *y = out + nm * outSize;
      for (int64_t i = 0; i < outSize; ++i)
        y[i] = static_cast<T>(plane[i]);
    }
  });
  return run_failed(host) ? 1 : 0;
}

/// Without a bias.
template <class T>
int conv_transpose(const anvil_host_api *host, const ConvTransposeParams &p,
                   const T *in, const T *weight, T *out) {
  return conv_transpose<T>(host, p, in, weight, nullptr, out);
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_CONV_TRANSPOSE_H
