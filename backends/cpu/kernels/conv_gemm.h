// conv_gemm.h - float32 2-D convolution as a product on matmul_panels.h's
// register-tiled micro-kernel.
//
// A convolution of one image and group is the product
//   out[m, p] = sum_k W[m, k] col[k, p],   k = (ic, ky, kx), p = (oy, ox),
// with W the [M, C/group, kh, kw] weight read as a row-major [M, K] matrix
// and col the image's patches ("im2col", Chellapilla et al., "High
// performance convolutional neural networks for document processing",
// 2006). NCHW output is exactly [M, P] row-major, so the weight's rows
// (read in place) take the role of the product's rows and col that of its
// column panels, which are never materialized whole: each panel of 32
// output pixels is read where it lies (the image itself, or a padded copy
// of it, through one offset per k) or gathered into per-thread memory
// (see Feed), and multiplied at once while it is in L1/L2.
//
// Every output is one FMA chain over k in increasing order, then + bias:
// the same whatever the threads or the tiling.
#ifndef ANVIL_CPU_KERNELS_CONV_GEMM_H
#define ANVIL_CPU_KERNELS_CONV_GEMM_H

#include "common.h"
#include "conv_pad.h"
#include "matmul_panels.h"

#include <memory>
#include <new>

namespace anvil {
namespace cpu {
namespace conv_gemm {
using simd::Vec;

/// Whether the product form pays: a group's output channels fill at least
/// part of a row tile and its patches are more than a few taps (a
/// depthwise convolution takes conv_depthwise.h, the rest conv.h's direct
/// loop).
inline bool applies(const Conv2dParams &p) {
  const int64_t cg = p.c / p.group, mg = p.m / p.group;
  return mg >= 4 && cg * p.kh * p.kw >= 8 && p.oh * p.ow > 0;
}

using conv_pad::copy_run;

/// The output pixels of one panel that lie on one output row.
struct Segment {
  int64_t j0, count, oy, ox0;
};

/// One segment's part of a tap's panel row: `zeros` padding, then `copy`
/// taps from the channel plane at `src` (stride sx), then `tail` padding.
struct Run {
  int64_t dst, zeros, copy, tail, src;
};

/// col panel [K][width] for output pixels [pix0, pix0 + width) of one
/// image's group of `cg` channels at x ([cg, h, w]): element (k, j) at
/// dst[k * width + j], k = (ic * kh + ky) * kw + kx, zero where the tap
/// falls in the padding. The runs of a tap (ky, kx) are worked out once
/// and replayed for every channel.
inline void pack_panel(const Conv2dParams &p, const float *x, int64_t cg,
                       int64_t pix0, int64_t width, float *dst) {
  Segment seg[kPanelWidth];
  int nseg = 0;
  for (int64_t j = 0; j < width;) {
    const int64_t pix = pix0 + j, oy = pix / p.ow, ox = pix % p.ow;
    const int64_t count = std::min(width - j, p.ow - ox);
    seg[nseg++] = {j, count, oy, ox};
    j += count;
  }
  const int64_t sy = p.strides[0], sx = p.strides[1];
  const int64_t planeSize = p.h * p.w, taps = p.kh * p.kw;
  Run runs[kPanelWidth];
  for (int64_t ky = 0; ky < p.kh; ++ky) {
    for (int64_t kx = 0; kx < p.kw; ++kx) {
      // Input column ox * sx + off; valid for ox in [lo, hi).
      const int64_t off = kx * p.dilations[1] - p.pads[1];
      const auto [lo, hi] = tap_range(p.w, sx, off, p.ow);
      for (int s = 0; s < nseg; ++s) {
        const Segment &g = seg[s];
        const int64_t iy = g.oy * sy - p.pads[0] + ky * p.dilations[0];
        if (iy < 0 || iy >= p.h) {
          runs[s] = {g.j0, g.count, 0, 0, 0};
          continue;
        }
        const int64_t a = std::clamp(lo, g.ox0, g.ox0 + g.count);
        const int64_t b = std::clamp(hi, a, g.ox0 + g.count);
        runs[s] = {g.j0, a - g.ox0, b - a, g.ox0 + g.count - b,
                   iy * p.w + a * sx + off};
      }
      float *d = dst + (ky * p.kw + kx) * width;
      for (int64_t ic = 0; ic < cg; ++ic, d += taps * width) {
        const float *plane = x + ic * planeSize;
        for (int s = 0; s < nseg; ++s) {
          const Run &r = runs[s];
          float *ds = d + r.dst;
          if (r.zeros)
            copy_run(ds, nullptr, r.zeros);
          ds += r.zeros;
          if (sx == 1) {
            copy_run(ds, plane + r.src, r.copy);
          } else {
            for (int64_t t = 0; t < r.copy; ++t)
              ds[t] = plane[r.src + t * sx];
          }
          if (r.tail)
            copy_run(ds + r.copy, nullptr, r.tail);
        }
      }
    }
  }
}

/// out[i, 0:width] (+)= sum over t < kcount of a_it * b_t[0:width] for MR
/// rows, b_t = base + off[t] (width <= 32 floats each): the product with a
/// panel that is never packed, each k's 32 pixels read where they lie. The
/// weights a_it are rows in place (a[i * lda + t], CS == 0) or a row tile
/// (a[t * CS + i]: the row_tiles12 layout, CS = kWeightTileRows, one
/// contiguous run of broadcasts per k). VN vectors from vector V0 of the panel
/// (8-lane builds take a panel in two halves, as matmul_panels.h's tiles do);
/// Full: whole vectors, no lane masks. Accumulators stay in registers over the
/// k loop. With `bias` (the last k block's call), row i's sums get + bias[i] as
/// they are stored: the rounding a separate pass over out would give,
/// without that pass; with `clamp` (also the last k block's), the sums
/// (+ bias) are then clamped (a Relu or Clip epilogue, common.h).
template <int MR, int V0, int VN, bool Full, int CS>
inline void indirect_tile(const float *a, int64_t lda, const float *base,
                          const int64_t *off, int64_t kcount, int64_t width,
                          bool accumulate, float *out, int64_t ldo,
                          const float *bias, const ClampBounds *clamp) {
  typename Vec::Mask lanes[VN];
#pragma GCC unroll 4
  for (int v = 0; v < VN; ++v)
    lanes[v] = Vec::mask(width - int64_t(V0 + v) * Vec::kLanes);
  float *o = out + V0 * Vec::kLanes;
  const float *b0 = base + V0 * Vec::kLanes;
  Vec acc[MR][VN];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < VN; ++v)
      acc[i][v] = !accumulate ? Vec::zero()
                  : Full      ? Vec::loadu(o + i * ldo + v * Vec::kLanes)
                         : Vec::load(o + i * ldo + v * Vec::kLanes, lanes[v]);
  for (int64_t t = 0; t < kcount; ++t) {
    const float *b = b0 + off[t];
    Vec bv[VN];
#pragma GCC unroll 4
    for (int v = 0; v < VN; ++v)
      bv[v] = Full ? Vec::loadu(b + v * Vec::kLanes)
                   : Vec::load(b + v * Vec::kLanes, lanes[v]);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const Vec ai = Vec::splat(CS > 0 ? a[t * CS + i] : a[i * lda + t]);
#pragma GCC unroll 4
      for (int v = 0; v < VN; ++v)
        acc[i][v] = Vec::fma(ai, bv[v], acc[i][v]);
    }
  }
  if (bias) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const Vec bi = Vec::splat(bias[i]);
#pragma GCC unroll 4
      for (int v = 0; v < VN; ++v)
        acc[i][v] = Vec::add(acc[i][v], bi);
    }
  }
  if (clamp) {
    const Vec lo = Vec::splat(clamp->lo), hi = Vec::splat(clamp->hi);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < VN; ++v)
        acc[i][v] = Vec::clamp(acc[i][v], lo, hi);
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < VN; ++v) {
      if (Full)
        acc[i][v].storeu(o + i * ldo + v * Vec::kLanes);
      else
        acc[i][v].store(o + i * ldo + v * Vec::kLanes, lanes[v]);
    }
}

