//===- OnnxModelLoader.cpp - reading and checking ONNX protobufs ----------===//

#include "compiler/Import/Onnx/OnnxModelLoader.h"
#include "compiler/Import/Onnx/OnnxExceptionWall.h"
#include "compiler/Import/Onnx/OnnxImporter.h"

#include "mlir/IR/Diagnostics.h"

#include "onnx/onnx_pb.h"

#include <climits>

using namespace mlir;

namespace anvil::onnx_import {

std::unique_ptr<onnx::ModelProto> parseModel(StringRef bytes, Location loc) {
  if (bytes.size() > (size_t)INT_MAX) {
    emitError(loc) << "the model protobuf is " << bytes.size()
                   << " bytes; protobuf cannot parse more than 2 GiB, so "
                      "large models must keep their weights as external data";
    return nullptr;
  }
  auto model = std::make_unique<onnx::ModelProto>();
  std::string error;
  if (!parseProtoNoThrow(*model, bytes, error)) {
    if (!error.empty())
      emitError(loc) << "cannot parse the model protobuf: " << error;
    else
      emitError(loc) << "not a valid ONNX model: the protobuf could not be "
                        "parsed (truncated or corrupted file?)";
    return nullptr;
  }
  if (!model->has_graph() || model->ir_version() <= 0) {
    emitError(loc) << "not a valid ONNX model: "
                   << (model->has_graph() ? "it has no IR version"
                                          : "it has no graph");
    return nullptr;
  }
  int64_t opset = -1;
  for (const onnx::OperatorSetIdProto &id : model->opset_import())
    if (id.domain().empty() || id.domain() == "ai.onnx")
      opset = id.version();
  if (opset < 0) {
    emitError(loc) << "the model imports no opset of the default ONNX domain";
    return nullptr;
  }
  if (opset > kMaxOpset) {
    emitError(loc) << "the model uses opset " << opset
                   << " of the default domain; Anvil imports opsets "
                   << kMinOpset << " to " << kMaxOpset;
    return nullptr;
  }
  if (opset < kMinOpset) {
    // Older models go through onnx's own version converter (libonnx 1.12
    // converts up to opset 17), so the importer handles 13 and later only.
    if (!convertVersionNoThrow(*model, kMinOpset, error)) {
      emitError(loc) << "the model uses opset " << opset
                     << " of the default domain and onnx's version converter "
                        "cannot convert it to opset "
                     << kMinOpset << ": " << error << " (Anvil imports opsets "
                     << kMinOpset << " to " << kMaxOpset << ")";
      return nullptr;
    }
    emitRemark(loc) << "converted the model from opset " << opset
                    << " to opset " << kMinOpset
                    << " with onnx's version converter";
  }
  return model;
}

} // namespace anvil::onnx_import
