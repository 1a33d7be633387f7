//===- OnnxExceptionWall.h - calls into libonnx/protobuf that throw -*- C++
//-*-===//
//
// The compiler builds with -fno-exceptions, but onnx's version converter
// throws on anything it cannot convert and protobuf throws std::bad_alloc.
// An exception passing through a -fno-exceptions frame terminates the
// process, so every such call goes through one of these functions, which
// live in the one translation unit built with -fexceptions and turn any
// exception into an error message.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_IMPORT_ONNX_ONNXEXCEPTIONWALL_H
#define ANVIL_COMPILER_IMPORT_ONNX_ONNXEXCEPTIONWALL_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace google::protobuf {
class MessageLite;
} // namespace google::protobuf

namespace onnx {
class ModelProto;
class NodeProto;
class FunctionProto;
class TypeProto;
class AttributeProto;
} // namespace onnx

#include <vector>

namespace anvil::onnx_import {

/// message.ParseFromArray(bytes). False if the bytes are not a valid
/// message (`error` empty) or parsing threw (`error` says what).
bool parseProtoNoThrow(google::protobuf::MessageLite &message,
                       llvm::StringRef bytes, std::string &error);

/// Replaces `model` by onnx::version_conversion::ConvertVersion(model,
/// targetOpset). On failure `model` is unchanged and `error` holds the
/// converter's message.
bool convertVersionNoThrow(onnx::ModelProto &model, int64_t targetOpset,
                           std::string &error);

/// Whether libonnx's schema of `opType` (domain `domain`, the newest
/// version at or below `opset`) defines a function body, plain or context
/// dependent. `sinceVersion` receives that schema's version (-1: none).
bool schemaHasFunctionNoThrow(const std::string &domain,
                              const std::string &opType, int64_t opset,
                              int64_t &sinceVersion);

/// Checks `node`'s attributes against the types libonnx's schema of its op
/// (domain `domain`, opset `opset`) declares. Returns "" when they agree
/// or libonnx has no schema for the op; else the first mismatch:
/// `name` and the declared and actual AttributeProto types.
struct AttributeTypeMismatch {
  std::string name;
  int expected = 0, actual = 0;
};
bool attributeTypesMatchSchemaNoThrow(const onnx::NodeProto &node,
                                      const std::string &domain, int64_t opset,
                                      AttributeTypeMismatch &mismatch);

/// The function body libonnx's schema defines for `node` (whose domain's
/// opset is `opset`), built for the node's attributes and `inputTypes`
/// (one per node input; a TypeProto without elem_type for absent ones)
/// when the body depends on them. `defaults` receives the schema's default
/// attribute values, `requiredInputs` one
/// entry per formal input (true unless optional). Returns 1 with `body` set, 0
/// when the schema has no body, -1 with `error` set when building it failed.
int functionBodyNoThrow(const onnx::NodeProto &node, const std::string &domain,
                        int64_t opset,
                        const std::vector<onnx::TypeProto> &inputTypes,
                        onnx::FunctionProto &body,
                        std::vector<onnx::AttributeProto> &defaults,
                        std::vector<bool> &requiredInputs, std::string &error);

/// What libonnx's schema of `opType` (the newest version at or below
/// `opset`) says about importing it through its function body.
struct SchemaBodyInfo {
  bool hasBody = false;
  /// Built per node (from its attributes and input types): its ops are
  /// known only then.
  bool contextDependent = false;
  /// The op types of a plain body's nodes (default domain).
  std::vector<std::string> bodyOps;
  /// Whether some input or output takes only sequences, maps or optionals.
  bool nonTensorIO = false;
  /// The schema's number of formal inputs.
  int numInputs = 0;
};
bool schemaBodyInfoNoThrow(const std::string &domain, const std::string &opType,
                           int64_t opset, SchemaBodyInfo &info);

/// The names of every op libonnx has a schema for in `domain` (any
/// version), sorted; empty if the registry threw.
std::vector<std::string> schemaOpNamesNoThrow(const std::string &domain);

/// Parses a node list in ONNX's textual syntax ("{ y = Op <a = 1> (x) }")
/// with onnx::OnnxParser into `body`'s nodes.
bool parseNodeListNoThrow(const std::string &text, onnx::FunctionProto &body,
                          std::string &error);

} // namespace anvil::onnx_import

#endif // ANVIL_COMPILER_IMPORT_ONNX_ONNXEXCEPTIONWALL_H
