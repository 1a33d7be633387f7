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

void copyWeightBytesInLayout(StringRef layout, ShapedType valueType,
                             ArrayRef<char> value, uint64_t from, char *out,
                             size_t size) {
  if (layout.empty()) {
    std::memcpy(out, value.data() + from, size);
    return;
  }
  assert(layout == kWeightLayoutKN && valueType.getRank() == 2 &&
         "the verifier admits only kn on matrices");
  // Stored [K, N]: element (k, n) is the value's (n, k).
  uint64_t n = valueType.getDimSize(0), k = valueType.getDimSize(1);
  uint64_t element = elementBytes(valueType.getElementType());
  for (uint64_t byte = from, end = from + size; byte < end;) {
    uint64_t index = byte / element, within = byte % element;
    uint64_t row = index / n, column = index % n; // (k, n) of the stored
    uint64_t source = (column * k + row) * element + within;
    size_t step = std::min<uint64_t>(element - within, end - byte);
    std::memcpy(out + (byte - from), value.data() + source, step);
    byte += step;
  }
}

} // namespace anvil::kernel
