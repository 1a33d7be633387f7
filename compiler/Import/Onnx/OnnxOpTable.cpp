//===- OnnxOpTable.cpp - which ONNX ops the importer handles --------------===//

#include "compiler/Import/Onnx/OnnxOpTable.h"
#include "compiler/Import/Onnx/OnnxExceptionWall.h"
#include "compiler/Import/Onnx/OnnxFunctions.h"
#include "compiler/Import/Onnx/OnnxImporter.h"

#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <tuple>

namespace anvil::onnx_import {

static std::string key(llvm::StringRef domain, llvm::StringRef opType) {
  if (domain == "ai.onnx")
    domain = "";
  return (domain + "::" + opType).str();
}

const OpTable &OpTable::get() {
  static const OpTable table = [] {
    OpTable t;
    addElementwiseOps(t);
    addShapeOps(t);
    addNeuralNetOps(t);
    addAttentionOps(t);
    addQuantizationOps(t);
    addMicrosoftQLinearOps(t);
    addIndexingOps(t);
    addSpatialOps(t);
    return t;
  }();
  return table;
}

const OpTableEntry *OpTable::lookup(llvm::StringRef domain,
                                    llvm::StringRef opType) const {
  auto it = entries.find(key(domain, opType));
  return it == entries.end() ? nullptr : &it->second;
}

void OpTable::add(llvm::StringRef domain, llvm::StringRef opType,
                  OpHandler handler) {
  entries[key(domain, opType)].handler = handler;
}

void OpTable::reject(llvm::StringRef domain, llvm::StringRef opType,
                     const char *reason) {
  entries[key(domain, opType)].rejection = reason;
}

std::vector<std::string> OpTable::supportedOps() const {
  std::vector<std::string> names;
  for (const auto &entry : entries)
    if (entry.second.handler)
      names.push_back(entry.first().str());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<SupportedOp> supportedOnnxOps() {
  const OpTable &table = OpTable::get();
  std::vector<SupportedOp> ops;
  for (const std::string &entry : table.supportedOps()) {
    auto [domain, opType] = llvm::StringRef(entry).split("::");
    ops.push_back(
        {domain.empty() ? "ai.onnx" : domain.str(), opType.str(), ""});
  }
  std::sort(ops.begin(), ops.end(), [](const auto &a, const auto &b) {
    return std::tie(a.domain, a.opType) < std::tie(b.domain, b.opType);
  });
  std::vector<std::string> names = schemaOpNamesNoThrow("");
  for (const std::string &name : textBodyOpNames())
    if (!llvm::is_contained(names, name))
      names.push_back(name);
  std::sort(names.begin(), names.end());
  for (const std::string &name : names) {
    const OpTableEntry *entry = table.lookup("", name);
    if (entry && entry->handler)
      continue;
    // A libonnx body imports when its ops do; one that handles sequences
    // or optionals, or calls an op Anvil lacks (Bernoulli's
    // RandomUniformLike), is not listed. A context-dependent body is built
    // for a node of float32 inputs; if that fails (its inputs need other
    // types), the op is listed and the node tests of its expansions decide.
    bool ours = llvm::is_contained(textBodyOpNames(), name);
    auto importable = [&](int64_t opset) {
      if (!hasFunctionBody("", name, opset))
        return false;
      SchemaBodyInfo info;
      if (ours || !schemaBodyInfoNoThrow("", name, opset, info))
        return ours;
      if (info.nonTensorIO)
        return false;
      if (info.contextDependent) {
        onnx::NodeProto node;
        node.set_op_type(name);
        std::vector<onnx::TypeProto> types(info.numInputs);
        for (int i = 0; i < info.numInputs; ++i) {
          node.add_input("x" + std::to_string(i));
          types[i].mutable_tensor_type()->set_elem_type(1); // float32
        }
        node.add_output("y");
        onnx::FunctionProto body;
        std::vector<onnx::AttributeProto> defaults;
        std::vector<bool> required;
        std::string error;
        if (functionBodyNoThrow(node, "", opset, types, body, defaults,
                                required, error) != 1)
          return true;
        for (const onnx::NodeProto &inner : body.node())
          info.bodyOps.push_back(inner.op_type());
      }
      return llvm::all_of(info.bodyOps, [&](const std::string &op) {
        const OpTableEntry *inner = table.lookup("", op);
        return (inner && inner->handler) || hasFunctionBody("", op, opset);
      });
    };
    // The opsets with a body, as ranges ("13-17, 21-24").
    std::string ranges;
    int64_t start = -1;
    for (int64_t opset = kMinOpset; opset <= kMaxOpset + 1; ++opset) {
      bool body = opset <= kMaxOpset && importable(opset);
      if (body && start < 0)
        start = opset;
      if (!body && start >= 0) {
        ranges += (ranges.empty() ? "" : ", ") + std::to_string(start) +
                  (opset - 1 > start ? "-" + std::to_string(opset - 1) : "");
        start = -1;
      }
    }
    if (!ranges.empty())
      ops.push_back({"ai.onnx", name, ranges});
  }
  return ops;
}

} // namespace anvil::onnx_import
