// conv_depthwise.h - float32 2-D convolution with one input channel per
// group (depthwise, as in MobileNet's separable convolutions), vectorized
// over output columns.
//
// Each output channel's input plane is first copied, zero-padded and split
// by column and row phase (conv_pad.h), into per-thread memory: a vector of
// consecutive outputs then reads consecutive floats under every tap, for
// every stride, with no bounds test, and the plane's output rows are one
// flat run (below). Accumulators stay in registers over the kh x kw taps.
//
// Each output is bias + its taps in (ky, kx) order, one FMA each: the same
// whatever the threads.
#ifndef ANVIL_CPU_KERNELS_CONV_DEPTHWISE_H
#define ANVIL_CPU_KERNELS_CONV_DEPTHWISE_H

#include "common.h"
#include "conv_pad.h"
#include "simd.h"

#include <algorithm>
#include <memory>
#include <new>
#include <type_traits>

namespace anvil {
namespace cpu {
namespace conv_depthwise {
using simd::Vec;

/// Whether this path takes the convolution: one input channel per group,
/// several groups (a single-channel image with many filters is a product:
/// conv_gemm.h).
inline bool applies(const Conv2dParams &p) {
  return p.c == p.group && p.group > 1;
}

using conv_pad::pad_plane;
using conv_pad::Padded;
using conv_pad::padded_size;

/// out = conv(in, weight) + bias for float32 NCHW tensors with c == group
/// (conv.h's conv2d, whose parameters it takes; m may be a multiple of c).
/// Threads split the (image, output channel) planes; `epi` (conv.h) runs
/// on each finished plane. Returns 1 (with the run's error set) when out
/// of scratch memory.
template <class Epilogue>
int conv2d(const anvil_host_api *host, const Conv2dParams &p, const float *in,
           const float *weight, const float *bias, float *out,
           const Epilogue &epi) {
  Padded s = padded_size(p);
  s.rowPhases = p.strides[0];
  // Locals, not p's fields: the stores to `out` may alias p as far as the
  // compiler knows, which would reload them in the inner loops.
  const int64_t sx = p.strides[1], dx = p.dilations[1], kh = p.kh, kw = p.kw,
                oh = p.oh, ow = p.ow, mg = p.m / p.group,
                phaseCols = s.phaseCols;
  const int64_t phaseSize = s.phaseSize();
  // Tap column kx reads column phase (kx * dx) % sx at offset (kx * dx) /
  // sx, tap row ky row phase (ky * dy) % sy at row (ky * dy) / sy: from
  // tables for kernels up to kTableCols wide and high (no division in the
  // loops), else worked out each time.
  constexpr int64_t kTableCols = 32;
  int64_t table[kTableCols], rowTable[kTableCols];
  for (int64_t kx = 0; kx < std::min(kw, kTableCols); ++kx)
    table[kx] = conv_pad::column_offset(p, s, kx);
  for (int64_t ky = 0; ky < std::min(kh, kTableCols); ++ky)
    rowTable[ky] = conv_pad::row_offset(p, s, ky);
  auto tapOffset = [&](int64_t kx) {
    return kx < kTableCols ? table[kx] : conv_pad::column_offset(p, s, kx);
  };
  auto rowOffset = [&](int64_t ky) {
    return ky < kTableCols ? rowTable[ky] : conv_pad::row_offset(p, s, ky);
  };
  // Four vectors of consecutive outputs (whole vectors when Full, else the
  // first `count` under lane masks) into dst, the first of which reads
  // src under tap (0, 0): four independent FMA chains (one chain of kh x
  // kw FMAs would wait on the FMA latency).
  auto block = [&](auto full, const float *src, const float *wk, Vec init,
                   float *dst, int64_t count) {
    constexpr bool kFull = decltype(full)::value;
    typename Vec::Mask lanes[4];
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u)
      lanes[u] = Vec::mask(count - u * Vec::kLanes);
    Vec acc[4] = {init, init, init, init};
    for (int64_t ky = 0; ky < kh; ++ky) {
      const float *row = src + rowOffset(ky);
      for (int64_t kx = 0; kx < kw; ++kx) {
        const float *tap = row + tapOffset(kx);
        const Vec wv = Vec::splat(wk[ky * kw + kx]);
#pragma GCC unroll 4
        for (int u = 0; u < 4; ++u)
          acc[u] = Vec::fma(wv,
                            kFull ? Vec::loadu(tap + u * Vec::kLanes)
                                  : Vec::load(tap + u * Vec::kLanes, lanes[u]),
                            acc[u]);
      }
    }
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u) {
      if (kFull)
        acc[u].storeu(dst + u * Vec::kLanes);
      else
        acc[u].store(dst + u * Vec::kLanes, lanes[u]);
    }
  };
  // Output (oy, ox) reads its phases at oy * phaseCols + ox under tap (0,
  // 0) (row phases make that so for any row stride): the plane is worked
  // as one flat run of oh x phaseCols outputs (the columns past ow are
  // discarded), so small planes (7 x 7) fill whole vectors instead of one
  // short row each, and so do strided ones (a 14 x 14 input at stride 2
  // was 7 rows of 7 outputs, each a 64-output block). The run's last
  // outputs read up to `slack` floats past the phases.
  const int64_t flatSize = oh * phaseCols;
  const int64_t slack = (kw - 1) * dx / sx + 4 * Vec::kLanes;
  const size_t floats = size_t(sx * phaseSize + slack + flatSize);
  const int64_t planeMacs = std::max<int64_t>(1, p.kh * p.kw * p.oh * p.ow);
  parallel_for(
      host, p.n * p.m, std::max<int64_t>(1, kMinChunkMacs / planeMacs),
      [&](int64_t begin, int64_t end, int thread) {
        std::unique_ptr<float[]> own;
        float *phases = scratch_or_own<float>(host, thread, floats, own);
        if (!phases) {
          fail(host, "conv: out of scratch memory for a padded plane");
          return;
        }
        std::fill(phases + sx * phaseSize, phases + sx * phaseSize + slack,
                  0.0f);
        float *flatOut = phases + sx * phaseSize + slack;
        for (int64_t nm = begin; nm < end; ++nm) {
          const int64_t b = nm / p.m, oc = nm % p.m, ic = oc / mg;
          // Every plane has the same padding: after the chunk's first,
          // only the input's rows are copied.
          pad_plane(p, s, in + (b * p.c + ic) * p.h * p.w, phases, nm != begin,
                    sx == 1 ? slack : 0);
          const float *wk = weight + oc * p.kh * p.kw;
          const Vec init = Vec::splat(p.has_bias ? bias[oc] : 0.0f);
          float *o = out + nm * oh * ow;
          int64_t f = 0;
          for (; f + 4 * Vec::kLanes <= flatSize; f += 4 * Vec::kLanes)
            block(std::true_type(), phases + f, wk, init, flatOut + f, 0);
          if (f < flatSize)
            block(std::false_type(), phases + f, wk, init, flatOut + f,
                  flatSize - f);
          for (int64_t oy = 0; oy < oh; ++oy) // (rows of 7 to 112)
            conv_pad::copy_run(o + oy * ow, flatOut + oy * phaseCols, ow);
          if constexpr (!is_no_epilogue<Epilogue>())
            epi(nm, nm + 1, 0, oh * ow);
        }
      });
  return run_failed(host) ? 1 : 0;
}

} // namespace conv_depthwise
} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_CONV_DEPTHWISE_H
