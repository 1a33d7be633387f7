// normalization.h - softmax, layer normalization and RMS normalization.
// Statistics accumulate in double so results track a float64 reference.
#ifndef ANVIL_CPU_KERNELS_NORMALIZATION_H
#define ANVIL_CPU_KERNELS_NORMALIZATION_H

#include "common.h"

namespace anvil {
namespace cpu {

template <class T>
int softmax(const anvil_host_api *host, const SoftmaxParams &p, const T *in,
            T *out) {
  parallel_for(host, p.outer * p.inner, 64, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      int64_t base = (r / p.inner) * p.size * p.inner + r % p.inner;
      double maxv = -std::numeric_limits<double>::infinity();
      for (int64_t s = 0; s < p.size; ++s)
        maxv = max_nan<double>(maxv, in[base + s * p.inner]);
      double sum = 0;
      for (int64_t s = 0; s < p.size; ++s)
        sum += std::exp(double(in[base + s * p.inner]) - maxv);
      double logSum = std::log(sum);
      for (int64_t s = 0; s < p.size; ++s) {
        double shifted = double(in[base + s * p.inner]) - maxv;
        out[base + s * p.inner] =
            static_cast<T>(p.log ? shifted - logSum : std::exp(shifted) / sum);
      }
    }
  });
  return 0;
}

template <class T>
int layer_norm(const anvil_host_api *host, const LayerNormParams &p,
               const T *in, const T *scale, const T *bias, T *out) {
  parallel_for(host, p.outer, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T *x = in + r * p.size;
      double mean = 0, var = 0;
      for (int64_t i = 0; i < p.size; ++i)
        mean += x[i];
      mean /= double(p.size);
      for (int64_t i = 0; i < p.size; ++i)
        var += (x[i] - mean) * (x[i] - mean);
      var /= double(p.size);
      double inv = 1.0 / std::sqrt(var + p.epsilon);
      for (int64_t i = 0; i < p.size; ++i) {
        double y = (x[i] - mean) * inv * double(scale[i]);
        if (bias)
          y += double(bias[i]);
        out[r * p.size + i] = static_cast<T>(y);
      }
    }
  });
  return 0;
}

template <class T>
int layer_norm(const anvil_host_api *host, const LayerNormParams &p,
               const T *in, const T *scale, T *out) {
  return layer_norm<T>(host, p, in, scale, nullptr, out);
}

template <class T>
int rms_norm(const anvil_host_api *host, const RmsNormParams &p, const T *in,
             const T *scale, T *out) {
  parallel_for(host, p.outer, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T *x = in + r * p.size;
      double sq = 0;
      for (int64_t i = 0; i < p.size; ++i)
        sq += double(x[i]) * double(x[i]);
      double inv = 1.0 / std::sqrt(sq / double(p.size) + p.epsilon);
      const double offset = p.unit_offset ? 1.0 : 0.0;
      for (int64_t i = 0; i < p.size; ++i)
        out[r * p.size + i] =
            static_cast<T>(x[i] * inv * (offset + double(scale[i])));
    }
  });
  return 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_NORMALIZATION_H
