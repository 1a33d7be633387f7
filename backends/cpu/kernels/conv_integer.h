// conv_integer.h - the exact int32 2-D convolution of 8-bit integers:
// out = sum over taps of (x - x_zero_point) * w, x uint8 or int8 (NCHW), w
// int8 [M, C/group, kh, kw] with a zero weight zero point (ONNX
// ConvInteger, and QLinearConv's product before its requantization).
//
// With AVX512-VNNI the product runs on vpdpbusd, as conv_gemm.h runs the
// float one: out[m, p] = sum_k W[m, k] col[k, p] with the weight's rows
// read in place and the patches gathered into 32-pixel panels from a copy
// of the image padded with the zero point and split into column phases
// (Padded: any stride reads consecutive bytes). A panel
// holds the activations as unsigned bytes x' (x itself for uint8, x + 128
// for int8) four consecutive k per pixel ([K4 / 4][32][4] bytes, K4 = K
// rounded up to 4), the operand vpdpbusd multiplies by a broadcast of four
// signed weight bytes: 64 multiply-adds per instruction into 16 int32
// lanes. Padding taps hold z' (the zero point as x' encodes it), so with
// S[m] = sum_k w[m, k]
//   sum_k (x - z) w = sum_k (x' - z') w = sum_k x' w - z' S[m].
// Every sum is int32 with wrap-around (vpdpbusd does not saturate), so the
// result is exact modulo 2^32, which is ONNX's int32 arithmetic.
//
// Without VNNI (and for depthwise and other narrow groups, where a 12-row
// tile would be mostly empty) the convolution runs on the float kernels
// (conv.h) over input-channel chunks whose partial sums all stay below
// 2^24, so every float sum is an exact integer; the chunks add in int32.
#ifndef ANVIL_CPU_KERNELS_CONV_INTEGER_H
#define ANVIL_CPU_KERNELS_CONV_INTEGER_H

#include "common.h"
#include "conv.h"

#include <memory>
#include <new>
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
#include <immintrin.h>
#define ANVIL_CONV_INTEGER_VNNI 1
#endif

