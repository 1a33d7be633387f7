//===- MatmulKernelTest.cpp - the cpu matmul kernels against float64 ------===//
//
// Built three times, once per x86-64 level the cpu target compiles
// artifacts for (ANVIL_KERNEL_LEVEL: x86-64-v2 portable lanes, -v3 AVX2,
// -v4 AVX-512), so each SIMD path of backends/cpu/kernels/simd.h is
// checked. A level this CPU cannot run is skipped with the reason.
//
// Checked for every path (row-major [k, n], row-major [n, k] by dot
// products, both in a batch of two as well, and column panels): each element
// against a float64 product within 1e-5 * sum_t |a_t b_t| + 1e-30 (float
// accumulation error grows with k times the magnitude of the terms); batch
// invariance (row i of an m-row product equals the product of that row alone,
// bit for bit); and thread invariance (the same bits whatever the chunking).
//
//===----------------------------------------------------------------------===//

#include "ChunkingHost.h"
#include "KernelLevel.h"
#include "anvil_cpu_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using namespace anvil::cpu;

namespace {

/// A host whose parallel_for runs chunks of `chunk` iterations (in reverse
/// order, to differ from the serial order), on "thread" 0.
struct ChunkingHost {
  anvil_host_api api{};
  int64_t chunk;
  explicit ChunkingHost(int64_t chunk) : chunk(chunk) {
    api.struct_size = sizeof(api);
    api.host = this;
    api.num_threads = 1;
    api.parallel_for = [](void *self, int64_t n, int64_t grain,
                          anvil_parallel_fn fn, void *arg) {
      int64_t size = std::max(static_cast<ChunkingHost *>(self)->chunk, grain);
      int64_t chunks = (n + size - 1) / size;
      for (int64_t c = chunks - 1; c >= 0; --c)
        fn(arg, c * size, std::min(n, (c + 1) * size), 0);
    };
  }
};

/// [k, n] row-major to the panel layout (dialects/Kernel/WeightData.cpp).
std::vector<float> toPanels(const std::vector<float> &w, int64_t k, int64_t n) {
  std::vector<float> out;
  for (int64_t p = 0; p * kPanelWidth < n; ++p) {
    int64_t width = std::min<int64_t>(kPanelWidth, n - p * kPanelWidth);
    for (int64_t t = 0; t < k; ++t)
      for (int64_t j = 0; j < width; ++j)
        out.push_back(w[t * n + p * kPanelWidth + j]);
  }
  return out;
}

enum class Path {
  RowMajor,
  Dot,
  Panels,
  PanelsBf16,
  PanelsF16,
  BatchedRowMajor, // RowMajor in a batch of two (batch_rank 1)
  BatchedDot,      // Dot in a batch of two
};

bool isBatched(Path path) {
  return path == Path::BatchedRowMajor || path == Path::BatchedDot;
}

/// The weights a path computes with: 16-bit paths round them first (the
/// float64 reference then multiplies the rounded values).
std::vector<float> effectiveWeights(Path path, std::vector<float> w) {
  for (float &x : w)
    if (path == Path::PanelsBf16)
      x = float(bf16(x));
    else if (path == Path::PanelsF16)
      x = float(f16(x));
  return w;
}

template <class W> std::vector<W> narrow(const std::vector<float> &values) {
  return std::vector<W>(values.begin(), values.end());
}

/// The parameters and the rhs of out [m, n] = a [m, k] x w [k, n] through
/// `path`: w as it is, transposed ([n, k]) or in panels.
anvil::MatmulParams pathParams(Path path, int64_t m, int64_t n, int64_t k,
                               const std::vector<float> &w,
                               std::vector<float> &rhs) {
  anvil::MatmulParams p{};
  p.m = m, p.n = n, p.k = k;
  rhs = w;
  if (path == Path::Dot || path == Path::BatchedDot) { // [n, k]
    p.transpose_rhs = true;
    for (int64_t t = 0; t < k; ++t)
      for (int64_t j = 0; j < n; ++j)
        rhs[j * k + t] = w[t * n + j];
  } else if (path == Path::Panels) {
    p.rhs_panel = kPanelWidth;
    rhs = toPanels(w, k, n);
  }
  return p;
}

/// out [m, n] = a [m, k] x w [k, n] through `path`.
std::vector<float> run(Path path, const anvil_host_api *host, int64_t m,
                       int64_t n, int64_t k, const std::vector<float> &a,
                       const std::vector<float> &w) {
  std::vector<float> rhs;
  anvil::MatmulParams p = pathParams(path, m, n, k, w, rhs);
  if (isBatched(path)) {
    // Batch 1 multiplies the same (broadcast, stride 0) lhs by -rhs: its
    // result must be batch 0's negated, bit for bit (negation is exact).
    const size_t size = rhs.size();
    for (size_t e = 0; e < size; ++e)
      rhs.push_back(-rhs[e]);
    p.batch_rank = 1;
    p.batch[0] = 2;
    p.lhs_batch_strides[0] = 0;
    p.rhs_batch_strides[0] = int64_t(size);
  }
  const int64_t batches = isBatched(path) ? 2 : 1;
  std::vector<float> out(batches * m * n, std::nanf(""));
  int status =
      matmul<float, float, float>(host, p, a.data(), rhs.data(), out.data());
  EXPECT_EQ(status, 0);
  if (isBatched(path)) {
    for (int64_t e = 0; e < m * n; ++e)
      EXPECT_EQ(out[m * n + e], -out[e]) << "batch 1 element " << e;
    out.resize(m * n);
  }
  return out;
}

/// Random operands a [m, k] and w [k, n] (standard normal) from `seed`.
void randomOperands(unsigned seed, int64_t m, int64_t n, int64_t k,
                    std::vector<float> &a, std::vector<float> &w) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  a.resize(m * k);
  w.resize(k * n);
  for (float &x : a)
    x = normal(rng);
  for (float &x : w)
    x = normal(rng);
}

