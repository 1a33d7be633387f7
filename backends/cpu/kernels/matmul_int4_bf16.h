// matmul_int4_bf16.h - the pieces of matmul_quant's symmetric 4-bit path
// for float activations on CPUs with AVX512-BF16 (--mcpu=native on AMD Zen 4
// or Intel Sapphire Rapids and later): the activations rounded to bf16
// once per call, the weights widened to bf16 in registers, and the
// products summed by `vdpbf16ps`, which multiplies 32 pairs of bf16 and
// adds each pair's two products into one of 16 float lanes: twice the
// multiply-adds of an fp32 FMA per instruction, for weights that need no
// float conversion (Intel SDM, VDPBF16PS; bf16 is float's top 16 bits).
// Only launches with lhs_bf16 take it: the weights anvil-quantize-weights
// made itself (it marks their dequantize anvil.lhs_bf16); an imported
// model's int4 product stays in float, as the model defines it.
//
// A stored nibble u (0..15; its weight is u - 8 times the group's scale)
// OR-ed into the mantissa of the bf16 128.0 (0x4300) is the bf16 128 + u
// exactly (that exponent's mantissa step is 1), so a 64-byte line of the
// "q4_n16_k8" layout (matmul_quant.h: channel c's 32-bit word holds k .. k
// + 7, byte i the nibbles of k + i (low) and k + 4 + i (high)) becomes
// four vectors of bf16 pairs with three shifts and four vpternlogd:
//   (v >>  0) & 0x000f000f | 0x43004300: the pairs (k, k + 2) of each channel
//   (v >>  4) ...                        (k + 4, k + 6)
//   (v >>  8) ...                        (k + 1, k + 3)
//   (v >> 12) ...                        (k + 5, k + 7)
// against the activations packed in that pair order (pack_bf16_pair_rows).
// A group's sum over its k is then sum_k x_k (128 + u) = sum_k x_k (u - 8)
// + 136 sum_k x_k, and the 136 sum_k x_k (`corr`, per row and group, the
// same for every channel) comes off once per group.
//
// Every path of this call (decode GEMV, small batches, prefill) runs the
// same micro-kernel with the same pair order, one vdpbf16ps chain per row,
// channel and group, so a row's result does not depend on its batch, as
// the float path's FMA chains do not (matmul_quant.h's file comment). The
// numbers differ from the float path's by the activations' rounding to
// bf16 (relative 2^-9 each) and the cancellation of the 136 sum_k x_k
// (bounded by float summation of group terms of up to 143 |x_k|);
// vdpbf16ps also reads denormal inputs as 0 and flushes denormal results.
#ifndef ANVIL_CPU_KERNELS_MATMUL_INT4_BF16_H
#define ANVIL_CPU_KERNELS_MATMUL_INT4_BF16_H

#if defined(__AVX512BF16__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#define ANVIL_QUANT_BF16 1

#include <immintrin.h>

#include <cstdint>

