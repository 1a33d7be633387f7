//===- OnnxTensors.h - ONNX tensors and types to MLIR ------------*- C++
//-*-===//

#ifndef ANVIL_COMPILER_IMPORT_ONNX_ONNXTENSORS_H
#define ANVIL_COMPILER_IMPORT_ONNX_ONNXTENSORS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <memory>
#include <optional>
#include <string>

namespace llvm {
class MemoryBuffer;
} // namespace llvm

namespace onnx {
class TensorProto;
} // namespace onnx

namespace anvil::onnx_import {

/// The MLIR element type of an ONNX TensorProto.DataType, or null for types
/// Anvil does not handle (strings, complex, float8).
mlir::Type convertDataType(mlir::MLIRContext *context, int dataType);

/// A sub-byte ONNX data type (INT4, UINT4): its width and signedness.
struct PackedType {
  int bits;
  bool isSigned;
};
/// The packed type of `dataType`, or nullopt for byte-sized types. Anvil
/// keeps such values packed two per byte in `ui8` storage (see
/// anvil.dequantize); convertDataType returns null for them.
std::optional<PackedType> packedDataType(int dataType);

/// What a packed constant holds: `bits`-bit values, signed or not, of the
/// logical `shape`; the storage has its shape with a last dim of
/// ceil(n / 2) bytes (a scalar is stored as one row of one value).
struct PackedValues {
  int bits;
  bool isSigned;
  llvm::SmallVector<int64_t, 4> shape;
  int64_t lastDim() const { return shape.empty() ? 1 : shape.back(); }
};

/// The ONNX name of a data type, for messages ("FLOAT16").
std::string dataTypeName(int dataType);

/// Converts initializers and Constant-node tensors. Large tensors become
/// dense_resource blobs that take ownership of the protobuf's bytes (or point
/// into the mmapped external-data file) instead of copying them.
class TensorConverter {
public:
  TensorConverter(mlir::MLIRContext *context, std::string baseDir,
                  int64_t inlineLimit)
      : context(context), baseDir(std::move(baseDir)),
        inlineLimit(inlineLimit) {}

  /// Converts `tensor`, which the caller may move data out of. Emits a
  /// diagnostic at `loc` and returns null on failure. A 4-bit tensor becomes
  /// its packed `ui8` storage (two values per byte along the last dim, low
  /// nibble first) and fills `packed`; without `packed` it is an error.
  mlir::ElementsAttr convert(onnx::TensorProto &tensor, mlir::Location loc,
                             std::optional<PackedValues> *packed = nullptr);

  /// Packed 4-bit constants, so that the ops that read them (only
  /// DequantizeLinear) know their logical type.
  void notePacked(mlir::Value value, PackedValues info) {
    packedValues[value] = info;
  }
  const PackedValues *packedInfo(mlir::Value value) const {
    auto it = packedValues.find(value);
    return it == packedValues.end() ? nullptr : &it->second;
  }

private:
  mlir::ElementsAttr fromBytes(mlir::RankedTensorType type,
                               llvm::StringRef name, std::string &&bytes);
  /// The `expected` bytes of `tensor`'s external data, read from the file
  /// it names inside the model's folder; null after reporting why not.
  std::unique_ptr<llvm::MemoryBuffer>
  readExternal(const onnx::TensorProto &tensor, mlir::Location loc,
               int64_t expected);
  mlir::ElementsAttr fromExternal(mlir::RankedTensorType type,
                                  onnx::TensorProto &tensor,
                                  mlir::Location loc);

  mlir::ElementsAttr convertPacked(onnx::TensorProto &tensor,
                                   mlir::Location loc, PackedType packedType,
                                   std::optional<PackedValues> *packed);

  mlir::MLIRContext *context;
  std::string baseDir;
  int64_t inlineLimit;
  llvm::DenseMap<mlir::Value, PackedValues> packedValues;
};

} // namespace anvil::onnx_import

#endif // ANVIL_COMPILER_IMPORT_ONNX_ONNXTENSORS_H