void checkShape(Path path, int64_t m, int64_t n, int64_t k) {
  SCOPED_TRACE(testing::Message() << "m " << m << " n " << n << " k " << k);
  std::vector<float> a, w;
  randomOperands(unsigned(m * 1000003 + n * 1009 + k), m, n, k, a, w);
  w = effectiveWeights(path, w); // exactly what a 16-bit path multiplies
  std::vector<float> out = run(path, nullptr, m, n, k, a, w);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double exact = 0, magnitude = 0;
      for (int64_t t = 0; t < k; ++t) {
        exact += double(a[i * k + t]) * double(w[t * n + j]);
        magnitude += std::fabs(double(a[i * k + t]) * double(w[t * n + j]));
      }
      ASSERT_NEAR(out[i * n + j], exact, 1e-5 * magnitude + 1e-30)
          << "at (" << i << ", " << j << ")";
    }
  // Chunked differently: the same bits.
  for (int64_t chunk : {1, 3}) {
    ChunkingHost host(chunk);
    RunScope scope(&host.api, nullptr); // kernels take the run's host
    std::vector<float> again = run(path, scope.host(), m, n, k, a, w);
    ASSERT_EQ(std::memcmp(again.data(), out.data(), out.size() * 4), 0)
        << "chunks of " << chunk;
  }
  // Each row alone: the same bits as inside the batch.
  if (path != Path::RowMajor && path != Path::BatchedRowMajor)
    for (int64_t i = 0; i < m; ++i) {
      std::vector<float> row(a.begin() + i * k, a.begin() + (i + 1) * k);
      std::vector<float> alone = run(path, nullptr, 1, n, k, row, w);
      ASSERT_EQ(std::memcmp(alone.data(), out.data() + i * n, n * 4), 0)
          << "row " << i << " alone differs";
    }
}

void checkPath(Path path) {
  // 13 and 16 rows end in a tail tile of 1 and 4 rows (after 12 on
  // AVX-512, 6 + 6 on AVX2), whose register tiles take more panels than
  // the chunk's groups hold (tile_panels).
  for (int64_t m : {1, 2, 3, 4, 5, 8, 9, 13, 16, 17})
    for (int64_t n : {1, 15, 32, 33, 70, 129})
      for (int64_t k : {1, 7, 16, 17, 100})
        checkShape(path, m, n, k);
  checkShape(path, 3, 1024, 1024);
  // A 2-row tail tile over many panels and two k blocks.
  checkShape(path, 14, 1030, 300);
  checkShape(path, 1, 260, 2816);
  // A wide decode GEMV (8 panels per tile on AVX-512) whose last group
  // holds one narrow panel; its rows alone against a 2-row tile.
  checkShape(path, 2, 1030, 100);
}

TEST(MatmulKernel, RowMajor) {
  REQUIRE_LEVEL();
  checkPath(Path::RowMajor);
}
TEST(MatmulKernel, DotProducts) {
  REQUIRE_LEVEL();
  checkPath(Path::Dot);
}
TEST(MatmulKernel, BatchedRowMajor) {
  REQUIRE_LEVEL();
  checkPath(Path::BatchedRowMajor);
}
TEST(MatmulKernel, BatchedDotProducts) {
  REQUIRE_LEVEL();
  checkPath(Path::BatchedDot);
}
TEST(MatmulKernel, Panels) {
  REQUIRE_LEVEL();
  checkPath(Path::Panels);
}

TEST(MatmulKernel, PanelsOfBf16Weights) {
  REQUIRE_LEVEL();
  checkPath(Path::PanelsBf16);
}
TEST(MatmulKernel, PanelsOfF16Weights) {
  REQUIRE_LEVEL();
  checkPath(Path::PanelsF16);
}

