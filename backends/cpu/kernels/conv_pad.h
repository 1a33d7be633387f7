// conv_pad.h - an input plane zero-padded and split by column phase, so
// that a convolution of any stride reads consecutive floats for
// consecutive outputs.
//
// For stride s, phase t of the padded plane holds its columns t, t + s,
// t + 2s, ... The input of output column ox under tap kx (padded column
// s * ox + kx * dilation) is then element ox + (kx * dilation) / s of
// phase (kx * dilation) % s, and output row oy under tap ky reads padded
// row oy * stride_h + ky * dilation_h: a run of outputs of one row reads
// a run of one phase row. (The indirection of XNNPACK's convolutions,
// Dukhan, "The Indirect Convolution Algorithm", 2019, with the padding
// and the stride folded into the copy.)
#ifndef ANVIL_CPU_KERNELS_CONV_PAD_H
#define ANVIL_CPU_KERNELS_CONV_PAD_H

#include "common.h"
#include "simd.h"

#include <algorithm>
#include <utility>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace anvil {
namespace cpu {
namespace conv_pad {

/// dst[0, n) = src[0, n) (src may be null for zeros), a vector at a time:
/// the rows here are short (7 to 112 floats), where a memmove or memset
/// call per row cost more than the copy (MobileNetV2, one thread: 5% of
/// the samples in the two).
inline void copy_run(float *dst, const float *src, int64_t n) {
  using simd::Vec;
  for (int64_t i = 0; i < n; i += Vec::kLanes) {
    const typename Vec::Mask lanes = Vec::mask(n - i);
    (src ? Vec::load(src + i, lanes) : Vec::zero()).store(dst + i, lanes);
  }
}

/// dst[j] = src[2 j] for j in [0, n): a row's columns of one phase at
/// stride 2, sixteen at a time on AVX-512 (one two-source permute per 32
/// floats read; the scalar loop was most of pad_plane's time, 13% of
/// MobileNetV2's samples on one thread). Reads src[0, 2 n - 1] only.
inline void copy_every_second(float *dst, const float *src, int64_t n) {
  int64_t j = 0;
#if defined(__AVX512F__)
  const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20,
                                          22, 24, 26, 28, 30);
  // While all 32 floats a step reads lie before src[2 n - 1] + 1.
  for (; j + 16 < n; j += 16) {
    const __m512 a = _mm512_loadu_ps(src + 2 * j);
    const __m512 b = _mm512_loadu_ps(src + 2 * j + 16);
    _mm512_storeu_ps(dst + j, _mm512_permutex2var_ps(a, evens, b));
  }
  // The last 1 to 16 under lane masks (masked-off lanes are not read).
  if (j < n) {
    const int64_t reads = 2 * (n - j) - 1; // src[2 j, 2 n - 1)
    const __mmask16 first = __mmask16((1u << std::min<int64_t>(reads, 16)) - 1);
    const __mmask16 second =
        reads > 16 ? __mmask16((1u << (reads - 16)) - 1) : __mmask16(0);
    const __m512 a = _mm512_maskz_loadu_ps(first, src + 2 * j);
    const __m512 b = _mm512_maskz_loadu_ps(second, src + 2 * j + 16);
    _mm512_mask_storeu_ps(dst + j, __mmask16((1u << (n - j)) - 1),
                          _mm512_permutex2var_ps(a, evens, b));
    return;
  }
#endif
  for (; j < n; ++j)
    dst[j] = src[2 * j];
}

/// The padded plane's size (rows x cols, phaseCols per phase row): the
/// input with its pads, or what the output's taps reach if that is more
/// (never read past the copy). With rowPhases = sy (the depthwise kernel's
/// choice; 1 otherwise) each column phase is split by row phase too:
/// padded row r at row rowAt(r) = (r % sy) * phaseRows() + r / sy of the
/// column phase, so output row oy under tap row ky (padded row oy * sy +
/// ky * dilation) is row oy + (ky * dilation) / sy of row phase (ky *
/// dilation) % sy, and consecutive output rows read consecutive phase
/// rows for any stride.
struct Padded {
  int64_t rows, cols, phaseCols;
  int64_t rowPhases = 1;
  int64_t phaseRows() const { return (rows + rowPhases - 1) / rowPhases; }
  /// Floats per column phase.
  int64_t phaseSize() const { return rowPhases * phaseRows() * phaseCols; }
  int64_t rowAt(int64_t r) const {
    return rowPhases == 1 ? r : r % rowPhases * phaseRows() + r / rowPhases;
  }
};
inline Padded padded_size(const Conv2dParams &p) {
  const int64_t rows =
      std::max(p.h + p.pads[0] + p.pads[2],
               (p.oh - 1) * p.strides[0] + (p.kh - 1) * p.dilations[0] + 1);
  const int64_t cols =
      std::max(p.w + p.pads[1] + p.pads[3],
               (p.ow - 1) * p.strides[1] + (p.kw - 1) * p.dilations[1] + 1);
  return {rows, cols, (cols + p.strides[1] - 1) / p.strides[1]};
}

/// Where tap column kx's input starts, relative to its output column, in
/// the phases pad_plane writes: phase (kx * dilation) % sx, element
/// (kx * dilation) / sx of the phase row.
inline int64_t column_offset(const Conv2dParams &p, const Padded &s,
                             int64_t kx) {
  const int64_t t = kx * p.dilations[1], sx = p.strides[1];
  return t % sx * s.phaseSize() + t / sx;
}

/// Where tap row ky's input starts, relative to its output row, in the
/// phases pad_plane writes with s.rowPhases = the row stride.
inline int64_t row_offset(const Conv2dParams &p, const Padded &s, int64_t ky) {
  const int64_t t = ky * p.dilations[0], sy = s.rowPhases;
  return (t % sy * s.phaseRows() + t / sy) * s.phaseCols;
}

/// Each tap k = (ic, ky, kx)'s offset in the padded planes of `channels`
/// input channels, plane floats apart (sx x phaseSize()), from its output
/// pixel's place: output (oy, ox) reads tap k at offsets[k] + oy * sy *
/// phaseCols + ox (rows split by row phase: oy * phaseCols).
inline void tap_offsets(const Conv2dParams &p, const Padded &s,
                        int64_t channels, int64_t plane, int64_t *offsets) {
  for (int64_t ic = 0, k = 0; ic < channels; ++ic)
    for (int64_t ky = 0; ky < p.kh; ++ky)
      for (int64_t kx = 0; kx < p.kw; ++kx, ++k)
        offsets[k] =
            ic * plane + row_offset(p, s, ky) + column_offset(p, s, kx);
}

/// x [h, w] into `sx` column phases of phaseSize() floats ([rows][phaseCols],
/// or [rowPhases x phaseRows()][phaseCols] with row phases): padded column c of
/// padded row r at phases[(c % sx) * phaseSize() + rowAt(r) * phaseCols +
/// c / sx], zero outside the input (and in the rows a row-phase split
/// adds). With `zeroed`, the caller says the positions outside the input
/// already hold zeros (an earlier pad_plane of the same geometry into the
/// same buffer), and only the input's rows are copied: for small planes
/// (7 x 7, a 9 x 9 copy) the zero fills were most of the work. `spill`:
/// how many floats after the phases the caller lets pad_plane overwrite
/// with zeros (a row of one vector is then one unmasked store; stride 1
/// and no row phases only: the zeros land on rows copied later).
inline void pad_plane(const Conv2dParams &p, const Padded &s, const float *x,
                      float *phases, bool zeroed = false, int64_t spill = 0) {
  const int64_t sx = p.strides[1];
  const int64_t phaseSize = s.phaseSize();
  if (s.rowPhases > 1)
    spill = 0;
  // Each phase's columns that read the input, [j0, j1): the same for
  // every row (worked out per row, their divisions were most of the copy
  // of small planes). Up to stride 8 on the stack.
  constexpr int64_t kPhasesOnStack = 8;
  std::pair<int64_t, int64_t> ranges[kPhasesOnStack];
  for (int64_t t = 0; t < std::min(sx, kPhasesOnStack); ++t)
    ranges[t] = tap_range(p.w, sx, t - p.pads[1], s.phaseCols);
  // Padded row r lands on row rowAt(r): row phase rp, row rq of it, kept
  // by counting (two divisions a row were most of a 14 x 14 plane's copy).
  const int64_t phaseRows = s.phaseRows();
  for (int64_t r = 0, rp = 0, rq = 0; r < s.rows; ++r) {
    const int64_t at = rp * phaseRows + rq;
    if (++rp == s.rowPhases) {
      rp = 0;
      ++rq;
    }
    const int64_t iy = r - p.pads[0];
    const bool inside = iy >= 0 && iy < p.h;
    if (zeroed && !inside)
      continue;
    if (sx == 1) { // zeros, the row, zeros
      float *dst = phases + at * s.phaseCols;
      const int64_t left = inside ? std::min(p.pads[1], s.cols) : s.cols;
      const int64_t copied = inside ? std::min(p.w, s.cols - left) : 0;
      if (zeroed && copied > 0 && copied <= simd::Vec::kLanes &&
          spill >= simd::Vec::kLanes) {
        // A row of at most one vector: its floats and zeros after them
        // in one unmasked store (a masked store per 7-float row was a
        // sixth of a 7 x 7 depthwise layer on Zen 4). What the zeros
        // overwrite is padding, or the next rows' input, copied after
        // this one; `spill` floats of buffer follow the last row.
        using simd::Vec;
        Vec::load(x + iy * p.w, Vec::mask(copied)).storeu(dst + left);
        continue;
      }
      if (!zeroed)
        copy_run(dst, nullptr, left);
      copy_run(dst + left, x + iy * p.w, copied);
      if (!zeroed)
        copy_run(dst + left + copied, nullptr, s.cols - left - copied);
      continue;
    }
    for (int64_t t = 0; t < sx; ++t) {
      float *dst = phases + t * phaseSize + at * s.phaseCols;
      // Phase column j reads input column j * sx + t - pads[1].
      const auto [j0, j1] =
          !inside ? std::pair<int64_t, int64_t>(s.phaseCols, s.phaseCols)
          : t < kPhasesOnStack ? ranges[t]
                               : tap_range(p.w, sx, t - p.pads[1], s.phaseCols);
      if (!zeroed)
        copy_run(dst, nullptr, j0);
      if (sx == 2) {
        if (j1 > j0)
          copy_every_second(dst + j0, x + iy * p.w + j0 * 2 + t - p.pads[1],
                            j1 - j0);
      } else {
        for (int64_t j = j0; j < j1; ++j)
          dst[j] = x[iy * p.w + j * sx + t - p.pads[1]];
      }
      if (!zeroed)
        copy_run(dst + j1, nullptr, s.phaseCols - j1);
    }
  }
  // A row-phase split's rows past the padded plane (phaseRows x rowPhases
  // can exceed rows): no valid output reads them, the discarded columns of
  // a flat run do; zeros, not whatever the buffer held.
  if (!zeroed)
    for (int64_t r = s.rows; r < s.rowPhases * s.phaseRows(); ++r)
      for (int64_t t = 0; t < sx; ++t)
        copy_run(phases + t * phaseSize + s.rowAt(r) * s.phaseCols, nullptr,
                 s.phaseCols);
}

} // namespace conv_pad
} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_CONV_PAD_H