namespace anvil {
namespace cpu {
namespace quant_bf16 {

/// Rows per micro-kernel call, and per tile of the packed activations
/// (fewer when the product has fewer rows).
constexpr int64_t kCallRows = 8;
/// sum_k x_k (128 + u) less this times sum_k x_k is sum_k x_k (u - 8).
constexpr float kBias = 136.0f;

/// The packed activations' tile row count for an m-row product.
inline int64_t tile_rows(int64_t m) { return m < kCallRows ? m : kCallRows; }

/// Where row i's k-octet 0 lies in the packed activations (dwords): tiles
/// of `tr` rows, each k-octet of a tile holding its rows' four dwords
/// one row after the other: dword (o * tr + r) * 4 + j of the tile is the
/// j-th pair (k order 0 2, 4 6, 1 3, 5 7 of the octet) of row r at octet o.
inline int64_t packed_row_offset(int64_t i, int64_t tr, int64_t octets) {
  return (i / tr) * octets * tr * 4 + (i % tr) * 4;
}

/// The bf16 nearest each of v's floats, ties to even (as vcvtneps2bf16
/// rounds, but keeping denormals, which vdpbf16ps reads as 0 anyway), in
/// the low half of each 32-bit lane; a NaN stays a (quiet) NaN. In integer
/// operations: clang 16 miscompiles _mm256_cvtneps_pbh's result type.
inline __m256i round_to_bf16(__m256 v) {
  const __m256i bits = _mm256_castps_si256(v);
  const __m256i odd =
      _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
  __m256i rounded =
      _mm256_add_epi32(bits, _mm256_add_epi32(_mm256_set1_epi32(0x7fff), odd));
  rounded =
      _mm256_mask_or_epi32(rounded, _mm256_cmp_ps_mask(v, v, _CMP_UNORD_Q),
                           bits, _mm256_set1_epi32(0x00400000));
  return _mm256_srli_epi32(rounded, 16);
}

/// Rows [i0, i1) of x ([m, k] float, row-major) rounded to bf16
/// (round_to_bf16) and stored as pairs for
/// int4_group_sums: `octets` k-octets a row (k rounded up to 8; past k the
/// values are 0), at packed_row_offset in xb. corr[i * groups + g] is kBias
/// times the float sum of row i's rounded values in group g (k in [g *
/// group, (g + 1) * group), `group` a multiple of 8), summed in one fixed
/// order, so every path of a call subtracts the same value.
inline void pack_bf16_pair_rows(const float *x, int64_t k, int64_t octets,
                                int64_t group, int64_t groups, int64_t tr,
                                int64_t i0, int64_t i1, uint32_t *xb,
                                float *corr) {
  // Words x0 .. x7 of an octet as dwords (x0 x2) (x4 x6) (x1 x3) (x5 x7).
  const __m128i order =
      _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
  const int64_t groupOctets = group / 8;
  for (int64_t i = i0; i < i1; ++i) {
    const float *row = x + i * k;
    uint32_t *dst = xb + packed_row_offset(i, tr, octets);
    __m256 sum = _mm256_setzero_ps();
    int64_t g = 0;
    for (int64_t o = 0; o < octets; ++o) {
      const int64_t t = 8 * o;
      const __m256 v =
          t + 8 <= k ? _mm256_loadu_ps(row + t)
          : t < k
              ? _mm256_maskz_loadu_ps(__mmask8((1u << (k - t)) - 1u), row + t)
              : _mm256_setzero_ps();
      const __m256i top = round_to_bf16(v);
      _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + o * tr * 4),
                       _mm_shuffle_epi8(_mm256_cvtepi32_epi16(top), order));
      // The rounded values as floats (a bf16 is a float's top half).
      sum = _mm256_add_ps(sum, _mm256_castsi256_ps(_mm256_slli_epi32(top, 16)));
      if ((o + 1) % groupOctets == 0 || o + 1 == octets) {
        const __m128 half = _mm_add_ps(_mm256_castps256_ps128(sum),
                                       _mm256_extractf128_ps(sum, 1));
        const __m128 quad = _mm_add_ps(half, _mm_movehl_ps(half, half));
        const float total =
            _mm_cvtss_f32(_mm_add_ss(quad, _mm_movehdup_ps(quad)));
        if (g < groups)
          corr[i * groups + g] = kBias * total;
        ++g;
        sum = _mm256_setzero_ps();
      }
    }
  }
}

/// acc + vdpbf16ps(w, the dword at x broadcast): in each lane, acc plus
/// the products of w's two bf16 and x's two, x's in every lane (Intel SDM,
/// VDPBF16PS). Inline assembly: clang 16 crashes (a segmentation fault in
/// its backend) compiling _mm512_dpbf16_ps with -mavx512vnni
/// -mavx512bf16 or -march=znver4, and it builds the kernel tests and
/// benchmarks; g++ builds the generated code.
__attribute__((always_inline)) inline __m512
dpbf16_broadcast(__m512 acc, __m512i w, const uint32_t *x) {
  asm("vdpbf16ps %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*x));
  return acc;
}

/// The bf16-pair sums of R rows (a constant, so the accumulators stay in
/// registers; R <= kCallRows) over NP panels (panel q's line of k-octet o at
/// panel + q * stride + o * 64) for the k-octets [o0, o1): acc[q][r] =
/// sum over those octets of x_k (128 + u(c, k)) in each channel's lane,
/// one vdpbf16ps chain per row and channel in a fixed pair order. xb: the
/// packed activations of row 0 of the call (packed_row_offset), `tr` the
/// tile's row count; the rows lie in one tile. No software prefetch: the
/// decode GEMV (R = 1, kGemvPanels streams) read 10-20% faster without
/// one asking 4 KB ahead (AMD Zen 4, 2026-12-07), as W4A8's does.
template <int R, int NP>
__attribute__((always_inline)) inline void
int4_group_sums(const uint8_t *panel, int64_t stride, const uint32_t *xb,
                int64_t tr, int64_t o0, int64_t o1, __m512 (&acc)[NP][R]) {
  const __m512i nibbles = _mm512_set1_epi32(0x000f000f);
  const __m512i magic = _mm512_set1_epi32(0x43004300); // bf16 128.0, twice
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q)
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      acc[q][r] = _mm512_setzero_ps();
  // (a & b) | c, vpternlogd's truth table of a = 0xf0, b = 0xcc, c = 0xaa.
  auto pairs = [&](__m512i v) {
    return _mm512_ternarylogic_epi32(v, nibbles, magic, 0xea);
  };
  for (int64_t o = o0; o < o1; ++o) {
    const uint32_t *xo = xb + o * tr * 4;
    __m512i w[NP][4];
#pragma GCC unroll 4
    for (int q = 0; q < NP; ++q) {
      const uint8_t *line = panel + q * stride + o * 64;
      const __m512i v = _mm512_loadu_si512(line);
      w[q][0] = pairs(v);
      w[q][1] = pairs(_mm512_srli_epi32(v, 4));
      w[q][2] = pairs(_mm512_srli_epi32(v, 8));
      w[q][3] = pairs(_mm512_srli_epi32(v, 12));
    }
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j)
#pragma GCC unroll 4
      for (int q = 0; q < NP; ++q)
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r)
          acc[q][r] = dpbf16_broadcast(acc[q][r], w[q][j], xo + r * 4 + j);
  }
}

} // namespace quant_bf16
} // namespace cpu
} // namespace anvil

#endif // AVX512-BF16
#endif // ANVIL_CPU_KERNELS_MATMUL_INT4_BF16_H
