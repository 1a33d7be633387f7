// conv_depthwise_blocked.h - float32 depthwise 2-D convolution over blocks
// of 16 channels, one channel per vector lane (AVX-512).
//
// The plane-at-a-time kernel (conv_depthwise.h) puts output pixels in the
// lanes: every tap's load is unaligned (each splits across two cache
// lines), a plane pays a padded copy, a flat copy of its output and a call
// of the epilogue, and a 7 x 7 plane fills one 64-output block. Here a
// block of 16 channels is transposed once into a zero-padded [rows][cols]
// image of 16-channel pixels (the NCHW16c layout of oneDNN and ONNX
// Runtime's MLAS, built inside the kernel: the tensors stay NCHW), each
// output pixel is kh x kw FMAs of whole aligned vectors, and the block's
// output [P][16] is transposed back into its 16 planes. On Zen 4 a 14 x 14
// input at stride 2 (MobileNetV2's 576 channels) went from about 1100
// cycles a channel to about 215 (ONNX Runtime's own run: 200).
//
// Each output is bias + its taps in (ky, kx) order, one FMA each: the bits
// of conv_depthwise.h's kernel, which takes what this one does not.
#ifndef ANVIL_CPU_KERNELS_CONV_DEPTHWISE_BLOCKED_H
#define ANVIL_CPU_KERNELS_CONV_DEPTHWISE_BLOCKED_H

#include "common.h"
#include "conv_pad.h"
#include "simd.h"

