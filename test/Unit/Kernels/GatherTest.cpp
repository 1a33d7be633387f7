//===- GatherTest.cpp - gather over rows split between threads ------------===//
//
// gather copies out[o, j, i] = data[o, indices[j], i]. Rows of `outer` go to
// any thread in any chunk order; an inner size of 1 (a gather along the last
// axis, the act-order permutation of K in front of a quantized matmul)
// copies elements directly. Both must equal a plain loop, negative indices
// count from the end, and an index out of range fails before anything is
// read.
//
//===----------------------------------------------------------------------===//

#include "KernelLevel.h"
#include "ReversedHost.h"
#include "anvil_cpu_kernels.h"

#include <cstdint>
#include <gtest/gtest.h>
#include <random>
#include <vector>

namespace {

/// gather on the reversed host inside a run (kernels report failures
/// through the run's error buffer, `error`).
int runGather(const anvil::GatherParams &p, const std::vector<float> &data,
              const std::vector<int64_t> &indices, std::vector<float> &out,
              char (&error)[128]) {
  anvil_host_api host = anvil_test::reversedHost();
  anvil_invocation invocation{};
  invocation.struct_size = sizeof(invocation);
  invocation.error = error;
  invocation.error_size = sizeof error;
  anvil::cpu::RunScope scope(&host, &invocation);
  return anvil::cpu::gather(scope.host(), p, data.data(), indices.data(),
                            out.data());
}

/// The plain loop: out[o, j, i] = data[o, index_j, i], index_j taken mod
/// the axis size from the negative side.
std::vector<float> reference(const anvil::GatherParams &p,
                             const std::vector<float> &data,
                             const std::vector<int64_t> &indices) {
  std::vector<float> out;
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t j = 0; j < p.count; ++j) {
      int64_t index = indices[j] < 0 ? indices[j] + p.axis_size : indices[j];
      for (int64_t i = 0; i < p.inner; ++i)
        out.push_back(data[(o * p.axis_size + index) * p.inner + i]);
    }
  return out;
}

void checkShape(int64_t outer, int64_t axis, int64_t inner, int64_t count) {
  anvil::GatherParams p{};
  p.outer = outer;
  p.axis_size = axis;
  p.inner = inner;
  p.count = count;
  std::mt19937 rng(unsigned(outer * 131 + axis * 17 + inner * 7 + count));
  std::vector<float> data(size_t(outer * axis * inner));
  for (float &v : data)
    v = std::uniform_real_distribution<float>(-1, 1)(rng);
  std::vector<int64_t> indices(static_cast<size_t>(count));
  for (int64_t &index : indices) // negative ones too
    index = std::uniform_int_distribution<int64_t>(-axis, axis - 1)(rng);
  std::vector<float> out(size_t(outer * count * inner), -7.0f);
  char error[128] = {};
  ASSERT_EQ(runGather(p, data, indices, out, error), 0) << error;
  EXPECT_EQ(out, reference(p, data, indices))
      << "outer " << outer << " axis " << axis << " inner " << inner
      << " count " << count;
}

TEST(Gather, LastAxisRowsOnAnyThread) {
  REQUIRE_LEVEL();
  // A prefill's activations permuted along K (inner 1), and a decode row.
  checkShape(128, 1024, 1, 1024);
  checkShape(1, 2816, 1, 2816);
  checkShape(3, 5, 1, 9); // repeated indices
}

TEST(Gather, InnerSlicesOnAnyThread) {
  REQUIRE_LEVEL();
  checkShape(1, 50, 16, 7); // an embedding lookup
  checkShape(4, 6, 3, 6);
  checkShape(0, 4, 2, 3); // no rows
}

TEST(Gather, RefusesAnIndexOutOfRangeBeforeReading) {
  REQUIRE_LEVEL();
  anvil::GatherParams p{};
  p.outer = 2;
  p.axis_size = 4;
  p.inner = 1;
  p.count = 3;
  std::vector<float> data(8, 1.0f), out(6, -7.0f);
  for (int64_t bad : {int64_t(4), int64_t(-5)}) {
    std::vector<int64_t> indices = {0, bad, 1};
    char error[128] = {};
    EXPECT_EQ(runGather(p, data, indices, out, error), 1);
    EXPECT_STREQ(error, "gather: an index is out of range");
    EXPECT_EQ(out, std::vector<float>(6, -7.0f)) << "index " << bad;
  }
}

} // namespace
