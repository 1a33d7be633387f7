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

/// The panel layouts of a [K, N] value ("panels32") and of its [N, K]
/// transpose ("nk_panels32"), in every split of the bytes, against the
/// panels worked out here: 32 columns each (the last narrower), K-major.
void checkPanels(int64_t k, int64_t n) {
  MLIRContext context;
  Builder b(&context);
  std::vector<float> kn(k * n), nk(k * n);
  for (int64_t t = 0; t < k; ++t)
    for (int64_t j = 0; j < n; ++j)
      kn[t * n + j] = nk[j * k + t] = float(t * 1000 + j);
  std::vector<float> expected;
  for (int64_t p = 0; p * 32 < n; ++p)
    for (int64_t t = 0; t < k; ++t)
      for (int64_t j = p * 32; j < std::min<int64_t>(n, p * 32 + 32); ++j)
        expected.push_back(float(t * 1000 + j));
  struct Case {
    StringRef layout;
    const std::vector<float> &value;
    SmallVector<int64_t> shape;
  };
  // The [N, K] value as a convolution's [M, C, kh, kw] weight (the same
  // bytes): K = C x kh x kw.
  SmallVector<int64_t> conv = {n, k, 1, 1};
  if (k % 2 == 0)
    conv = {n, k / 2, 1, 2};
  for (const Case &c : {Case{kWeightLayoutPanels, kn, {k, n}},
                        Case{kWeightLayoutNKPanels, nk, {n, k}},
                        Case{kWeightLayoutNKPanels, nk, conv}}) {
    auto type = RankedTensorType::get(c.shape, b.getF32Type());
    EXPECT_EQ(storedWeightShape(c.layout, type), (SmallVector<int64_t>{k, n}));
    ArrayRef<char> bytes(reinterpret_cast<const char *>(c.value.data()),
                         c.value.size() * sizeof(float));
    size_t total = bytes.size();
    for (size_t piece : {size_t(1), size_t(3), size_t(64), total}) {
      std::vector<float> out(k * n, -1);
      char *outBytes = reinterpret_cast<char *>(out.data());
      for (size_t from = 0; from < total; from += piece)
        copyWeightBytesInLayout(c.layout, type, bytes, from, outBytes + from,
                                std::min(piece, total - from));
      ASSERT_EQ(out, expected) << c.layout.str() << " in pieces of " << piece;
    }
  }
}

TEST(WeightLayout, PanelsInAnyPieces) {
  checkPanels(3, 5);  // one narrow panel
  checkPanels(4, 32); // one full panel
  checkPanels(5, 70); // two full panels and a narrow one
  checkPanels(1, 64);
}

/// "row_tiles12" of an [N, K] value (and the same bytes as a [M, C, kh,
/// kw] convolution weight), in every split of the bytes, against the tiles
/// worked out here: 12 rows each, K-major inside ([k][12]), the last tile's
/// missing rows zero.
void checkRowTiles(int64_t n, int64_t k) {
  MLIRContext context;
  Builder b(&context);
  std::vector<float> nk(n * k);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t t = 0; t < k; ++t)
      nk[j * k + t] = float(j * 1000 + t + 1); // never 0: padding is
  const int64_t tiles = (n + 11) / 12;
  std::vector<float> expected;
  for (int64_t tile = 0; tile < tiles; ++tile)
    for (int64_t t = 0; t < k; ++t)
      for (int64_t r = 0; r < 12; ++r) {
        const int64_t j = tile * 12 + r;
        expected.push_back(j < n ? float(j * 1000 + t + 1) : 0.0f);
      }
  SmallVector<int64_t> conv = {n, k, 1, 1};
  if (k % 3 == 0)
    conv = {n, k / 3, 3, 1};
  for (const SmallVector<int64_t> &shape : {SmallVector<int64_t>{n, k}, conv}) {
    auto type = RankedTensorType::get(shape, b.getF32Type());
    EXPECT_EQ(storedWeightShape(kWeightLayoutRowTiles, type),
              (SmallVector<int64_t>{tiles, k, 12}));
    ArrayRef<char> bytes(reinterpret_cast<const char *>(nk.data()),
                         nk.size() * sizeof(float));
    const size_t total = expected.size() * sizeof(float);
    for (size_t piece : {size_t(1), size_t(5), size_t(48), total}) {
      std::vector<float> out(expected.size(), -1);
      char *outBytes = reinterpret_cast<char *>(out.data());
      for (size_t from = 0; from < total; from += piece)
        copyWeightBytesInLayout(kWeightLayoutRowTiles, type, bytes, from,
                                outBytes + from, std::min(piece, total - from));
      ASSERT_EQ(out, expected)
          << "rank " << shape.size() << " in pieces of " << piece;
    }
  }
}

