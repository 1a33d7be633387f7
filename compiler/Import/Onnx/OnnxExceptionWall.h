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
} // namespace onnx

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

} // namespace anvil::onnx_import

#endif // ANVIL_COMPILER_IMPORT_ONNX_ONNXEXCEPTIONWALL_H
