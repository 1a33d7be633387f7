//===- ConstantValuesTest.cpp - reading and building constants ------------===//

#include "dialects/Anvil/ConstantValues.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

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

TEST(ConstantValues, FoldLimitCountsWithoutOverflow) {
  MLIRContext context;
  Type f32 = Float32Type::get(&context);
  EXPECT_TRUE(withinFoldLimit(RankedTensorType::get({64, 64}, f32)));
  EXPECT_FALSE(withinFoldLimit(RankedTensorType::get({64, 65}, f32)));
  EXPECT_TRUE(withinFoldLimit(RankedTensorType::get({0, 1 << 30}, f32)));
  // 2^62 * 4 wraps to 0 in int64: still far over the limit.
  int64_t big = int64_t(1) << 62;
  EXPECT_FALSE(withinFoldLimit(RankedTensorType::get({big, 4}, f32)));
  EXPECT_FALSE(withinFoldLimit(RankedTensorType::get({big, 4}, f32),
                               std::numeric_limits<int64_t>::max()));
  EXPECT_FALSE(
      withinFoldLimit(RankedTensorType::get({ShapedType::kDynamic}, f32)));
}

TEST(ConstantValues, FloatToIntIsTheKernelsConversion) {
  // Out of range and NaN give the minimum (0 unsigned), as float_to_int.
  EXPECT_EQ(floatToInt(NAN, 64, false), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(floatToInt(1e300, 32, false), -(int64_t(1) << 31));
  EXPECT_EQ(floatToInt(-1.0, 8, true), 0);
  EXPECT_EQ(floatToInt(255.9, 8, true), 255);
  EXPECT_EQ(floatToInt(-2.9, 16, false), -2);
  EXPECT_EQ(floatToInt(9223372036854775808.0, 64, false),
            std::numeric_limits<int64_t>::min());
}

TEST(ConstantValues, SixteenBitFloatsRoundThroughFloat) {
  MLIRContext context;
  // 1 + 2^-11 + 2^-40 is 1 + 2^-11 as a float, a tie that rounds to even
  // (1.0) as f16; rounded once from double it would be 1 + 2^-10.
  double v = 1 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  EXPECT_EQ(roundToFloatType(Float16Type::get(&context), v), 1.0);
  EXPECT_EQ(roundToFloatType(Float32Type::get(&context), v), double(float(v)));
  EXPECT_EQ(roundToFloatType(Float64Type::get(&context), v), v);
}

} // namespace
