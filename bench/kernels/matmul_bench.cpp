//===- matmul_bench.cpp - anvil::cpu::matmul beside OpenBLAS --------------===//
//
// Google Benchmark microbenchmarks of the CPU matmul kernel at the 250M
// benchmark decoder's shapes (k=1024 with n in {1024, 2816, 32000}; k=2816
// with n=1024), decode (m=1), a decode step of 16 sequences (m=16) and
// prefill (m=128), on the runtime's own thread pool, beside OpenBLAS's
// cblas_sgemm (and cblas_sgemv for m=1) at the same shapes and thread
// counts, so the project can decide whether a library GEMM beats ours
// (issue #12). Counters: FLOP/s (2mnk per iteration), weight bytes/s (the
// k x n matrix per iteration) and the roofline share: bandwidth for m=1
// and the fp32 FMA peak for m=16 and m=128, both
// measured by this binary with the same thread count (Ceilings.h).
//
// Weights are cold: each iteration uses the next of several copies of the
// weight matrix, together at least 4x the last-level cache, as a decode
// step streams every layer's weights from memory. With the environment
// variable ANVIL_BENCH_WARM_WEIGHTS set (to anything) there is one copy,
// which stays in cache: the kernel's in-core rate, to tell a kernel bound
// by its instructions (about as fast warm as cold) from one that waits on
// memory.
//
//   scripts/build.sh anvil-kernel-bench
//   build/bin/anvil-kernel-bench [--benchmark_filter=...]
//
//===----------------------------------------------------------------------===//

#include "matmul.h"
#include "matmul_quant.h"

#include "BenchSupport.h"

#include <benchmark/benchmark.h>
#ifdef ANVIL_HAVE_OPENBLAS
#include <cblas.h>
#endif

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

namespace {

using anvil::bench::Ceilings;
using anvil::bench::ceilings;
using anvil::bench::Host;

struct AlignedFree {
  void operator()(float *p) const { std::free(p); }
};
using Buffer = std::unique_ptr<float[], AlignedFree>;

/// Copies of a weight of `bytes` bytes the iterations cycle through:
/// together at least 4x the last-level cache (cold weights), or one with
/// ANVIL_BENCH_WARM_WEIGHTS set (top of the file).
size_t weightCopies(size_t bytes) {
  if (std::getenv("ANVIL_BENCH_WARM_WEIGHTS"))
    return 1;
  const size_t llc = size_t(anvil::bench::cpuInfo().llcBytes);
  return std::max<size_t>(1,
                          (4 * llc + bytes - 1) / std::max<size_t>(1, bytes));
}

Buffer randomBuffer(size_t count, uint64_t seed) {
  size_t bytes = (count * sizeof(float) + 63) / 64 * 64;
  Buffer buffer(static_cast<float *>(std::aligned_alloc(64, bytes)));
  anvil::bench::Xorshift64 random{seed * 0x9E3779B97F4A7C15ull + 1};
  for (size_t i = 0; i < count; ++i)
    buffer[i] = random.unit();
  return buffer;
}

/// `w` [k, n] row-major in the cpu target's column panels (matmul_panels.h:
/// panel p at p * 32 * k, its (t, j) at t * width_p + j), as anvilc packs
/// every constant f32 weight.
Buffer packPanels(const float *w, int64_t k, int64_t n) {
  const int64_t P = anvil::cpu::kPanelWidth;
  size_t bytes = (size_t(k * n) * sizeof(float) + 63) / 64 * 64;
  Buffer packed(static_cast<float *>(std::aligned_alloc(64, bytes)));
  for (int64_t p0 = 0; p0 < n; p0 += P) {
    const int64_t width = std::min(P, n - p0);
    for (int64_t t = 0; t < k; ++t)
      for (int64_t j = 0; j < width; ++j)
        packed[size_t(p0 * k + t * width + j)] = w[t * n + p0 + j];
  }
  return packed;
}

/// The operands of one shape: lhs [m, k], `copies` weight matrices [k, n]
/// (together at least 4x the last-level cache), out [m, n]; with `panels`,
/// each weight is also packed in column panels.
struct Operands {
  int64_t m, k, n;
  Buffer lhs, out;
  std::vector<Buffer> weights, panels;

