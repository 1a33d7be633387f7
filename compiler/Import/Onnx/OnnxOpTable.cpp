//===- OnnxOpTable.cpp - which ONNX ops the importer handles --------------===//

#include "compiler/Import/Onnx/OnnxOpTable.h"

#include <algorithm>

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

} // namespace anvil::onnx_import
