// paged_attention.h - the paged KV cache: writing new K/V rows at their
// slots, and attention of a flattened token batch through block tables
// (PagedAttention, Kwon et al. 2023; DESIGN "Execution model for decoder
// LLMs").
//
// Attention is flash-style (FlashAttention, Dao et al. 2022): float scores,
// an online softmax (running max and sum, rescaling the partial output when
// the max grows), so the scores of a row are never all held at once. Work
// is split over threads by (query tile, KV head): a tile is a run of up to
// kTileRows / group consecutive tokens of one sequence at consecutive
// positions; every query head of the KV head's group in the tile reads each
// K/V block once while it is in L1, which is both the GQA sharing of a
// decode step and the query-tile x key-block loop of a prefill.
#ifndef ANVIL_CPU_KERNELS_PAGED_ATTENTION_H
#define ANVIL_CPU_KERNELS_PAGED_ATTENTION_H

#include "common.h"
#include "rope.h"

#include <cstdio>

#if defined(__AVX512F__) || defined(__AVX2__) || defined(__F16C__)
#include <immintrin.h>
#endif

namespace anvil {
namespace cpu {

/// Fails the run when a token's slot (slots[t] for t < tokens; negative is
/// a padding token) lies past a pool of num_blocks x block_size slots,
/// before anything is written: the engine's slot mapping is input, not
/// trusted.
template <class S>
inline int check_slots(const anvil_host_api *host, int64_t tokens,
                       int64_t num_blocks, int64_t block_size, const S *slots) {
  const int64_t capacity = num_blocks * block_size;
  for (int64_t t = 0; t < tokens; ++t) {
    int64_t slot = static_cast<int64_t>(slots[t]);
    if (slot >= capacity) {
      char message[160];
      std::snprintf(message, sizeof message,
                    "kv_write: slot %lld of token %lld is outside the KV pool "
                    "of %lld blocks",
                    (long long)slot, (long long)t, (long long)num_blocks);
      return fail(host, message);
    }
  }
  return 0;
}

namespace paged {

/// The rotary tables a kernel's params and inputs describe (empty without
/// rope_dim).
template <class Params, class C>
RopeTables<C> rope_tables(const Params &p, const C *cos, const C *sin) {
  RopeTables<C> rope;
  if (p.rope_dim > 0) {
    rope.cos = cos;
    rope.sin = sin;
    rope.rows = p.rope_rows;
    rope.rot = p.rope_dim;
    rope.interleaved = p.rope_interleaved;
  }
  return rope;
}

/// The float K/V write; see kv_write.
template <class T, class S, class U, class C>
int write_rows(const anvil_host_api *host, const KvWriteParams &p,
               const T *rows, const S *slots, RopeTables<C> rope, U *pool) {
  if (check_slots(host, p.tokens, p.num_blocks, p.block_size, slots) ||
      check_rope_rows(host, "kv_write", rope, p.tokens))
    return 1;
  const int64_t heads = p.head_dim > 0 ? p.row_size / p.head_dim : 1;
  // A rotated row of another type than the pool's is built in T first, so
  // it rounds as the unfused rope then write did.
  T *rotated = nullptr;
  if (rope.cos && !std::is_same<T, U>::value &&
      !(rotated = scratch<T>(host, 0, size_t(p.head_dim))))
    return fail(host, "kv_write: out of scratch memory");
  // Rows are a few hundred bytes each: a copy per row, on one thread.
  for (int64_t t = 0; t < p.tokens; ++t) {
    int64_t slot = static_cast<int64_t>(slots[t]);
    if (slot < 0)
      continue;
    const T *src = rows + t * p.row_size;
    U *dst = pool + slot * p.row_size;
    if (rope.cos) {
      const int64_t half = rope.rot / 2;
      for (int64_t h = 0; h < heads; ++h) {
        const T *x = src + h * p.head_dim;
        U *y = dst + h * p.head_dim;
        if constexpr (std::is_same<T, U>::value) {
          rope_row(x, rope.cos + t * half, rope.sin + t * half, p.head_dim,
                   rope.rot, rope.interleaved, y);
        } else {
          rope_row(x, rope.cos + t * half, rope.sin + t * half, p.head_dim,
                   rope.rot, rope.interleaved, rotated);
          for (int64_t i = 0; i < p.head_dim; ++i)
            y[i] = static_cast<U>(static_cast<float>(rotated[i]));
        }
      }
    } else if constexpr (std::is_same<T, U>::value) {
      std::memcpy(dst, src, sizeof(T) * size_t(p.row_size));
    } else {
      for (int64_t i = 0; i < p.row_size; ++i)
        dst[i] = static_cast<U>(static_cast<float>(src[i]));
    }
  }
  return 0;
}

/// One head's row x [n] quantized for an int8 KV pool into q [n]: scale
/// max|x| / 127 (NaNs skipped), q = x / scale rounded half to even and
/// clamped to +-127 (a NaN to -127); an all-zero row (scale 0) stores
/// zeros. Returns the scale. The AVX-512 and AVX2 paths divide and round
/// as the scalar one does (IEEE division, round to nearest even), so all
/// give the same bytes.
template <class T>
inline float quantize_kv_row(const T *x, int64_t n, int8_t *q) {
  int64_t d = 0;
  float amax = 0;
#if defined(__AVX512F__)
  if constexpr (std::is_same<T, float>::value) {
    __m512 top = _mm512_setzero_ps();
    for (; d + 16 <= n; d += 16) // max(|x|, top): a NaN keeps top
      top = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + d)), top);
    amax = _mm512_reduce_max_ps(top);
  }
#elif defined(__AVX2__)
  if constexpr (std::is_same<T, float>::value) {
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 top = _mm256_setzero_ps();
    for (; d + 8 <= n; d += 8) // max(|x|, top): a NaN keeps top
      top =
          _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + d), magnitude), top);
    __m128 m =
        _mm_max_ps(_mm256_castps256_ps128(top), _mm256_extractf128_ps(top, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    amax = _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
  }
#endif
  for (; d < n; ++d) {
    float a = std::fabs(static_cast<float>(x[d]));
    amax = a > amax ? a : amax;
  }
  const float s = amax / 127.0f;
  if (!(s > 0)) {
    std::memset(q, 0, size_t(n));
    return s;
  }
  d = 0;
#if defined(__AVX512F__)
  if constexpr (std::is_same<T, float>::value) {
    const __m512 sv = _mm512_set1_ps(s);
    const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
    for (; d + 16 <= n; d += 16) {
      __m512 r =
          _mm512_roundscale_ps(_mm512_div_ps(_mm512_loadu_ps(x + d), sv),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      // max(r, lo) returns lo where r is NaN, as the scalar comparisons do.
      r = _mm512_min_ps(_mm512_max_ps(r, lo), hi);
      _mm_storeu_si128(reinterpret_cast<__m128i *>(q + d),
                       _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(r)));
    }
  }
#elif defined(__AVX2__)
  if constexpr (std::is_same<T, float>::value) {
    const __m256 sv = _mm256_set1_ps(s);
    const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
    for (; d + 8 <= n; d += 8) {
      __m256 r = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(x + d), sv),
                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      r = _mm256_min_ps(_mm256_max_ps(r, lo), hi); // a NaN to lo, as above
      const __m256i v = _mm256_cvtps_epi32(r);
      // Eight int32 in +-127 to bytes in order (the packs saturate nothing).
      const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v),
                                            _mm256_extracti128_si256(v, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i *>(q + d),
                       _mm_packs_epi16(words, words));
    }
  }
