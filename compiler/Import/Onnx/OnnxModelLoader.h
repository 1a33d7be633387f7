//===- OnnxModelLoader.h - reading and checking ONNX protobufs ---*- C++
//-*-===//

#ifndef ANVIL_COMPILER_IMPORT_ONNX_ONNXMODELLOADER_H
#define ANVIL_COMPILER_IMPORT_ONNX_ONNXMODELLOADER_H

#include "mlir/IR/Location.h"
#include "llvm/ADT/StringRef.h"

#include <memory>

namespace onnx {
class ModelProto;
} // namespace onnx

namespace anvil::onnx_import {

/// Parses `bytes` as an ONNX ModelProto and checks the parts the importer
/// relies on (a graph, a default-domain opset in the supported range).
/// Emits an error at `loc` and returns null if it is not a usable model.
std::unique_ptr<onnx::ModelProto> parseModel(llvm::StringRef bytes,
                                             mlir::Location loc);

} // namespace anvil::onnx_import

#endif // ANVIL_COMPILER_IMPORT_ONNX_ONNXMODELLOADER_H
