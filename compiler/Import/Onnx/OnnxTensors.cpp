//===- OnnxTensors.cpp - ONNX tensors and types to MLIR -------------------===//

#include "compiler/Import/Onnx/OnnxTensors.h"
#include "compiler/Import/Onnx/OnnxFileAccess.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/ElementTypes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/onnx_pb.h"

#include <cstring>
#include <memory>

using namespace mlir;

namespace anvil::onnx_import {

Type convertDataType(MLIRContext *context, int dataType) {
  // onnx.proto 1.12 has no enum names for 17-22 (float8, uint4, int4); the
  // table knows them by number.
  const DType *row = dtypeFromOnnx(dataType);
  if (!row || row->isPacked() || row->isFloat8())
    return {};
  return mlirTypeOf(context, *row);
}

std::optional<PackedType> packedDataType(int dataType) {
  const DType *row = dtypeFromOnnx(dataType);
  if (!row || !row->isPacked())
    return std::nullopt;
  return PackedType{row->bits, row->kind == 'S'};
}

std::string dataTypeName(int dataType) {
  if (onnx::TensorProto::DataType_IsValid(dataType))
    return onnx::TensorProto::DataType_Name(
        static_cast<onnx::TensorProto::DataType>(dataType));
  // onnx.proto 1.12 lacks 17-22: spell them as ONNX does from the table
  // (f8e4m3fn -> FLOAT8E4M3FN, i4 -> INT4, u4 -> UINT4).
  if (const DType *row = dtypeFromOnnx(dataType)) {
    if (row->kind == 'F')
      return "FLOAT" + StringRef(row->name).drop_front().upper();
    if (row->kind == 'S' || row->kind == 'U')
      return (row->kind == 'S' ? "INT" : "UINT") + std::to_string(row->bits);
  }
  // Newer than the table (onnx 1.18/1.19): named, still unsupported.
  if (dataType == 23)
    return "FLOAT4E2M1";
  if (dataType == 24)
    return "FLOAT8E8M0";
  return "data type " + std::to_string(dataType);
}

namespace {
/// Bytes per element in ONNX raw_data (bool is one byte per element).
int64_t storageBytes(Type elementType) {
  if (elementType.isInteger(1))
    return 1;
  return (elementType.getIntOrFloatBitWidth() + 7) / 8;
}

/// The dims of `tensor` and their product; fails (reported at `loc`) on a
/// negative dim or more than 2^40 elements.
LogicalResult readShape(const onnx::TensorProto &tensor, Location loc,
                        SmallVectorImpl<int64_t> &shape, int64_t &count) {
  count = 1;
  for (int64_t dim : tensor.dims()) {
    if (dim < 0 || (dim > 0 && count > (int64_t(1) << 40) / dim)) {
      emitError(loc) << "tensor '" << tensor.name()
                     << "' has an impossible shape";
      return failure();
    }
    shape.push_back(dim);
    count *= dim;
  }
  return success();
}

/// Packs the typed repeated fields of a TensorProto into raw little-endian
/// bytes, the layout raw_data uses.
std::string typedFieldsToBytes(const onnx::TensorProto &t, Type elementType) {
  std::string bytes;
  auto append = [&](const void *p, size_t n) {
    bytes.append(static_cast<const char *>(p), n);
  };
  int64_t width = storageBytes(elementType);
  if (elementType.isF32()) {
    for (float v : t.float_data())
      append(&v, 4);
  } else if (elementType.isF64()) {
    for (double v : t.double_data())
      append(&v, 8);
  } else if (elementType.isInteger(64) && !elementType.isUnsignedInteger()) {
    for (int64_t v : t.int64_data())
      append(&v, 8);
  } else if (elementType.isUnsignedInteger(64) ||
             elementType.isUnsignedInteger(32)) {
    for (uint64_t v : t.uint64_data())
      append(&v, width);
  } else {
    // int32_data holds every narrower type, and f16/bf16 as their bits.
    for (int32_t v : t.int32_data())
      append(&v, width);
  }
  return bytes;
}
} // namespace

ElementsAttr TensorConverter::fromBytes(RankedTensorType type, StringRef name,
                                        std::string &&bytes) {
  Type elementType = type.getElementType();
  int64_t count = type.getNumElements();
  if (count <= inlineLimit || elementType.isInteger(1)) {
    if (elementType.isInteger(1)) {
      SmallVector<bool> values;
      for (char c : bytes)
        values.push_back(c != 0);
      return DenseElementsAttr::get(type, values);
    }
    ArrayRef<char> raw(bytes.data(), bytes.size());
    bool splat = false;
    if (!DenseElementsAttr::isValidRawBuffer(type, raw, splat))
      return {};
    return DenseElementsAttr::getFromRawBuffer(type, raw);
  }
  // The blob owns the string: no copy of the weights is made.
  return makeOwnedResource(type, std::move(bytes), name);
}

std::unique_ptr<llvm::MemoryBuffer>
TensorConverter::readExternal(const onnx::TensorProto &tensor, Location loc,
                              int64_t expected) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &entry : tensor.external_data()) {
    int64_t *field = entry.key() == "offset"   ? &offset
                     : entry.key() == "length" ? &length
                                               : nullptr;
    if (entry.key() == "location")
      location = entry.value();
    // strtoll would read "12abc" as 12 and "-5" as a negative offset.
    if (field &&
        (StringRef(entry.value()).getAsInteger(10, *field) || *field < 0)) {
      emitError(loc) << "tensor '" << tensor.name() << "' has external data "
                     << entry.key() << " '" << entry.value()
                     << "'; expected a non-negative decimal integer";
      return nullptr;
    }
  }
  if (length < 0)
    length = expected;
  bool climbs = false;
  for (StringRef part : llvm::make_range(llvm::sys::path::begin(location),
                                         llvm::sys::path::end(location)))
    climbs |= part == "..";
  if (location.empty() || llvm::sys::path::is_absolute(location) || climbs) {
    emitError(loc) << "tensor '" << tensor.name()
                   << "' has an invalid external data location '" << location
                   << "' (it must be a path inside the model's folder)";
    return nullptr;
  }
  if (baseDir.empty()) {
    emitError(loc) << "tensor '" << tensor.name()
                   << "' uses external data, which needs the model's path";
    return nullptr;
  }
  if (length != expected) {
    emitError(loc) << "tensor '" << tensor.name() << "' external data length "
                   << length << " does not match its shape (" << expected
                   << " bytes)";
    return nullptr;
  }
  // Symlinks out of the folder, FIFOs and devices, and files too short for
  // offset + length are refused there.
  auto file = readDataSlice(baseDir, location, offset, length);
  if (!file) {
    emitError(loc) << "cannot read external data of tensor '" << tensor.name()
                   << "' (offset " << offset << ", length " << length
                   << "): " << llvm::toString(file.takeError());
    return nullptr;
  }
  return std::move(*file);
}

