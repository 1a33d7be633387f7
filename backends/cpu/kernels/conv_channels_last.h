// conv_channels_last.h - float32 convolutions that read or write their
// tensors channels last ([N, H, W, C] in the buffer of an [N, C, H, W]
// tensor): the chain of a MobileNet inverted residual block, 1x1 expansion
// -> depthwise 3x3 -> 1x1 projection, whose two inner tensors (six times
// the block's channels) nothing else reads.
//
// NCHW, the depthwise kernel transposed 16 channel planes into 16-channel
// pixels and back (conv_depthwise_blocked.h: two thirds of its time), and
// the 1x1 products kept pixels in the vector lanes. Channels last, every
// kernel of the chain has channels in the lanes (the layout ONNX Runtime's
// MLAS keeps between its NCHWc convolutions):
//   - the expansion (NCHW input, `out_nhwc`) is conv_gemm.h's pixel rows
//     (out^T[P, M] = x^T[P, K] w^T[K, M], the weight in column panels of
//     32 channels) with its [P, M] product written in place as the output
//     instead of being transposed into planes; it packs its input's 12
//     pixels x K per row tile (the block's input: a sixth of the channels);
//   - the depthwise convolution (`in_nhwc` and `out_nhwc`) reads
//     Vec::kLanes channels of a pixel as one vector, no transposes;
//   - the projection (`in_nhwc`) is the same product reading its rows
//     (pixels, K channels each) in place, its [12, M] tiles transposed into
//     the output planes (the block's output: a sixth of the channels).
// The compiler chooses the chains (backends/cpu/codegen/WeightPacking.cpp)
// and only where each inner tensor has no other reader and its epilogue
// reads only that tensor, element by element (a clamp, HardSwish, ...:
// any order of the elements gives it the same values).
//
// Every output is the same FMA chain as in the NCHW kernels (taps or k in
// increasing order, then + bias; the depthwise: bias, then the taps in
// (ky, kx) order, zeros in the padding), so the bits are theirs.
#ifndef ANVIL_CPU_KERNELS_CONV_CHANNELS_LAST_H
#define ANVIL_CPU_KERNELS_CONV_CHANNELS_LAST_H

#include "common.h"
#include "conv_depthwise_blocked.h"
#include "conv_gemm.h"
#include "matmul_panels.h"
#include "simd.h"

#include <algorithm>
#include <cstring>
#include <memory>