namespace anvil {
namespace cpu {
namespace conv_integer {

/// x as the unsigned byte vpdpbusd reads: uint8 as is, int8 + 128.
inline uint8_t biased(uint8_t v) { return v; }
inline uint8_t biased(int8_t v) { return uint8_t(uint8_t(v) ^ 0x80); }

/// The float conv2d's parameters for the same window over `c` channels,
/// `m` outputs and `group` groups.
inline Conv2dParams float_params(const Conv2dIntegerParams &p, int64_t c,
                                 int64_t m, int64_t group) {
  Conv2dParams q{};
  q.n = p.n, q.c = c, q.h = p.h, q.w = p.w, q.m = m;
  q.kh = p.kh, q.kw = p.kw, q.oh = p.oh, q.ow = p.ow;
  for (int i = 0; i < 2; ++i)
    q.strides[i] = p.strides[i], q.dilations[i] = p.dilations[i];
  for (int i = 0; i < 4; ++i)
    q.pads[i] = p.pads[i];
  q.group = group;
  q.has_bias = false;
  return q;
}

/// The float path: for each group, input-channel chunks of at most
/// (2^24 - 1) / (taps x max|x - z| x max|w|) channels (the largest
/// magnitudes of this call's zero point and weights), each one float32
/// conv2d of (x - z) by w (exact: every partial sum is an integer below
/// 2^24), rounded to int32 and added in int32. A window so large that not
/// even one channel fits (taps x 255 x 128 >= 2^24) takes one float64
/// convolution instead (exact below 2^53). Returns 1 with the run's
/// error set when out of memory.
template <class X>
int conv2d_float_chunks(const anvil_host_api *host,
                        const Conv2dIntegerParams &p, const X *in,
                        const int8_t *weight, int32_t zero, int32_t *out) {
  const int64_t cg = p.c / p.group, mg = p.m / p.group;
  const int64_t taps = p.kh * p.kw, K = cg * taps;
  const int64_t plane = p.h * p.w, P = p.oh * p.ow;
  const int64_t lo = std::is_signed<X>::value ? -128 : 0, hi = lo + 255;
  const int64_t maxX = std::max(std::abs(lo - zero), std::abs(hi - zero));
  int64_t maxW = 0;
  for (int64_t i = 0; i < p.m * K; ++i)
    maxW = std::max<int64_t>(maxW, std::abs(int64_t(weight[i])));
  const int64_t perChannel = std::max<int64_t>(1, taps * maxX * maxW);
  const int64_t chunk = ((int64_t(1) << 24) - 1) / perChannel;
  if (chunk < 1) {
    std::unique_ptr<double[]> x(new (std::nothrow) double[p.n * p.c * plane]);
    std::unique_ptr<double[]> w(new (std::nothrow) double[p.m * K]);
    std::unique_ptr<double[]> o(new (std::nothrow) double[p.n * p.m * P]);
    if (!x || !w || !o)
      return fail(host, "conv_integer: out of memory");
    for (int64_t i = 0; i < p.n * p.c * plane; ++i)
      x[i] = double(int32_t(in[i]) - zero);
    for (int64_t i = 0; i < p.m * K; ++i)
      w[i] = double(weight[i]);
    ANVIL_TRY(detail::conv2d_impl<double>(
        host, float_params(p, p.c, p.m, p.group), x.get(), w.get(), nullptr,
        o.get(), NoEpilogue()));
    for (int64_t i = 0; i < p.n * p.m * P; ++i)
      out[i] = int32_t(uint32_t(uint64_t(int64_t(o[i]))));
    return 0;
  }
  if (chunk >= cg) {
    // Every group in one float32 convolution (the depthwise kernel takes
    // the narrow ones).
    std::unique_ptr<float[]> x(new (std::nothrow) float[p.n * p.c * plane]);
    std::unique_ptr<float[]> w(new (std::nothrow) float[p.m * K]);
    std::unique_ptr<float[]> o(new (std::nothrow) float[p.n * p.m * P]);
    if (!x || !w || !o)
      return fail(host, "conv_integer: out of memory");
    for (int64_t i = 0; i < p.n * p.c * plane; ++i)
      x[i] = float(int32_t(in[i]) - zero);
    for (int64_t i = 0; i < p.m * K; ++i)
      w[i] = float(weight[i]);
    ANVIL_TRY(detail::conv2d_impl<float>(
        host, float_params(p, p.c, p.m, p.group), x.get(), w.get(), nullptr,
        o.get(), NoEpilogue()));
    for (int64_t i = 0; i < p.n * p.m * P; ++i)
      out[i] = int32_t(o[i]);
    return 0;
  }
  // Groups wider than a chunk: each group's chunks, one group at a time.
  const int64_t width = chunk;
  std::unique_ptr<float[]> x(new (std::nothrow) float[p.n * width * plane]);
  std::unique_ptr<float[]> w(new (std::nothrow) float[mg * width * taps]);
  std::unique_ptr<float[]> o(new (std::nothrow) float[p.n * mg * P]);
  if (!x || !w || !o)
    return fail(host, "conv_integer: out of memory");
  for (int64_t g = 0; g < p.group; ++g) {
    for (int64_t c0 = 0; c0 < cg; c0 += width) {
      const int64_t cw = std::min(width, cg - c0);
      for (int64_t b = 0; b < p.n; ++b)
        for (int64_t c = 0; c < cw; ++c) {
          const X *src = in + (b * p.c + g * cg + c0 + c) * plane;
          float *dst = x.get() + (b * cw + c) * plane;
          for (int64_t i = 0; i < plane; ++i)
            dst[i] = float(int32_t(src[i]) - zero);
        }
      for (int64_t m = 0; m < mg; ++m)
        for (int64_t c = 0; c < cw; ++c) {
          const int8_t *src = weight + (g * mg + m) * K + (c0 + c) * taps;
          float *dst = w.get() + (m * cw + c) * taps;
          for (int64_t t = 0; t < taps; ++t)
            dst[t] = float(src[t]);
        }
      ANVIL_TRY(detail::conv2d_impl<float>(host, float_params(p, cw, mg, 1),
                                           x.get(), w.get(), nullptr, o.get(),
                                           NoEpilogue()));
      for (int64_t b = 0; b < p.n; ++b)
        for (int64_t m = 0; m < mg; ++m) {
          const float *src = o.get() + (b * mg + m) * P;
          int32_t *dst = out + (b * p.m + g * mg + m) * P;
          if (c0 == 0) {
            for (int64_t i = 0; i < P; ++i)
              dst[i] = int32_t(src[i]);
          } else {
            for (int64_t i = 0; i < P; ++i)
              dst[i] = int32_t(uint32_t(dst[i]) + uint32_t(int32_t(src[i])));
          }
        }
    }
  }
  return 0;
}

#if defined(ANVIL_CONV_INTEGER_VNNI)

/// Output pixels per panel: two vectors of 16 int32 sums.
constexpr int64_t kPanelPixels = 32;
/// Weight rows per tile: 12 x 2 accumulators of the 32 zmm registers.
constexpr int kTileRows = 12;
/// Groups of 4 k per k block: a 16 KB block of the panel, and 12 weight
/// rows of 512 bytes, stay in L1 while a tile runs over them.
constexpr int64_t kBlockGroups = 128;

/// Whether the product pays: as conv_gemm::applies (a depthwise or other
/// narrow group would leave a 12-row tile mostly empty).
inline bool applies(const Conv2dIntegerParams &p) {
  const int64_t cg = p.c / p.group, mg = p.m / p.group;
  return mg >= 4 && cg * p.kh * p.kw >= 8 && p.oh * p.ow > 0;
}

/// The padded image: x' of every input channel plane surrounded by its
/// padding (filled with z'), so every tap of every output lies inside.
/// Each padded row of `cols` columns is stored as `sx` (the column stride)
/// phases of `phaseCols` bytes, phase f holding columns f, f + sx, ...:
/// the taps of consecutive output pixels are then consecutive bytes for
/// any stride (as conv_pad.h splits float images). With stride 1 it is
/// the plain padded image.
struct Padded {
  int64_t rows, cols, phases, phaseCols;
  /// Bytes per padded row and per plane.
  int64_t row() const { return phases * phaseCols; }
  int64_t plane() const { return rows * row(); }
  /// Where padded column c of a row lies.
  int64_t column(int64_t c) const {
    return c % phases * phaseCols + c / phases;
  }
};
inline Padded padded_size(const Conv2dIntegerParams &p) {
  const int64_t cols = p.w + p.pads[1] + p.pads[3], sx = p.strides[1];
  return {p.h + p.pads[0] + p.pads[2], cols, sx, (cols + sx - 1) / sx};
}

/// The `planes` channel planes of x ([planes, h, w]) as x' into the padded
/// image `dst` ([planes, rows, row()]), the padding `pad`.
template <class X>
void pad_planes(const Conv2dIntegerParams &p, const Padded &padded, const X *x,
                int64_t planes, uint8_t pad, uint8_t *dst) {
  const int64_t rowBytes = padded.row();
  for (int64_t c = 0; c < planes; ++c, x += p.h * p.w) {
    for (int64_t y = 0; y < padded.rows; ++y, dst += rowBytes) {
      const int64_t iy = y - p.pads[0];
      if (iy < 0 || iy >= p.h) {
        std::memset(dst, pad, size_t(rowBytes));
        continue;
      }
      const X *src = x + iy * p.w;
      if (padded.phases == 1) {
        std::memset(dst, pad, size_t(p.pads[1]));
        for (int64_t i = 0; i < p.w; ++i)
          dst[p.pads[1] + i] = biased(src[i]);
        std::memset(dst + p.pads[1] + p.w, pad, size_t(p.pads[3]));
        continue;
      }
      for (int64_t f = 0; f < padded.phases; ++f) {
        // Only the phases some tap reads (a 1x1 window reads phase 0).
        bool read = false;
        for (int64_t kx = 0; kx < p.kw && !read; ++kx)
          read = kx * p.dilations[1] % padded.phases == f;
        if (!read)
          continue;
        uint8_t *phase = dst + f * padded.phaseCols;
        for (int64_t i = 0; i < padded.phaseCols; ++i) {
          // Padded column f + i * sx (past `cols`: the phase's unused end).
          const int64_t ix = f + i * padded.phases - p.pads[1];
          phase[i] = ix >= 0 && ix < p.w ? biased(src[ix]) : pad;
        }
      }
    }
  }
}

/// The patches of output pixels [pix0, pix0 + width) of one image's group
/// of `cg` channels, read from its padded image `image` ([cg, rows,
/// cols]), as rows of bytes: element (k, j) at rows[k * 32 + j] = x' of
/// tap k = (ic * kh + ky) * kw + kx of pixel j; rows K .. k4 and columns
/// past `width` are 0 (they multiply nothing that counts).
inline void gather_rows(const Conv2dIntegerParams &p, const Padded &padded,
                        const uint8_t *image, int64_t cg, int64_t pix0,
                        int64_t width, int64_t k4, uint8_t *rows) {
  const int64_t taps = p.kh * p.kw, K = cg * taps;
  const int64_t sy = p.strides[0], sx = p.strides[1];
  const int64_t plane = padded.plane(), rowBytes = padded.row();
  if (width < kPanelPixels)
    std::memset(rows, 0, size_t(k4 * kPanelPixels));
  else if (k4 > K)
    std::memset(rows + K * kPanelPixels, 0, size_t((k4 - K) * kPanelPixels));
  // The panel's segments: its pixels on one output row each (j0, count),
  // starting at padded offset `at` for tap (0, 0) of channel 0.
  struct Segment {
    int64_t j0, count, at;
  };
  Segment seg[kPanelPixels];
  int nseg = 0;
  if (p.oh == padded.rows && p.ow == padded.cols && sy == 1 && sx == 1) {
    // A 1x1 stride-1 window without padding: output pixel i reads input
    // pixel i, so the panel is one run whatever rows it spans.
    seg[nseg++] = {0, width, pix0};
  } else {
    for (int64_t j = 0; j < width;) {
      const int64_t pix = pix0 + j, oy = pix / p.ow, ox = pix % p.ow;
      const int64_t count = std::min(width - j, p.ow - ox);
      // Phase coordinates: output pixel ox's tap kx lies at padded column
      // ox * sx + kx * dx, in phase (kx * dx) % sx at ox + kx * dx / sx.
      seg[nseg++] = {j, count, oy * sy * rowBytes + ox};
      j += count;
    }
  }
  uint8_t *d = rows;
  for (int64_t ic = 0; ic < cg; ++ic)
    for (int64_t ky = 0; ky < p.kh; ++ky)
      for (int64_t kx = 0; kx < p.kw; ++kx, d += kPanelPixels) {
        const uint8_t *src = image + ic * plane +
                             ky * p.dilations[0] * rowBytes +
                             padded.column(kx * p.dilations[1]);
        for (int s = 0; s < nseg; ++s) {
          const Segment &g = seg[s];
          const __mmask32 lanes = _cvtu32_mask32(
              g.count >= 32 ? ~0u : (uint32_t(1) << g.count) - 1);
          _mm256_mask_storeu_epi8(d + g.j0, lanes,
                                  _mm256_maskz_loadu_epi8(lanes, src + g.at));
        }
      }
}

/// The rows (gather_rows) as vpdpbusd's operand: group q's 32 pixels x 4
/// k at panel[q * 128 + j * 4 + t] = rows[(4q + t) * 32 + j].
inline void interleave(const uint8_t *rows, int64_t groups, uint8_t *panel) {
  for (int64_t q = 0; q < groups; ++q) {
    const uint8_t *r = rows + q * 4 * kPanelPixels;
    for (int h = 0; h < 2; ++h) {
      auto widen = [&](int t) {
        return _mm512_cvtepu8_epi32(_mm_loadu_si128(
            reinterpret_cast<const __m128i *>(r + t * kPanelPixels + 16 * h)));
      };
      const __m512i v = _mm512_or_si512(
          _mm512_or_si512(widen(0), _mm512_slli_epi32(widen(1), 8)),
          _mm512_or_si512(_mm512_slli_epi32(widen(2), 16),
                          _mm512_slli_epi32(widen(3), 24)));
      _mm512_storeu_si512(panel + q * 4 * kPanelPixels + 64 * h, v);
    }
  }
}

/// sum of the n signed bytes at w: vpdpbusd of them by ones, 64 a step.
inline int32_t row_sum(const int8_t *w, int64_t n) {
  const __m512i ones = _mm512_set1_epi8(1);
  __m512i acc = _mm512_setzero_si512();
  for (int64_t t = 0; t < n; t += 64) {
    const __mmask64 lanes =
        n - t >= 64 ? ~__mmask64(0) : (__mmask64(1) << (n - t)) - 1;
    acc = _mm512_dpbusd_epi32(acc, ones, _mm512_maskz_loadu_epi8(lanes, w + t));
  }
  return _mm512_reduce_add_epi32(acc);
}

/// Four weight bytes of row w from k = 4q as one int32 (fewer past the
/// row's end, `k` taps: the rest 0, never read beyond the row).
inline int32_t weight_quad(const int8_t *w, int64_t q, int64_t k) {
  int32_t v = 0;
  std::memcpy(&v, w + 4 * q, size_t(std::min<int64_t>(4, k - 4 * q)));
  return v;
}

/// out[i, 0:width] (+)= sum over groups [q0, q1) of w[i] . panel for MR
/// weight rows (row i at w + i * ldw, `k` taps each): MR x V vpdpbusd
/// chains in registers over the k block (V = 1 for a last panel of at
/// most 16 pixels: the 7 x 7 outputs of a CNN's last layers are a full
/// panel and 17 pixels). Full: width is 32 (no masks).
template <int MR, int V, bool Full>
inline void tile(const int8_t *w, int64_t ldw, int64_t k, const uint8_t *panel,
                 int64_t q0, int64_t q1, int64_t width, bool accumulate,
                 int32_t *out, int64_t ldo) {
  const __mmask16 m0 =
      Full ? __mmask16(0xFFFF)
           : __mmask16((1u << std::min<int64_t>(width, 16)) - 1);
  const __mmask16 m1 =
      Full ? __mmask16(0xFFFF)
           : __mmask16((1u << std::clamp<int64_t>(width - 16, 0, 16)) - 1);
  __m512i acc[MR][V];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v)
      acc[i][v] = accumulate ? _mm512_maskz_loadu_epi32(v ? m1 : m0,
                                                        out + i * ldo + 16 * v)
                             : _mm512_setzero_si512();
  // Whole groups of 4 taps; a last partial one (k % 4) reads its weight
  // bytes one by one (weight_quad), never past the row.
  const int64_t whole = std::min(q1, k / 4);
  for (int64_t q = q0; q < whole; ++q) {
    __m512i bv[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v)
      bv[v] = _mm512_loadu_si512(panel + q * 128 + 64 * v);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      int32_t quad;
      std::memcpy(&quad, w + i * ldw + 4 * q, 4);
      const __m512i a = _mm512_set1_epi32(quad);
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v)
        acc[i][v] = _mm512_dpbusd_epi32(acc[i][v], bv[v], a);
    }
  }
  for (int64_t q = std::max(whole, q0); q < q1; ++q) {
    __m512i bv[V];
    for (int v = 0; v < V; ++v)
      bv[v] = _mm512_loadu_si512(panel + q * 128 + 64 * v);
    for (int i = 0; i < MR; ++i) {
      const __m512i a = _mm512_set1_epi32(weight_quad(w + i * ldw, q, k));
      for (int v = 0; v < V; ++v)
        acc[i][v] = _mm512_dpbusd_epi32(acc[i][v], bv[v], a);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v)
      _mm512_mask_storeu_epi32(out + i * ldo + 16 * v, v ? m1 : m0, acc[i][v]);
}

/// tile over `rows` (<= Rows) rows.
template <int Rows, int V, bool Full>
inline void tile_rows(int64_t rows, const int8_t *w, int64_t ldw, int64_t k,
                      const uint8_t *panel, int64_t q0, int64_t q1,
                      int64_t width, bool accumulate, int32_t *out,
                      int64_t ldo) {
  if constexpr (Rows > 1)
    if (rows < Rows)
      return tile_rows<Rows - 1, V, Full>(rows, w, ldw, k, panel, q0, q1, width,
                                          accumulate, out, ldo);
  tile<Rows, V, Full>(w, ldw, k, panel, q0, q1, width, accumulate, out, ldo);
}

/// The VNNI product (see the file comment). Threads split (image, group,
/// panel, row chunk) work items as conv_gemm::conv2d does; a thread
/// gathers an item's panel once into its slice of one scratch block.
template <class X>
int conv2d_vnni(const anvil_host_api *host, const Conv2dIntegerParams &p,
                const X *in, const int8_t *weight, X zero, int32_t *out) {
  const int64_t cg = p.c / p.group, mg = p.m / p.group;
  const int64_t K = cg * p.kh * p.kw, P = p.oh * p.ow;
  const int64_t k4 = (K + 3) / 4 * 4, groups = k4 / 4;
  const uint8_t pad = biased(zero);
  const int threads = std::max(1, host ? int(host->num_threads) : 1);
  // Per thread: the gathered rows and the interleaved panel (64-byte
  // aligned); then S[m] = sum_k w[m, k] for every output channel, then
  // the padded images.
  const int64_t panelBytes = (k4 * kPanelPixels + 63) / 64 * 64;
  const int64_t sumsOffset = 2 * panelBytes * threads;
  const Padded padded = padded_size(p);
  const int64_t imageBytes = p.c * padded.plane();
  const int64_t imagesOffset = sumsOffset + 4 * p.m;
  std::unique_ptr<uint8_t[]> own;
  uint8_t *block = scratch_or_own<uint8_t>(
      host, 0, size_t(imagesOffset + p.n * imageBytes + 64), own);
  if (!block)
    return fail(host, "conv_integer: out of scratch memory");
  uint8_t *base = reinterpret_cast<uint8_t *>(
      (reinterpret_cast<uintptr_t>(block) + 63) / 64 * 64);
  int32_t *sums = reinterpret_cast<int32_t *>(base + sumsOffset);
  // uint8 x without padding is its own padded image (x' = x): no copy.
  const bool inPlace = std::is_same<X, uint8_t>::value && padded.rows == p.h &&
                       padded.cols == p.w && padded.phases == 1;
  const uint8_t *images =
      inPlace ? reinterpret_cast<const uint8_t *>(in) : base + imagesOffset;
  if (!inPlace)
    parallel_for(
        host, p.n * p.c,
        std::max<int64_t>(1, 65536 / std::max<int64_t>(1, padded.plane())),
        [&](int64_t begin, int64_t end) {
          pad_planes(p, padded, in + begin * p.h * p.w, end - begin, pad,
                     base + imagesOffset + begin * padded.plane());
        });
  parallel_for(host, p.m, std::max<int64_t>(1, 65536 / std::max<int64_t>(1, K)),
               [&](int64_t begin, int64_t end) {
                 for (int64_t m = begin; m < end; ++m)
                   sums[m] = row_sum(weight + m * K, K);
               });
  const int64_t rowTiles = (mg + kTileRows - 1) / kTileRows;
  const int64_t panelsPerImage = (P + kPanelPixels - 1) / kPanelPixels;
  const int64_t panelItems = p.n * p.group * panelsPerImage;
  // Row tiles cut into chunks when the panels alone give fewer than 4
  // items per thread (the last layers of a CNN: 7 x 7 outputs, 2 panels).
  const int64_t wantedChunks = std::clamp<int64_t>(
      (4 * threads + panelItems - 1) / panelItems, 1, rowTiles);
  const int64_t tilesPerChunk = (rowTiles + wantedChunks - 1) / wantedChunks;
  const int64_t rowChunks = (rowTiles + tilesPerChunk - 1) / tilesPerChunk;
  const int64_t itemMacs =
      std::max<int64_t>(1, tilesPerChunk * kTileRows * k4 * kPanelPixels);
  const int64_t grain = std::max<int64_t>(1, 4 * kMinChunkMacs / itemMacs);
  parallel_for(
      host, panelItems * rowChunks, grain,
      [&](int64_t begin, int64_t end, int t) {
        uint8_t *rows = base + 2 * panelBytes * t;
        uint8_t *panel = rows + panelBytes;
        int64_t gathered = -1; // the panel item `panel` holds
        for (int64_t item = begin; item < end; ++item) {
          const int64_t chunk = item % rowChunks, panelItem = item / rowChunks;
          const int64_t pi = panelItem % panelsPerImage;
          const int64_t g = (panelItem / panelsPerImage) % p.group;
          const int64_t b = panelItem / (panelsPerImage * p.group);
          const int64_t pix0 = pi * kPanelPixels;
          const int64_t width = std::min(kPanelPixels, P - pix0);
          if (gathered != panelItem) {
            gather_rows(p, padded, images + (b * p.c + g * cg) * padded.plane(),
                        cg, pix0, width, k4, rows);
            interleave(rows, groups, panel);
            gathered = panelItem;
          }
          int32_t *o = out + (b * p.m + g * mg) * P + pix0;
          const int8_t *wg = weight + g * mg * K;
          const int64_t i0 = chunk * tilesPerChunk * kTileRows;
          const int64_t i1 = std::min(mg, i0 + tilesPerChunk * kTileRows);
          for (int64_t q0 = 0; q0 < groups; q0 += kBlockGroups) {
            const int64_t q1 = std::min(groups, q0 + kBlockGroups);
            for (int64_t i = i0; i < i1; i += kTileRows) {
              const int64_t r = std::min<int64_t>(kTileRows, i1 - i);
              if (width == kPanelPixels)
                tile_rows<kTileRows, 2, true>(r, wg + i * K, K, K, panel, q0,
                                              q1, width, q0 > 0, o + i * P, P);
              else if (width > 16)
                tile_rows<kTileRows, 2, false>(r, wg + i * K, K, K, panel, q0,
                                               q1, width, q0 > 0, o + i * P, P);
              else
                tile_rows<kTileRows, 1, false>(r, wg + i * K, K, K, panel, q0,
                                               q1, width, q0 > 0, o + i * P, P);
            }
          }
          // Less z' S[m] (wrapping).
          for (int64_t i = i0; i < i1; ++i) {
            const uint32_t less = uint32_t(pad) * uint32_t(sums[g * mg + i]);
            int32_t *row = o + i * P;
            for (int64_t j = 0; j < width; ++j)
              row[j] = int32_t(uint32_t(row[j]) - less);
          }
        }
      });
  return run_failed(host) ? 1 : 0;
}

#endif // ANVIL_CONV_INTEGER_VNNI

} // namespace conv_integer