/// out [m, n] = a [m, k] x w [k, n] through `path` with an epilogue
/// (common.h's contract): each block it is called on must hold final
/// results (the unfused product's bits) and be seen once; it writes 2x + 1
/// in place.
void checkEpilogue(Path path, int64_t m, int64_t n, int64_t k, int64_t chunk) {
  SCOPED_TRACE(testing::Message()
               << "m " << m << " n " << n << " k " << k << " chunk " << chunk);
  std::vector<float> a, w;
  randomOperands(unsigned(m * 7919 + n * 104729 + k), m, n, k, a, w);
  const std::vector<float> plain = run(path, nullptr, m, n, k, a, w);
  std::vector<float> rhs;
  const anvil::MatmulParams p = pathParams(path, m, n, k, w, rhs);
  std::vector<float> out(m * n, std::nanf(""));
  std::vector<int> seen(m * n, 0);
  int64_t badBlocks = 0, notFinal = 0;
  auto epilogue = [&](int64_t i0, int64_t i1, int64_t n0, int64_t n1) {
    if (i0 < 0 || i1 > m || i0 >= i1 || n0 < 0 || n1 > n || n0 >= n1) {
      ++badBlocks;
      return;
    }
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t j = n0; j < n1; ++j) {
        float &v = out[i * n + j];
        notFinal += std::memcmp(&v, &plain[i * n + j], 4) != 0;
        ++seen[i * n + j];
        v = 2.0f * v + 1.0f;
      }
  };
  ChunkingHost host(chunk);
  RunScope scope(&host.api, nullptr);
  ASSERT_EQ(matmul<float>(scope.host(), p, a.data(), rhs.data(), out.data(),
                          epilogue),
            0);
  ASSERT_EQ(badBlocks, 0);
  ASSERT_EQ(notFinal, 0) << "an epilogue saw elements not yet final";
  for (int64_t e = 0; e < m * n; ++e) {
    ASSERT_EQ(seen[e], 1) << "element " << e << " seen " << seen[e] << " times";
    ASSERT_EQ(out[e], 2.0f * plain[e] + 1.0f) << "element " << e;
  }
}

TEST(MatmulKernel, EpilogueRunsOnceOnFinalBlocks) {
  REQUIRE_LEVEL();
  // GEMVs (the wide decode tile at n 1030), small batches, prefill tiles
  // over several k blocks (k 300 > kBlock), chunks of one group or three.
  for (Path path : {Path::RowMajor, Path::Dot, Path::Panels})
    for (int64_t m : {1, 3, 13, 40})
      for (int64_t n : {33, 1030})
        for (int64_t k : {7, 300})
          for (int64_t chunk : {1, 3})
            checkEpilogue(path, m, n, k, chunk);
}

TEST(MatmulKernel, EmptyProducts) {
  REQUIRE_LEVEL();
  for (Path path : {Path::Dot, Path::Panels}) {
    std::vector<float> none;
    std::vector<float> out = run(path, nullptr, 2, 3, 0, none, none);
    for (float v : out)
      EXPECT_EQ(v, 0.0f);
  }
}

/// A kernel run on a ChunkingHost of `chunk`-iteration chunks (with
/// scratch), its errors written to `error`.
struct KernelRun {
  anvil_test::ChunkingHost host;
  char error[256] = "";
  anvil_invocation invocation;
  RunScope scope;
  explicit KernelRun(int64_t chunk)
      : host(chunk), invocation(errorsTo(error, sizeof error)),
        scope(&host.api, &invocation) {}
  static anvil_invocation errorsTo(char *error, size_t size) {
    anvil_invocation invocation{};
    invocation.struct_size = sizeof invocation;
    invocation.error = error;
    invocation.error_size = size;
    return invocation;
  }
};

