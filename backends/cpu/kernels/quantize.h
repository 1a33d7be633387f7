// quantize.h - integer storage to floats and back (ONNX DequantizeLinear /
// QuantizeLinear, opset 21), and per-token int8 quantization for W8A8.
//
// Values are seen as [outer, size, inner] around the quantization axis. A
// value at axis coordinate a uses scale element
//   per tensor:  0                                  (block = size, blocks = 1)
//   per axis:    a                                  (block = 1, blocks = size)
//   blocked:     (o * blocks + a / block) * inner + i   (blocked = true)
// 4-bit values (bits = 4) are packed two per byte along the last dim
// (`row` values, (row + 1) / 2 bytes per row), low nibble first.
#ifndef ANVIL_CPU_KERNELS_QUANTIZE_H
#define ANVIL_CPU_KERNELS_QUANTIZE_H

#include "common.h"

namespace anvil {
namespace cpu {

// DequantizeParams and QuantizeParams (KernelParams.h, from the kernel
// catalog) share the layout fields these helpers read.

/// The scale (and zero point) index of logical element f.
template <class Layout>
inline int64_t quant_param_index(const Layout &p, int64_t f) {
  const int64_t inner = p.inner ? p.inner : 1, size = p.size ? p.size : 1;
  const int64_t a = (f / inner) % size;
  if (!p.blocked)
    return a / (p.block ? p.block : 1);
  const int64_t o = f / (inner * size), i = f % inner;
  return (o * p.blocks + a / p.block) * inner + i;
}

/// The stored value of logical element f, widened.
template <class Layout, class Q>
inline int64_t load_quantized(const Layout &p, const Q *q, int64_t f) {
  if (p.bits != 4)
    return static_cast<int64_t>(q[f]);
  const int64_t r = f / p.row, j = f % p.row;
  const uint8_t byte =
      reinterpret_cast<const uint8_t *>(q)[r * ((p.row + 1) / 2) + j / 2];
  int64_t v = (byte >> (4 * (j & 1))) & 0xf;
  return p.is_signed && v >= 8 ? v - 16 : v;
}

/// The float type a scale of T computes in.
template <class T>
using quant_compute_t =
    typename std::conditional<std::is_same<T, double>::value, double,
                              float>::type;

/// out = (q - zero_point) * scale; zero_point may be null (0).
template <class Q, class S, class Z, class Out>
int dequantize(const anvil_host_api *host, const DequantizeParams &p,
               const Q *q, const S *scale, const Z *zero_point, Out *out) {
  using F = quant_compute_t<S>;
  const int64_t n = p.outer * p.size * p.inner;
  if (p.bits != 4 && !p.blocked) {
    // Per tensor or per axis: one scale and zero point for each run of
    // `inner` elements, looked up once per run (per element, the index's
    // divisions were most of a QDQ CNN's weight dequantization). The same
    // arithmetic, in int32 where the difference fits.
    using Wide = typename std::conditional<sizeof(Q) <= 2 && sizeof(Z) <= 2,
                                           int32_t, int64_t>::type;
    const int64_t inner = p.inner ? p.inner : 1;
    parallel_for(host, n, 4096, [&](int64_t begin, int64_t end) {
      for (int64_t f = begin; f < end;) {
        const int64_t s = quant_param_index(p, f);
        const int64_t run = std::min(end, (f / inner + 1) * inner);
        const Wide zp = zero_point ? static_cast<Wide>(zero_point[s]) : 0;
        const F factor = static_cast<F>(scale[s]);
        for (; f < run; ++f)
          out[f] = static_cast<Out>(
              static_cast<F>(static_cast<Wide>(q[f]) - zp) * factor);
      }
    });
    return 0;
  }
  parallel_for(host, n, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t f = begin; f < end; ++f) {
      const int64_t s = quant_param_index(p, f);
      const int64_t zp = zero_point ? static_cast<int64_t>(zero_point[s]) : 0;
      out[f] = static_cast<Out>(static_cast<F>(load_quantized(p, q, f) - zp) *
                                static_cast<F>(scale[s]));
    }
  });
  return 0;
}
template <class Q, class S, class Out>
int dequantize(const anvil_host_api *host, const DequantizeParams &p,
               const Q *q, const S *scale, Out *out) {
  return dequantize(host, p, q, scale, static_cast<const int8_t *>(nullptr),
                    out);
}