#endif
  for (; d < n; ++d) {
    // nearbyint rounds half to even in the default rounding mode; the
    // comparisons also send a NaN to -127 instead of an undefined
    // conversion.
    float r = std::nearbyint(static_cast<float>(x[d]) / s);
    r = r > -127.0f ? r : -127.0f;
    r = r < 127.0f ? r : 127.0f;
    q[d] = static_cast<int8_t>(r);
  }
  return s;
}

/// The int8 K/V write; see kv_write_int8. Rows (token, KV head) are
/// quantized on the runtime's threads, a few thousand values a chunk (two
/// tokens naming one slot, which the engine's slot mapping never does,
/// leave that slot's row and scale unspecified).
template <class T, class S, class C>
int write_rows_int8(const anvil_host_api *host, const KvWriteInt8Params &p,
                    const T *rows, const S *slots, RopeTables<C> rope,
                    int8_t *pool, float *scales) {
  if (check_slots(host, p.tokens, p.num_blocks, p.block_size, slots) ||
      check_rope_rows(host, "kv_write", rope, p.tokens))
    return 1;
  parallel_for(
      host, p.tokens * p.kv_heads, rows_grain(p.head_dim),
      [&](int64_t begin, int64_t end, int thread) {
        T *rotated = nullptr;
        if (rope.cos &&
            !(rotated = scratch<T>(host, thread, size_t(p.head_dim)))) {
          fail(host, "kv_write: out of scratch memory");
          return;
        }
        for (int64_t item = begin; item < end; ++item) {
          const int64_t t = item / p.kv_heads, h = item % p.kv_heads;
          const int64_t slot = static_cast<int64_t>(slots[t]);
          if (slot < 0)
            continue;
          const T *src = rows + item * p.head_dim;
          if (rope.cos) {
            const int64_t half = rope.rot / 2;
            rope_row(src, rope.cos + t * half, rope.sin + t * half, p.head_dim,
                     rope.rot, rope.interleaved, rotated);
            src = rotated;
          }
          scales[slot * p.kv_heads + h] = quantize_kv_row(
              src, p.head_dim, pool + (slot * p.kv_heads + h) * p.head_dim);
        }
      });
  return run_failed(host) ? 1 : 0;
}

} // namespace paged

/// pool[slot / block_size, slot % block_size, :] = rows[t, :] for each
/// token t with slot = slots[t] >= 0 (a negative slot is a padding token),
/// converted (rounded to nearest even) when the pool stores another float
/// type than the rows (a 16-bit KV cache of a float model). A slot outside
/// the pool fails the run before anything is written: the engine's slot
/// mapping is input, not trusted.
template <class T, class S, class U>
int kv_write(const anvil_host_api *host, const KvWriteParams &p, const T *rows,
             const S *slots, U *pool) {
  return paged::write_rows(host, p, rows, slots, RopeTables<float>{}, pool);
}

/// The same with each head's row of token t first rotated by row t of the
/// rotary tables, cos and sin [tokens, rope_dim / 2] (anvil-fuse-rope
/// folded the keys' rope into their write; rope.h).
template <class T, class S, class C, class U>
int kv_write(const anvil_host_api *host, const KvWriteParams &p, const T *rows,
             const S *slots, const C *cos, const C *sin, U *pool) {
  return paged::write_rows(host, p, rows, slots,
                           paged::rope_tables(p, cos, sin), pool);
}

/// kv_write into an int8 pool and its f32 scales: each (token, KV head) row
/// x of head_dim values is stored as q = clamp(round_half_even(x / s), -127,
/// 127) with s = max|x| / 127 (s = 0 and q = 0 for an all-zero row) and
/// reads back as q * s. One scale per slot and head, not per block: a
/// block's later tokens never requantize its earlier ones.
template <class T, class S>
int kv_write_int8(const anvil_host_api *host, const KvWriteInt8Params &p,
                  const T *rows, const S *slots, int8_t *pool, float *scales) {
  return paged::write_rows_int8(host, p, rows, slots, RopeTables<float>{}, pool,
                                scales);
}

/// The same with each row rotated first, as kv_write's rotary overload.
template <class T, class S, class C>
int kv_write_int8(const anvil_host_api *host, const KvWriteInt8Params &p,
                  const T *rows, const S *slots, const C *cos, const C *sin,
                  int8_t *pool, float *scales) {
  return paged::write_rows_int8(host, p, rows, slots,
                                paged::rope_tables(p, cos, sin), pool, scales);
}

