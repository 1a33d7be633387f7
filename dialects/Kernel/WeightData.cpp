//===- WeightData.cpp - the bytes of constant tensors ---------------------===//

#include "dialects/Kernel/WeightData.h"
#include "dialects/Kernel/KernelOps.h"

#include "mlir/IR/DialectResourceBlobManager.h"

#include <algorithm>
#include <cstring>

using namespace mlir;

namespace anvil::kernel {

bool appendWeightBytes(ElementsAttr attr, std::string &out) {
  Type element = attr.getElementType();
  if (!element.isIntOrFloat())
    return false;
  int64_t count = attr.getNumElements();
  if (auto resource = attr.dyn_cast<DenseResourceElementsAttr>()) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return false;
    ArrayRef<char> data = blob->getData();
    if ((int64_t)data.size() != count * elementBytes(element))
      return false;
    out.append(data.data(), data.size());
    return true;
  }
  auto dense = attr.dyn_cast<DenseElementsAttr>();
  if (!dense)
    return false;
  if (element.isInteger(1)) { // stored bit-packed in the attribute
    for (bool value : dense.getValues<bool>())
      out.push_back(value ? 1 : 0);
    return true;
  }
  ArrayRef<char> raw = dense.getRawData();
  if (dense.isSplat()) {
    for (int64_t i = 0; i < count; ++i)
      out.append(raw.data(), elementBytes(element));
    return true;
  }
  out.append(raw.data(), raw.size());
  return true;
}

bool viewWeightBytes(ElementsAttr attr, ArrayRef<char> &view,
                     std::string &storage) {
  Type element = attr.getElementType();
  if (!element.isIntOrFloat())
    return false;
  size_t bytes = attr.getNumElements() * elementBytes(element);
  if (auto resource = attr.dyn_cast<DenseResourceElementsAttr>()) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != bytes)
      return false;
    view = blob->getData();
    return true;
  }
  auto dense = attr.dyn_cast<DenseElementsAttr>();
  if (dense && !dense.isSplat() && !element.isInteger(1) &&
      dense.getRawData().size() == bytes) {
    view = dense.getRawData();
    return true;
  }
  storage.clear();
  if (!appendWeightBytes(attr, storage))
    return false;
  view = ArrayRef<char>(storage.data(), storage.size());
  return true;
}

SmallVector<int64_t> storedWeightShape(StringRef layout, ShapedType valueType) {
  if (layout.empty())
    return SmallVector<int64_t>(valueType.getShape());
  if (layout == kWeightLayoutNKPanels && valueType.getRank() > 2 &&
      valueType.hasStaticShape()) {
    // [N, d1, d2, ...] read as [N, d1 x d2 x ...].
    int64_t k = 1;
    for (int64_t d : valueType.getShape().drop_front())
      k *= d;
    return {k, valueType.getDimSize(0)};
  }
  if (layout == kWeightLayoutRowTiles) {
    if (valueType.getRank() < 2 || !valueType.hasStaticShape())
      return {};
    int64_t k = 1;
    for (int64_t d : valueType.getShape().drop_front())
      k *= d;
    int64_t n = valueType.getDimSize(0);
    return {(n + kWeightTileRows - 1) / kWeightTileRows, k, kWeightTileRows};
  }
  if (valueType.getRank() != 2)
    return {};
  int64_t rows = valueType.getDimSize(0), cols = valueType.getDimSize(1);
  if (layout == kWeightLayoutKN || layout == kWeightLayoutNKPanels)
    return {cols, rows};
  if (layout == kWeightLayoutPanels)
    return {rows, cols};
  return {};
}

std::string knownWeightLayouts() {
  return ("'" + kWeightLayoutKN + "', '" + kWeightLayoutPanels + "', '" +
          kWeightLayoutNKPanels + "', '" + kWeightLayoutRowTiles +
          "', 'q8_n16[_kn][_biased][_sums]', 'q4_n16[_kn]_k8[_biased]'")
      .str();
}

std::optional<QuantPanelLayout> parseQuantPanelLayout(StringRef layout) {
  QuantPanelLayout parsed;
  if (layout.consume_front("q8_n16"))
    parsed.bits = 8;
  else if (layout.consume_front("q4_n16"))
    parsed.bits = 4;
  else
    return std::nullopt;
  parsed.kn = layout.consume_front("_kn");
  parsed.k8 = layout.consume_front("_k8");
  parsed.biased = layout.consume_front("_biased");
  parsed.sums = layout.consume_front("_sums");
  // "_k8" is the one 4-bit arrangement (and 4-bit only).
  if (!layout.empty() || parsed.k8 != (parsed.bits == 4) ||
      (parsed.sums && parsed.bits != 8))
    return std::nullopt;
  return parsed;
}