/// round_half_even(v) clamped to [lo, hi]; NaN gives lo.
template <class F> inline int64_t saturate_round(F v, int64_t lo, int64_t hi) {
  v = std::nearbyint(v); // the default rounding mode: half to even
  if (!(v >= static_cast<F>(lo)))
    return lo;
  if (v > static_cast<F>(hi))
    return hi;
  return static_cast<int64_t>(v);
}

/// q = saturate(round_half_even(x / scale) + zero_point) (ONNX
/// QuantizeLinear); zero_point may be null (0).
template <class T, class S, class Z, class Q>
int quantize(const anvil_host_api *host, const QuantizeParams &p, const T *x,
             const S *scale, const Z *zero_point, Q *q) {
  using F = quant_compute_t<T>;
  const int64_t bits = p.bits == 4 ? 4 : static_cast<int64_t>(8 * sizeof(Q));
  const bool is_signed = p.bits == 4 ? p.is_signed : std::is_signed<Q>::value;
  const int64_t lo = is_signed ? -(int64_t(1) << (bits - 1)) : 0;
  const int64_t hi =
      is_signed ? (int64_t(1) << (bits - 1)) - 1 : (int64_t(1) << bits) - 1;
  auto value = [&](int64_t f) {
    const int64_t s = quant_param_index(p, f);
    const int64_t zp = zero_point ? static_cast<int64_t>(zero_point[s]) : 0;
    // Round the quotient, then add the zero point (as ONNX's reference).
    const F quotient = static_cast<F>(x[f]) / static_cast<F>(scale[s]);
    const F rounded = std::nearbyint(quotient);
    return saturate_round<F>(rounded + static_cast<F>(zp), lo, hi);
  };
  const int64_t n = p.outer * p.size * p.inner;
  if (p.bits != 4) {
    parallel_for(host, n, 4096, [&](int64_t begin, int64_t end) {
      for (int64_t f = begin; f < end; ++f)
        q[f] = static_cast<Q>(value(f));
    });
    return 0;
  }
  // Packed: each row's bytes are written by one thread.
  const int64_t row = p.row, row_bytes = (row + 1) / 2;
  const int64_t rows = row ? n / row : 0;
  uint8_t *bytes = reinterpret_cast<uint8_t *>(q);
  parallel_for(host, rows, 64, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      for (int64_t b = 0; b < row_bytes; ++b) {
        const int64_t j = 2 * b;
        uint8_t lo_nibble = uint8_t(value(r * row + j) & 0xf);
        uint8_t hi_nibble =
            j + 1 < row ? uint8_t(value(r * row + j + 1) & 0xf) : 0;
        bytes[r * row_bytes + b] = uint8_t(lo_nibble | (hi_nibble << 4));
      }
  });
  return 0;
}
template <class T, class S, class Q>
int quantize(const anvil_host_api *host, const QuantizeParams &p, const T *x,
             const S *scale, Q *q) {
  return quantize(host, p, x, scale, static_cast<const int8_t *>(nullptr), q);
}

/// Symmetric int8 per row: scale = max|x| / 127 (1 for an all-zero row),
/// q = clamp(round_half_even(x / scale), -127, 127).
template <class T>
int quantize_per_token(const anvil_host_api *host,
                       const QuantizePerTokenParams &p, const T *x, int8_t *q,
                       T *scale) {
  using F = quant_compute_t<T>;
  parallel_for(host, p.rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T *xr = x + r * p.cols;
      F amax = 0;
      for (int64_t j = 0; j < p.cols; ++j) {
        F v = std::fabs(static_cast<F>(xr[j]));
        amax = v > amax ? v : amax;
      }
      // The stored scale is what a later dequantize reads, so divide by it.
      scale[r] = static_cast<T>(amax > 0 ? amax / F(127) : F(1));
      const F s = static_cast<F>(scale[r]);
      for (int64_t j = 0; j < p.cols; ++j)
        q[r * p.cols + j] = static_cast<int8_t>(
            saturate_round<F>(static_cast<F>(xr[j]) / s, -127, 127));
    }
  });
  return 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_QUANTIZE_H