/// indirect_tile over `rows` (<= Rows) rows: the whole panel on AVX-512
/// (one vector when the panel is at most 16 wide), two halves of 16 columns
/// on 8-lane builds (12 accumulators of 16 registers).
template <int Rows, bool Full, int CS>
inline void indirect_rows(int64_t rows, const float *a, int64_t lda,
                          const float *base, const int64_t *off, int64_t kcount,
                          int64_t width, bool accumulate, float *out,
                          int64_t ldo, const float *bias,
                          const ClampBounds *clamp) {
  if constexpr (Rows > 1) {
    if (rows < Rows)
      return indirect_rows<Rows - 1, Full, CS>(rows, a, lda, base, off, kcount,
                                               width, accumulate, out, ldo,
                                               bias, clamp);
  }
  constexpr int kVecs = int(kPanelWidth) / Vec::kLanes;
  if constexpr (kVecs == 2) {
    // A last panel of at most one vector (the stem's 16 pixels after three
    // panels of a 112-pixel row) takes one vector: two did twice its work.
    if (!Full && width <= Vec::kLanes)
      indirect_tile<Rows, 0, 1, false, CS>(a, lda, base, off, kcount, width,
                                           accumulate, out, ldo, bias, clamp);
    else
      indirect_tile<Rows, 0, 2, Full, CS>(a, lda, base, off, kcount, width,
                                          accumulate, out, ldo, bias, clamp);
  } else {
    indirect_tile<Rows, 0, kVecs / 2, Full, CS>(
        a, lda, base, off, kcount, width, accumulate, out, ldo, bias, clamp);
    if (Full || width > int64_t(kVecs / 2) * Vec::kLanes)
      indirect_tile<Rows, kVecs / 2, kVecs / 2, Full, CS>(
          a, lda, base, off, kcount, width, accumulate, out, ldo, bias, clamp);
  }
}