ElementsAttr TensorConverter::fromExternal(RankedTensorType type,
                                           onnx::TensorProto &tensor,
                                           Location loc) {
  int64_t expected =
      type.getNumElements() * storageBytes(type.getElementType());
  std::shared_ptr<llvm::MemoryBuffer> buffer =
      readExternal(tensor, loc, expected);
  if (!buffer)
    return {};
  if (type.getNumElements() <= inlineLimit ||
      type.getElementType().isInteger(1))
    return fromBytes(type, tensor.name(), buffer->getBuffer().str());
  // Point into the mapped file; the blob keeps the mapping alive.
  ArrayRef<char> data(buffer->getBufferStart(), buffer->getBufferSize());
  AsmResourceBlob blob(
      data, alignof(char),
      [buffer](void *, size_t, size_t) mutable { buffer.reset(); },
      /*dataIsMutable=*/false);
  auto &manager = DenseResourceElementsHandle::getManagerInterface(context);
  return DenseResourceElementsAttr::get(
      type, manager.insert(tensor.name(), std::move(blob)));
}

ElementsAttr
TensorConverter::convertPacked(onnx::TensorProto &tensor, Location loc,
                               PackedType type,
                               std::optional<PackedValues> *packed) {
  if (!packed) {
    emitError(loc) << "tensor '" << tensor.name() << "' holds "
                   << dataTypeName(tensor.data_type())
                   << " values, which Anvil imports only as initializers "
                      "read by DequantizeLinear";
    return {};
  }
  SmallVector<int64_t> shape;
  int64_t count;
  if (failed(readShape(tensor, loc, shape, count)))
    return {};
  SmallVector<int64_t, 4> logicalShape(shape.begin(), shape.end());
  if (shape.empty())
    shape.push_back(1); // A scalar is one row of one value.
  // ONNX packs the flattened tensor two values per byte, low nibble first.
  int64_t expected = (count + 1) / 2;
  std::string bytes;
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    std::unique_ptr<llvm::MemoryBuffer> file =
        readExternal(tensor, loc, expected);
    if (!file)
      return {};
    bytes = file->getBuffer().str();
  } else if (tensor.has_raw_data()) {
    bytes = std::move(*tensor.mutable_raw_data());
    tensor.clear_raw_data();
  } else if (tensor.int32_data_size() == count && count != expected) {
    // One value per entry, as onnx.parser (ONNX text) writes them; the
    // sizes tell this apart from the packed form.
    bytes.assign(expected, '\0');
    for (int64_t f = 0; f < count; ++f)
      bytes[f / 2] |= char((tensor.int32_data(f) & 0xf) << (4 * (f % 2)));
  } else {
    // int32_data holds one packed byte per entry (onnx.helper.make_tensor).
    for (int32_t v : tensor.int32_data())
      bytes.push_back(static_cast<char>(v & 0xff));
  }
  if ((int64_t)bytes.size() != expected) {
    emitError(loc) << "tensor '" << tensor.name() << "' holds " << bytes.size()
                   << " bytes but " << count << " packed "
                   << dataTypeName(tensor.data_type()) << " values need "
                   << expected;
    return {};
  }
  // Anvil packs each row of the last dim on its own; with an odd row length
  // the rows start mid-byte in ONNX's layout, so repack them.
  int64_t n = shape.back(), rowBytes = (n + 1) / 2;
  int64_t rows = n == 0 ? 0 : count / n;
  if (n % 2 != 0 && rows > 1) {
    std::string repacked(rows * rowBytes, '\0');
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < n; ++j) {
        int64_t from = r * n + j;
        uint8_t nibble = (uint8_t(bytes[from / 2]) >> (4 * (from % 2))) & 0xf;
        repacked[r * rowBytes + j / 2] |= char(nibble << (4 * (j % 2)));
      }
    bytes = std::move(repacked);
  }
  *packed = PackedValues{type.bits, type.isSigned, logicalShape};
  SmallVector<int64_t> storageShape(shape);
  storageShape.back() = rowBytes;
  auto storage = RankedTensorType::get(
      storageShape, IntegerType::get(context, 8, IntegerType::Unsigned));
  ElementsAttr attr = fromBytes(storage, tensor.name(), std::move(bytes));
  if (!attr)
    emitError(loc) << "tensor '" << tensor.name() << "' could not be converted";
  return attr;
}

