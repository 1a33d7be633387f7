// indexing.h - kernels driven by index tensors (gather, scatter) and by
// element positions (trilu, range). Indices out of range are an error,
// reported through the host log, never a wild read.
#ifndef ANVIL_CPU_KERNELS_INDEXING_H
#define ANVIL_CPU_KERNELS_INDEXING_H

#include "common.h"

namespace anvil {
namespace cpu {

/// out[o, j, i] = data[o, indices[j], i] over `outer` x `count` x `inner`
/// (ONNX Gather; negative indices count from the end of the axis). Rows of
/// `outer` are split over the threads. An inner size of 1 (a gather along
/// the last axis: the act-order permutation of K in front of a quantized
/// matmul, for every token's row) copies elements directly rather than
/// through a memcpy call each.
template <class T, class I>
int gather(const anvil_host_api *host, const GatherParams &p, const T *data,
           const I *indices, T *out) {
  for (int64_t j = 0; j < p.count; ++j) {
    int64_t index = static_cast<int64_t>(indices[j]);
    if (!normalize_index(index, p.axis_size))
      return fail(host, "gather: an index is out of range");
  }
  const int64_t rowElements = p.count * p.inner;
  parallel_for(host, p.outer, (1 << 16) / (rowElements + 1) + 1,
               [&](int64_t begin, int64_t end) {
                 for (int64_t o = begin; o < end; ++o) {
                   T *dst = out + o * rowElements;
                   const T *src = data + o * p.axis_size * p.inner;
                   for (int64_t j = 0; j < p.count; ++j) {
                     int64_t index = static_cast<int64_t>(indices[j]);
                     normalize_index(index, p.axis_size);
                     if (p.inner == 1)
                       dst[j] = src[index];
                     else
                       std::memcpy(dst + j * p.inner, src + index * p.inner,
                                   sizeof(T) * p.inner);
                   }
                 }
               });
  return 0;
}

template <class T, class I>
int gather_elements(const anvil_host_api *host, const GatherElementsParams &p,
                    const T *data, const I *indices, T *out) {
  int64_t total = 1;
  for (int64_t d = 0; d < p.rank; ++d)
    total *= p.index_shape[d];
  for (int64_t o = 0; o < total; ++o) {
    int64_t rest = o, src = 0, stride = 1;
    for (int64_t d = p.rank - 1; d >= 0; --d) {
      int64_t i = rest % p.index_shape[d];
      rest /= p.index_shape[d];
      if (d == p.axis) {
        i = static_cast<int64_t>(indices[o]);
        if (!normalize_index(i, p.in_shape[d]))
          return fail(host, "gather_elements: an index is out of range");
      }
      src += i * stride;
      stride *= p.in_shape[d];
    }
    out[o] = data[src];
  }
  return 0;
}

/// `out` already holds the input; tuples write (or combine) their slices.
template <class I, class T>
int scatter_nd(const anvil_host_api *host, const ScatterNdParams &p,
               const I *indices, const T *updates, T *out) {
  int mode = !std::strcmp(p.reduction, "add")   ? 1
             : !std::strcmp(p.reduction, "mul") ? 2
             : !std::strcmp(p.reduction, "max") ? 3
             : !std::strcmp(p.reduction, "min") ? 4
                                                : 0;
  for (int64_t j = 0; j < p.count; ++j) {
    int64_t offset = 0;
    for (int64_t d = 0; d < p.depth; ++d) {
      int64_t i = static_cast<int64_t>(indices[j * p.depth + d]);
      if (!normalize_index(i, p.data_shape[d]))
        return fail(host, "scatter_nd: an index is out of range");
      offset = offset * p.data_shape[d] + i;
    }
    T *dst = out + offset * p.slice;
    const T *src = updates + j * p.slice;
    for (int64_t s = 0; s < p.slice; ++s) {
      switch (mode) {
      case 1:
        dst[s] += src[s];
        break;
      case 2:
        dst[s] *= src[s];
        break;
      case 3:
        dst[s] = max_nan(dst[s], src[s]);
        break;
      case 4:
        dst[s] = min_nan(dst[s], src[s]);
        break;
      default:
        dst[s] = src[s];
        break;
      }
    }
  }
  return 0;
}

template <class T>
int trilu(const anvil_host_api *, const TriluParams &p, const T *in, T *out) {
  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t r = 0; r < p.rows; ++r)
      for (int64_t c = 0; c < p.cols; ++c) {
        int64_t i = (b * p.rows + r) * p.cols + c;
        bool keep = p.upper ? c - r >= p.k : c - r <= p.k;
        out[i] = keep ? in[i] : T(0);
      }
  return 0;
}

template <class T>
int range(const anvil_host_api *, const RangeParams &p, const T *start,
          const T *delta, T *out) {
  // start + i * delta, written out so that the constant folder computes
  // the same: floats with one rounding in double (std::fma; the compiler
  // may contract a * b + c or not), integers wrapping.
  for (int64_t i = 0; i < p.count; ++i) {
    if constexpr (std::is_same<T, double>::value)
      out[i] = std::fma(double(i), delta[0], start[0]);
    else if constexpr (is_float_like<T>::value) // f16 and bf16 via float
      out[i] = static_cast<T>(static_cast<float>(
          std::fma(double(i), double(delta[0]), double(start[0]))));
    else
      out[i] = static_cast<T>(static_cast<uint64_t>(start[0]) +
                              static_cast<uint64_t>(i) *
                                  static_cast<uint64_t>(delta[0]));
  }
  return 0;
}

template <class T>
int size_values(const anvil_host_api *, const SizeValuesParams &p, T *out) {
  for (int64_t i = 0; i < p.count; ++i)
    out[i] = static_cast<T>(p.values[i]);
  return 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_INDEXING_H