std::string quantPanelLayoutName(const QuantPanelLayout &layout) {
  return std::string(layout.bits == 4 ? "q4_n16" : "q8_n16") +
         (layout.kn ? "_kn" : "") + (layout.k8 ? "_k8" : "") +
         (layout.biased ? "_biased" : "") + (layout.sums ? "_sums" : "");
}

int64_t quantPanelKStored(int64_t bits, int64_t rowValues) {
  if (bits == 4)
    return (rowValues + 7) / 8 * 8;
  return (rowValues + 3) / 4 * 4;
}

/// The value as the [N, row] matrix the layout reads: [N, K] (or [K, N]
/// with kn); an [N, ...] value of higher rank is rows of N (MatMulNBits'
/// [N, blocks, block bytes]). A row is K values, or for 4 bits K / 2
/// bytes: a 4-bit [K, N] value (K rows of N / 2 bytes, packed along N) is
/// read as 2 x (N / 2) channels of K / 2 bytes (rounded up, the last
/// nibble 0 for an odd K).
static std::pair<int64_t, int64_t>
quantPanelMatrix(const QuantPanelLayout &layout, ShapedType valueType) {
  if (layout.kn && layout.bits == 4)
    return {2 * valueType.getDimSize(1), (valueType.getDimSize(0) + 1) / 2};
  if (layout.kn)
    return {valueType.getDimSize(1), valueType.getDimSize(0)};
  return {valueType.getDimSize(0),
          valueType.getNumElements() /
              std::max<int64_t>(valueType.getDimSize(0), 1)};
}

int64_t quantPanelStoredBytes(const QuantPanelLayout &layout,
                              ShapedType valueType) {
  if (!valueType.hasRank() || valueType.getRank() < 2 ||
      (layout.kn && valueType.getRank() != 2) || !valueType.hasStaticShape() ||
      !valueType.getElementType().isInteger(8))
    return -1;
  auto [n, row] = quantPanelMatrix(layout, valueType);
  int64_t panels = (n + kQuantPanel - 1) / kQuantPanel;
  if (layout.bits == 4) // row bytes: two values each
    return panels * kQuantPanel * quantPanelKStored(4, 2 * row) / 2;
  return panels * kQuantPanel * quantPanelKStored(8, row) +
         (layout.sums ? panels * kQuantPanel * 4 : 0);
}

namespace {
/// The value's element index of stored element `index` in a panel layout
/// over a [k, n] matrix; `transposed` when the value is [n, k].
uint64_t panelSource(uint64_t index, uint64_t k, uint64_t n, bool transposed) {
  const uint64_t width = kWeightPanelWidth;
  uint64_t panel = index / (width * k), within = index % (width * k);
  uint64_t panelWidth = std::min(width, n - panel * width);
  uint64_t row = within / panelWidth;
  uint64_t column = panel * width + within % panelWidth;
  return transposed ? column * k + row : row * n + column;
}

/// The 4-bit value (the stored nibble) of `channel` at `k` in the value's
/// row-major bytes: [N, row bytes] packed along k, or with kn [K, N / 2
/// bytes] packed along N (`kRows` = K); 0 past the value's k.
uint8_t quantNibble(const QuantPanelLayout &layout, int64_t row, int64_t kRows,
                    ArrayRef<char> value, uint64_t channel, uint64_t k) {
  uint8_t byte;
  bool high;
  if (layout.kn) {
    if ((int64_t)k >= kRows)
      return 0;
    byte = uint8_t(value[k * uint64_t(value.size() / kRows) + channel / 2]);
    high = channel % 2;
  } else {
    if ((int64_t)k >= 2 * row)
      return 0;
    byte = uint8_t(value[channel * row + k / 2]);
    high = k % 2;
  }
  return high ? byte >> 4 : byte & 15;
}

/// Byte `index` of a weight in a quantized panel layout (see WeightData.h),
/// from the value's row-major bytes (`kRows`: the value's rows with kn).
uint8_t quantPanelByte(const QuantPanelLayout &layout, int64_t n, int64_t row,
                       int64_t kRows, ArrayRef<char> value, uint64_t index) {
  uint8_t bias = !layout.biased ? 0 : layout.bits == 4 ? 0x88 : 0x80;
  if (layout.bits == 4) {
    uint64_t kStored = quantPanelKStored(4, 2 * row);
    uint64_t panelBytes = kQuantPanel * kStored / 2;
    uint64_t panel = index / panelBytes, within = index % panelBytes;
    uint64_t channel = panel * kQuantPanel + (within / 4) % kQuantPanel;
    uint64_t k = within / (4 * kQuantPanel) * 8 + within % 4;
    if ((int64_t)channel >= n)
      return bias;
    // The value's nibble at k (0 past the row: the activations there are
    // 0 too), then the one at k + 4 in the high half.
    return uint8_t(quantNibble(layout, row, kRows, value, channel, k) |
                   quantNibble(layout, row, kRows, value, channel, k + 4)
                       << 4) ^
           bias;
  }
  uint64_t kStored = quantPanelKStored(8, row);
  uint64_t panelBytes = kQuantPanel * kStored;
  uint64_t panel = index / panelBytes, within = index % panelBytes;
  uint64_t channel = panel * kQuantPanel + (within / 4) % kQuantPanel;
  uint64_t k = within / (4 * kQuantPanel) * 4 + within % 4;
  if ((int64_t)channel >= n || (int64_t)k >= row)
    return bias;
  uint64_t source = layout.kn ? k * n + channel : channel * row + k;
  return uint8_t(value[source]) ^ bias;
}

} // namespace