/// Rows per tile of a weight in row tiles (WeightData.h's row_tiles12):
/// AVX-512's row tiles, two of AVX2's.
constexpr int kWeightTileRows = 12;
static_assert(kWeightTileRows % panels::kMaxRows == 0,
              "a register tile of rows lies within one weight tile");

/// How conv2d feeds the product its pixels.
enum class Feed {
  /// 1x1, stride 1, no padding: the image is the [K, P] matrix itself;
  /// each 32-pixel panel is read in place (k's pixels at in + k * h * w).
  Image,
  /// Output rows of at least kRowPanelMin pixels: the image is copied
  /// once, zero-padded and split by column phase (conv_pad.h), and each
  /// panel (up to 32 pixels of one output row; where that takes fewer
  /// panels, 32 consecutive pixels of rows as wide as the padded ones,
  /// across row ends: virtual columns, in conv2d) read in
  /// place: tap (ic, ky, kx)'s pixels start at a fixed offset from the
  /// panel's first.
  PaddedImage,
  /// Otherwise: each panel's patches gathered (pack_panel).
  Packed,
};
/// Output rows narrower than this gather their patches: a panel of one
/// row would leave more than a quarter of its lanes empty.
constexpr int64_t kRowPanelMin = 24;
/// The fewest taps (K) a strided convolution's virtual columns need (see
/// conv2d).
constexpr int64_t kStridedVirtualK = 256;
/// The most floats the padded copy of the images holds at once.
constexpr int64_t kPaddedFloats = int64_t(16) << 20;

inline Feed feed_for(const Conv2dParams &p) {
  if (p.kh == 1 && p.kw == 1 && p.strides[0] == 1 && p.strides[1] == 1 &&
      p.pads[0] == 0 && p.pads[1] == 0 && p.pads[2] == 0 && p.pads[3] == 0 &&
      p.oh == p.h && p.ow == p.w)
    return Feed::Image;
  return p.ow >= kRowPanelMin ? Feed::PaddedImage : Feed::Packed;
}