/// out [n, m, oh, ow] = sum over the window of (x - x_zero_point[0]) * w as
/// int32 (wrapping), for in [n, c, h, w] uint8 or int8 (X), weight [m,
/// c / group, kh, kw] int8 and x's zero point of X; pads as conv2d (the
/// padding is x_zero_point: it adds nothing). VNNI where the build has it
/// and the groups are wide (conv_integer::applies), else the exact float
/// chunks. Returns 1 with the run's error set when out of memory.
template <class X>
int conv2d_integer(const anvil_host_api *host, const Conv2dIntegerParams &p,
                   const X *in, const int8_t *weight, const X *x_zero_point,
                   int32_t *out) {
  static_assert(std::is_same<X, uint8_t>::value ||
                    std::is_same<X, int8_t>::value,
                "conv2d_integer takes uint8 or int8 activations");
  if (p.n <= 0 || p.oh * p.ow == 0)
    return 0;
#if defined(ANVIL_CONV_INTEGER_VNNI)
  if (conv_integer::applies(p))
    return conv_integer::conv2d_vnni(host, p, in, weight, *x_zero_point, out);
#endif
  return conv_integer::conv2d_float_chunks(host, p, in, weight,
                                           int32_t(*x_zero_point), out);
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_CONV_INTEGER_H