TEST(WeightLayout, RowTilesInAnyPieces) {
  checkRowTiles(12, 4); // one whole tile
  checkRowTiles(5, 9);  // one short tile
  checkRowTiles(30, 6); // two whole tiles and a short one
  MLIRContext context;
  Builder b(&context);
  // A vector has no rows, a dynamic value no fixed tiles.
  EXPECT_TRUE(storedWeightShape(kWeightLayoutRowTiles,
                                RankedTensorType::get({7}, b.getF32Type()))
                  .empty());
  EXPECT_TRUE(storedWeightShape(kWeightLayoutRowTiles,
                                RankedTensorType::get({ShapedType::kDynamic, 4},
                                                      b.getF32Type()))
                  .empty());
}

/// "q8_n16_biased_sums" of a [3, 6] int8 value, copied in every split of
/// its bytes: the panel (channel c's four k per 32-bit word, k padded to 8,
/// bytes +128, padding channels 128) and then each channel's int32 sum of
/// its stored bytes over the six real k (padding channels 0), worked out
/// element by element here.
TEST(WeightLayout, QuantPanelSumsInAnyPieces) {
  MLIRContext context;
  Builder b(&context);
  const int64_t n = 3, k = 6, kStored = 8;
  std::vector<int8_t> value(n * k);
  for (size_t i = 0; i < value.size(); ++i)
    value[i] = static_cast<int8_t>(int(37 * i) % 256 - 128);
  auto type = RankedTensorType::get({n, k}, b.getIntegerType(8));
  std::optional<QuantPanelLayout> layout =
      parseQuantPanelLayout("q8_n16_biased_sums");
  ASSERT_TRUE(layout && layout->sums && layout->biased);
  EXPECT_EQ(quantPanelLayoutName(*layout), "q8_n16_biased_sums");
  EXPECT_FALSE(parseQuantPanelLayout("q4_n16_sums")); // 8-bit only
  const int64_t panelBytes = kQuantPanel * kStored;
  ASSERT_EQ(quantPanelStoredBytes(*layout, type), panelBytes + kQuantPanel * 4);
  std::vector<uint8_t> expected(panelBytes + kQuantPanel * 4, 0);
  for (int64_t c = 0; c < kQuantPanel; ++c) {
    uint32_t sum = 0;
    for (int64_t t = 0; t < kStored; ++t) {
      uint8_t stored = 128;
      if (c < n && t < k) {
        stored = uint8_t(value[c * k + t]) ^ 0x80;
        sum += stored;
      }
      expected[((t / 4) * kQuantPanel + c) * 4 + t % 4] = stored;
    }
    std::memcpy(expected.data() + panelBytes + 4 * c, &sum, 4);
  }
  ArrayRef<char> bytes(reinterpret_cast<const char *>(value.data()),
                       value.size());
  const size_t total = expected.size();
  for (size_t piece = 1; piece <= total; ++piece) {
    std::vector<char> out(total, 0);
    for (size_t from = 0; from < total; from += piece)
      copyWeightBytesInLayout("q8_n16_biased_sums", type, bytes, from,
                              out.data() + from, std::min(piece, total - from));
    ASSERT_EQ(std::memcmp(out.data(), expected.data(), total), 0)
        << "pieces of " << piece << " bytes";
  }
}