namespace paged {

// A float vector of the widest kind the artifact's -march allows: 16 lanes
// with AVX-512, 8 with AVX2 (+FMA), else 8 lanes of plain C++ that the
// compiler vectorizes as it can. The kernel is written once over it.
#if defined(__AVX512F__)
struct Vec {
  static constexpr int N = 16;
  __m512 v;
  static Vec zero() { return {_mm512_setzero_ps()}; }
  static Vec set1(float x) { return {_mm512_set1_ps(x)}; }
  static Vec load(const float *p) { return {_mm512_loadu_ps(p)}; }
  /// The first n (< N) lanes from p, zeros after; reads nothing beyond.
  static Vec load_n(const float *p, int n) {
    return {_mm512_maskz_loadu_ps(__mmask16((1u << n) - 1), p)};
  }
  void store(float *p) const { _mm512_storeu_ps(p, v); }
  void store_n(float *p, int n) const {
    _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1), v);
  }
};
inline Vec operator+(Vec a, Vec b) { return {_mm512_add_ps(a.v, b.v)}; }
inline Vec operator-(Vec a, Vec b) { return {_mm512_sub_ps(a.v, b.v)}; }
inline Vec operator*(Vec a, Vec b) { return {_mm512_mul_ps(a.v, b.v)}; }
/// a * b + c, one rounding.
inline Vec fma(Vec a, Vec b, Vec c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
inline Vec max(Vec a, Vec b) { return {_mm512_max_ps(a.v, b.v)}; }
inline Vec min(Vec a, Vec b) { return {_mm512_min_ps(a.v, b.v)}; }
inline Vec round(Vec a) {
  return {
      _mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
}
/// 2^n for integral n in [-126, 127].
inline Vec pow2(Vec n) {
  __m512i i = _mm512_add_epi32(_mm512_cvtps_epi32(n.v), _mm512_set1_epi32(127));
  return {_mm512_castsi512_ps(_mm512_slli_epi32(i, 23))};
}
// Halves folded with a shuffle, then as in 8 lanes (GCC 12's
// _mm512_reduce_add_ps trips -Wmaybe-uninitialized in its own header).
inline float hsum(Vec a) {
  __m512 swapped = _mm512_shuffle_f32x4(a.v, a.v, _MM_SHUFFLE(1, 0, 3, 2));
  __m256 y = _mm512_castps512_ps256(_mm512_add_ps(a.v, swapped));
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(y), _mm256_extractf128_ps(y, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}
/// The largest lane of a vector with no NaN lane.
inline float hmax(Vec a) {
  __m512 swapped = _mm512_shuffle_f32x4(a.v, a.v, _MM_SHUFFLE(1, 0, 3, 2));
  __m256 y = _mm512_castps512_ps256(_mm512_max_ps(a.v, swapped));
  __m128 x = _mm_max_ps(_mm256_castps256_ps128(y), _mm256_extractf128_ps(y, 1));
  x = _mm_max_ps(x, _mm_movehl_ps(x, x));
  x = _mm_max_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}
/// The sums of four vectors, into s[0..3].
inline void hsum4(Vec a0, Vec a1, Vec a2, Vec a3, float *s) {
  __m512 x01 = _mm512_add_ps(_mm512_unpacklo_ps(a0.v, a1.v),
                             _mm512_unpackhi_ps(a0.v, a1.v));
  __m512 x23 = _mm512_add_ps(_mm512_unpacklo_ps(a2.v, a3.v),
                             _mm512_unpackhi_ps(a2.v, a3.v));
  // Each 128-bit lane now holds partial sums (a0, a1, a2, a3).
  __m512 y = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(
                               _mm512_castps_pd(x01), _mm512_castps_pd(x23))),
                           _mm512_castpd_ps(_mm512_unpackhi_pd(
                               _mm512_castps_pd(x01), _mm512_castps_pd(x23))));
  y = _mm512_add_ps(y, _mm512_shuffle_f32x4(y, y, _MM_SHUFFLE(1, 0, 3, 2)));
  y = _mm512_add_ps(y, _mm512_shuffle_f32x4(y, y, _MM_SHUFFLE(2, 3, 0, 1)));
  _mm_storeu_ps(s, _mm512_castps512_ps128(y));
}
#elif defined(__AVX2__) && defined(__FMA__)
struct Vec {
  static constexpr int N = 8;
  __m256 v;
  static __m256i mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Vec zero() { return {_mm256_setzero_ps()}; }
  static Vec set1(float x) { return {_mm256_set1_ps(x)}; }
  static Vec load(const float *p) { return {_mm256_loadu_ps(p)}; }
  static Vec load_n(const float *p, int n) {
    return {_mm256_maskload_ps(p, mask(n))};
  }
  void store(float *p) const { _mm256_storeu_ps(p, v); }
  void store_n(float *p, int n) const { _mm256_maskstore_ps(p, mask(n), v); }
};
inline Vec operator+(Vec a, Vec b) { return {_mm256_add_ps(a.v, b.v)}; }
inline Vec operator-(Vec a, Vec b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline Vec operator*(Vec a, Vec b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline Vec fma(Vec a, Vec b, Vec c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
inline Vec max(Vec a, Vec b) { return {_mm256_max_ps(a.v, b.v)}; }
inline Vec min(Vec a, Vec b) { return {_mm256_min_ps(a.v, b.v)}; }
inline Vec round(Vec a) {
  return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
}
inline Vec pow2(Vec n) {
  __m256i i = _mm256_add_epi32(_mm256_cvtps_epi32(n.v), _mm256_set1_epi32(127));
  return {_mm256_castsi256_ps(_mm256_slli_epi32(i, 23))};
}
inline float hsum(Vec a) {
  __m128 x =
      _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}
inline float hmax(Vec a) {
  __m128 x =
      _mm_max_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  x = _mm_max_ps(x, _mm_movehl_ps(x, x));
  x = _mm_max_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}
/// The sums of four vectors, into s[0..3].
inline void hsum4(Vec a0, Vec a1, Vec a2, Vec a3, float *s) {
  __m256 x01 = _mm256_add_ps(_mm256_unpacklo_ps(a0.v, a1.v),
                             _mm256_unpackhi_ps(a0.v, a1.v));
  __m256 x23 = _mm256_add_ps(_mm256_unpacklo_ps(a2.v, a3.v),
                             _mm256_unpackhi_ps(a2.v, a3.v));
  __m256 y = _mm256_add_ps(_mm256_castpd_ps(_mm256_unpacklo_pd(
                               _mm256_castps_pd(x01), _mm256_castps_pd(x23))),
                           _mm256_castpd_ps(_mm256_unpackhi_pd(
                               _mm256_castps_pd(x01), _mm256_castps_pd(x23))));
  _mm_storeu_ps(
      s, _mm_add_ps(_mm256_castps256_ps128(y), _mm256_extractf128_ps(y, 1)));
}
#else
struct Vec {
  static constexpr int N = 8;
  float v[N];
  static Vec zero() { return set1(0.0f); }
  static Vec set1(float x) {
    Vec r;
    for (int i = 0; i < N; ++i)
      r.v[i] = x;
    return r;
  }
  static Vec load(const float *p) { return load_n(p, N); }
  static Vec load_n(const float *p, int n) {
    Vec r = zero();
    for (int i = 0; i < n; ++i)
      r.v[i] = p[i];
    return r;
  }
  void store(float *p) const { store_n(p, N); }
  void store_n(float *p, int n) const {
    for (int i = 0; i < n; ++i)
      p[i] = v[i];
  }
};
#define ANVIL_PAGED_LANEWISE(name, expr)                                       \
  inline Vec name(Vec a, Vec b) {                                              \
    Vec r;                                                                     \
    for (int i = 0; i < Vec::N; ++i)                                           \
      r.v[i] = (expr);                                                         \
    return r;                                                                  \
  }
ANVIL_PAGED_LANEWISE(operator+, a.v[i] + b.v[i])
ANVIL_PAGED_LANEWISE(operator-, a.v[i] - b.v[i])
ANVIL_PAGED_LANEWISE(operator*, a.v[i] * b.v[i])
ANVIL_PAGED_LANEWISE(max, a.v[i] > b.v[i] ? a.v[i] : b.v[i])
ANVIL_PAGED_LANEWISE(min, a.v[i] < b.v[i] ? a.v[i] : b.v[i])
#undef ANVIL_PAGED_LANEWISE
inline Vec fma(Vec a, Vec b, Vec c) {
  Vec r;
  for (int i = 0; i < Vec::N; ++i)
    r.v[i] = a.v[i] * b.v[i] + c.v[i]; // std::fma is a call without FMA
  return r;
}
inline Vec round(Vec a) {
  Vec r;
  for (int i = 0; i < Vec::N; ++i)
    r.v[i] = std::nearbyint(a.v[i]);
  return r;
}
inline Vec pow2(Vec n) {
  Vec r;
  for (int i = 0; i < Vec::N; ++i) {
    uint32_t bits = uint32_t(int32_t(n.v[i]) + 127) << 23;
    std::memcpy(&r.v[i], &bits, 4);
  }
  return r;
}
inline float hsum(Vec a) {
  float s = 0;
  for (int i = 0; i < Vec::N; ++i)
    s += a.v[i];
  return s;
}
inline float hmax(Vec a) {
  float m = a.v[0];
  for (int i = 1; i < Vec::N; ++i)
    m = a.v[i] > m ? a.v[i] : m;
  return m;
}
inline void hsum4(Vec a0, Vec a1, Vec a2, Vec a3, float *s) {
  s[0] = hsum(a0);
  s[1] = hsum(a1);
  s[2] = hsum(a2);
  s[3] = hsum(a3);
}
#endif

/// e^x in float, about 1 ulp (Cephes' expf: x = n ln2 + r, a degree-6
/// polynomial for e^r, times 2^n). Inputs below ln(FLT_MIN) give FLT_MIN
/// scaled down, i.e. about 1e-38: softmax weights that small add nothing.
inline Vec exp(Vec x) {
  x = min(max(x, Vec::set1(-87.33654f)), Vec::set1(88.37626f));
  Vec n = round(x * Vec::set1(1.44269504088896341f));
  x = fma(n, Vec::set1(-0.693359375f), x);
  x = fma(n, Vec::set1(2.12194440e-4f), x);
  Vec y = Vec::set1(1.9875691500e-4f);
  y = fma(y, x, Vec::set1(1.3981999507e-3f));
  y = fma(y, x, Vec::set1(8.3334519073e-3f));
  y = fma(y, x, Vec::set1(4.1665795894e-2f));
  y = fma(y, x, Vec::set1(1.6666665459e-1f));
  y = fma(y, x, Vec::set1(5.0000001201e-1f));
  y = fma(y, x * x, x + Vec::set1(1.0f));
  // 2^n in two factors, so n = -127 (x near ln(FLT_MIN)) stays a normal.
  Vec half = round(n * Vec::set1(0.5f));
  return y * pow2(half) * pow2(n - half);
}

/// Whether a pool of K stores int8 values with a float scale per slot and
/// head (--kv-dtype=int8); its rows read as float(x) * scale.
template <class K> constexpr bool kScaledKv = std::is_same<K, int8_t>::value;

/// Vec::N elements of a KV row from p in the pool's type, widened to float
/// (exactly: f16, bf16 and int8 all fit a float), in registers: a decode
/// step reads each block once, so converting it into scratch first (a
/// store and a load of every element) cost as much as attending to it.
template <class K> inline Vec load_kv(const K *p) {
  if constexpr (std::is_same<K, float>::value) {
    return Vec::load(p);
  }
#if defined(__AVX512F__)
  else if constexpr (std::is_same<K, f16>::value) {
    return {_mm512_cvtph_ps(
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)))};
  } else if constexpr (std::is_same<K, bf16>::value) {
    return {_mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(
                              reinterpret_cast<const __m256i *>(p))),
                          16))};
  } else if constexpr (std::is_same<K, int8_t>::value) {
    return {_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(p))))};
  }
