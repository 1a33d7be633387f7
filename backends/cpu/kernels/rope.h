// rope.h - rotary position embedding (RoPE, Su et al. 2021): the `rope`
// kernel, and the row rotation that kv_write and paged_attention apply to
// the new keys and the queries when anvil-fuse-rope folded a rope into them.
#ifndef ANVIL_CPU_KERNELS_ROPE_H
#define ANVIL_CPU_KERNELS_ROPE_H

#include "common.h"

namespace anvil {
namespace cpu {

/// Rotates one row of d values: each pair (x1, x2) of the first `rot`
/// values (rot even, <= d) becomes (x1 cos - x2 sin, x2 cos + x1 sin) with
/// the pair's entry of cos/sin (rot/2 each); pairs are (2i, 2i+1) when
/// `interleaved`, else (i, i + rot/2) (Llama's "rotate half"). The rest of
/// the row is copied. In double, rounded once to T: the rope kernel and the
/// fused rotations of kv_write and paged_attention give the same bits.
/// `y` may not alias `x`.
template <class T, class C>
inline void rope_row(const T *x, const C *cos, const C *sin, int64_t d,
                     int64_t rot, bool interleaved, T *y) {
  const int64_t half = rot / 2;
  for (int64_t j = 0; j < half; ++j) {
    int64_t a = interleaved ? 2 * j : j;
    int64_t b = interleaved ? 2 * j + 1 : j + half;
    double c = double(cos[j]), s = double(sin[j]);
    double x1 = double(x[a]), x2 = double(x[b]);
    y[a] = static_cast<T>(x1 * c - x2 * s);
    y[b] = static_cast<T>(x2 * c + x1 * s);
  }
  for (int64_t j = rot; j < d; ++j)
    y[j] = x[j];
}

/// The rotary tables a fused kernel applies to its rows first: row t of
/// cos and sin ([rows, rot/2]) rotates token t's heads. Empty (`cos` null)
/// when nothing was fused.
template <class C> struct RopeTables {
  const C *cos = nullptr;
  const C *sin = nullptr;
  int64_t rows = 0; // the tables' rows: must be the kernel's tokens
  int64_t rot = 0;  // the rotated part of each head row (even)
  bool interleaved = false;
};

/// Fails the run when fused rotary tables do not have one row per token
/// (the graph types left it unproven: both were dynamic).
template <class C>
inline int check_rope_rows(const anvil_host_api *host, const char *kernel,
                           const RopeTables<C> &rope, int64_t tokens) {
  if (!rope.cos || rope.rows == tokens)
    return 0;
  char message[160];
  std::snprintf(message, sizeof message,
                "%s: rotary tables of %lld rows for %lld tokens", kernel,
                (long long)rope.rows, (long long)tokens);
  return fail(host, message);
}

/// Rotary position embedding over [..., seq, head_dim]: each row takes the
/// cos/sin row its leading index selects (table_strides, 0 where the tables
/// broadcast); see rope_row.
template <class T, class C>
int rope(const anvil_host_api *host, const RopeParams &p, const T *in,
         const C *cos, const C *sin, T *out) {
  const int64_t d = p.shape[p.rank - 1];
  const int64_t rot = p.rotary_dim > 0 ? p.rotary_dim : d;
  int64_t rows = 1;
  for (int64_t i = 0; i + 1 < p.rank; ++i)
    rows *= p.shape[i];
  parallel_for(host, rows, 64, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      int64_t table = 0, rest = row;
      for (int64_t i = p.rank - 2; i >= 0; --i) {
        table += (rest % p.shape[i]) * p.table_strides[i];
        rest /= p.shape[i];
      }
      rope_row(in + row * d, cos + table, sin + table, d, rot, p.interleaved,
               out + row * d);
    }
  });
  return 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_ROPE_H
