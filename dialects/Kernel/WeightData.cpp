//===- WeightData.cpp - the bytes of constant tensors ---------------------===//

#include "dialects/Kernel/WeightData.h"
#include "dialects/Kernel/KernelOps.h"

#include "mlir/IR/DialectResourceBlobManager.h"

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
          kWeightLayoutNKPanels + "'")
      .str();
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
} // namespace

void copyWeightBytesInLayout(StringRef layout, ShapedType valueType,
                             ArrayRef<char> value, uint64_t from, char *out,
                             size_t size) {
  if (layout.empty()) {
    std::memcpy(out, value.data() + from, size);
    return;
  }
  assert(!storedWeightShape(layout, valueType).empty() &&
         "the verifier admits only known layouts of matrices");
  uint64_t element = elementBytes(valueType.getElementType());
  bool panels = layout == kWeightLayoutPanels;
  bool nkPanels = layout == kWeightLayoutNKPanels;
  // The stored matrix is [K, N] in every layout here.
  uint64_t k = panels ? valueType.getDimSize(0) : valueType.getDimSize(1);
  uint64_t n = panels ? valueType.getDimSize(1) : valueType.getDimSize(0);
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