/// out = conv(in, weight) + bias for float32 NCHW tensors (conv.h's
/// conv2d, whose parameters it takes). The threads split (image, group,
/// panel, row chunk) work items; a panel is up to 32 output pixels, fed
/// as feed_for chooses (read in place from the image or a padded copy of
/// it, through a table of K offsets, or gathered into the thread's slice
/// of one scratch block), and multiplied by the weight's rows in place
/// (row stride K: 12 rows of a tile are 12 streams along k, each line used
/// for 16 k), k block by k block; `epi` (conv.h) then runs on the item's
/// block (with virtual columns, on each output-row run of it). The padded
/// copy (PaddedImage) holds at most `paddedFloats` floats, or one image, at
/// a time. Returns 1 (with the run's error set) when out of memory.
template <class Epilogue>
int conv2d(const anvil_host_api *host, const Conv2dParams &p, const float *in,
           const float *weight, const float *bias, float *out,
           const Epilogue &epi, int64_t paddedFloats = kPaddedFloats) {
  using namespace panels;
  if (p.n <= 0) // an empty batch (a bounded dim at 0)
    return 0;
  const int64_t cg = p.c / p.group, mg = p.m / p.group;
  const int64_t K = cg * p.kh * p.kw, P = p.oh * p.ow;
  const int64_t rowTiles = (mg + kMaxRows - 1) / kMaxRows;
  const int64_t panelFloats = K * kPanelWidth;
  const int threads = std::max(1, host ? int(host->num_threads) : 1);
  const Feed feed = feed_for(p);
  // The weight in row tiles (layout row_tiles12, group 1: the packer's
  // choice): each tile's 12 broadcasts per k are one 48-byte run.
  const bool tiled = p.weight_tile_rows != 0;
  if (tiled && (p.weight_tile_rows != kWeightTileRows || p.group != 1)) {
    fail(host, "conv: a weight in row tiles needs tiles of 12 rows and "
               "group 1");
    return 1;
  }
  // A Relu/Clip epilogue goes into the last k block's stores (or the
  // gathered feed's bias pass) instead of a call.
  const ClampBounds *const clamp = clamp_of(epi);
  // Virtual columns (the padded image, where they take fewer panels than
  // rows do): panels run over oh x phaseCols outputs, the padded rows'
  // width, across row ends (a tap still reads at a fixed offset); the
  // columns past ow are computed and dropped. 56-wide rows fill 56 of 58
  // lanes instead of 56 of 64, a stride-2 layer's 28-wide ones 28 of 29
  // instead of 32 (a 1-D convolution, or a dilated kernel's wide padding,
  // would fill fewer). Each output is the same FMA chain wherever its lane
  // is. At strides, only for K >= kStridedVirtualK: the outputs' copy out
  // of the per-thread block costs what the lanes save when K is small
  // (MobileNetV2's 3x3/2 stem, K 27: 0.246 -> 0.284 ms; ResNet's 7x7/2,
  // K 147: 2.18 -> 2.32), where ResNet's 3x3/2 layers (K 576 and up) gain
  // 13-16%.
  const conv_pad::Padded rowsOnly = conv_pad::padded_size(p);
  const int64_t sx = p.strides[1];
  const int64_t panelsPerRow = (p.ow + kPanelWidth - 1) / kPanelWidth;
  const int64_t virtualPixels = p.oh * rowsOnly.phaseCols;
  const bool unitStrides = sx == 1 && p.strides[0] == 1;
  const bool virtualColumns =
      feed == Feed::PaddedImage && (unitStrides || K >= kStridedVirtualK) &&
      (virtualPixels + kPanelWidth - 1) / kPanelWidth < p.oh * panelsPerRow;
  // The padded planes (PaddedImage): each input channel in sx column
  // phases of [rows][phaseCols]; with virtual columns at a row stride,
  // each column phase split by row phase too (conv_pad.h), so consecutive
  // output rows read consecutive phase rows.
  conv_pad::Padded padded = rowsOnly;
  if (virtualColumns)
    padded.rowPhases = p.strides[0];
  const int64_t phaseSize = padded.phaseSize();
  const int64_t padPlane = sx * phaseSize;
  // Panels: of the whole [P] pixel range, of each output row, or of the
  // virtual columns.
  const bool rowPanels = feed == Feed::PaddedImage && !virtualColumns;
  const int64_t panelsPerImage =
      virtualColumns ? (virtualPixels + kPanelWidth - 1) / kPanelWidth
      : rowPanels    ? p.oh * panelsPerRow
                     : (P + kPanelWidth - 1) / kPanelWidth;
  // The padded copy holds at most kPaddedFloats (64 MiB) at a time: a
  // large batch is worked a few images per pass.
  const int64_t imagesPerPass =
      feed == Feed::PaddedImage
          ? std::clamp<int64_t>(
                paddedFloats / std::max<int64_t>(1, p.c * padPlane), 1, p.n)
          : p.n;
  // Work items of a pass: every (image, group, panel), and the row tiles
  // cut into chunks when that gives fewer than 4 items per thread (the last
  // layers of a CNN have a 7x7 output: two panels).
  const int64_t panelItems = imagesPerPass * p.group * panelsPerImage;
  const int64_t wantedChunks = std::clamp<int64_t>(
      (4 * threads + panelItems - 1) / panelItems, 1, rowTiles);
  const int64_t tilesPerChunk = (rowTiles + wantedChunks - 1) / wantedChunks;
  // No empty chunk: 43 row tiles wanted in 32 chunks are 22 of 2.
  const int64_t rowChunks = (rowTiles + tilesPerChunk - 1) / tilesPerChunk;
  // Virtual columns: a panel's dropped columns read up to (kw - 1) x
  // dilation floats past the last plane (zeros here, and a whole 64-byte
  // line more), and each thread sums its item's rows into [rows][32]
  // (64-byte aligned rows) before they are copied to the output rows.
  const int64_t imageFloats = imagesPerPass * p.c * padPlane;
  const int64_t sumsAt =
      virtualColumns ? (imageFloats + padded.phaseCols + 31) / 16 * 16 : 0;
  const int64_t itemFloats =
      virtualColumns ? tilesPerChunk * kMaxRows * kPanelWidth : 0;
  const size_t floats =
      feed == Feed::Packed ? size_t(int64_t(threads) * panelFloats)
      : feed == Feed::PaddedImage
          ? size_t(virtualColumns ? sumsAt + int64_t(threads) * itemFloats
                                  : imageFloats)
          : 0;
  // Outside a parallel loop the calling thread is thread 0; no chunk below
  // asks for scratch, so the block stays valid through the loops.
  std::unique_ptr<float[]> own;
  float *buffer =
      floats ? scratch_or_own<float>(host, 0, floats, own) : nullptr;
  std::unique_ptr<int64_t[]> offsets(
      feed == Feed::Packed ? nullptr : new (std::nothrow) int64_t[K]);
  if ((floats && !buffer) || (feed != Feed::Packed && !offsets)) {
    fail(host, "conv: out of memory for the patch panels");
    return 1;
  }
  if (virtualColumns)
    std::fill(buffer + imageFloats, buffer + sumsAt, 0.0f);
  if (feed == Feed::Image) {
    for (int64_t ic = 0; ic < cg; ++ic) // K = cg: one tap a channel
      offsets[ic] = ic * p.h * p.w;
  } else if (feed == Feed::PaddedImage) {
    conv_pad::tap_offsets(p, padded, cg, padPlane, offsets.get());
  }
  for (int64_t b0 = 0; b0 < p.n; b0 += imagesPerPass) {
    const int64_t images = std::min(imagesPerPass, p.n - b0);
    if (feed == Feed::PaddedImage) {
      parallel_for(host, images * p.c, std::max<int64_t>(1, 65536 / padPlane),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t plane = begin; plane < end; ++plane)
                       conv_pad::pad_plane(p, padded,
                                           in + (b0 * p.c + plane) * p.h * p.w,
                                           buffer + plane * padPlane);
                   });
    }
    const int64_t items = images * p.group * panelsPerImage * rowChunks;
    const int64_t itemMacs =
        std::max<int64_t>(1, tilesPerChunk * kMaxRows * K * kPanelWidth);
    const int64_t grain = std::max<int64_t>(1, kMinChunkMacs / itemMacs);
    parallel_for(host, items, grain, [&](int64_t begin, int64_t end, int t) {
      float *col =
          feed == Feed::Packed ? buffer + int64_t(t) * panelFloats : nullptr;
      int64_t packedItem = -1; // the (image, group, panel) col holds
      for (int64_t item = begin; item < end; ++item) {
        const int64_t chunk = item % rowChunks, panelItem = item / rowChunks;
        const int64_t panel = panelItem % panelsPerImage;
        const int64_t g = (panelItem / panelsPerImage) % p.group;
        const int64_t b = b0 + panelItem / (panelsPerImage * p.group);
        const int64_t oy = rowPanels ? panel / panelsPerRow : 0;
        const int64_t ox0 = rowPanels ? panel % panelsPerRow * kPanelWidth
                                      : panel * kPanelWidth;
        const int64_t pix0 = oy * p.ow + ox0;
        const int64_t width =
            std::min(kPanelWidth, (rowPanels        ? p.ow
                                   : virtualColumns ? virtualPixels
                                                    : P) -
                                      ox0);
        const float *image = nullptr; // the panel's k = 0 pixels (in place)
        if (feed == Feed::Image)
          image = in + (b * p.c + g * cg) * p.h * p.w + pix0;
        else if (feed == Feed::PaddedImage)
          image = buffer + ((b - b0) * p.c + g * cg) * padPlane +
                  oy * p.strides[0] * padded.phaseCols + ox0; // virtual: oy = 0
        else if (packedItem != panelItem) {
          pack_panel(p, in + (b * p.c + g * cg) * p.h * p.w, cg, pix0, width,
                     col);
          packedItem = panelItem;
        }
        const float *wg = weight + g * mg * K;
        // Row i's weights from k0 on: in place, or in its row tile.
        auto rows_at = [&](int64_t i, int64_t k0) {
          return tiled ? weight +
                             (i / kWeightTileRows * K + k0) * kWeightTileRows +
                             i % kWeightTileRows
                       : wg + i * K + k0;
        };
        const int64_t i0 = chunk * tilesPerChunk * kMaxRows;
        const int64_t i1 = std::min(mg, i0 + tilesPerChunk * kMaxRows);
        // The product's row i lands at o + (i - i0) * ldo: in place in
        // the output, or (virtual columns) in the thread's [rows][32].
        const int64_t ldo = virtualColumns ? kPanelWidth : P;
        float *const planes = out + (b * p.m + g * mg) * P;
        float *const o = virtualColumns ? buffer + sumsAt + t * itemFloats
                                        : planes + i0 * P + pix0;
        for (int64_t k0 = 0; k0 < K; k0 += kBlock) {
          const int64_t k1 = std::min(K, k0 + kBlock);
          if (image) {
            // The bias goes in with the last k block's stores.
            const float *rowBias =
                p.has_bias && k1 == K ? bias + g * mg : nullptr;
            const ClampBounds *lastClamp = k1 == K ? clamp : nullptr;
            for (int64_t i = i0; i < i1; i += kMaxRows) {
              const int64_t r = std::min<int64_t>(kMaxRows, i1 - i);
              const float *tileBias = rowBias ? rowBias + i : nullptr;
              const float *a = rows_at(i, k0);
              float *const oi = o + (i - i0) * ldo;
              const int64_t *const off = offsets.get() + k0;
              if (tiled && width == kPanelWidth)
                indirect_rows<kMaxRows, true, kWeightTileRows>(
                    r, a, 0, image, off, k1 - k0, width, k0 > 0, oi, ldo,
                    tileBias, lastClamp);
              else if (tiled)
                indirect_rows<kMaxRows, false, kWeightTileRows>(
                    r, a, 0, image, off, k1 - k0, width, k0 > 0, oi, ldo,
                    tileBias, lastClamp);
              else if (width == kPanelWidth)
                indirect_rows<kMaxRows, true, 0>(r, a, K, image, off, k1 - k0,
                                                 width, k0 > 0, oi, ldo,
                                                 tileBias, lastClamp);
              else
                indirect_rows<kMaxRows, false, 0>(r, a, K, image, off, k1 - k0,
                                                  width, k0 > 0, oi, ldo,
                                                  tileBias, lastClamp);
            }
            continue;
          }
          const Span span{width, K, k0, k1, 0, 1, k0 > 0};
          for (int64_t i = i0; i < i1; i += kMaxRows) {
            const int64_t r = std::min<int64_t>(kMaxRows, i1 - i);
            if (tiled)
              tile_rows<kMaxRows, kWeightTileRows>(r, rows_at(i, k0), 0, col,
                                                   span, o + (i - i0) * P, P);
            else
              tile_rows<kMaxRows, 0>(r, rows_at(i, k0), K, col, span,
                                     o + (i - i0) * P, P);
          }
        }
        if ((p.has_bias || clamp) && !image) { // (image: by indirect_rows)
          const Vec lo = Vec::splat(clamp ? clamp->lo : 0.0f),
                    hi = Vec::splat(clamp ? clamp->hi : 0.0f);
          for (int64_t i = i0; i < i1; ++i) {
            const Vec bv = Vec::splat(p.has_bias ? bias[g * mg + i] : 0.0f);
            float *row = o + (i - i0) * P;
            for (int64_t j = 0; j < width; j += Vec::kLanes) {
              const typename Vec::Mask lanes = Vec::mask(width - j);
              Vec x = Vec::load(row + j, lanes);
              if (p.has_bias)
                x = Vec::add(x, bv);
              if (clamp)
                x = Vec::clamp(x, lo, hi);
              x.store(row + j, lanes);
            }
          }
        }
        const int64_t row0 = b * p.m + g * mg;
        if (virtualColumns) {
          // The panel's virtual pixels [ox0, ox0 + width) are runs of
          // output rows (oy, ox < ow), each copied to its place and handed
          // to the epilogue; the columns past ow are dropped.
          for (int64_t v = ox0; v < ox0 + width;) {
            const int64_t vy = v / padded.phaseCols, vx = v % padded.phaseCols;
            const int64_t len = std::min(p.ow - vx, ox0 + width - v);
            if (len > 0) {
              const int64_t at = vy * p.ow + vx;
              for (int64_t i = i0; i < i1; ++i)
                conv_pad::copy_run(planes + i * P + at,
                                   o + (i - i0) * kPanelWidth + (v - ox0), len);
              if constexpr (!is_no_epilogue<Epilogue>())
                if (!clamp)
                  epi(row0 + i0, row0 + i1, at, at + len);
            }
            v += padded.phaseCols - vx; // the next virtual row
          }
          continue;
        }
        if constexpr (!is_no_epilogue<Epilogue>())
          if (!clamp)
            epi(row0 + i0, row0 + i1, pix0, pix0 + width);
      }
    });
  }
  return run_failed(host) ? 1 : 0;
}

