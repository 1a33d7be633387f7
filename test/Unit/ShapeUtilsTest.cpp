//===- ShapeUtilsTest.cpp - broadcasting and type joins -------------------===//
//
// Expected shapes are numpy's broadcasting rules written out by hand.
//
//===----------------------------------------------------------------------===//

#include "dialects/Anvil/ShapeUtils.h"

#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace anvil;
using mlir::RankedTensorType;

namespace {
constexpr int64_t D = kDynamic;

std::vector<int64_t> broadcast(std::vector<int64_t> a, std::vector<int64_t> b,
                               bool *ok = nullptr) {
  llvm::SmallVector<int64_t> out;
  bool succeeded = mlir::succeeded(broadcastShapes(a, b, out));
  if (ok)
    *ok = succeeded;
  return std::vector<int64_t>(out.begin(), out.end());
}

TEST(ShapeUtils, BroadcastStatic) {
  EXPECT_EQ(broadcast({2, 1}, {3}), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(broadcast({}, {4, 5}), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(broadcast({8, 1, 6, 1}, {7, 1, 5}),
            (std::vector<int64_t>{8, 7, 6, 5}));
  bool ok = true;
  broadcast({2}, {3}, &ok);
  EXPECT_FALSE(ok);
}

TEST(ShapeUtils, BroadcastDynamic) {
  // A dynamic dim against 1 stays dynamic; against N > 1 it must be N.
  EXPECT_EQ(broadcast({D, 1}, {1, 4}), (std::vector<int64_t>{D, 4}));
  EXPECT_EQ(broadcast({D}, {5}), (std::vector<int64_t>{5}));
  EXPECT_EQ(broadcast({D}, {D}), (std::vector<int64_t>{D}));
}

TEST(ShapeUtils, NormalizeAxis) {
  EXPECT_EQ(normalizeAxis(-1, 3), 2);
  EXPECT_EQ(normalizeAxis(0, 3), 0);
  EXPECT_FALSE(normalizeAxis(3, 3).has_value());
  EXPECT_FALSE(normalizeAxis(-4, 3).has_value());
}

TEST(ShapeUtils, StaticElementCount) {
  EXPECT_EQ(staticElementCount({2, 3, 4}), 24);
  EXPECT_EQ(staticElementCount({}), 1);
  EXPECT_FALSE(staticElementCount({2, D}).has_value());
}

TEST(ShapeUtils, JoinTypesPrefersStaticDims) {
  mlir::MLIRContext context;
  auto f32 = mlir::Float32Type::get(&context);
  auto a = RankedTensorType::get({D, 4}, f32);
  auto b = RankedTensorType::get({2, D}, f32);
  EXPECT_EQ(joinTypes(a, b), RankedTensorType::get({2, 4}, f32));
  auto c = RankedTensorType::get({3, 4}, f32);
  EXPECT_FALSE(joinTypes(c, RankedTensorType::get({2, 4}, f32)));
  EXPECT_FALSE(joinTypes(c, RankedTensorType::get({3, 4, 1}, f32)));
  auto i64 = mlir::IntegerType::get(&context, 64);
  EXPECT_FALSE(joinTypes(c, RankedTensorType::get({3, 4}, i64)));
}

TEST(ShapeUtils, FormatShape) {
  EXPECT_EQ(formatShape({2, D, 64}), "2x?x64");
  EXPECT_EQ(formatShape({}), "scalar");
}
} // namespace

namespace {
// The size limit: exactly 2^48 bytes is allowed, one element more is not;
// products that overflow int64 are caught, not wrapped; dynamic dims count
// as 1 and a zero dim makes any tensor empty.
TEST(ShapeUtils, TensorSizeLimit) {
  mlir::MLIRContext context;
  auto f32 = mlir::FloatType::getF32(&context);
  auto i8 = mlir::IntegerType::get(&context, 8);
  auto type = [&](std::vector<int64_t> shape, mlir::Type element) {
    return RankedTensorType::get(shape, element);
  };
  EXPECT_EQ(tensorSizeProblem(type({int64_t(1) << 46}, f32)), "");
  EXPECT_EQ(tensorSizeProblem(type({int64_t(1) << 48}, i8)), "");
  EXPECT_EQ(tensorSizeProblem(type({(int64_t(1) << 48) + 1}, i8)),
            "281474976710657xi8 holds 281474976710657 elements "
            "(281474976710657 bytes), more than the limit of 2^48 bytes per "
            "tensor");
  EXPECT_NE(tensorSizeProblem(type({int64_t(1) << 62, 4}, f32)), "");
  EXPECT_NE(tensorSizeProblem(type({int64_t(1) << 32, int64_t(1) << 32}, f32)),
            "");
  EXPECT_EQ(tensorSizeProblem(type({D, int64_t(1) << 40}, i8)), "");
  EXPECT_NE(tensorSizeProblem(type({D, int64_t(1) << 40, 1 << 10}, f32)), "");
  EXPECT_EQ(tensorSizeProblem(type({0, int64_t(1) << 62, 1 << 20}, f32)), "");
}
} // namespace
