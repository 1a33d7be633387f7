//===- OnnxExceptionWall.cpp - calls into libonnx/protobuf that throw -----===//
//
// The only file of the compiler built with -fexceptions (see
// CMakeLists.txt): nothing may leave it by exception.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Onnx/OnnxExceptionWall.h"

#include "onnx/checker.h"
#include "onnx/defs/parser.h"
#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"
#include "onnx/version_converter/convert.h"

#include <algorithm>
#include <climits>
#include <exception>
#include <new>
#include <set>

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
    // The converter trusts its input: a graph the checker rejects can make
    // it dereference null (found by the importer fuzzer). The checker
    // throws on what it rejects.
    try {
      onnx::checker::check_model(model);
    } catch (const std::exception &e) {
      error = "the model fails onnx's checker, which conversion needs: " +
              describe(e);
      return false;
    }
    // Nor does the checker of libonnx 1.12 catch a graph output that
    // nothing produces, on which the converter's graph import crashes.
    std::set<std::string> defined;
    for (const onnx::ValueInfoProto &input : model.graph().input())
      defined.insert(input.name());
    for (const onnx::TensorProto &initializer : model.graph().initializer())
      defined.insert(initializer.name());
    for (const onnx::NodeProto &node : model.graph().node())
      defined.insert(node.output().begin(), node.output().end());
    for (const onnx::ValueInfoProto &output : model.graph().output())
      if (!defined.count(output.name())) {
        error =
            "graph output '" + output.name() + "' is not produced by any node";
        return false;
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

bool schemaHasFunctionNoThrow(const std::string &domain,
                              const std::string &opType, int64_t opset,
                              int64_t &sinceVersion) {
  sinceVersion = -1;
  try {
    const onnx::OpSchema *schema =
        onnx::OpSchemaRegistry::Schema(opType, (int)opset, domain);
    if (!schema)
      return false;
    sinceVersion = schema->since_version();
    return schema->HasFunction() || schema->HasContextDependentFunction();
  } catch (...) {
    return false;
  }
}

bool attributeTypesMatchSchemaNoThrow(const onnx::NodeProto &node,
                                      const std::string &domain, int64_t opset,
                                      AttributeTypeMismatch &mismatch) {
  try {
    const onnx::OpSchema *schema =
        onnx::OpSchemaRegistry::Schema(node.op_type(), (int)opset, domain);
    if (!schema)
      return true;
    const auto &declared = schema->attributes();
    for (const onnx::AttributeProto &a : node.attribute()) {
      auto it = declared.find(a.name());
      if (it == declared.end() || (int)it->second.type == (int)a.type())
        continue;
      mismatch = {a.name(), (int)it->second.type, (int)a.type()};
      return false;
    }
  } catch (...) {
  }
  return true;
}

bool schemaBodyInfoNoThrow(const std::string &domain, const std::string &opType,
                           int64_t opset, SchemaBodyInfo &info) {
  info = SchemaBodyInfo();
  try {
    const onnx::OpSchema *schema =
        onnx::OpSchemaRegistry::Schema(opType, (int)opset, domain);
    if (!schema)
      return false;
    info.contextDependent = schema->HasContextDependentFunction();
    info.hasBody = schema->HasFunction() || info.contextDependent;
    if (const onnx::FunctionProto *body =
            schema->HasFunction() ? schema->GetFunction() : nullptr)
      for (const onnx::NodeProto &node : body->node())
        info.bodyOps.push_back(node.op_type());
    // A parameter's types: its own string, or its constraint's allowed set.
    auto tensorFree = [&](const onnx::OpSchema::FormalParameter &p) {
      std::vector<std::string> types = {p.GetTypeStr()};
      for (const auto &constraint : schema->typeConstraintParams())
        if (constraint.type_param_str == p.GetTypeStr())
          types = constraint.allowed_type_strs;
      for (const std::string &type : types)
        if (type.rfind("tensor(", 0) == 0)
          return false;
      return true;
    };
    info.numInputs = (int)schema->inputs().size();
    for (const auto &p : schema->inputs())
      info.nonTensorIO |= tensorFree(p);
    for (const auto &p : schema->outputs())
      info.nonTensorIO |= tensorFree(p);
    return true;
  } catch (...) {
    return false;
  }
}

std::vector<std::string> schemaOpNamesNoThrow(const std::string &domain) {
  std::vector<std::string> names;
  try {
    for (const onnx::OpSchema &schema :
         onnx::OpSchemaRegistry::get_all_schemas_with_history())
      if (schema.domain() == domain)
        names.push_back(schema.Name());
  } catch (...) {
    return {};
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

int functionBodyNoThrow(const onnx::NodeProto &node, const std::string &domain,
                        int64_t opset,
                        const std::vector<onnx::TypeProto> &inputTypes,
                        onnx::FunctionProto &body,
                        std::vector<onnx::AttributeProto> &defaults,
                        std::vector<bool> &requiredInputs, std::string &error) {
  error.clear();
  try {
    const onnx::OpSchema *schema =
        onnx::OpSchemaRegistry::Schema(node.op_type(), (int)opset, domain);
    if (!schema)
      return 0;
    for (const onnx::OpSchema::FormalParameter &input : schema->inputs())
      requiredInputs.push_back(input.GetOption() !=
                               onnx::OpSchema::FormalParameterOption::Optional);
    for (const auto &[name, attribute] : schema->attributes())
      if (attribute.default_value.type() != onnx::AttributeProto::UNDEFINED)
        defaults.push_back(attribute.default_value);
    if (schema->HasContextDependentFunction()) {
      onnx::FunctionBodyBuildContextImpl context(node, inputTypes);
      if (!schema->BuildContextDependentFunction(context, body)) {
        error = "onnx could not build its function body for this node";
        return -1;
      }
    } else if (schema->HasFunction()) {
      body.CopyFrom(*schema->GetFunction());
    } else {
      return 0;
    }
    if (body.opset_import_size() == 0) {
      onnx::OperatorSetIdProto *id = body.add_opset_import();
      id->set_domain(domain);
      id->set_version(schema->since_version());
    }
    return 1;
  } catch (const std::bad_alloc &) {
    error = "out of memory";
  } catch (const std::exception &e) {
    error = describe(e);
  } catch (...) {
    error = "an unknown exception";
  }
  return -1;
}

bool parseNodeListNoThrow(const std::string &text, onnx::FunctionProto &body,
                          std::string &error) {
  error.clear();
  try {
    onnx::NodeList nodes;
    onnx::OnnxParser parser(text.c_str());
    onnx::Common::Status status = parser.Parse(nodes);
    if (!status.IsOK()) {
      error = status.ErrorMessage();
      return false;
    }
    for (const onnx::NodeProto &node : nodes)
      *body.add_node() = node;
    return true;
  } catch (const std::exception &e) {
    error = describe(e);
  } catch (...) {
    error = "an unknown exception";
  }
  return false;
}

} // namespace anvil::onnx_import