/// Pixel rows (the launch's weight_panel = 32): for outputs of few pixels
/// (the 7 x 7 planes of a CNN's last stage: 49 pixels are a panel of 32
/// and one of 17, 77% of the lanes used), the product is taken the other
/// way around, out^T[P, M] = patches^T[P, K] x W^T[K, M]: the output
/// channels fill the vector lanes (the weight in column panels of 32
/// channels, packed at compile time: layout nk_panels32) and the pixels
/// are the tiles' rows (12 per tile, packed as matmul_panels.h packs an
/// lhs, [K][12] per tile, zeros for taps in the padding). The product
/// lands in [P, M] scratch and is transposed into out[M, P] with + bias.
/// Every output is one FMA chain over k in increasing order, then + bias:
/// the bits of conv2d above. group 1 only (the packer's choice).
inline bool pixel_rows_chosen(const Conv2dParams &p) {
  return p.weight_panel != 0;
}

/// Pixels per row tile: P split evenly over the fewest tiles of at most
/// kMaxRows (49 pixels: 5 tiles of 10 and 9, not four of 12 and one of 1,
/// whose tile loads 4 weight panels for each pixel's FMAs).
inline int64_t pixel_tile_rows(int64_t pixels) {
  using panels::kMaxRows;
  const int64_t tiles = (pixels + kMaxRows - 1) / kMaxRows;
  return tiles > 0 ? (pixels + tiles - 1) / tiles : kMaxRows;
}