/// "q4_n16_k8_biased" of a [3, 19]-byte value (3 channels of K = 38 int4
/// values, two a byte along k, low nibble the even k) and "q4_n16_kn_k8"
/// of the same values stored [K, N] ([38, 2] bytes, packed along N), copied
/// in every split of their bytes: channel c's eight k per 32-bit word, byte
/// i of the word k + i (low nibble) and k + 4 + i (high), k padded to 40
/// with zeros, padding channels zero, nibbles ^ 8 when biased; worked out
/// value by value here from the nibble at (c, t).
TEST(WeightLayout, QuantPanel4BitInAnyPieces) {
  MLIRContext context;
  Builder b(&context);
  const int64_t n = 3, k = 38, kStored = 40;
  auto nibble = [](int64_t c, int64_t t) {
    return uint8_t((5 * c + 7 * t) % 16);
  };
  std::vector<uint8_t> nk(n * k / 2), kn(k * 2, 0);
  for (int64_t c = 0; c < n; ++c)
    for (int64_t t = 0; t < k; ++t) {
      nk[c * (k / 2) + t / 2] |= uint8_t(nibble(c, t) << (4 * (t % 2)));
      kn[t * 2 + c / 2] |= uint8_t(nibble(c, t) << (4 * (c % 2)));
    }
  EXPECT_FALSE(parseQuantPanelLayout("q4_n16"));    // "_k8" is required
  EXPECT_FALSE(parseQuantPanelLayout("q8_n16_k8")); // 4-bit only
  EXPECT_EQ(quantPanelKStored(4, k), kStored);
  for (bool biased : {false, true}) {
    for (bool transposed : {false, true}) {
      std::string name = std::string("q4_n16") + (transposed ? "_kn" : "") +
                         "_k8" + (biased ? "_biased" : "");
      std::optional<QuantPanelLayout> layout = parseQuantPanelLayout(name);
      ASSERT_TRUE(layout && layout->k8 && layout->bits == 4) << name;
      EXPECT_EQ(quantPanelLayoutName(*layout), name);
      auto type =
          transposed
              ? RankedTensorType::get({k, 2}, b.getIntegerType(8, false))
              : RankedTensorType::get({n, k / 2}, b.getIntegerType(8, false));
      const int64_t panelBytes = kQuantPanel * kStored / 2;
      ASSERT_EQ(quantPanelStoredBytes(*layout, type), panelBytes) << name;
      std::vector<uint8_t> expected(panelBytes);
      for (int64_t c = 0; c < kQuantPanel; ++c)
        for (int64_t t = 0; t < kStored; ++t) {
          // (A [K, N] value of 2 bytes a row holds 4 channels, the
          // fourth all zeros, as a padding channel is.)
          uint8_t v = c < n && t < k ? nibble(c, t) : 0;
          if (biased) // every stored nibble, padding included
            v ^= 8;
          expected[((t / 8) * kQuantPanel + c) * 4 + t % 4] |=
              uint8_t(v << (t % 8 >= 4 ? 4 : 0));
        }
      const std::vector<uint8_t> &value = transposed ? kn : nk;
      ArrayRef<char> bytes(reinterpret_cast<const char *>(value.data()),
                           value.size());
      for (size_t piece = 1; piece <= size_t(panelBytes); ++piece) {
        std::vector<char> out(panelBytes, 0);
        for (size_t from = 0; from < size_t(panelBytes); from += piece)
          copyWeightBytesInLayout(name, type, bytes, from, out.data() + from,
                                  std::min(piece, size_t(panelBytes) - from));
        ASSERT_EQ(std::memcmp(out.data(), expected.data(), panelBytes), 0)
            << name << ", pieces of " << piece << " bytes";
      }
    }
  }
}

TEST(WeightLayout, StoredShapes) {
  MLIRContext context;
  Builder b(&context);
  auto matrix = RankedTensorType::get({3, 5}, b.getF32Type());
  EXPECT_EQ(storedWeightShape("", matrix), (SmallVector<int64_t>{3, 5}));
  EXPECT_EQ(storedWeightShape(kWeightLayoutKN, matrix),
            (SmallVector<int64_t>{5, 3}));
  EXPECT_TRUE(storedWeightShape("nope", matrix).empty());
  auto vector = RankedTensorType::get({15}, b.getF32Type());
  EXPECT_TRUE(storedWeightShape(kWeightLayoutPanels, vector).empty());
}

} // namespace