#elif defined(__AVX2__) && defined(__FMA__)
#if defined(__F16C__)
  else if constexpr (std::is_same<K, f16>::value) {
    return {
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)))};
  }
#endif
  else if constexpr (std::is_same<K, bf16>::value) {
    return {_mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(
                              reinterpret_cast<const __m128i *>(p))),
                          16))};
  } else if constexpr (std::is_same<K, int8_t>::value) {
    return {_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(
        _mm_loadl_epi64(reinterpret_cast<const __m128i *>(p))))};
  }
#endif
  else {
    float row[Vec::N];
    for (int i = 0; i < Vec::N; ++i)
      row[i] = static_cast<float>(p[i]);
    return Vec::load(row);
  }
}

/// The first n (< Vec::N) elements of a KV row as floats, times `scale`
/// for an int8 pool (float(x) * scale, dequantize's bits), zeros after;
/// reads nothing beyond. Scaled before the zero lanes are filled, so an
/// infinite scale cannot turn them into NaN.
template <class K> inline Vec load_kv_n(const K *p, int n, float scale) {
  if constexpr (std::is_same<K, float>::value) {
    (void)scale;
    return Vec::load_n(p, n);
  } else {
    float row[Vec::N];
    for (int i = 0; i < n; ++i) {
      row[i] = static_cast<float>(p[i]);
      if constexpr (kScaledKv<K>)
        row[i] = row[i] * scale;
    }
    return Vec::load_n(row, n);
  }
}

/// q . k over d elements (k read only up to d), k widened (and for int8
/// scaled) as load_kv and load_kv_n read it.
template <class K>
inline float dot(const float *q, const K *k, int64_t d, float scale) {
  Vec acc = Vec::zero();
  int64_t i = 0;
  for (; i + Vec::N <= d; i += Vec::N) {
    Vec x = load_kv(k + i);
    if constexpr (kScaledKv<K>)
      x = x * Vec::set1(scale);
    acc = fma(Vec::load(q + i), x, acc);
  }
  if (i < d)
    acc = fma(Vec::load_n(q + i, int(d - i)),
              load_kv_n(k + i, int(d - i), scale), acc);
  return hsum(acc);
}

/// The scales of a block's rows in an int8 pool: row j's key scale at
/// key[j * stride], its value's at value[j * stride] (the pool's slots x
/// kv_heads scale arrays, offset to the block's first row and head).
/// Unused (null) for float pools.
struct RowScales {
  const float *key = nullptr;
  const float *value = nullptr;
  int64_t stride = 0;
  /// The scales of the rows from row j on.
  RowScales from(int64_t j) const {
    return key ? RowScales{key + j * stride, value + j * stride, stride}
               : *this;
  }
};

/// Asks for the 64-byte line at p into L2 (prefetcht1). An asm statement
/// on x86, not __builtin_prefetch: GCC 12 deleted NextBlock's loops of
/// nothing but __builtin_prefetch as dead code once they were inlined into
/// attend_rows.
inline void prefetch_l2(const char *p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht1 %0" : : "m"(*p));
#else
  __builtin_prefetch(p, 0, 2);
#endif
}

/// The next block's rows of one head, which attend_rows asks for (into L2,
/// prefetcht1) a few at a time while it computes the current block: key
/// row j at k + j * k_stride, k_bytes long, value row j at v + j *
/// v_stride, v_bytes long (strides and lengths in bytes); none when rows
/// is 0. Asked for all at once before the block, the 32 prefetches of a
/// block's 16 int8 rows of K and V waited for fill buffers, a fifth of
/// paged attention's time in w8a8 batch-16 decode; between the loads the
/// waits overlap the arithmetic.
struct NextBlock {
  const char *k = nullptr, *v = nullptr;
  int64_t k_stride = 0, v_stride = 0, k_bytes = 0, v_bytes = 0, rows = 0;
  /// Asks for key rows [j0, j1) (those that exist).
  void keys(int64_t j0, int64_t j1) const {
    for (int64_t j = j0; j < j1 && j < rows; ++j)
      for (int64_t b = 0; b < k_bytes; b += 64)
        prefetch_l2(k + j * k_stride + b);
  }
  /// Asks for value rows [j0, j1) (those that exist).
  void values(int64_t j0, int64_t j1) const {
    for (int64_t j = j0; j < j1 && j < rows; ++j)
      for (int64_t b = 0; b < v_bytes; b += 64)
        prefetch_l2(v + j * v_stride + b);
  }
};