namespace anvil {
namespace cpu {
namespace conv_channels_last {
using simd::Vec;

/// Whether p is a 1x1 convolution at unit strides without padding (the
/// input's pixels are the output's: conv_gemm.h's image feed).
inline bool pointwise(const Conv2dParams &p) {
  return conv_gemm::feed_for(p) == conv_gemm::Feed::Image;
}

/// Whether these kernels take p's layouts: a depthwise convolution (one
/// output channel per input channel) channels last on both sides, or a
/// pointwise one (group 1, weight in column panels) with either side
/// channels last.
inline bool applies(const Conv2dParams &p) {
  if (p.group > 1)
    return p.group == p.c && p.m == p.c && p.in_nhwc && p.out_nhwc;
  return p.group == 1 && p.weight_panel == kPanelWidth && pointwise(p) &&
         (p.in_nhwc || p.out_nhwc);
}

/// An epilogue of a channels-last output: a clamp is applied to the sums
/// as they are stored; any other must read and write nothing but the
/// output, element by element (a unary loop in place: Relu, HardSwish,
/// Sigmoid; the compiler passes no other), and is handed runs of the
/// buffer in memory order. epi(b * M, b * M + 1, f0, f1) covers its
/// elements r * P + c = b * M * P + [f0, f1): flat offsets f0..f1 of image
/// b's [P, M], whatever their (channel, pixel).
template <class Epilogue>
void epilogue_run(const Epilogue &epi, int64_t b, int64_t M, int64_t f0,
                  int64_t f1) {
  if constexpr (!is_no_epilogue<Epilogue>())
    if (!clamp_of(epi))
      epi(b * M, b * M + 1, f0, f1);
}

/// planes[m * P + r] = tile[r * M + m] (+ bias[m], clamped) for the
/// tile's `rows` (<= 16) rows and channels [m0, m1): a [rows, M] product
/// tile into the channel planes. With AVX-512, 16 channels at a time
/// through a 16 x 16 transpose in registers.
inline void store_planes(const float *tile, int64_t rows, int64_t M, int64_t m0,
                         int64_t m1, const float *bias,
                         const ClampBounds *clamp, float *planes, int64_t P) {
  int64_t m = m0;
#if defined(__AVX512F__)
  const __mmask16 valid = __mmask16((1u << rows) - 1);
  const __m512 lo = _mm512_set1_ps(clamp ? clamp->lo : 0.0f),
               hi = _mm512_set1_ps(clamp ? clamp->hi : 0.0f);
  for (; m + 16 <= m1; m += 16) {
    __m512 r[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i)
      r[i] = i < rows ? _mm512_loadu_ps(tile + i * M + m) : _mm512_setzero_ps();
    conv_depthwise_blocked::transpose16(r);
#pragma GCC unroll 16
    for (int c = 0; c < 16; ++c) {
      __m512 x = r[c];
      if (bias)
        x = _mm512_add_ps(x, _mm512_set1_ps(bias[m + c]));
      if (clamp)
        x = Vec::clamp({x}, {lo}, {hi}).v;
      _mm512_mask_storeu_ps(planes + (m + c) * P, valid, x);
    }
  }
#endif
  for (; m < m1; ++m) {
    float *dst = planes + m * P;
    for (int64_t r = 0; r < rows; ++r) {
      const float x = bias ? tile[r * M + m] + bias[m] : tile[r * M + m];
      dst[r] = clamp ? clamp_nan(x, *clamp) : x;
    }
  }
}

/// out = conv(in, weight) + bias for a pointwise convolution (pointwise(p),
/// group 1) with the weight [K, M] in column panels (weight_panel 32), the
/// input and/or the output channels last (p.in_nhwc, p.out_nhwc). Threads
/// split (image, row tile of up to 12 pixels, chunk of channel panels)
/// items: the tiles as even as conv_gemm.h's pixel rows make them, the
/// panels cut into chunks when that gives fewer than 4 items per thread
/// (a 7 x 7 plane is 5 tiles). Each item is one product over its panels,
/// k block by k block. A planar output gets the bias, a clamp and any
/// other epilogue per item (its channels x its pixels); a channels-last
/// one the bias and a clamp in the tiles' stores, and any other epilogue
/// as epilogue_run's runs, one per pixel row. Returns 1 (with the run's
/// error set) when out of scratch memory.
template <class Epilogue>
int conv2d_pointwise(const anvil_host_api *host, const Conv2dParams &p,
                     const float *in, const float *weight, const float *bias,
                     float *out, const Epilogue &epi) {
  using namespace panels;
  const int64_t K = p.c, M = p.m, P = p.oh * p.ow;
  if (P <= 0 || M <= 0)
    return 0;
  const int64_t tileRows = conv_gemm::pixel_tile_rows(P);
  const int64_t tiles = (P + tileRows - 1) / tileRows;
  const int64_t panelCount = (M + kPanelWidth - 1) / kPanelWidth;
  const int threads = std::max(1, host ? int(host->num_threads) : 1);
  const int64_t tileItems = p.n * tiles;
  const int64_t wanted = std::clamp<int64_t>(
      (4 * threads + tileItems - 1) / tileItems, 1, panelCount);
  const int64_t panelsPerChunk = (panelCount + wanted - 1) / wanted;
  const int64_t chunks = (panelCount + panelsPerChunk - 1) / panelsPerChunk;
  const ClampBounds *const clamp = clamp_of(epi);
  // Per thread: a planar input's packed tile ([K][12]), a planar output's
  // product tile ([12][M]).
  const int64_t packFloats = p.in_nhwc ? 0 : K * kMaxRows;
  const int64_t tileFloats = p.out_nhwc ? 0 : kMaxRows * M;
  const int64_t itemMacs =
      std::max<int64_t>(1, tileRows * K * panelsPerChunk * kPanelWidth);
  parallel_for(
      host, tileItems * chunks, std::max<int64_t>(1, kMinChunkMacs / itemMacs),
      [&](int64_t begin, int64_t end, int thread) {
        std::unique_ptr<float[]> own;
        float *packed = nullptr, *product = nullptr;
        if (packFloats + tileFloats > 0) {
          packed = scratch_or_own<float>(host, thread,
                                         size_t(packFloats + tileFloats), own);
          if (!packed) {
            fail(host, "conv: out of scratch memory for a channels-last tile");
            return;
          }
          product = packed + packFloats;
        }
        int64_t packedTile = -1; // the tile item `packed` holds
        for (int64_t item = begin; item < end; ++item) {
          const int64_t chunk = item % chunks, tileItem = item / chunks;
          const int64_t b = tileItem / tiles, j0 = tileItem % tiles * tileRows;
          const int64_t rows = std::min<int64_t>(tileRows, P - j0);
          const int64_t p0 = chunk * panelsPerChunk,
                        p1 = std::min(panelCount, p0 + panelsPerChunk);
          const int64_t m0 = p0 * kPanelWidth,
                        m1 = std::min(M, p1 * kPanelWidth);
          // The tile's rows: in place ([P, K], channels last), or packed
          // from the planes as [K][12] (its missing rows zero).
          const float *a = in + (b * P + j0) * K;
          if (!p.in_nhwc) {
            if (packedTile != tileItem) { // (a 1x1 plain image)
              conv_gemm::pack_pixel_tile(p, in + b * K * P, tileRows,
                                         tileItem % tiles, packed);
              packedTile = tileItem;
            }
            a = packed;
          }
          float *o = p.out_nhwc ? out + (b * P + j0) * M : product;
          for (int64_t k0 = 0; k0 < K; k0 += kBlock) {
            const int64_t k1 = std::min(K, k0 + kBlock);
            Span span{M, K, k0, k1, p0, p1, k0 > 0};
            if (p.out_nhwc && k1 == K) { // + bias, clamped, as stored
              span.column_bias = p.has_bias ? bias : nullptr;
              span.clamp = clamp;
            }
            if (p.in_nhwc)
              tile_rows<kMaxRows, 0>(rows, a + k0, K, weight, span, o, M);
            else
              tile_rows<kMaxRows, kMaxRows>(rows, a + k0 * kMaxRows, 0, weight,
                                            span, o, M);
          }
          if (K == 0) // no products: 0, and (channels last) + bias, clamped
            for (int64_t r = 0; r < rows; ++r)
              for (int64_t m = m0; m < m1; ++m) {
                float x = 0.0f;
                if (p.out_nhwc && p.has_bias)
                  x = x + bias[m];
                o[r * M + m] = p.out_nhwc && clamp ? clamp_nan(x, *clamp) : x;
              }
          if (p.out_nhwc) {
            for (int64_t r = j0; r < j0 + rows; ++r)
              epilogue_run(epi, b, M, r * M + m0, r * M + m1);
            continue;
          }
          store_planes(product, rows, M, m0, m1, p.has_bias ? bias : nullptr,
                       clamp, out + b * M * P + j0, P);
          if constexpr (!is_no_epilogue<Epilogue>())
            if (!clamp)
              epi(b * M + m0, b * M + m1, j0, j0 + rows);
        }
      });
  return run_failed(host) ? 1 : 0;
}

/// out = conv(in, weight) + bias for a depthwise convolution (c == group
/// == m) with input and output channels last. Threads split the (image,
/// output row) range. A step is up to 8 output pixels x every block of
/// Vec::kLanes channels: bias + kh x kw FMAs of whole vectors, clamped,
/// stored in place (each step writes its pixels' channels whole). The taps
/// are read in place from the input: a row's interior pixels (whose
/// windows lie inside the image) in runs of 8 at fixed tap offsets; every
/// other pixel (the rows and columns whose windows reach into the padding,
/// and the interior's remainders) joins a group of 8 that reads each tap
/// through a table of pointers, a tap in the padding pointing at a line of
/// zeros (the FMA with +0 a zero-padded copy gives: the same bits). An
/// earlier version copied bands of input rows, zero-padded, before the
/// FMAs: that copy was 7.7% of MobileNetV2 on one thread (the expansions'
/// 14 MB of outputs a run, from L3). Returns 1 (with the run's error set)
/// when out of scratch memory.
template <class Epilogue>
int conv2d_depthwise(const anvil_host_api *host, const Conv2dParams &p,
                     const float *in, const float *weight, const float *bias,
                     float *out, const Epilogue &epi) {
  constexpr int64_t L = Vec::kLanes;
  constexpr int kGroup = 8;
  const int64_t C = p.c, h = p.h, w = p.w, oh = p.oh, ow = p.ow, kh = p.kh,
                kw = p.kw, sy = p.strides[0], sx = p.strides[1],
                dy = p.dilations[0], dx = p.dilations[1], top = p.pads[0],
                left = p.pads[1], taps = kh * kw;
  if (oh <= 0 || ow <= 0)
    return 0;
  const int64_t blocks = (C + L - 1) / L, stride = blocks * L;
  // The output columns whose windows lie inside the image's columns.
  const int64_t xlo = std::min<int64_t>(ow, (left + sx - 1) / sx);
  const int64_t spanX = (kw - 1) * dx;
  const int64_t xhi =
      w - 1 - spanX + left < 0
          ? xlo
          : std::clamp<int64_t>((w - 1 - spanX + left) / sx + 1, xlo, ow);
  const ClampBounds *const clamp = clamp_of(epi);
  // Per thread: every channel's tap weights [taps][stride], a line of
  // zeros (the padding's taps), then a group's tap pointers.
  const size_t floats = size_t((taps + 1) * stride);
  const int64_t rowMacs = std::max<int64_t>(1, taps * ow * C);
  parallel_for(
      host, p.n * oh, std::max<int64_t>(1, kMinChunkMacs / rowMacs),
      [&](int64_t begin, int64_t end, int thread) {
        std::unique_ptr<float[]> own;
        const size_t tableBytes = sizeof(const float *) * size_t(kGroup * taps);
        float *tapWeights = scratch_or_own<float>(
            host, thread, floats + 16 + tableBytes / sizeof(float) + 2, own);
        if (!tapWeights) {
          fail(host, "conv: out of scratch memory for the tap weights");
          return;
        }
        // 64-byte aligned (the runtime's scratch is; the unit tests' heap
        // block may not be): with AVX-512 every vector is one line.
        tapWeights = reinterpret_cast<float *>(
            (reinterpret_cast<uintptr_t>(tapWeights) + 63) & ~uintptr_t(63));
        for (int64_t t = 0; t < taps; ++t)
          for (int64_t c = 0; c < stride; ++c)
            tapWeights[t * stride + c] = c < C ? weight[c * taps + t] : 0.0f;
        const float *const zeros = tapWeights + taps * stride;
        std::fill(tapWeights + taps * stride, tapWeights + floats, 0.0f);
        const float **const table =
            reinterpret_cast<const float **>(tapWeights + floats);
        const Vec lo = Vec::splat(clamp ? clamp->lo : 0.0f),
                  hi = Vec::splat(clamp ? clamp->hi : 0.0f);
        const float *const biasRow = p.has_bias ? bias : nullptr;
        // N pixels' outputs at out[q[i]]: tap t of pixel i at tap(i, t).
        // Whole vectors of channels, then the last C % L under a mask
        // (never read past the tensor's end).
        auto step = [&](auto count, const int64_t *q, auto tap) {
          constexpr int N = decltype(count)::value;
          auto block = [&](int64_t c0, auto whole) {
            const typename Vec::Mask lanes = Vec::mask(C - c0);
            const Vec init =
                biasRow ? Vec::load(biasRow + c0, lanes) : Vec::zero();
            Vec acc[N];
#pragma GCC unroll 8
            for (int i = 0; i < N; ++i)
              acc[i] = init;
            const float *wt = tapWeights + c0;
            for (int64_t t = 0; t < taps; ++t, wt += stride) {
              const Vec wv = Vec::loadu(wt);
#pragma GCC unroll 8
              for (int i = 0; i < N; ++i)
                acc[i] = Vec::fma(wv,
                                  decltype(whole)::value
                                      ? Vec::loadu(tap(i, t) + c0)
                                      : Vec::load(tap(i, t) + c0, lanes),
                                  acc[i]);
            }
#pragma GCC unroll 8
            for (int i = 0; i < N; ++i) {
              if (clamp)
                acc[i] = Vec::clamp(acc[i], lo, hi);
              if constexpr (decltype(whole)::value)
                acc[i].storeu(out + q[i] * C + c0);
              else
                acc[i].store(out + q[i] * C + c0, lanes);
            }
          };
          int64_t c0 = 0;
          for (; c0 + L <= C; c0 += L)
            block(c0, std::true_type());
          if (c0 < C)
            block(c0, std::false_type());
        };
        // Tap offsets (in floats) of an interior window from its first tap.
        int64_t tapOffsets[49];
        const bool fixedTaps = taps <= 49;
        if (fixedTaps)
          for (int64_t ky = 0, t = 0; ky < kh; ++ky)
            for (int64_t kx = 0; kx < kw; ++kx, ++t)
              tapOffsets[t] = (ky * dy * w + kx * dx) * C;
        // The pending pixels of a tabled group: (image, oy, ox).
        int64_t pendQ[kGroup], pendB[kGroup], pendY[kGroup], pendX[kGroup];
        int pending = 0;
        auto tabled = [&](auto count, int first) {
          constexpr int N = decltype(count)::value;
          for (int i = 0; i < N; ++i)
            for (int64_t ky = 0, t = 0; ky < kh; ++ky)
              for (int64_t kx = 0; kx < kw; ++kx, ++t) {
                const int64_t iy = pendY[first + i] * sy - top + ky * dy,
                              ix = pendX[first + i] * sx - left + kx * dx;
                table[i * taps + t] =
                    iy >= 0 && iy < h && ix >= 0 && ix < w
                        ? in + ((pendB[first + i] * h + iy) * w + ix) * C
                        : zeros;
              }
          step(count, pendQ + first,
               [&](int i, int64_t t) { return table[i * taps + t]; });
        };
        auto push = [&](int64_t b, int64_t oy, int64_t ox) {
          pendQ[pending] = (b * oh + oy) * ow + ox;
          pendB[pending] = b, pendY[pending] = oy, pendX[pending] = ox;
          if (++pending == kGroup) {
            tabled(std::integral_constant<int, kGroup>(), 0);
            pending = 0;
          }
        };
        for (int64_t row = begin; row < end; ++row) {
          const int64_t b = row / oh, oy = row % oh;
          const int64_t iy = oy * sy - top;
          const bool rowInside = fixedTaps && iy >= 0 && iy + (kh - 1) * dy < h;
          int64_t ox = 0;
          if (rowInside) {
            for (; ox < xlo; ++ox)
              push(b, oy, ox);
            const float *const first =
                in + ((b * h + iy) * w + xlo * sx - left) * C;
            for (; ox + kGroup <= xhi; ox += kGroup) {
              int64_t q[kGroup];
              for (int i = 0; i < kGroup; ++i)
                q[i] = (b * oh + oy) * ow + ox + i;
              const float *const at = first + (ox - xlo) * sx * C;
              step(std::integral_constant<int, kGroup>(), q,
                   [&](int i, int64_t t) {
                     return at + i * sx * C + tapOffsets[t];
                   });
            }
          }
          for (; ox < ow; ++ox)
            push(b, oy, ox);
        }
        int first = 0;
        for (; first + 4 <= pending; first += 4)
          tabled(std::integral_constant<int, 4>(), first);
        for (; first < pending; ++first)
          tabled(std::integral_constant<int, 1>(), first);
        // The chunk's rows are final: their epilogue runs.
        for (int64_t row = begin; row < end;) {
          const int64_t b = row / oh, oy0 = row % oh;
          const int64_t oy1 = std::min(oh, oy0 + (end - row));
          epilogue_run(epi, b, C, oy0 * ow * C, oy1 * ow * C);
          row += oy1 - oy0;
        }
      });
  return run_failed(host) ? 1 : 0;
}

/// conv2d for the layouts applies(p) takes (a channels-last output's
/// epilogue as epilogue_run says).
template <class Epilogue>
int conv2d(const anvil_host_api *host, const Conv2dParams &p, const float *in,
           const float *weight, const float *bias, float *out,
           const Epilogue &epi) {
  if (p.n <= 0)
    return 0;
  if (p.group > 1)
    return conv2d_depthwise(host, p, in, weight, bias, out, epi);
  return conv2d_pointwise(host, p, in, weight, bias, out, epi);
}

} // namespace conv_channels_last
} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_CONV_CHANNELS_LAST_H