#include <algorithm>
#include <cstring>
#include <memory>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace anvil {
namespace cpu {
namespace conv_depthwise_blocked {

constexpr int64_t kChannels = 16; // a block: one channel per lane
/// The largest padded input (rows x cols pixels of 64 bytes) a block
/// holds at once: 256 KiB, in L2 with the block's output. Larger planes
/// (112 x 112) are worked in bands of output rows.
constexpr int64_t kMaxPixels = 4096;
/// Output pixels per step of the FMA loop: independent chains enough to
/// cover the FMA latency.
constexpr int kStep = 8;

/// Whether this path takes the convolution: AVX-512, one input channel
/// per group and one output channel per input channel, some output, and
/// the input rows of one output row within kMaxPixels padded pixels
/// (bands of output rows take what fits).
inline bool applies(const Conv2dParams &p) {
#if defined(__AVX512F__)
  const conv_pad::Padded s = conv_pad::padded_size(p);
  return p.c == p.group && p.group > 1 && p.m == p.c && p.oh > 0 && p.ow > 0 &&
         ((p.kh - 1) * p.dilations[0] + 1) * s.cols <= kMaxPixels;
#else
  (void)p;
  return false;
#endif
}

#if defined(__AVX512F__)
/// r[i][j] <-> r[j][i]: four rounds of swapping the off-diagonal blocks of
/// 8, 4, 2 and 1 lanes, each a two-source permute per vector.
inline void transpose16(__m512 (&r)[16]) {
#pragma GCC unroll 4
  for (int s = 8; s >= 1; s /= 2) {
    alignas(64) int32_t lo[16], hi[16];
    for (int j = 0; j < 16; ++j) {
      // Row i (bit s clear) keeps its lanes with bit s clear and takes
      // row i + s's lanes j - s; row i + s the other way around.
      lo[j] = (j & s) ? 16 + j - s : j;
      hi[j] = (j & s) ? 16 + j : j + s;
    }
    const __m512i ilo = _mm512_load_si512(lo), ihi = _mm512_load_si512(hi);
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) {
      if (i & s)
        continue;
      const __m512 a = r[i], b = r[i + s];
      r[i] = _mm512_permutex2var_ps(a, ilo, b);
      r[i + s] = _mm512_permutex2var_ps(a, ihi, b);
    }
  }
}

/// Output rows per band: the most whose padded input rows (sy apart, plus
/// the kernel's reach) fit kMaxPixels pixels of `cols`; at least 1.
inline int64_t band_rows(const Conv2dParams &p, int64_t cols) {
  const int64_t reach = (p.kh - 1) * p.dilations[0] + 1;
  const int64_t inRows = kMaxPixels / cols;
  return std::clamp<int64_t>((inRows - reach) / p.strides[0] + 1, 1, p.oh);
}

/// out = conv(in, weight) + bias for float32 NCHW tensors (conv.h's
/// conv2d, whose parameters it takes) where applies(p). Threads split the
/// (image, channel block, band of output rows) items: a plane larger than
/// kMaxPixels padded pixels (112 x 112) is worked in bands, each with the
/// input rows its taps reach. `epi` (conv.h) runs on each item's outputs.
/// Returns 1 (with the run's error set) when out of scratch memory.
template <class Epilogue>
int conv2d(const anvil_host_api *host, const Conv2dParams &p, const float *in,
           const float *weight, const float *bias, float *out,
           const Epilogue &epi) {
  const conv_pad::Padded s = conv_pad::padded_size(p);
  const int64_t cols = s.cols, h = p.h, w = p.w, oh = p.oh, ow = p.ow,
                kh = p.kh, kw = p.kw, sy = p.strides[0], sx = p.strides[1],
                dy = p.dilations[0], dx = p.dilations[1], top = p.pads[0],
                left = p.pads[1], taps = kh * kw;
  const int64_t P = oh * ow, blocks = (p.c + kChannels - 1) / kChannels;
  const int64_t bandOut = band_rows(p, cols);
  const int64_t bands = (oh + bandOut - 1) / bandOut;
  const int64_t bandIn = (bandOut - 1) * sy + (kh - 1) * dy + 1;
  // Per thread: a band's padded image, its output pixels (rounded up to
  // whole transposes) and the block's tap weights, all [.][16].
  const int64_t outPixels =
      (bandOut * ow + kChannels - 1) / kChannels * kChannels;
  const size_t floats = size_t((bandIn * cols + outPixels + taps) * kChannels);
  const int64_t itemMacs =
      std::max<int64_t>(1, taps * bandOut * ow * kChannels);
  // A Relu/Clip epilogue is applied to the sums as they are stored.
  const ClampBounds *const clamp = clamp_of(epi);
  const simd::Vec lo = simd::Vec::splat(clamp ? clamp->lo : 0.0f),
                  hi = simd::Vec::splat(clamp ? clamp->hi : 0.0f);
  parallel_for(
      host, p.n * blocks * bands,
      std::max<int64_t>(1, kMinChunkMacs / itemMacs),
      [&](int64_t begin, int64_t end, int thread) {
        std::unique_ptr<float[]> own;
        float *image = scratch_or_own<float>(host, thread, floats + 16, own);
        if (!image) {
          fail(host, "conv: out of scratch memory for a channel block");
          return;
        }
        // 64-byte aligned: every pixel is one aligned vector.
        image = reinterpret_cast<float *>(
            (reinterpret_cast<uintptr_t>(image) + 63) & ~uintptr_t(63));
        float *outBlock = image + bandIn * cols * kChannels;
        float *taps16 = outBlock + outPixels * kChannels;
        int64_t weightsOf = -1; // the first channel of the block taps16 holds
        for (int64_t item = begin; item < end; ++item) {
          const int64_t band = item % bands, blockItem = item / bands;
          const int64_t b = blockItem / blocks,
                        c0 = blockItem % blocks * kChannels;
          const int64_t nb = std::min(kChannels, p.c - c0);
          const int64_t oy0 = band * bandOut, oy1 = std::min(oh, oy0 + bandOut);
          // Padded rows [r0, r0 + rowsIn) of the plane: image row j is
          // padded row r0 + j, input row r0 + j - top.
          const int64_t r0 = oy0 * sy,
                        rowsIn = (oy1 - oy0 - 1) * sy + (kh - 1) * dy + 1;
          const float *x = in + (b * p.c + c0) * h * w;
          for (int64_t j = 0; j < rowsIn; ++j) {
            float *row = image + j * cols * kChannels;
            const int64_t iy = r0 + j - top;
            if (iy < 0 || iy >= h) {
              std::memset(row, 0, sizeof(float) * size_t(cols * kChannels));
              continue;
            }
            std::memset(row, 0, sizeof(float) * size_t(left * kChannels));
            std::memset(row + (left + w) * kChannels, 0,
                        sizeof(float) * size_t((cols - left - w) * kChannels));
            // 16 rows (one per channel) of up to 16 input columns at a
            // time, transposed into 16 pixels. Missing channels are zeros.
            float *dst = row + left * kChannels;
            for (int64_t x0 = 0; x0 < w; x0 += kChannels) {
              const int64_t n = std::min(kChannels, w - x0);
              const __mmask16 lanes = __mmask16((1u << n) - 1);
              __m512 r[16];
#pragma GCC unroll 16
              for (int c = 0; c < 16; ++c)
                r[c] = c < nb ? _mm512_maskz_loadu_ps(lanes, x + c * h * w +
                                                                 iy * w + x0)
                              : _mm512_setzero_ps();
              // Then stored unrolled with a test each: a loop to n
              // indexed r at run time, which kept r on the stack.
              transpose16(r);
#pragma GCC unroll 16
              for (int i = 0; i < 16; ++i)
                if (i < n)
                  _mm512_store_ps(dst + (x0 + i) * kChannels, r[i]);
            }
          }
          // The taps' weights, one channel per lane.
          if (weightsOf != c0) {
            for (int64_t t = 0; t < taps; ++t) {
              alignas(64) float v[16] = {};
              for (int64_t c = 0; c < nb; ++c)
                v[c] = weight[(c0 + c) * taps + t];
              std::memcpy(taps16 + t * kChannels, v, sizeof v);
            }
            weightsOf = c0;
          }
          const __mmask16 channels = __mmask16((1u << nb) - 1);
          const __m512 init = p.has_bias
                                  ? _mm512_maskz_loadu_ps(channels, bias + c0)
                                  : _mm512_setzero_ps();
          // Each output pixel: bias, then the taps in (ky, kx) order. The
          // pixels are taken kStep at a time in raster order across rows
          // (a 7-pixel row alone would leave chains waiting on the FMA
          // latency), each from its own corner of the image.
          const int64_t first = oy0 * ow, count = (oy1 - oy0) * ow;
          auto pixels = [&](auto step, int64_t q) {
            constexpr int N = decltype(step)::value;
            const float *base[N];
            __m512 acc[N];
#pragma GCC unroll 8
            for (int i = 0; i < N; ++i) {
              const int64_t oy = (q + i) / ow - oy0, ox = (q + i) % ow;
              base[i] = image + (oy * sy * cols + ox * sx) * kChannels;
              acc[i] = init;
            }
            for (int64_t ky = 0; ky < kh; ++ky)
              for (int64_t kx = 0; kx < kw; ++kx) {
                const __m512 wv =
                    _mm512_load_ps(taps16 + (ky * kw + kx) * kChannels);
                const int64_t tap = (ky * dy * cols + kx * dx) * kChannels;
#pragma GCC unroll 8
                for (int i = 0; i < N; ++i)
                  acc[i] = _mm512_fmadd_ps(wv, _mm512_load_ps(base[i] + tap),
                                           acc[i]);
              }
            if (clamp) {
#pragma GCC unroll 8
              for (int i = 0; i < N; ++i)
                acc[i] = simd::Vec::clamp({acc[i]}, lo, hi).v;
            }
#pragma GCC unroll 8
            for (int i = 0; i < N; ++i)
              _mm512_store_ps(outBlock + (q - first + i) * kChannels, acc[i]);
          };
          int64_t q = first;
          for (; q + kStep <= first + count; q += kStep)
            pixels(std::integral_constant<int, kStep>(), q);
          for (; q + 4 <= first + count; q += 4)
            pixels(std::integral_constant<int, 4>(), q);
          for (; q < first + count; ++q)
            pixels(std::integral_constant<int, 1>(), q);
          // Back to the planes, 16 pixels of 16 channels at a time (the
          // band's outputs are one run of each plane: one masked store
          // per plane at most).
          float *o = out + (b * p.m + c0) * P + first;
          for (int64_t p0 = 0; p0 < count; p0 += kChannels) {
            const int64_t n = std::min(kChannels, count - p0);
            const __mmask16 lanes = __mmask16((1u << n) - 1);
            __m512 r[16];
#pragma GCC unroll 16
            for (int j = 0; j < 16; ++j)
              r[j] = _mm512_load_ps(outBlock + (p0 + j) * kChannels);
            transpose16(r);
#pragma GCC unroll 16
            for (int c = 0; c < 16; ++c) {
              if (c >= nb)
                break;
              if (n == kChannels)
                _mm512_storeu_ps(o + c * P + p0, r[c]);
              else
                _mm512_mask_storeu_ps(o + c * P + p0, lanes, r[c]);
            }
          }
          if constexpr (!is_no_epilogue<Epilogue>())
            if (!clamp)
              epi(b * p.m + c0, b * p.m + c0 + nb, first, first + count);
        }
      });
  return run_failed(host) ? 1 : 0;
}
#endif

} // namespace conv_depthwise_blocked
} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_CONV_DEPTHWISE_BLOCKED_H
