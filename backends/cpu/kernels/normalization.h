// normalization.h - softmax, layer normalization and RMS normalization.
// Statistics accumulate in double so results track a float64 reference.
#ifndef ANVIL_CPU_KERNELS_NORMALIZATION_H
#define ANVIL_CPU_KERNELS_NORMALIZATION_H

#include "common.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace anvil {
namespace cpu {

namespace detail {
/// Softmax of one contiguous float row x[0, size) into y: the maximum m,
/// e_s = exp_f32(x_s - m) (within 1 ulp of e^(x_s - m) rounded from
/// double; the float difference rounds once, a relative error of at most
/// |x_s - m| 2^-24 in e_s), summed in double in 16 partial sums (a fixed
/// order for a given size), then y_s = e_s x (1 / sum) in double. Written in
/// blocks of 16 so that GCC vectorizes the exponentials: libm's double exp
/// per element took 30% of an f32 attention block.
inline void softmax_row_f32(const float *__restrict x, float *__restrict y,
                            int64_t size) {
  constexpr int64_t kBlock = 16;
  float maxv = -std::numeric_limits<float>::infinity();
  for (int64_t s = 0; s < size; ++s)
    maxv = max_nan<float>(maxv, x[s]);
  if (maxv != maxv || maxv == std::numeric_limits<float>::infinity() ||
      maxv == -std::numeric_limits<float>::infinity()) {
    // NaN, +inf or an all -inf row: the double path's special cases.
    double sum = 0;
    for (int64_t s = 0; s < size; ++s)
      sum += std::exp(double(x[s]) - double(maxv));
    for (int64_t s = 0; s < size; ++s)
      y[s] = float(std::exp(double(x[s]) - double(maxv)) / sum);
    return;
  }
  double partial[kBlock] = {};
  int64_t s = 0;
  for (; s + kBlock <= size; s += kBlock)
    for (int64_t l = 0; l < kBlock; ++l) {
      const float e = exp_f32(x[s + l] - maxv);
      y[s + l] = e;
      partial[l] += double(e);
    }
  for (int64_t l = 0; s + l < size; ++l) {
    const float e = exp_f32(x[s + l] - maxv);
    y[s + l] = e;
    partial[l] += double(e);
  }
  double sum = 0;
  for (int64_t l = 0; l < kBlock; ++l)
    sum += partial[l];
  const double inverse = 1.0 / sum; // sum >= 1: the maximum's term is 1
  s = 0;
  for (; s + kBlock <= size; s += kBlock)
    for (int64_t l = 0; l < kBlock; ++l)
      y[s + l] = float(double(y[s + l]) * inverse);
  for (; s < size; ++s)
    y[s] = float(double(y[s]) * inverse);
}
} // namespace detail

template <class T>
int softmax(const anvil_host_api *host, const SoftmaxParams &p, const T *in,
            T *out) {
  if constexpr (std::is_same<T, float>::value) {
    if (p.inner == 1 && !p.log) {
      // Contiguous rows (the last axis: attention scores).
      const int64_t grain =
          std::max<int64_t>(1, 4096 / std::max<int64_t>(1, p.size));
      parallel_for(host, p.outer, grain, [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r)
          detail::softmax_row_f32(in + r * p.size, out + r * p.size, p.size);
      });
      return 0;
    }
  }
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

/// The sum over [0, size) of x[i] (Square false) or of (x[i] - center)^2
/// (Square true) in double, as 8 interleaved partial sums (lane j takes
/// i = j mod 8 up to the last whole 8) combined in a fixed tree, then the
/// tail in order: the AVX-512 path (8 doubles a vector) and the portable
/// one add the same terms in the same order, and the sum has no chain of
/// `size` dependent adds (a sequential sum took 4% of a 250M decoder's
/// prefill in rms_norm, and most of layer_norm's time in a BERT encoder).
template <bool Square, class T>
inline double lane_sum(const T *x, int64_t size, double center) {
  alignas(64) double lanes[8] = {};
  int64_t i = 0;
#if defined(__AVX512F__)
  if constexpr (std::is_same<T, float>::value) {
    const __m512d c = _mm512_set1_pd(center);
    __m512d acc = _mm512_setzero_pd();
    for (; i + 8 <= size; i += 8) {
      __m512d v = _mm512_cvtps_pd(_mm256_loadu_ps(x + i));
      if constexpr (Square) {
        v = _mm512_sub_pd(v, c);
        acc = _mm512_add_pd(acc, _mm512_mul_pd(v, v));
      } else {
        acc = _mm512_add_pd(acc, v);
      }
    }
    _mm512_store_pd(lanes, acc);
  }
#endif
  auto term = [=](double v) {
    if constexpr (Square)
      return (v - center) * (v - center);
    else
      return v;
  };
  for (; i + 8 <= size; i += 8)
    for (int j = 0; j < 8; ++j)
      lanes[j] += term(double(x[i + j]));
  double sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
               ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
  for (; i < size; ++i)
    sum += term(double(x[i]));
  return sum;
}

/// Sum of x[i]^2 over [0, size) in double (lane_sum's order).
template <class T> inline double sum_of_squares(const T *x, int64_t size) {
  return lane_sum<true>(x, size, 0.0);
}

/// out[r, i] = (x[r, i] - mean_r) / sqrt(var_r + epsilon) x scale[i]
/// (+ bias[i]) over rows of `size` (ONNX LayerNormalization over the last
/// axes, normalized by the importer to [outer, size]): the mean and the
/// (biased) variance in double by lane_sum, each output in double, rounded
/// to T once. float rows take 8 doubles at a time on AVX-512 (the scalar
/// loop's operations in its order).
template <class T>
int layer_norm(const anvil_host_api *host, const LayerNormParams &p,
               const T *in, const T *scale, const T *bias, T *out) {
  const int64_t grain = rows_grain(p.size);
  parallel_for(host, p.outer, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T *x = in + r * p.size;
      T *y = out + r * p.size;
      const double mean = lane_sum<false>(x, p.size, 0.0) / double(p.size);
      const double var = lane_sum<true>(x, p.size, mean) / double(p.size);
      const double inv = 1.0 / std::sqrt(var + p.epsilon);
      int64_t i = 0;
#if defined(__AVX512F__)
      if constexpr (std::is_same<T, float>::value) {
        const __m512d meanv = _mm512_set1_pd(mean), invv = _mm512_set1_pd(inv);
        for (; i + 8 <= p.size; i += 8) {
          const __m512d xv = _mm512_cvtps_pd(_mm256_loadu_ps(x + i));
          const __m512d sv = _mm512_cvtps_pd(_mm256_loadu_ps(scale + i));
          __m512d v =
              _mm512_mul_pd(_mm512_mul_pd(_mm512_sub_pd(xv, meanv), invv), sv);
          if (bias)
            v = _mm512_add_pd(v, _mm512_cvtps_pd(_mm256_loadu_ps(bias + i)));
          _mm256_storeu_ps(y + i, _mm512_cvtpd_ps(v));
        }
      }
#endif
      for (; i < p.size; ++i) {
        double v = (double(x[i]) - mean) * inv * double(scale[i]);
        if (bias)
          v += double(bias[i]);
        y[i] = static_cast<T>(v);
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
  const int64_t grain = rows_grain(p.size);
  parallel_for(host, p.outer, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T *x = in + r * p.size;
      T *y = out + r * p.size;
      const double sq = sum_of_squares(x, p.size);
      const double inv = 1.0 / std::sqrt(sq / double(p.size) + p.epsilon);
      const double offset = p.unit_offset ? 1.0 : 0.0;
      int64_t i = 0;
#if defined(__AVX512F__)
      if constexpr (std::is_same<T, float>::value) {
        // The scalar loop's operations, 8 doubles at a time.
        const __m512d invv = _mm512_set1_pd(inv), off = _mm512_set1_pd(offset);
        for (; i + 8 <= p.size; i += 8) {
          const __m512d xv = _mm512_cvtps_pd(_mm256_loadu_ps(x + i));
          const __m512d sv = _mm512_cvtps_pd(_mm256_loadu_ps(scale + i));
          _mm256_storeu_ps(
              y + i, _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_mul_pd(xv, invv),
                                                   _mm512_add_pd(off, sv))));
        }
      }
#endif
      for (; i < p.size; ++i)
        y[i] = static_cast<T>(x[i] * inv * (offset + double(scale[i])));
    }
  });
  return 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_NORMALIZATION_H
