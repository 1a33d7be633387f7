// gather_scatter.h - index-driven kernels for ONNX's indexing ops:
// GatherND, ScatterElements, TopK and the small "one element per position"
// ops (OneHot, EyeLike, ReverseSequence). Indices out of range are an error
// reported through the host log, never a wild read or write.
#ifndef ANVIL_CPU_KERNELS_GATHER_SCATTER_H
#define ANVIL_CPU_KERNELS_GATHER_SCATTER_H

#include "common.h"

#include <algorithm>

namespace anvil {
namespace cpu {

/// ONNX GatherND: `batch` batches of `count` index tuples of `depth`
/// entries each; tuple entry d indexes a dim of size data_shape[d] (negative
/// entries count from the end); each tuple copies a contiguous slice of
/// `slice` elements. One batch of data holds prod(data_shape) * slice
/// elements.
template <class T, class I>
int gather_nd(const anvil_host_api *host, const GatherNdParams &p,
              const T *data, const I *indices, T *out) {
  int64_t batch_size = p.slice;
  for (int64_t d = 0; d < p.depth; ++d)
    batch_size *= p.data_shape[d];
  for (int64_t bi = 0; bi < p.batch; ++bi)
    for (int64_t j = 0; j < p.count; ++j) {
      int64_t tuple = bi * p.count + j, offset = 0;
      for (int64_t d = 0; d < p.depth; ++d) {
        int64_t i = static_cast<int64_t>(indices[tuple * p.depth + d]);
        if (!normalize_index(i, p.data_shape[d]))
          return fail(host, "gather_nd: an index is out of range");
        offset = offset * p.data_shape[d] + i;
      }
      std::memcpy(out + tuple * p.slice,
                  data + bi * batch_size + offset * p.slice,
                  sizeof(T) * p.slice);
    }
  return 0;
}

/// ONNX ScatterElements: `out` already holds the data (of data_shape);
/// each element of `indices` (of index_shape) names a position along
/// `axis`, the other coordinates its own; the matching `updates` element
/// replaces it or combines with it by `reduction` (none add mul max min).
template <class I, class T>
int scatter_elements(const anvil_host_api *host, const ScatterElementsParams &p,
                     const I *indices, const T *updates, T *out) {
  int mode = !std::strcmp(p.reduction, "add")   ? 1
             : !std::strcmp(p.reduction, "mul") ? 2
             : !std::strcmp(p.reduction, "max") ? 3
             : !std::strcmp(p.reduction, "min") ? 4
                                                : 0;
  int64_t total = 1;
  for (int64_t d = 0; d < p.rank; ++d)
    total *= p.index_shape[d];
  for (int64_t o = 0; o < total; ++o) {
    int64_t rest = o, dst = 0, stride = 1;
    for (int64_t d = p.rank - 1; d >= 0; --d) {
      int64_t i = rest % p.index_shape[d];
      rest /= p.index_shape[d];
      if (d == p.axis) {
        i = static_cast<int64_t>(indices[o]);
        if (!normalize_index(i, p.data_shape[d]))
          return fail(host, "scatter_elements: an index is out of range");
      }
      dst += i * stride;
      stride *= p.data_shape[d];
    }
    T &x = out[dst];
    switch (mode) {
    case 1:
      x = static_cast<T>(x + updates[o]);
      break;
    case 2:
      x = static_cast<T>(x * updates[o]);
      break;
    case 3:
      x = max_nan(x, updates[o]);
      break;
    case 4:
      x = min_nan(x, updates[o]);
      break;
    default:
      x = updates[o];
      break;
    }
  }
  return 0;
}

/// ONNX TopK along an axis seen as [outer, size, inner]: the k largest (or
/// smallest) elements of each row in order, equal values by lower index;
/// NaN counts as larger than every number. Outputs [outer, k, inner].
template <class T>
int top_k(const anvil_host_api *host, const TopKParams &p, const T *in,
          T *values, int64_t *indices) {
  if (p.k > p.size)
    return fail(host, "top_k: k exceeds the axis size");
  if (p.k == 0 || p.outer == 0 || p.inner == 0)
    return 0;
  int64_t *order = scratch<int64_t>(host, 0, static_cast<size_t>(p.size));
  if (!order)
    return fail(host, "top_k: out of scratch memory");
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t n = 0; n < p.inner; ++n) {
      const T *row = in + o * p.size * p.inner + n;
      // Integers compare as themselves, floats (16-bit ones too) as double.
      using Key = typename std::conditional<std::is_integral<T>::value, T,
                                            double>::type;
      auto value = [&](int64_t i) {
        return static_cast<Key>(row[i * p.inner]);
      };
      // a comes before b: larger (smaller) value, NaN largest, then lower
      // index.
      auto before = [&](int64_t a, int64_t b) {
        Key x = value(a), y = value(b);
        bool xn = x != x, yn = y != y;
        if (xn || yn) {
          if (xn && yn)
            return a < b;
          return p.largest ? xn : yn;
        }
        if (x != y)
          return p.largest ? x > y : x < y;
        return a < b;
      };
      for (int64_t i = 0; i < p.size; ++i)
        order[i] = i;
      std::partial_sort(order, order + p.k, order + p.size, before);
      for (int64_t j = 0; j < p.k; ++j) {
        int64_t at = (o * p.k + j) * p.inner + n;
        values[at] = row[order[j] * p.inner];
        indices[at] = order[j];
      }
    }
  return 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_GATHER_SCATTER_H