void copyWeightBytesInLayout(StringRef layout, ShapedType valueType,
                             ArrayRef<char> value, uint64_t from, char *out,
                             size_t size) {
  if (layout.empty()) {
    std::memcpy(out, value.data() + from, size);
    return;
  }
  if (std::optional<QuantPanelLayout> quant = parseQuantPanelLayout(layout)) {
    auto [n, row] = quantPanelMatrix(*quant, valueType);
    const int64_t kRows = valueType.getDimSize(0);
    // "_sums": after the panels, channel c's int32 sum of its stored bytes
    // over k < row (computed once per channel the piece touches).
    const uint64_t panelsEnd = uint64_t((n + kQuantPanel - 1) / kQuantPanel) *
                               kQuantPanel * quantPanelKStored(8, row);
    int64_t sumChannel = -1;
    uint32_t sum = 0;
    for (size_t i = 0; i < size; ++i) {
      uint64_t index = from + i;
      if (!quant->sums || index < panelsEnd) {
        out[i] = char(quantPanelByte(*quant, n, row, kRows, value, index));
        continue;
      }
      int64_t channel = int64_t((index - panelsEnd) / 4);
      if (channel != sumChannel) {
        sumChannel = channel, sum = 0;
        uint8_t bias = quant->biased ? 0x80 : 0;
        if (channel < n)
          for (int64_t k = 0; k < row; ++k)
            sum += uint8_t(
                       value[quant->kn ? k * n + channel : channel * row + k]) ^
                   bias;
      }
      out[i] = char(sum >> (8 * ((index - panelsEnd) % 4)));
    }
    return;
  }
  assert(!storedWeightShape(layout, valueType).empty() &&
         "the verifier admits only known layouts of matrices");
  uint64_t element = elementBytes(valueType.getElementType());
  if (layout == kWeightLayoutRowTiles) {
    SmallVector<int64_t> stored = storedWeightShape(layout, valueType);
    const uint64_t k = uint64_t(stored[1]), tile = kWeightTileRows;
    const uint64_t n = uint64_t(valueType.getDimSize(0));
    for (uint64_t byte = from, end = from + size; byte < end;) {
      uint64_t index = byte / element, within = byte % element;
      uint64_t row = index / (tile * k) * tile + index % tile;
      uint64_t column = index % (tile * k) / tile;
      size_t step = std::min<uint64_t>(element - within, end - byte);
      if (row < n)
        std::memcpy(out + (byte - from),
                    value.data() + (row * k + column) * element + within, step);
      else // the last tile's rows past N
        std::memset(out + (byte - from), 0, step);
      byte += step;
    }
    return;
  }
  bool panels = layout == kWeightLayoutPanels;
  bool nkPanels = layout == kWeightLayoutNKPanels;
  // The stored matrix is [K, N] in every layout here (an nk_panels32
  // value of rank > 2 is [N, K] with K its other dims).
  SmallVector<int64_t> stored = storedWeightShape(layout, valueType);
  uint64_t k = uint64_t(stored[0]), n = uint64_t(stored[1]);
  for (uint64_t byte = from, end = from + size; byte < end;) {
    uint64_t index = byte / element, within = byte % element;
    uint64_t source;
    if (panels || nkPanels) {
      source = panelSource(index, k, n, nkPanels);
    } else { // kn: stored [K, N], element (k, n) is the value's (n, k)
      uint64_t row = index / n, column = index % n;
      source = column * k + row;
    }
    size_t step = std::min<uint64_t>(element - within, end - byte);
    std::memcpy(out + (byte - from), value.data() + source * element + within,
                step);
    byte += step;
  }
}

} // namespace anvil::kernel