/// Query rows per pass of attend_rows: with AVX-512, 4 rows x 4 key or
/// value vectors are 16 of the 32 registers; with AVX2's 16 registers (and
/// in the portable build), 2 rows.
constexpr int kRowsPerPass = Vec::N == 16 ? 4 : 2;

/// R query rows that see the same keys [0, n) of a block (the query heads
/// of one KV head at one token, a GQA group): row r's query at q + r *
/// q_stride, key j at k + j * k_stride, its value at v + j * v_stride, both
/// of the pool's element type K, widened in registers (an int8 pool's rows
/// times their `scales`: float(x) * scale, then the products, as if the
/// block had been dequantized into float first).
/// Scores, then the online-softmax update of each row's running max m[r],
/// sum l[r] and unnormalized output o + r * o_stride [value_dim]. `s` holds
/// R rows of n floats, s_stride apart. Each key's and value's vectors are
/// loaded once for the R rows (one row at a time read them R times, and
/// decode attention ran at a fifth of the FMA peak). Every row's sums are
/// the one-row loop's, in the same order: the same bits.
template <int R, bool Prefetch, class K>
inline void
attend_rows(const float *q, int64_t q_stride, const K *k, int64_t k_stride,
            const K *v, int64_t v_stride, [[maybe_unused]] RowScales scales,
            int64_t n, int64_t head_dim, int64_t value_dim, float scale,
            float softcap, float *s, int64_t s_stride, float *m, float *l,
            float *o, int64_t o_stride, const NextBlock &next) {
  // Row j's key (value) scale of an int8 pool; 1 (unused) otherwise.
  auto key_scale = [&](int64_t j) {
    if constexpr (kScaledKv<K>)
      return scales.key[j * scales.stride];
    else
      return 1.0f;
  };
  auto value_scale = [&](int64_t j) {
    if constexpr (kScaledKv<K>)
      return scales.value[j * scales.stride];
    else
      return 1.0f;
  };
  // Scores, four keys at a time: R x 4 chains, each key vector loaded once.
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    if constexpr (Prefetch)
      next.keys(j, j + 4);
    const K *k0 = k + j * k_stride;
    [[maybe_unused]] Vec factor[4];
    if constexpr (kScaledKv<K>)
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c)
        factor[c] = Vec::set1(key_scale(j + c));
    Vec a[R][4];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c)
        a[r][c] = Vec::zero();
    int64_t d = 0;
    for (; d + Vec::N <= head_dim; d += Vec::N) {
      Vec kv[4];
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) {
        kv[c] = load_kv(k0 + c * k_stride + d);
        if constexpr (kScaledKv<K>)
          kv[c] = kv[c] * factor[c];
      }
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        Vec x = Vec::load(q + r * q_stride + d);
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c)
          a[r][c] = fma(x, kv[c], a[r][c]);
      }
    }
    if (d < head_dim) {
      const int rest = int(head_dim - d);
      Vec kv[4];
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c)
        kv[c] = load_kv_n(k0 + c * k_stride + d, rest, key_scale(j + c));
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        Vec x = Vec::load_n(q + r * q_stride + d, rest);
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c)
          a[r][c] = fma(x, kv[c], a[r][c]);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
      hsum4(a[r][0], a[r][1], a[r][2], a[r][3], s + r * s_stride + j);
  }
  for (; j < n; ++j)
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
      s[r * s_stride + j] =
          dot(q + r * q_stride, k + j * k_stride, head_dim, key_scale(j));
  if constexpr (Prefetch)
    next.keys(j, next.rows);
  // Each row's new max; the rows' rescale factors e^(m - max) in one exp.
  float shift[Vec::N > R ? Vec::N : R] = {},
                                    correction[Vec::N > R ? Vec::N : R];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    float *sr = s + r * s_stride;
    float best = m[r];
    if (softcap > 0) {
      for (j = 0; j < n; ++j) {
        float x = softcap * std::tanh(sr[j] * scale / softcap);
        sr[j] = x;
        best = x > best ? x : best;
      }
    } else {
      Vec top = Vec::set1(best), factor = Vec::set1(scale);
      for (j = 0; j + Vec::N <= n; j += Vec::N) {
        Vec x = Vec::load(sr + j) * factor;
        x.store(sr + j);
        // max(x, top), not max(top, x): maxps returns its second operand
        // where either is NaN, so a NaN score is skipped, as the scalar
        // `x > best ? x : best` skips it (and the same bits otherwise).
        top = max(x, top);
      }
      // top's lanes started at best and no lane is NaN (m[r] never is),
      // so its largest lane is the scan's max over best and every lane. A
      // tie of +0 and -0 may end as the other zero than a lane-by-lane
      // scan picks (which was 5% of this function in w8a8 batch-16
      // decode), and no output moves: m - best and e^(s - m) are the same
      // for either zero.
      best = hmax(top);
      for (; j < n; ++j) {
        float x = sr[j] * scale;
        sr[j] = x;
        best = x > best ? x : best;
      }
    }
    // First block: m is -inf and o, l are 0, so any finite factor works.
    shift[r] = m[r] != best ? m[r] - best : 0.0f;
    m[r] = best;
  }
  exp(Vec::load_n(shift, R)).store_n(correction, R);
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    float *sr = s + r * s_stride;
    Vec sum = Vec::zero(), top = Vec::set1(m[r]);
    for (j = 0; j + Vec::N <= n; j += Vec::N) {
      Vec e = exp(Vec::load(sr + j) - top);
      e.store(sr + j);
      sum = sum + e;
    }
    if (j < n) {
      int rest = int(n - j);
      Vec e = exp(Vec::load_n(sr + j, rest) - top);
      e.store_n(sr + j, rest);
      sum = sum + Vec::load_n(sr + j, rest);
    }
    l[r] = l[r] * correction[r] + hsum(sum);
  }
  // o = o * correction + sum_j s[j] v_j, four vectors of each row's o at a
  // time, each value vector loaded once for the R rows.
  int64_t d = 0;
  for (; d + 4 * Vec::N <= value_dim; d += 4 * Vec::N) {
    Vec acc[R][4];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      Vec c = Vec::set1(correction[r]);
#pragma GCC unroll 4
      for (int u = 0; u < 4; ++u)
        acc[r][u] = Vec::load(o + r * o_stride + d + u * Vec::N) * c;
    }
    for (j = 0; j < n; ++j) {
      if (Prefetch && d == 0)
        next.values(j, j + 1);
      const K *vj = v + j * v_stride + d;
      Vec vv[4];
#pragma GCC unroll 4
      for (int u = 0; u < 4; ++u)
        vv[u] = load_kv(vj + u * Vec::N);
      if constexpr (kScaledKv<K>) {
        Vec factor = Vec::set1(value_scale(j));
#pragma GCC unroll 4
        for (int u = 0; u < 4; ++u)
          vv[u] = vv[u] * factor;
      }
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        Vec w = Vec::set1(s[r * s_stride + j]);
#pragma GCC unroll 4
        for (int u = 0; u < 4; ++u)
          acc[r][u] = fma(w, vv[u], acc[r][u]);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int u = 0; u < 4; ++u)
        acc[r][u].store(o + r * o_stride + d + u * Vec::N);
  }
  for (; d < value_dim; d += Vec::N) {
    const int rest = value_dim - d < Vec::N ? int(value_dim - d) : Vec::N;
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const float *sr = s + r * s_stride;
      float *orow = o + r * o_stride + d;
      Vec acc = Vec::load_n(orow, rest) * Vec::set1(correction[r]);
      for (j = 0; j < n; ++j)
        acc = fma(Vec::set1(sr[j]),
                  load_kv_n(v + j * v_stride + d, rest, value_scale(j)), acc);
      acc.store_n(orow, rest);
    }
  }
  // The rows the loops above did not ask for: all of them when value_dim
  // is under 4 vectors, and those past n.
  if constexpr (Prefetch)
    next.values(value_dim < 4 * Vec::N ? 0 : n, next.rows);
}