  /// The panels as bf16 (with `bf16Panels`; the weights are then rounded
  /// to bf16 values first, so the check below still holds at f32 error).
  std::vector<std::vector<anvil::cpu::bf16>> panels16;

  Operands(int64_t m, int64_t k, int64_t n, bool packed = false,
           bool bf16Panels = false)
      : m(m), k(k), n(n) {
    lhs = randomBuffer(size_t(m * k), 1);
    out = randomBuffer(size_t(m * n), 2);
    size_t bytes = size_t(k * n) * (bf16Panels ? 2 : sizeof(float));
    size_t copies = weightCopies(bytes);
    for (size_t c = 0; c < copies; ++c) {
      weights.push_back(randomBuffer(size_t(k * n), 3 + c));
      if (bf16Panels)
        for (int64_t e = 0; e < k * n; ++e)
          weights.back()[e] = float(anvil::cpu::bf16(weights.back()[e]));
      if (packed)
        panels.push_back(packPanels(weights.back().get(), k, n));
      if (bf16Panels) {
        const float *f32 = panels.back().get();
        panels16.emplace_back(f32, f32 + k * n);
        panels.back().reset(); // only the bf16 copy is read
      }
    }
  }

  /// The largest relative error of out's first row against a double
  /// product with weights[w] (a few columns).
  double check(size_t w) const {
    double worst = 0;
    for (int64_t j = 0; j < n; j += std::max<int64_t>(1, n / 7)) {
      double ref = 0, magnitude = 0;
      for (int64_t t = 0; t < k; ++t) {
        double p = double(lhs[t]) * double(weights[w][t * n + j]);
        ref += p;
        magnitude += std::fabs(p);
      }
      worst = std::max(worst, std::fabs(out[j] - ref) / (magnitude + 1e-30));
    }
    return worst;
  }
};

/// `weightBytes`: bytes per weight element (4 for f32, 2 for bf16).
void setCounters(benchmark::State &state, int64_t m, int64_t k, int64_t n,
                 size_t weightBytes = sizeof(float)) {
  double flops = 2.0 * double(m) * double(n) * double(k);
  double bytes = double(k) * double(n) * double(weightBytes);
  state.counters["FLOP/s"] =
      benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
  state.counters["W_bytes/s"] =
      benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
}

void setRoofline(benchmark::State &state, int64_t m, int64_t k, int64_t n,
                 int threads, double seconds,
                 size_t weightBytes = sizeof(float)) {
  if (seconds <= 0 || state.iterations() == 0)
    return;
  const Ceilings &c = ceilings(threads);
  double perIteration = seconds / double(state.iterations());
  if (m == 1) {
    double gbs =
        double(k) * double(n) * double(weightBytes) / perIteration / 1e9;
    state.counters["roofline"] = gbs / c.readGBs.max;
  } else {
    double gflops =
        2.0 * double(m) * double(n) * double(k) / perIteration / 1e9;
    state.counters["roofline"] = gflops / c.fp32Gflops.max;
  }
}

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// anvil::cpu::matmul on weights packed in column panels (what anvilc emits
/// for a constant f32 weight; with W = bf16, for --weight-dtype=bf16), or
/// with `packed` false on a plain [k, n] weight (an activation times an
/// activation).
template <class W = float>
void runAnvilMatmul(benchmark::State &state, bool packed) {
  constexpr bool kBf16 = std::is_same<W, anvil::cpu::bf16>::value;
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const int threads = int(state.range(3));
  Operands ops(m, k, n, packed, kBf16);
  Host host(threads);
  anvil_invocation invocation{};
  char error[256] = "";
  invocation.struct_size = sizeof invocation;
  invocation.error = error;
  invocation.error_size = sizeof error;
  anvil::cpu::RunScope scope(&host.api, &invocation);
  anvil::MatmulParams p{};
  p.m = m;
  p.n = n;
  p.k = k;
  p.transpose_rhs = false;
  p.batch_rank = 0;
  p.rhs_panel = packed ? int32_t(anvil::cpu::kPanelWidth) : 0;
  size_t w = 0;
  double seconds = 0;
  for (auto _ : state) {
    double start = now();
    const W *rhs;
    if constexpr (kBf16)
      rhs = ops.panels16[w].data();
    else
      rhs = packed ? ops.panels[w].get() : ops.weights[w].get();
    if (anvil::cpu::matmul<float, W, float>(scope.host(), p, ops.lhs.get(), rhs,
                                            ops.out.get())) {
      state.SkipWithError(error);
      return;
    }
    seconds += now() - start;
    benchmark::DoNotOptimize(ops.out.get());
    w = (w + 1) % ops.weights.size();
  }
  size_t last = (w + ops.weights.size() - 1) % ops.weights.size();
  if (ops.check(last) > 1e-4)
    state.SkipWithError("anvil::cpu::matmul's result is wrong");
  setCounters(state, m, k, n, sizeof(W));
  setRoofline(state, m, k, n, threads, seconds, sizeof(W));
}

void BM_AnvilMatmul(benchmark::State &state) { runAnvilMatmul(state, true); }
void BM_AnvilMatmulUnpacked(benchmark::State &state) {
  runAnvilMatmul(state, false);
}
void BM_AnvilMatmulBf16(benchmark::State &state) {
  runAnvilMatmul<anvil::cpu::bf16>(state, true);
}

#ifdef ANVIL_HAVE_OPENBLAS
void BM_OpenBlasSgemm(benchmark::State &state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const int threads = int(state.range(3));
  Operands ops(m, k, n);
  openblas_set_num_threads(threads);
  size_t w = 0;
  double seconds = 0;
  for (auto _ : state) {
    double start = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n),
                int(k), 1.0f, ops.lhs.get(), int(k), ops.weights[w].get(),
                int(n), 0.0f, ops.out.get(), int(n));
    seconds += now() - start;
    benchmark::DoNotOptimize(ops.out.get());
    w = (w + 1) % ops.weights.size();
  }
  size_t last = (w + ops.weights.size() - 1) % ops.weights.size();
  if (ops.check(last) > 1e-4)
    state.SkipWithError("cblas_sgemm's result is wrong");
  setCounters(state, m, k, n);
  setRoofline(state, m, k, n, threads, seconds);
}