/// Row tile `tile` of a plain 1x1 image `x` ([K, P]: Feed::Image) into dst
/// [K][kMaxRows] (row r: output pixel tile * tileRows + r for r < tileRows;
/// the other rows zero): 12 consecutive pixels per k, in masked vector
/// copies (a memcpy call per k of 12 floats cost more than the copy).
inline void pack_pixel_tile(const Conv2dParams &p, const float *x,
                            int64_t tileRows, int64_t tile, float *dst) {
  using panels::kMaxRows;
  const int64_t K = p.c, P = p.oh * p.ow;
  const int64_t j0 = tile * tileRows;
  const int64_t rows = std::min<int64_t>(tileRows, P - j0);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t r = 0; r < kMaxRows; r += Vec::kLanes)
      Vec::load(x + k * P + j0 + r, Vec::mask(rows - r))
          .store(dst + k * kMaxRows + r, Vec::mask(kMaxRows - r));
}

/// The padded copy pixel rows read their taps from (every feed but the
/// plain 1x1 image): the image's planes as conv_pad.h pads them (column
/// phases, no row phases), and each tap k = (ic, ky, kx)'s offset from
/// its output pixel's, so that output pixel (oy, ox)'s tap k is at
/// planes[taps[k] + oy * sy * phaseCols + ox] and a run of one output
/// row's pixels is a run of floats: no tap in the padding to test for.
struct PaddedTaps {
  conv_pad::Padded padded;
  int64_t plane;       // floats per padded plane (all column phases)
  const float *planes; // [c][plane]
  const int64_t *taps; // [K]
};

