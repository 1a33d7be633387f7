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

#include <algorithm>
#include <utility>

namespace anvil {
namespace cpu {
namespace conv_pad {

/// The padded plane's size (rows x cols, phaseCols per phase row): the
/// input with its pads, or what the output's taps reach if that is more
/// (never read past the copy).
struct Padded {
  int64_t rows, cols, phaseCols;
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
  return t % sx * s.rows * s.phaseCols + t / sx;
}

/// x [h, w] into `sx` phases of [rows][phaseCols]: padded column c of
/// padded row r at phases[(c % sx) * rows * phaseCols + r * phaseCols +
/// c / sx], zero outside the input.
inline void pad_plane(const Conv2dParams &p, const Padded &s, const float *x,
                      float *phases) {
  const int64_t sx = p.strides[1];
  const int64_t phaseSize = s.rows * s.phaseCols;
  for (int64_t r = 0; r < s.rows; ++r) {
    const int64_t iy = r - p.pads[0];
    const bool inside = iy >= 0 && iy < p.h;
    if (sx == 1) { // zeros, the row, zeros
      float *dst = phases + r * s.phaseCols;
      const int64_t left = inside ? std::min(p.pads[1], s.cols) : s.cols;
      const int64_t copied = inside ? std::min(p.w, s.cols - left) : 0;
      std::fill(dst, dst + left, 0.0f);
      if (copied)
        std::copy(x + iy * p.w, x + iy * p.w + copied, dst + left);
      std::fill(dst + left + copied, dst + s.cols, 0.0f);
      continue;
    }
    for (int64_t t = 0; t < sx; ++t) {
      float *dst = phases + t * phaseSize + r * s.phaseCols;
      // Phase column j reads input column j * sx + t - pads[1].
      const auto [j0, j1] =
          inside ? tap_range(p.w, sx, t - p.pads[1], s.phaseCols)
                 : std::pair<int64_t, int64_t>(s.phaseCols, s.phaseCols);
      std::fill(dst, dst + j0, 0.0f);
      for (int64_t j = j0; j < j1; ++j)
        dst[j] = x[iy * p.w + j * sx + t - p.pads[1]];
      std::fill(dst + j1, dst + s.phaseCols, 0.0f);
    }
  }
}

} // namespace conv_pad
} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_CONV_PAD_H