// m = 1 as a matrix-vector product: out = W^T x with W [k, n] row-major.
void BM_OpenBlasSgemv(benchmark::State &state) {
  const int64_t k = state.range(1), n = state.range(2);
  const int threads = int(state.range(3));
  Operands ops(1, k, n);
  openblas_set_num_threads(threads);
  size_t w = 0;
  double seconds = 0;
  for (auto _ : state) {
    double start = now();
    cblas_sgemv(CblasRowMajor, CblasTrans, int(k), int(n), 1.0f,
                ops.weights[w].get(), int(n), ops.lhs.get(), 1, 0.0f,
                ops.out.get(), 1);
    seconds += now() - start;
    benchmark::DoNotOptimize(ops.out.get());
    w = (w + 1) % ops.weights.size();
  }
  size_t last = (w + ops.weights.size() - 1) % ops.weights.size();
  if (ops.check(last) > 1e-4)
    state.SkipWithError("cblas_sgemv's result is wrong");
  setCounters(state, 1, k, n);
  setRoofline(state, 1, k, n, threads, seconds);
}
#endif

/// anvil::cpu::matmul_quant on random packed weights (every byte is a valid
/// packed value, so no quantizer is needed): `bits` 8 or 4, symmetric (the
/// packing's zero_offset only, as anvilc --quantize=int8 / int4-g128 pack
/// them), one f32 scale per (channel, group); with `w8a8` the activations
/// are quantized per token to int8 (anvilc --quantize=w8a8, or w4a8-g128
/// with 4 bits). The roofline
/// share counts the bytes a call must read: packed weights and scales (m=1),
/// or 2mnk FLOP against the fp32 FMA peak (m = 16 and 128; W8A8's VNNI peak is
/// 4x that, and its AMX tiles, where the CPU has them and the binary is built
/// for them, pass even that: 2026-12-02, 128 x 1024 x 2816 on two threads,
/// 2.05 TFLOP/s, 3.9 x the fp32 peak and 106% of the VNNI one).
void BM_AnvilMatmulQuant(benchmark::State &state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const int threads = int(state.range(3));
  const int bits = int(state.range(4));
  const bool w8a8 = state.range(5) != 0;
  const int64_t group = bits == 4 ? 128 : k;
  const int64_t groups = (k + group - 1) / group;
  anvil::MatmulQuantParams p{};
  p.m = m;
  p.n = n;
  p.k = k;
  p.bits = bits;
  p.group = group;
  p.k_stored = (k + 7) / 8 * 8; // a multiple of 4 (8-bit) and 8 (W4A8)
  // Scales [groups, n], as anvilc stores group-wise ones (WeightPacking.cpp;
  // one group: [n, 1], the same).
  p.scale_n_stride = 1;
  p.scale_g_stride = n;
  p.zero_offset = bits == 4 ? 8 : 128;
  p.rhs_kn = false;
  p.quantize_lhs = w8a8;
  p.lhs_bf16 = true; // as anvilc's --quantize=int4-g* sets it
  const int64_t panels =
      (n + anvil::cpu::quant::kPanel - 1) / anvil::cpu::quant::kPanel;
  const size_t packedBytes = size_t(panels * anvil::cpu::quant::panel_bytes(p));
  const size_t scaleCount = size_t(n * groups);
  const double bytesPerCall =
      double(packedBytes) + double(scaleCount) * sizeof(float);
  size_t copies = weightCopies(size_t(bytesPerCall));
  std::vector<std::vector<uint8_t>> packed;
  std::vector<Buffer> scales;
  anvil::bench::Xorshift64 random{12345};
  for (size_t c = 0; c < copies; ++c) {
    packed.emplace_back(packedBytes);
    for (uint8_t &byte : packed.back())
      byte = uint8_t(random.next() >> 56);
    scales.push_back(randomBuffer(scaleCount, 100 + c));
    for (size_t i = 0; i < scaleCount; ++i)
      scales.back()[i] = 0.01f + 0.001f * std::fabs(scales.back()[i]);
  }
  Buffer lhs = randomBuffer(size_t(m * k), 1),
         out = randomBuffer(size_t(m * n), 2);
  Host host(threads);
  anvil_invocation invocation{};
  char error[256] = "";
  invocation.struct_size = sizeof invocation;
  invocation.error = error;
  invocation.error_size = sizeof error;
  anvil::cpu::RunScope scope(&host.api, &invocation);
  size_t w = 0;
  double seconds = 0;
  for (auto _ : state) {
    double start = now();
    if (anvil::cpu::matmul_quant(scope.host(), p, lhs.get(), packed[w].data(),
                                 scales[w].get(), out.get())) {
      state.SkipWithError(error);
      return;
    }
    seconds += now() - start;
    benchmark::DoNotOptimize(out.get());
    w = (w + 1) % copies;
  }
  // The first row against a double product with the dequantized weights
  // (W8A8: against its own quantized activations' error bound, 1e-2).
  size_t last = (w + copies - 1) % copies;
  double worst = 0;
  for (int64_t j = 0; j < n; j += std::max<int64_t>(1, n / 7)) {
    const uint8_t *panel =
        packed[last].data() + size_t(j / anvil::cpu::quant::kPanel) *
                                  size_t(anvil::cpu::quant::panel_bytes(p));
    double ref = 0, magnitude = 0;
    for (int64_t t = 0; t < k; ++t) {
      double wv = (double(anvil::cpu::quant::stored(
                       p, panel, t, j % anvil::cpu::quant::kPanel)) -
                   double(p.zero_offset)) *
                  double(scales[last][size_t(j * p.scale_n_stride +
                                             (t / group) * p.scale_g_stride)]);
      ref += double(lhs[t]) * wv;
      magnitude += std::fabs(double(lhs[t]) * wv);
    }
    worst = std::max(worst, std::fabs(out[j] - ref) / (magnitude + 1e-30));
  }
  // Symmetric 4-bit weights with float activations on AVX512-BF16: the
  // activations rounded to bf16 (matmul_int4_bf16.h), 2^-8.
  double tolerance = w8a8 ? 1e-2 : 1e-4;
#if defined(ANVIL_QUANT_BF16)
  if (anvil::cpu::quant::int4_bf16_path(p))
    tolerance = 1.0 / 256;
#endif
  if (worst > tolerance)
    state.SkipWithError("anvil::cpu::matmul_quant's result is wrong");
  state.counters["W_bytes/s"] = benchmark::Counter(
      bytesPerCall, benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1000);
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * double(m) * double(n) * double(k),
                         benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
  if (seconds > 0 && state.iterations() > 0) {
    const Ceilings &c = ceilings(threads);
    double perIteration = seconds / double(state.iterations());
    state.counters["roofline"] =
        m == 1 ? bytesPerCall / perIteration / 1e9 / c.readGBs.max
               : 2.0 * double(m) * double(n) * double(k) / perIteration / 1e9 /
                     c.fp32Gflops.max;
  }
}