/// Row tile `tile` of the patches into dst [K][kMaxRows], as
/// pack_pixel_tile (the same values), from the padded copy: the tile's
/// pixels are runs of output rows (two for a 12-pixel tile of rows at
/// least 12 wide), each copied per k with masked vector loads and stores.
inline void pack_padded_pixel_tile(const Conv2dParams &p, const PaddedTaps &t,
                                   int64_t tileRows, int64_t tile, float *dst) {
  using panels::kMaxRows;
  const int64_t K = p.c * p.kh * p.kw, P = p.oh * p.ow;
  const int64_t j0 = tile * tileRows;
  const int64_t rows = std::min<int64_t>(tileRows, P - j0);
  // The tile's runs of output rows: start row in the tile, length, and
  // the run's first pixel's offset in a padded plane.
  // A run of up to 12 pixels is one vector's masked copy (two on 8-lane
  // builds: each piece of at most 8 is a run of its own here).
  struct PixelRun {
    int64_t r, at;
    typename Vec::Mask lanes;
  } runs[kMaxRows];
  int nruns = 0;
  for (int64_t r = 0; r < rows;) {
    const int64_t oy = (j0 + r) / p.ow, ox = (j0 + r) % p.ow;
    const int64_t count = std::min({rows - r, p.ow - ox, int64_t(Vec::kLanes)});
    runs[nruns++] = {r, oy * p.strides[0] * t.padded.phaseCols + ox,
                     Vec::mask(count)};
    r += count;
  }
  for (int64_t k = 0; k < K; ++k) {
    float *d = dst + k * kMaxRows;
    const float *src = t.planes + t.taps[k];
    for (int i = 0; i < nruns; ++i)
      Vec::load(src + runs[i].at, runs[i].lanes)
          .store(d + runs[i].r, runs[i].lanes);
    for (int64_t r = rows; r < kMaxRows; r += Vec::kLanes)
      Vec::zero().store(d + r, Vec::mask(kMaxRows - r));
  }
}