ElementsAttr TensorConverter::convert(onnx::TensorProto &tensor, Location loc,
                                      std::optional<PackedValues> *packed) {
  if (std::optional<PackedType> packedType = packedDataType(tensor.data_type()))
    return convertPacked(tensor, loc, *packedType, packed);
  Type elementType = convertDataType(context, tensor.data_type());
  if (!elementType) {
    emitError(loc) << "tensor '" << tensor.name() << "' has unsupported "
                   << dataTypeName(tensor.data_type());
    return {};
  }
  SmallVector<int64_t> shape;
  int64_t count;
  if (failed(readShape(tensor, loc, shape, count)))
    return {};
  auto type = RankedTensorType::get(shape, elementType);
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL)
    return fromExternal(type, tensor, loc);

  int64_t expected = count * storageBytes(elementType);
  std::string bytes = tensor.has_raw_data()
                          ? std::move(*tensor.mutable_raw_data())
                          : typedFieldsToBytes(tensor, elementType);
  tensor.clear_raw_data();
  if ((int64_t)bytes.size() != expected) {
    emitError(loc) << "tensor '" << tensor.name() << "' holds " << bytes.size()
                   << " bytes but its shape "
                   << "and type need " << expected;
    return {};
  }
  ElementsAttr attr = fromBytes(type, tensor.name(), std::move(bytes));
  if (!attr)
    emitError(loc) << "tensor '" << tensor.name() << "' could not be converted";
  return attr;
}

} // namespace anvil::onnx_import
