// unfold.h - ops that scatter windows back into an image: Col2Im and
// MaxUnpool, channels first.
#ifndef ANVIL_CPU_KERNELS_UNFOLD_H
#define ANVIL_CPU_KERNELS_UNFOLD_H

#include "common.h"

namespace anvil {
namespace cpu {

/// ONNX Col2Im: `in` [n, c * prod(block), prod(counts)] -> `out`
/// [n, c, image...], 1 to 3 spatial dims (missing dims are 1). Column
/// (b, l) of channel ch adds to image position l * stride - pad_begin +
/// b * dilation (per dim, row-major b and l); positions outside the image
/// (in the padding) are dropped.
template <class T>
int col2im(const anvil_host_api *host, const Col2imParams &p, const T *in,
           T *out) {
  int64_t img[3] = {1, 1, 1}, blk[3] = {1, 1, 1}, cnt[3] = {1, 1, 1},
          s[3] = {1, 1, 1}, pb[3] = {0, 0, 0}, dl[3] = {1, 1, 1};
  for (int64_t i = 0; i < p.rank; ++i) {
    int64_t j = 3 - p.rank + i;
    img[j] = p.image[i], blk[j] = p.block[i], cnt[j] = p.counts[i];
    s[j] = p.strides[i], pb[j] = p.pads[i], dl[j] = p.dilations[i];
  }
  const int64_t imgSize = img[0] * img[1] * img[2],
                blkSize = blk[0] * blk[1] * blk[2],
                cols = cnt[0] * cnt[1] * cnt[2];
  using Acc = accumulator_t<T>;
  parallel_for(host, p.n * p.c, 1, [&](int64_t begin, int64_t end, int thread) {
    Acc *plane = scratch<Acc>(host, thread, imgSize ? imgSize : 1);
    if (!plane) {
      fail(host, "col2im: out of scratch memory");
      return;
    }
    for (int64_t nc = begin; nc < end; ++nc) {
      for (int64_t i = 0; i < imgSize; ++i)
        plane[i] = Acc(0);
      const T *x = in + nc * blkSize * cols;
      for (int64_t b = 0; b < blkSize; ++b) {
        const int64_t bz = b / (blk[1] * blk[2]), by = (b / blk[2]) % blk[1],
                      bx = b % blk[2];
        for (int64_t l = 0; l < cols; ++l) {
          const int64_t lz = l / (cnt[1] * cnt[2]), ly = (l / cnt[2]) % cnt[1],
                        lx = l % cnt[2];
          int64_t z = lz * s[0] - pb[0] + bz * dl[0];
          int64_t y = ly * s[1] - pb[1] + by * dl[1];
          int64_t xx = lx * s[2] - pb[2] + bx * dl[2];
          if (z < 0 || z >= img[0] || y < 0 || y >= img[1] || xx < 0 ||
              xx >= img[2])
            continue;
          plane[(z * img[1] + y) * img[2] + xx] +=
              static_cast<Acc>(x[b * cols + l]);
        }
      }
      T *o = out + nc * imgSize;
      for (int64_t i = 0; i < imgSize; ++i)
        o[i] = static_cast<T>(plane[i]);
    }
  });
  return run_failed(host) ? 1 : 0;
}

/// ONNX MaxUnpool as ONNX's reference defines it: each value of `in`
/// (`count` values) goes to flat position indices[i] of a zero tensor of
/// shape `unpooled` (the default output shape), which then sits at the
/// start of every dim of `out` (shape `out_shape`, at least as large; the
/// rest is zero). Both shapes have rank `rank` <= 5. An index outside
/// [0, prod(unpooled)) is an error.
template <class T, class I>
int max_unpool(const anvil_host_api *host, const MaxUnpoolParams &p,
               const T *in, const I *indices, T *out) {
  int64_t total = 1, unpooledTotal = 1;
  for (int64_t d = 0; d < p.rank; ++d) {
    total *= p.out_shape[d];
    unpooledTotal *= p.unpooled[d];
  }
  for (int64_t i = 0; i < total; ++i)
    out[i] = T(0);
  for (int64_t i = 0; i < p.count; ++i) {
    int64_t flat = static_cast<int64_t>(indices[i]);
    if (flat < 0 || flat >= unpooledTotal)
      return fail(host, "max_unpool: an index is outside the unpooled shape");
    int64_t offset = 0, stride = 1, rest = flat;
    for (int64_t d = p.rank - 1; d >= 0; --d) {
      offset += (rest % p.unpooled[d]) * stride;
      rest /= p.unpooled[d];
      stride *= p.out_shape[d];
    }
    out[offset] = in[i];
  }
  return 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_UNFOLD_H