/// attend_rows over `rows` rows (any count), kRowsPerPass at a time; the
/// first pass asks for `next`, in a variant of its own: the passes and
/// blocks that ask for nothing skip the checks too (with them, prefill of
/// 512 tokens measured up to 7% slower).
template <int R = kRowsPerPass, class K>
inline void
attend_block(const float *q, int64_t q_stride, const K *k, int64_t k_stride,
             const K *v, int64_t v_stride, RowScales scales, int64_t n,
             int64_t rows, int64_t head_dim, int64_t value_dim, float scale,
             float softcap, float *s, int64_t s_stride, float *m, float *l,
             float *o, int64_t o_stride, NextBlock next = {}) {
  for (; rows >= R; rows -= R) {
    if (next.rows > 0)
      attend_rows<R, true>(q, q_stride, k, k_stride, v, v_stride, scales, n,
                           head_dim, value_dim, scale, softcap, s, s_stride, m,
                           l, o, o_stride, next);
    else
      attend_rows<R, false>(q, q_stride, k, k_stride, v, v_stride, scales, n,
                            head_dim, value_dim, scale, softcap, s, s_stride, m,
                            l, o, o_stride, next);
    next = {}; // asked for once
    q += R * q_stride;
    o += R * o_stride;
    m += R;
    l += R;
  }
  if constexpr (R > 1) {
    if (rows > 0)
      attend_block<R - 1>(q, q_stride, k, k_stride, v, v_stride, scales, n,
                          rows, head_dim, value_dim, scale, softcap, s,
                          s_stride, m, l, o, o_stride, next);
  }
}

/// dst[0, n) = the KV row src[0, n) as floats, as attend_rows widens it
/// (load_kv, load_kv_n; an int8 row times `scale`, float(x) * scale, which
/// other types ignore): a prefill tile's copy of a block in scratch holds
/// the floats a decode tile computes with in registers.
template <class K>
inline void widen_row(const K *src, float scale, float *dst, int64_t n) {
  int64_t i = 0;
  for (; i + Vec::N <= n; i += Vec::N) {
    Vec x = load_kv(src + i);
    if constexpr (kScaledKv<K>)
      x = x * Vec::set1(scale);
    x.store(dst + i);
  }
  if (i < n)
    load_kv_n(src + i, int(n - i), scale).store_n(dst + i, int(n - i));
}

/// The scales of int8 pools ([num_blocks, block_size, kv_heads] each);
/// float pools have none.
template <class K> struct KvScales {};
template <> struct KvScales<int8_t> {
  const float *key;
  const float *value;
};

/// Rows of a tile: at most this many (query token, head) pairs, so a tile
/// of a GQA group of 8 heads holds 8 tokens and one of 1 head 32.
constexpr int64_t kTileRows = 64;

/// paged_attention's body; `scales` is empty unless K is int8_t, `rope`
/// unless a rope of the queries was fused.
template <class T, class K, class I, class P, class Q, class C>
int attention(const anvil_host_api *host, const PagedAttentionParams &p,
              const T *q, const K *key_pool, const K *value_pool,
              const I *block_tables, const I *context_lens, const P *positions,
              const Q *seq_of_token, [[maybe_unused]] KvScales<K> scales,
              RopeTables<C> rope, T *out);

} // namespace paged

/// out[t, h] = softmax_j(scale q[t,h] . k[s, j, g]) v[s, j, g] over the keys
/// j of sequence s = seq_of_token[t] at positions window_start..positions[t],
/// read from the pools through block_tables[s] (g = h / (q_heads/kv_heads)).
/// Scores, the online softmax and the output accumulate in float, as ONNX
/// Runtime's attention does. The pools may store another float type than
/// the queries (K, a 16-bit KV cache): a tile of one token (decode) widens
/// each row in registers as it reads it, a longer one (prefill) converts
/// each block once into scratch, the same floats either way.
template <class T, class K, class I, class P, class Q>
int paged_attention(const anvil_host_api *host, const PagedAttentionParams &p,
                    const T *q, const K *key_pool, const K *value_pool,
                    const I *block_tables, const I *context_lens,
                    const P *positions, const Q *seq_of_token, T *out) {
  static_assert(!std::is_same<K, int8_t>::value,
                "int8 KV pools are read with their scales");
  return paged::attention(host, p, q, key_pool, value_pool, block_tables,
                          context_lens, positions, seq_of_token,
                          paged::KvScales<K>{}, RopeTables<float>{}, out);
}

/// The same with each query row of token t first rotated by row t of the
/// rotary tables, cos and sin [tokens, rope_dim / 2] (anvil-fuse-rope
/// folded the queries' rope into the attention's prologue; rope.h). Float
/// pools only (the int8 overload below takes the scales first).
template <
    class T, class K, class I, class P, class Q, class C,
    typename std::enable_if<!std::is_same<K, int8_t>::value, int>::type = 0>
int paged_attention(const anvil_host_api *host, const PagedAttentionParams &p,
                    const T *q, const K *key_pool, const K *value_pool,
                    const I *block_tables, const I *context_lens,
                    const P *positions, const Q *seq_of_token, const C *cos,
                    const C *sin, T *out) {
  return paged::attention(
      host, p, q, key_pool, value_pool, block_tables, context_lens, positions,
      seq_of_token, paged::KvScales<K>{}, paged::rope_tables(p, cos, sin), out);
}

