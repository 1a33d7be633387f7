//===- WeightLayoutTest.cpp - weights rearranged piece by piece -----------===//

#include "dialects/Kernel/KernelOps.h"
#include "dialects/Kernel/WeightData.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

using namespace mlir;
using namespace anvil::kernel;

namespace {

/// Layout "kn" of an [N, K] value, copied in every split of its bytes
/// (pieces starting and ending inside elements too), equals the transpose
/// worked out element by element here.
template <typename T>
void checkTransposedPieces(Type elementType, int64_t n, int64_t k) {
  std::vector<T> value(n * k);
  for (size_t i = 0; i < value.size(); ++i)
    value[i] = static_cast<T>(3 * i + 1);
  std::vector<T> expected(n * k);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col)
      expected[col * n + row] = value[row * k + col];
  auto type = RankedTensorType::get({n, k}, elementType);
  ArrayRef<char> bytes(reinterpret_cast<const char *>(value.data()),
                       value.size() * sizeof(T));
  size_t total = bytes.size();
  for (size_t piece = 1; piece <= total; ++piece) {
    std::vector<char> out(total, 0);
    for (size_t from = 0; from < total; from += piece) {
      size_t size = std::min(piece, total - from);
      copyWeightBytesInLayout(kWeightLayoutKN, type, bytes, from,
                              out.data() + from, size);
    }
    ASSERT_EQ(std::memcmp(out.data(), expected.data(), total), 0)
        << "pieces of " << piece << " bytes";
  }
  // No layout: the value's own bytes.
  std::vector<char> same(total);
  copyWeightBytesInLayout("", type, bytes, 0, same.data(), total);
  EXPECT_EQ(std::memcmp(same.data(), value.data(), total), 0);
}

TEST(WeightLayout, KnTransposesInAnyPieces) {
  MLIRContext context;
  Builder b(&context);
  checkTransposedPieces<float>(b.getF32Type(), 3, 5);
  checkTransposedPieces<int16_t>(b.getI16Type(), 4, 2);
  checkTransposedPieces<int8_t>(b.getI8Type(), 1, 7);
}

} // namespace