// matmul_quant with k = 0 (an empty reduction, which ONNX allows): every
// output is 0 whatever the path (decode GEMV at m = 1, tiles above), the
// width (8 and 4 bits) or the partial panel (n = 37). The output starts as
// NaN so that a path writing nothing fails, and each empty product follows
// a k = 32 one of nonzero sums, so that sums the kernel forgot to clear
// are not the zeros of a fresh stack.
TEST(MatmulKernel, EmptyQuantizedProducts) {
  REQUIRE_LEVEL();
  KernelRun kernels(1); // with scratch, which the tiles take
  for (int bits : {8, 4})
    for (int64_t m : {1, 3, 20})
      for (int64_t k : {32, 0}) {
        anvil::MatmulQuantParams p{};
        p.m = m;
        p.n = 37;
        p.k = k;
        p.bits = bits;
        p.group = bits == 4 ? 32 : 0;
        p.k_stored = k;
        p.scale_n_stride = 1;
        p.scale_g_stride = 1;
        p.zero_offset = bits == 4 ? 8 : 128;
        const int64_t panels = (p.n + quant::kPanel - 1) / quant::kPanel;
        // Every stored value 3 above its zero point, every scale 0.5.
        const std::vector<uint8_t> packed(
            size_t(std::max<int64_t>(1, panels * quant::panel_bytes(p))),
            uint8_t(bits == 4 ? 0xbb : 0x83));
        const std::vector<float> scales(size_t(p.n), 0.5f);
        const std::vector<float> lhs(size_t(std::max<int64_t>(1, m * k)), 1.0f);
        std::vector<float> out(size_t(m * p.n), std::nanf(""));
        ASSERT_EQ(matmul_quant(kernels.scope.host(), p, lhs.data(),
                               packed.data(), scales.data(), out.data()),
                  0)
            << kernels.error;
        for (float v : out)
          ASSERT_EQ(v, k == 0 ? 0.0f : 1.5f * float(k))
              << "bits " << bits << ", m " << m << ", k " << k;
      }
}

// Group-wise scales (and zero points) may lie [n, groups] (scale_n_stride
// groups, as a model's DequantizeLinear holds them) or [groups, n]
// (scale_n_stride 1, as the cpu target stores them: WeightPacking.cpp);
// the kernel gathers the first and loads the second (load_panel_scales),
// and the two must give the same bits in every path: the decode GEMV (m =
// 1), small batches and tiles; symmetric 4-bit weights, asymmetric ones
// with a zero point per group, W4A8 (activations quantized per token) and
// lhs_bf16 (the vdpbf16ps path where the build has AVX512-BF16, the float
// one elsewhere). k = 300: a last group of 12; n = 37: a partial last panel.
TEST(MatmulKernel, GroupScaleLayoutsGiveTheSameBits) {
  REQUIRE_LEVEL();
  KernelRun kernels(2);
  const int64_t n = 37, k = 300, group = 32, groups = (k + group - 1) / group;
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> byte(0, 255), zero(0, 15);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<float> byRow(size_t(n * groups)), byGroup(size_t(n * groups));
  std::vector<uint8_t> zeroByRow(size_t(n * groups)),
      zeroByGroup(size_t(n * groups));
  for (int64_t c = 0; c < n; ++c)
    for (int64_t g = 0; g < groups; ++g) {
      const float s = 0.01f + 0.1f * std::fabs(unit(rng));
      const uint8_t z = uint8_t(zero(rng));
      byRow[size_t(c * groups + g)] = byGroup[size_t(g * n + c)] = s;
      zeroByRow[size_t(c * groups + g)] = zeroByGroup[size_t(g * n + c)] = z;
    }
  enum Variant { Symmetric, ZeroPoints, W4A8, Bf16 };
  for (Variant variant : {Symmetric, ZeroPoints, W4A8, Bf16})
    for (int64_t m : {1, 5, 40}) {
      anvil::MatmulQuantParams p{};
      p.m = m;
      p.n = n;
      p.k = k;
      p.bits = 4;
      p.group = group;
      p.k_stored = (k + 7) / 8 * 8;
      p.zero_offset = variant == ZeroPoints ? 0 : 8;
      p.quantize_lhs = variant == W4A8;
      p.lhs_bf16 = variant == Bf16;
      const int64_t panels = (n + quant::kPanel - 1) / quant::kPanel;
      std::vector<uint8_t> packed(size_t(panels * quant::panel_bytes(p)));
      for (uint8_t &b : packed)
        b = uint8_t(byte(rng));
      std::vector<float> lhs(size_t(m * k));
      for (float &v : lhs)
        v = unit(rng);
      auto run = [&](bool transposed) {
        p.scale_n_stride = transposed ? 1 : groups;
        p.scale_g_stride = transposed ? n : 1;
        const std::vector<float> &scales = transposed ? byGroup : byRow;
        const std::vector<uint8_t> &zeros =
            transposed ? zeroByGroup : zeroByRow;
        std::vector<float> out(size_t(m * n), std::nanf(""));
        EXPECT_EQ(matmul_quant(kernels.scope.host(), p, lhs.data(),
                               packed.data(), scales.data(),
                               variant == ZeroPoints ? zeros.data() : nullptr,
                               out.data()),
                  0)
            << kernels.error;
        return out;
      };
      const std::vector<float> gathered = run(false), loaded = run(true);
      for (size_t i = 0; i < gathered.size(); ++i) {
        ASSERT_TRUE(std::isfinite(gathered[i])) << "variant " << variant;
        ASSERT_EQ(std::memcmp(&gathered[i], &loaded[i], sizeof(float)), 0)
            << "variant " << variant << ", m " << m << ", element " << i << ": "
            << gathered[i] << " vs " << loaded[i];
      }
    }
}

} // namespace