/// The same over int8 pools (anvilc --kv-dtype=int8): each block's keys and
/// values are dequantized with their (slot, head) scales, [num_blocks,
/// block_size, kv_heads] each, float(x) * scale, as they are widened.
template <class T, class I, class P, class Q>
int paged_attention(const anvil_host_api *host, const PagedAttentionParams &p,
                    const T *q, const int8_t *key_pool,
                    const int8_t *value_pool, const I *block_tables,
                    const I *context_lens, const P *positions,
                    const Q *seq_of_token, const float *key_scales,
                    const float *value_scales, T *out) {
  return paged::attention(host, p, q, key_pool, value_pool, block_tables,
                          context_lens, positions, seq_of_token,
                          paged::KvScales<int8_t>{key_scales, value_scales},
                          RopeTables<float>{}, out);
}

/// Int8 pools with the queries' rope fused (see the float overload).
template <class T, class I, class P, class Q, class C>
int paged_attention(const anvil_host_api *host, const PagedAttentionParams &p,
                    const T *q, const int8_t *key_pool,
                    const int8_t *value_pool, const I *block_tables,
                    const I *context_lens, const P *positions,
                    const Q *seq_of_token, const float *key_scales,
                    const float *value_scales, const C *cos, const C *sin,
                    T *out) {
  return paged::attention(host, p, q, key_pool, value_pool, block_tables,
                          context_lens, positions, seq_of_token,
                          paged::KvScales<int8_t>{key_scales, value_scales},
                          paged::rope_tables(p, cos, sin), out);
}

