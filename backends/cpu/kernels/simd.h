// simd.h - one float vector type for the kernels' SIMD loops.
//
// `Vec` is the widest float vector the build's -march allows: 16 lanes of
// AVX-512, 8 of AVX2 with FMA, or 8 portable lanes the compiler may
// vectorize. A kernel written once over Vec (load/store under a lane mask,
// splat, fused multiply-add) compiles to each; the artifact's --mcpu level
// decides which (backends/cpu/codegen/CpuTarget.cpp), and the runtime
// checks the manifest's cpu_features before it loads the code.
//
// Vec::fma fuses on AVX-512 and AVX2 (one rounding) and does not on the
// portable path (a * b + c, two roundings: the kernels build without
// -ffp-contract): results differ in the last bits between --mcpu levels,
// never between runs or batch sizes of one artifact.
#ifndef ANVIL_CPU_KERNELS_SIMD_H
#define ANVIL_CPU_KERNELS_SIMD_H

#include <algorithm>
#include <cstdint>
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace anvil {
namespace cpu {

/// The fewest multiply-adds worth a chunk of a parallel loop: about 5 us
/// of one core's vector FMAs, more than the thread pool's hand-off.
constexpr int64_t kMinChunkMacs = int64_t(1) << 17;

namespace simd {

#if defined(__AVX512F__)
/// 16 floats in a zmm register.
struct Vec {
  static constexpr int kLanes = 16;
  __m512 v;
  using Mask = __mmask16; // the valid lanes of a partial vector
  static Mask mask(int64_t count) {
    return count >= 16 ? Mask(0xffff)
                       : Mask((1u << std::max<int64_t>(count, 0)) - 1);
  }
  static Vec zero() { return {_mm512_setzero_ps()}; }
  static Vec splat(float x) { return {_mm512_set1_ps(x)}; }
  static Vec load(const float *p, Mask m) {
    return {_mm512_maskz_loadu_ps(m, p)};
  }
  void store(float *p, Mask m) const { _mm512_mask_storeu_ps(p, m, v); }
  static Vec loadu(const float *p) { return {_mm512_loadu_ps(p)}; }
  void storeu(float *p) const { _mm512_storeu_ps(p, v); }
  static Vec fma(Vec a, Vec b, Vec c) {
    return {_mm512_fmadd_ps(a.v, b.v, c.v)};
  }
  static Vec add(Vec a, Vec b) { return {_mm512_add_ps(a.v, b.v)}; }
  /// common.h's clamp_nan per lane (lo when x <= lo, hi when >= hi, NaN
  /// kept): two compares and two blends, the bits of the scalar.
  static Vec clamp(Vec x, Vec lo, Vec hi) {
    const __m512 t = _mm512_mask_mov_ps(
        x.v, _mm512_cmp_ps_mask(x.v, lo.v, _CMP_LE_OQ), lo.v);
    return {
        _mm512_mask_mov_ps(t, _mm512_cmp_ps_mask(t, hi.v, _CMP_GE_OQ), hi.v)};
  }
  /// common.h's max_select per lane (m where m > v or m is NaN, else v):
  /// two compares and a blend, the bits of the scalar.
  static Vec max_select(Vec m, Vec v) {
    const __mmask16 keep = _mm512_cmp_ps_mask(m.v, v.v, _CMP_GT_OQ) |
                           _mm512_cmp_ps_mask(m.v, m.v, _CMP_UNORD_Q);
    return {_mm512_mask_mov_ps(v.v, keep, m.v)};
  }
  float sum() const { return _mm512_reduce_add_ps(v); } // a fixed tree
};
#elif defined(__AVX2__) && defined(__FMA__)
/// 8 floats in a ymm register.
struct Vec {
  static constexpr int kLanes = 8;
  __m256 v;
  using Mask = __m256i; // all ones in the valid lanes
  static Mask mask(int64_t count) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const int64_t valid = std::min<int64_t>(std::max<int64_t>(count, 0), 8);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(valid)), lanes);
  }
  static Vec zero() { return {_mm256_setzero_ps()}; }
  static Vec splat(float x) { return {_mm256_set1_ps(x)}; }
  static Vec load(const float *p, Mask m) { return {_mm256_maskload_ps(p, m)}; }
  void store(float *p, Mask m) const { _mm256_maskstore_ps(p, m, v); }
  /// Whole vectors: vmaskmovps costs more than a plain load on AMD Zen,
  /// and its masks take ymm registers a register tile needs.
  static Vec loadu(const float *p) { return {_mm256_loadu_ps(p)}; }
  void storeu(float *p) const { _mm256_storeu_ps(p, v); }
  static Vec fma(Vec a, Vec b, Vec c) {
    return {_mm256_fmadd_ps(a.v, b.v, c.v)};
  }
  static Vec add(Vec a, Vec b) { return {_mm256_add_ps(a.v, b.v)}; }
  /// common.h's clamp_nan per lane, as the AVX-512 Vec's.
  static Vec clamp(Vec x, Vec lo, Vec hi) {
    const __m256 t =
        _mm256_blendv_ps(x.v, lo.v, _mm256_cmp_ps(x.v, lo.v, _CMP_LE_OQ));
    return {_mm256_blendv_ps(t, hi.v, _mm256_cmp_ps(t, hi.v, _CMP_GE_OQ))};
  }
  /// common.h's max_select per lane, as the AVX-512 Vec's.
  static Vec max_select(Vec m, Vec v) {
    const __m256 keep = _mm256_or_ps(_mm256_cmp_ps(m.v, v.v, _CMP_GT_OQ),
                                     _mm256_cmp_ps(m.v, m.v, _CMP_UNORD_Q));
    return {_mm256_blendv_ps(v.v, m.v, keep)};
  }
  float sum() const { // halves added pairwise, a fixed tree
    __m128 x =
        _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
  }
};
#else
/// Portable: 8 floats the compiler may vectorize; a * b + c, unfused
/// (the kernels build without -ffp-contract, so no FMA is formed).
struct Vec {
  static constexpr int kLanes = 8;
  float v[8];
  using Mask = int64_t; // the number of valid lanes
  static Mask mask(int64_t count) { return count; }
  static Vec zero() { return Vec{}; }
  static Vec splat(float x) {
    Vec r;
    for (float &e : r.v)
      e = x;
    return r;
  }
  static Vec load(const float *p, int64_t count) {
    Vec r{};
    for (int64_t l = 0; l < 8 && l < count; ++l)
      r.v[l] = p[l];
    return r;
  }
  void store(float *p, int64_t count) const {
    for (int64_t l = 0; l < 8 && l < count; ++l)
      p[l] = v[l];
  }
  static Vec loadu(const float *p) { return load(p, 8); }
  void storeu(float *p) const { store(p, 8); }
  static Vec fma(Vec a, Vec b, Vec c) {
    Vec r;
    for (int l = 0; l < 8; ++l)
      r.v[l] = a.v[l] * b.v[l] + c.v[l];
    return r;
  }
  static Vec add(Vec a, Vec b) {
    Vec r;
    for (int l = 0; l < 8; ++l)
      r.v[l] = a.v[l] + b.v[l];
    return r;
  }
  /// common.h's clamp_nan per lane.
  static Vec clamp(Vec x, Vec lo, Vec hi) {
    Vec r;
    for (int l = 0; l < 8; ++l) {
      const float t = x.v[l] <= lo.v[l] ? lo.v[l] : x.v[l];
      r.v[l] = t >= hi.v[l] ? hi.v[l] : t;
    }
    return r;
  }
  /// common.h's max_select per lane.
  static Vec max_select(Vec m, Vec v) {
    Vec r;
    for (int l = 0; l < 8; ++l)
      r.v[l] = m.v[l] > v.v[l] || m.v[l] != m.v[l] ? m.v[l] : v.v[l];
    return r;
  }
  float sum() const {
    return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
  }
};
#endif

} // namespace simd
} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_SIMD_H
