//===- OnnxExceptionWall.cpp - calls into libonnx/protobuf that throw -----===//
//
// The only file of the compiler built with -fexceptions (see
// CMakeLists.txt): nothing may leave it by exception.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Onnx/OnnxExceptionWall.h"

#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"
#include "onnx/version_converter/convert.h"

#include <climits>
#include <exception>
#include <new>

namespace anvil::onnx_import {
namespace {

/// The first line of an exception's message: onnx appends the whole
/// converter state on later lines.
std::string describe(const std::exception &e) {
  std::string what = e.what();
  size_t end = what.find('\n');
  if (end != std::string::npos)
    what.resize(end);
  // "[ConvertError] " and similar prefixes add nothing for users.
  if (!what.empty() && what.front() == '[') {
    size_t close = what.find("] ");
    if (close != std::string::npos)
      what.erase(0, close + 2);
  }
  return what.empty() ? "an unknown error" : what;
}

} // namespace

bool parseProtoNoThrow(google::protobuf::MessageLite &message,
                       llvm::StringRef bytes, std::string &error) {
  error.clear();
  if (bytes.size() > (size_t)INT_MAX) {
    error = "the protobuf is larger than 2 GiB";
    return false;
  }
  try {
    return message.ParseFromArray(bytes.data(), (int)bytes.size());
  } catch (const std::bad_alloc &) {
    error = "out of memory while parsing the protobuf";
  } catch (const std::exception &e) {
    error = describe(e);
  } catch (...) {
    error = "an unknown exception while parsing the protobuf";
  }
  return false;
}

bool convertVersionNoThrow(onnx::ModelProto &model, int64_t targetOpset,
                           std::string &error) {
  error.clear();
  try {
    // The converter looks every node's schema up with unordered_map::at,
    // whose message says nothing; name the op instead.
    int64_t opset = -1;
    for (const onnx::OperatorSetIdProto &id : model.opset_import())
      if (id.domain().empty() || id.domain() == "ai.onnx")
        opset = id.version();
    for (const onnx::NodeProto &node : model.graph().node()) {
      if (!node.domain().empty() && node.domain() != "ai.onnx")
        continue;
      if (!onnx::OpSchemaRegistry::Schema(node.op_type(), (int)opset, "")) {
        error = "the op " + node.op_type() + " has no definition at opset " +
                std::to_string(opset);
        return false;
      }
    }
    onnx::ModelProto converted =
        onnx::version_conversion::ConvertVersion(model, (int)targetOpset);
    model.Swap(&converted);
    return true;
  } catch (const std::bad_alloc &) {
    error = "out of memory";
  } catch (const std::exception &e) {
    error = describe(e);
  } catch (...) {
    error = "an unknown exception";
  }
  return false;
}

} // namespace anvil::onnx_import
