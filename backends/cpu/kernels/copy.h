// copy.h - data movement: strided copies (transpose, slice, concat, split,
// broadcast), padding and tiling.
#ifndef ANVIL_CPU_KERNELS_COPY_H
#define ANVIL_CPU_KERNELS_COPY_H

#include "common.h"

namespace anvil {
namespace cpu {

/// dst[dst_offset + i . dst_strides] = src[src_offset + i . src_strides] for
/// every index i of `shape`. The innermost dim is a loop (memcpy when both
/// sides are contiguous); the outer dims are walked with a counter.
template <class T>
int copy_strided(const anvil_host_api *host, const CopyStridedParams &p,
                 const T *src, T *dst) {
  int64_t rank = p.rank;
  if (rank == 0) {
    dst[p.dst_offset] = src[p.src_offset];
    return 0;
  }
  int64_t inner = p.shape[rank - 1];
  int64_t sInner = p.src_strides[rank - 1], dInner = p.dst_strides[rank - 1];
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < rank; ++d)
    rows *= p.shape[d];
  parallel_for(host, rows, (1 << 16) / (inner + 1) + 1,
               [&](int64_t begin, int64_t end) {
                 for (int64_t row = begin; row < end; ++row) {
                   int64_t s = p.src_offset, d = p.dst_offset, rest = row;
                   for (int64_t k = rank - 2; k >= 0; --k) {
                     int64_t i = rest % p.shape[k];
                     rest /= p.shape[k];
                     s += i * p.src_strides[k];
                     d += i * p.dst_strides[k];
                   }
                   if (sInner == 1 && dInner == 1) {
                     std::memcpy(dst + d, src + s, sizeof(T) * inner);
                   } else {
                     for (int64_t i = 0; i < inner; ++i)
                       dst[d + i * dInner] = src[s + i * sInner];
                   }
                 }
               });
  return 0;
}

template <class T>
int pad(const anvil_host_api *, const PadParams &p, const T *in, T *out) {
  int64_t total = 1;
  for (int64_t d = 0; d < p.rank; ++d)
    total *= p.out_shape[d];
  int mode = std::strcmp(p.mode, "constant") == 0  ? 0
             : std::strcmp(p.mode, "reflect") == 0 ? 1
             : std::strcmp(p.mode, "edge") == 0    ? 2
                                                   : 3;
  for (int64_t o = 0; o < total; ++o) {
    int64_t rest = o, src = 0, stride = 1;
    bool inside = true;
    for (int64_t d = p.rank - 1; d >= 0; --d) {
      int64_t i = rest % p.out_shape[d] - p.pads[d];
      rest /= p.out_shape[d];
      int64_t n = p.in_shape[d];
      if (i < 0 || i >= n) {
        if (mode == 0 || n == 0) {
          inside = false;
        } else if (mode == 1) {
          int64_t period = 2 * (n - 1);
          if (period == 0)
            i = 0;
          else {
            i = ((i % period) + period) % period;
            if (i >= n)
              i = period - i;
          }
        } else if (mode == 2) {
          i = i < 0 ? 0 : n - 1;
        } else {
          i = ((i % n) + n) % n;
        }
      }
      src += i * stride;
      stride *= n;
    }
    out[o] = inside ? in[src] : static_cast<T>(p.value);
  }
  return 0;
}

template <class T>
int tile(const anvil_host_api *, const TileParams &p, const T *in, T *out) {
  int64_t total = 1;
  for (int64_t d = 0; d < p.rank; ++d)
    total *= p.out_shape[d];
  for (int64_t o = 0; o < total; ++o) {
    int64_t rest = o, src = 0, stride = 1;
    for (int64_t d = p.rank - 1; d >= 0; --d) {
      int64_t i = rest % p.out_shape[d];
      rest /= p.out_shape[d];
      src += (i % p.in_shape[d]) * stride;
      stride *= p.in_shape[d];
    }
    out[o] = in[src];
  }
  return 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_COPY_H