/// conv2d (above) with the weight in column panels ([K, M], layout
/// nk_panels32) and group 1: see pixel_rows_chosen. Returns 1 (with the
/// run's error set) when out of memory.
template <class Epilogue>
int conv2d_pixel_rows(const anvil_host_api *host, const Conv2dParams &p,
                      const float *in, const float *weight, const float *bias,
                      float *out, const Epilogue &epi) {
  using namespace panels;
  if (p.n <= 0)
    return 0;
  if (p.group != 1 || p.weight_panel != kPanelWidth) {
    fail(host, "conv: a weight in column panels needs group 1 and panels of "
               "32 channels");
    return 1;
  }
  const int64_t K = p.c * p.kh * p.kw, P = p.oh * p.ow, M = p.m;
  const int64_t tileRows = pixel_tile_rows(P);
  const int64_t rowTiles = (P + tileRows - 1) / tileRows;
  const int64_t packedFloats = rowTiles * kMaxRows * K;
  // Every feed but the plain 1x1 image packs its tiles from a padded copy
  // of the image (PaddedTaps).
  const bool fromPadded = feed_for(p) != Feed::Image;
  PaddedTaps padded{conv_pad::padded_size(p), 0, nullptr, nullptr};
  padded.plane = p.strides[1] * padded.padded.phaseSize();
  const int64_t paddedFloats = fromPadded ? p.c * padded.plane : 0;
  // One block of thread 0's scratch: the packed patches, the product [P,
  // M], then the padded copy. Outside a parallel loop the calling thread
  // is thread 0, and no chunk below asks for scratch memory.
  std::unique_ptr<float[]> own;
  float *packed = scratch_or_own<float>(
      host, 0, size_t(packedFloats + P * M + paddedFloats), own);
  std::unique_ptr<int64_t[]> taps(fromPadded ? new (std::nothrow) int64_t[K]
                                             : nullptr);
  if (!packed || (fromPadded && !taps)) {
    fail(host, "conv: out of memory for the pixel rows");
    return 1;
  }
  float *product = packed + packedFloats;
  float *planes = product + P * M;
  if (fromPadded) {
    conv_pad::tap_offsets(p, padded.padded, p.c, padded.plane, taps.get());
    padded.planes = planes;
    padded.taps = taps.get();
  }
  for (int64_t b = 0; b < p.n; ++b) {
    const float *x = in + b * p.c * p.h * p.w;
    if (fromPadded)
      parallel_for(host, p.c, std::max<int64_t>(1, 65536 / padded.plane),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t ic = begin; ic < end; ++ic)
                       conv_pad::pad_plane(p, padded.padded, x + ic * p.h * p.w,
                                           planes + ic * padded.plane, b > 0);
                   });
    parallel_for(
        host, rowTiles,
        std::max<int64_t>(1, kMinChunkMacs /
                                 (8 * kMaxRows * std::max<int64_t>(K, 1))),
        [&](int64_t begin, int64_t end) {
          for (int64_t tile = begin; tile < end; ++tile) {
            float *dst = packed + tile * kMaxRows * K;
            if (fromPadded)
              pack_padded_pixel_tile(p, padded, tileRows, tile, dst);
            else
              pack_pixel_tile(p, x, tileRows, tile, dst);
          }
        });
    if (K == 0) {
      for (int64_t e = 0; e < P * M; ++e)
        product[e] = 0;
    } else {
      product_packed_rows(
          host, P, M, K, packed, weight, product, [](int64_t, int64_t) {},
          tileRows);
    }
    // out[b, m, :] = product[:, m] + bias[m], 16 channels at a time (a
    // line of each product row; one channel at a time would read the
    // product M floats apart, all in one L1 set when M is 1024 or 2048),
    // channels split over the threads; a clamp epilogue is applied here,
    // any other runs on each chunk's finished rows.
    const ClampBounds *const clamp = clamp_of(epi);
    float *o = out + b * M * P;
    parallel_for(host, (M + 15) / 16,
                 std::max<int64_t>(1, 256 / std::max<int64_t>(P, 1)),
                 [&](int64_t c0, int64_t c1) {
                   const int64_t m0 = c0 * 16, m1 = std::min(M, c1 * 16);
                   for (int64_t mb = m0; mb < m1; mb += 16) {
                     const int64_t me = std::min(m1, mb + 16);
                     for (int64_t j = 0; j < P; ++j) {
                       const float *src = product + j * M;
                       for (int64_t m = mb; m < me; ++m) {
                         const float x = p.has_bias ? src[m] + bias[m] : src[m];
                         o[m * P + j] = clamp ? clamp_nan(x, *clamp) : x;
                       }
                     }
                   }
                   if constexpr (!is_no_epilogue<Epilogue>())
                     if (!clamp)
                       epi(b * M + m0, b * M + m1, 0, P);
                 });
  }
  return run_failed(host) ? 1 : 0;
}

} // namespace conv_gemm
} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_CONV_GEMM_H
