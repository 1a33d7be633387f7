//===- ConstantValuesTest.cpp - reading and building constants ------------===//

#include "dialects/Anvil/ConstantValues.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace anvil;
using namespace mlir;

namespace {

TEST(ConstantValues, IntegersRoundTrip) {
  MLIRContext context;
  auto type = RankedTensorType::get({3}, IntegerType::get(&context, 64));
  DenseElementsAttr attr = buildDense(type, llvm::ArrayRef<int64_t>{-1, 0, 7});
  auto read = readConstant(attr);
  ASSERT_TRUE(read.has_value());
  EXPECT_FALSE(read->isFloat);
  EXPECT_EQ(read->ints, (std::vector<int64_t>{-1, 0, 7}));
}

TEST(ConstantValues, NarrowIntegersAreSignExtended) {
  MLIRContext context;
  auto type = RankedTensorType::get({2}, IntegerType::get(&context, 8));
  auto read = readConstant(buildDense(type, llvm::ArrayRef<int64_t>{-3, 100}));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->ints, (std::vector<int64_t>{-3, 100}));
}

TEST(ConstantValues, HalfPrecisionRoundsToNearest) {
  MLIRContext context;
  auto type = RankedTensorType::get({2}, Float16Type::get(&context));
  // 1/3 in binary16 is 0.333251953125 (the nearest representable value).
  auto read =
      readConstant(buildDense(type, llvm::ArrayRef<double>{1.0 / 3, 2.5}));
  ASSERT_TRUE(read.has_value());
  EXPECT_TRUE(read->isFloat);
  EXPECT_DOUBLE_EQ(read->floats[0], 0.333251953125);
  EXPECT_DOUBLE_EQ(read->floats[1], 2.5);
}

TEST(ConstantValues, LargeConstantsAreNotRead) {
  MLIRContext context;
  auto type = RankedTensorType::get({kFoldElementLimit + 1},
                                    Float32Type::get(&context));
  std::vector<float> values(kFoldElementLimit + 1, 1.0f);
  auto attr = DenseElementsAttr::get(type, llvm::ArrayRef<float>(values));
  EXPECT_FALSE(readConstant(attr).has_value());
  // ...but a splat is recognized whatever its size.
  EXPECT_TRUE(isConstantSplat(DenseElementsAttr::get(type, 1.0f), 1.0));
  EXPECT_FALSE(isConstantSplat(DenseElementsAttr::get(type, 1.0f), 0.0));
}

} // namespace