/// The 250M decoder's matmuls: {k, n}.
const int64_t kShapes[][2] = {
    {1024, 1024}, {1024, 2816}, {1024, 32000}, {2816, 1024}};

void shapes(benchmark::internal::Benchmark *b, bool decodeOnly) {
  b->ArgNames({"m", "k", "n", "threads"});
  for (int64_t m : {int64_t(1), int64_t(16), int64_t(128)}) {
    if (decodeOnly && m != 1)
      continue;
    for (const auto &shape : kShapes)
      for (int64_t threads : {1, 2})
        b->Args({m, shape[0], shape[1], threads});
  }
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_AnvilMatmul)->Apply([](benchmark::internal::Benchmark *b) {
  shapes(b, false);
});
BENCHMARK(BM_AnvilMatmulUnpacked)->Apply([](benchmark::internal::Benchmark *b) {
  shapes(b, false);
});
BENCHMARK(BM_AnvilMatmulBf16)->Apply([](benchmark::internal::Benchmark *b) {
  shapes(b, false);
});
// {m, k, n, threads, bits, w8a8}: int4-g128 and int8 weight-only, W8A8,
// W4A8 (int4-g128 in the q4_n16_k8 layout with int8 activations). m = 1
// is a decode GEMV, 16 a decode step of 16 sequences (the small-batch
// path), 128 a prefill.
BENCHMARK(BM_AnvilMatmulQuant)->Apply([](benchmark::internal::Benchmark *b) {
  b->ArgNames({"m", "k", "n", "threads", "bits", "w8a8"});
  for (int64_t m : {int64_t(1), int64_t(16), int64_t(128)})
    for (const auto &shape : kShapes)
      for (int64_t threads : {1, 2})
        for (int64_t variant : {0, 1, 2, 3}) // int4, int8, w8a8, w4a8
          b->Args({m, shape[0], shape[1], threads,
                   variant == 0 || variant == 3 ? 4 : 8, variant >= 2 ? 1 : 0});
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
});
#ifdef ANVIL_HAVE_OPENBLAS
BENCHMARK(BM_OpenBlasSgemm)->Apply([](benchmark::internal::Benchmark *b) {
  shapes(b, false);
});
BENCHMARK(BM_OpenBlasSgemv)->Apply([](benchmark::internal::Benchmark *b) {
  shapes(b, true);
});
#endif

} // namespace
