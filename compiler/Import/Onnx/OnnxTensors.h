//===- OnnxTensors.h - ONNX tensors and types to MLIR ------------*- C++
//-*-===//

#ifndef ANVIL_COMPILER_IMPORT_ONNX_ONNXTENSORS_H
#define ANVIL_COMPILER_IMPORT_ONNX_ONNXTENSORS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace onnx {
class TensorProto;
} // namespace onnx

namespace anvil::onnx_import {

/// The MLIR element type of an ONNX TensorProto.DataType, or null for types
/// Anvil does not handle (strings, complex, float8).
mlir::Type convertDataType(mlir::MLIRContext *context, int dataType);

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
  /// diagnostic at `loc` and returns null on failure.
  mlir::ElementsAttr convert(onnx::TensorProto &tensor, mlir::Location loc);

private:
  mlir::ElementsAttr fromBytes(mlir::RankedTensorType type,
                               llvm::StringRef name, std::string &&bytes);
  mlir::ElementsAttr fromExternal(mlir::RankedTensorType type,
                                  onnx::TensorProto &tensor,
                                  mlir::Location loc);

  mlir::MLIRContext *context;
  std::string baseDir;
  int64_t inlineLimit;
};

} // namespace anvil::onnx_import

#endif // ANVIL_COMPILER_IMPORT_ONNX_ONNXTENSORS_H