template <class T, class K, class I, class P, class Q, class C>
int paged::attention(const anvil_host_api *host, const PagedAttentionParams &p,
                     const T *q, const K *key_pool, const K *value_pool,
                     const I *block_tables, const I *context_lens,
                     const P *positions, const Q *seq_of_token,
                     [[maybe_unused]] KvScales<K> scales, RopeTables<C> rope,
                     T *out) {
  using paged::Vec;
  const int64_t group = p.q_heads / p.kv_heads;
  const int64_t k_row = p.kv_heads * p.head_dim;
  const int64_t v_row = p.kv_heads * p.value_dim;
  if (check_rope_rows(host, "paged_attention", rope, p.tokens))
    return 1;
  // Check the batch's indices once, before any reads.
  for (int64_t t = 0; t < p.tokens; ++t) {
    int64_t s = static_cast<int64_t>(seq_of_token[t]);
    int64_t pos = static_cast<int64_t>(positions[t]);
    char message[200];
    if (s < 0 || s >= p.seqs) {
      std::snprintf(message, sizeof message,
                    "paged_attention: token %lld belongs to sequence %lld of "
                    "%lld",
                    (long long)t, (long long)s, (long long)p.seqs);
      return fail(host, message);
    }
    int64_t len = static_cast<int64_t>(context_lens[s]);
    if (pos < 0 || pos >= len || len > p.max_blocks * p.block_size) {
      std::snprintf(message, sizeof message,
                    "paged_attention: token %lld at position %lld of a "
                    "sequence with %lld keys (at most %lld)",
                    (long long)t, (long long)pos, (long long)len,
                    (long long)(p.max_blocks * p.block_size));
      return fail(host, message);
    }
    for (int64_t blk = 0; blk <= pos / p.block_size; ++blk) {
      int64_t id = static_cast<int64_t>(block_tables[s * p.max_blocks + blk]);
      if (id < 0 || id >= p.num_blocks) {
        std::snprintf(message, sizeof message,
                      "paged_attention: block table of sequence %lld names "
                      "block %lld of a pool of %lld",
                      (long long)s, (long long)id, (long long)p.num_blocks);
        return fail(host, message);
      }
    }
  }
  const int64_t tile_tokens =
      paged::kTileRows / group > 0 ? paged::kTileRows / group : 1;
  // A token starts a tile unless it continues the previous token's sequence
  // at the next position and that position is not a multiple of
  // tile_tokens: tiles are at most tile_tokens long, found without storage.
  auto starts_tile = [&](int64_t t) {
    if (t == 0 || seq_of_token[t] != seq_of_token[t - 1])
      return true;
    int64_t pos = static_cast<int64_t>(positions[t]);
    return pos != static_cast<int64_t>(positions[t - 1]) + 1 ||
           pos % tile_tokens == 0;
  };
  auto round_up = [](int64_t n) { return (n + Vec::N - 1) / Vec::N * Vec::N; };
  const int64_t rows_most = tile_tokens * group;
  const int64_t q_stride = round_up(p.head_dim),
                o_stride = round_up(p.value_dim),
                s_stride = round_up(p.block_size);
  constexpr bool kFloatPool = std::is_same<K, float>::value;
  // Per thread: the tile's queries and outputs in float, each row's max and
  // sum, a pass's rows of scores (attend_block), and (other element types) a
  // block of K and V. A rotated query row is built in T (as the unfused rope
  // rounded it): head_dim more T, counted in floats.
  const int64_t rope_floats =
      rope.cos ? int64_t((sizeof(T) * size_t(p.head_dim) + sizeof(float) - 1) /
                         sizeof(float))
               : 0;
  const size_t scratch_floats = size_t(
      rows_most * (q_stride + o_stride + 2) + paged::kRowsPerPass * s_stride +
      (kFloatPool ? 0 : p.block_size * (q_stride + o_stride)) + rope_floats);
  const float scale = static_cast<float>(p.scale);
  const float softcap = static_cast<float>(p.softcap);
  // Items are (token, KV head); only a tile's first token does work. (A
  // decode token's tile over all its KV heads, reading whole pool rows,
  // measured 6-8% slower in w8a8 batch-16 decode on Zen 4; see
  // docs/performance.md, "Paged attention: a GQA group's rows together".)
  parallel_for(
      host, p.tokens * p.kv_heads, 1,
      [&](int64_t begin, int64_t end, int thread) {
        float *qf = scratch<float>(host, thread, scratch_floats);
        if (!qf) {
          fail(host, "paged_attention: out of scratch memory");
          return;
        }
        float *of = qf + rows_most * q_stride;
        float *row_max = of + rows_most * o_stride;
        float *row_sum = row_max + rows_most;
        float *scores = row_sum + rows_most;
        float *kf = scores + paged::kRowsPerPass * s_stride;
        float *vf = kf + p.block_size * q_stride;
        // After the K/V blocks, which float pools do not have.
        T *rotated = reinterpret_cast<T *>(
            kFloatPool ? kf : vf + p.block_size * o_stride);
        for (int64_t item = begin; item < end; ++item) {
          int64_t t0 = item / p.kv_heads, g = item % p.kv_heads;
          if (!starts_tile(t0))
            continue;
          int64_t t1 = t0 + 1;
          while (t1 < p.tokens && t1 - t0 < tile_tokens && !starts_tile(t1))
            ++t1;
          const int64_t s = static_cast<int64_t>(seq_of_token[t0]);
          const I *table = block_tables + s * p.max_blocks;
          // The tile's rows: token t0 + r / group, head g * group + r % group.
          int64_t lo = std::numeric_limits<int64_t>::max(), hi = -1;
          for (int64_t t = t0; t < t1; ++t) {
            int64_t last = static_cast<int64_t>(positions[t]);
            int64_t first = p.window > 0 && last - p.window + 1 > 0
                                ? last - p.window + 1
                                : 0;
            lo = first < lo ? first : lo;
            hi = last > hi ? last : hi;
            for (int64_t h = 0; h < group; ++h) {
              int64_t r = (t - t0) * group + h;
              const T *src = q + (t * p.q_heads + g * group + h) * p.head_dim;
              if (rope.cos) {
                const int64_t half = rope.rot / 2;
                rope_row(src, rope.cos + t * half, rope.sin + t * half,
                         p.head_dim, rope.rot, rope.interleaved, rotated);
                src = rotated;
              }
              float *dst = qf + r * q_stride;
              for (int64_t d = 0; d < p.head_dim; ++d)
                dst[d] = static_cast<float>(src[d]);
              std::memset(of + r * o_stride, 0,
                          sizeof(float) * size_t(o_stride));
              row_max[r] = -std::numeric_limits<float>::infinity();
              row_sum[r] = 0;
            }
          }
          for (int64_t blk = lo / p.block_size; blk <= hi / p.block_size;
               ++blk) {
            const int64_t base = blk * p.block_size;
            const int64_t slot0 =
                static_cast<int64_t>(table[blk]) * p.block_size;
            // Blocks lie anywhere in the pool, each head's rows strided by the
            // other heads': ask for the next block's rows of this head while
            // this block is computed. Into L2 (prefetcht1), not L1: a block's
            // K and V rows of one head are 128 lines at block_size 16 and
            // head_dim 64, several times the L1 fill buffers, and prefetcht0
            // stalled on them (7% of w8a8 batch-16 decode;
            // docs/performance.md, "Paged attention's prefetch"). A block
            // read in place (below) has attend_rows ask for them a few at a
            // time between its loads (paged::NextBlock); one copied to
            // scratch first asks for them all before the copy.
            paged::NextBlock next_block;
            if (blk < hi / p.block_size) {
              const int64_t next =
                  static_cast<int64_t>(table[blk + 1]) * p.block_size;
              next_block = {reinterpret_cast<const char *>(
                                key_pool + next * k_row + g * p.head_dim),
                            reinterpret_cast<const char *>(
                                value_pool + next * v_row + g * p.value_dim),
                            k_row * int64_t(sizeof(K)),
                            v_row * int64_t(sizeof(K)),
                            p.head_dim * int64_t(sizeof(K)),
                            p.value_dim * int64_t(sizeof(K)),
                            p.block_size};
              // An int8 pool's row scales too (kv_heads floats a slot, in
              // arrays of their own): left to demand loads, they missed
              // and stalled the scores' and values' loops (16% of
              // attend_rows in w8a8 batch-16 decode).
              if constexpr (paged::kScaledKv<K>) {
                // The lines from the block's first row scale to its last.
                const int64_t first = next * p.kv_heads + g,
                              last = first + (p.block_size - 1) * p.kv_heads;
                for (const float *array : {scales.key, scales.value}) {
                  const uintptr_t end = uintptr_t(array + last);
                  for (uintptr_t line =
                           uintptr_t(array + first) & ~uintptr_t(63);
                       line <= end; line += 64)
                    paged::prefetch_l2(reinterpret_cast<const char *>(line));
                }
              }
            }
            // The tile's tokens against the block's rows, kb[j * ks] and
            // vb[j * vs] (pool rows, or their float copies in scratch).
            // The first token that reads the block asks for the next one.
            auto attend_tile = [&](const auto *kb, int64_t ks, const auto *vb,
                                   int64_t vs, paged::RowScales row_scales,
                                   paged::NextBlock next) {
              for (int64_t t = t0; t < t1; ++t) {
                int64_t last = static_cast<int64_t>(positions[t]);
                int64_t first = p.window > 0 && last - p.window + 1 > 0
                                    ? last - p.window + 1
                                    : 0;
                int64_t j0 = first > base ? first - base : 0;
                int64_t j1 =
                    last - base < p.block_size ? last - base + 1 : p.block_size;
                if (j0 >= j1)
                  continue;
                // The group's query heads at token t see the same keys.
                const int64_t r = (t - t0) * group;
                paged::attend_block(
                    qf + r * q_stride, q_stride, kb + j0 * ks, ks, vb + j0 * vs,
                    vs, row_scales.from(j0), j1 - j0, group, p.head_dim,
                    p.value_dim, scale, softcap, scores, s_stride, row_max + r,
                    row_sum + r, of + r * o_stride, o_stride, next);
                next = {};
              }
            };
            const K *key_rows = key_pool + slot0 * k_row + g * p.head_dim;
            const K *value_rows = value_pool + slot0 * v_row + g * p.value_dim;
            if (kFloatPool || t1 - t0 == 1) {
              // Float pools, and a tile of one token (a decode step's) of
              // any type, read the block in place: one token's rows use each
              // element once, so widening it in registers costs no more than
              // a copy would.
              paged::RowScales row_scales;
              if constexpr (paged::kScaledKv<K>)
                row_scales = {scales.key + slot0 * p.kv_heads + g,
                              scales.value + slot0 * p.kv_heads + g,
                              p.kv_heads};
              attend_tile(key_rows, k_row, value_rows, v_row, row_scales,
                          next_block);
            } else {
              // Several tokens (a prefill's tile) read each element once per
              // token: the block's rows this tile reads, converted once.
              next_block.keys(0, next_block.rows);
              next_block.values(0, next_block.rows);
              int64_t j0 = lo > base ? lo - base : 0;
              int64_t j1 =
                  hi - base < p.block_size ? hi - base + 1 : p.block_size;
              for (int64_t j = j0; j < j1; ++j) {
                const K *kj = key_rows + j * k_row;
                const K *vj = value_rows + j * v_row;
                float key_scale = 1, value_scale = 1;
                if constexpr (paged::kScaledKv<K>) {
                  const int64_t at = (slot0 + j) * p.kv_heads + g;
                  key_scale = scales.key[at];
                  value_scale = scales.value[at];
                }
                paged::widen_row(kj, key_scale, kf + j * q_stride, p.head_dim);
                paged::widen_row(vj, value_scale, vf + j * o_stride,
                                 p.value_dim);
              }
              attend_tile(static_cast<const float *>(kf), q_stride,
                          static_cast<const float *>(vf), o_stride,
                          paged::RowScales{}, paged::NextBlock{});
            }
          }
          for (int64_t t = t0; t < t1; ++t)
            for (int64_t h = 0; h < group; ++h) {
              int64_t r = (t - t0) * group + h;
              const float *acc = of + r * o_stride;
              T *o = out + (t * p.q_heads + g * group + h) * p.value_dim;
              for (int64_t d = 0; d < p.value_dim; ++d)
                o[d] = static_cast<T>(acc[d] / row_sum[r]);
            }
        }
      });
  return run_failed(host) ? 1 : 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_PAGED_ATTENTION_H
