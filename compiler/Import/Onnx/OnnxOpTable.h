//===- OnnxOpTable.h - which ONNX ops the importer handles -------*- C++
//-*-===//

#ifndef ANVIL_COMPILER_IMPORT_ONNX_ONNXOPTABLE_H
#define ANVIL_COMPILER_IMPORT_ONNX_ONNXOPTABLE_H

#include "compiler/Import/Onnx/OnnxNodeContext.h"

#include "llvm/ADT/StringMap.h"

namespace anvil::onnx_import {

struct OpTableEntry {
  OpHandler handler = nullptr;
  /// For ops recognized but deliberately not imported: why, and what to do.
  const char *rejection = nullptr;
};

class OpTable {
public:
  /// The table with every handler registered.
  static const OpTable &get();

  /// The entry for an op, or null if the op is unknown. The default domain
  /// may be spelled "" or "ai.onnx".
  const OpTableEntry *lookup(llvm::StringRef domain,
                             llvm::StringRef opType) const;

  void add(llvm::StringRef domain, llvm::StringRef opType, OpHandler handler);
  void reject(llvm::StringRef domain, llvm::StringRef opType,
              const char *reason);

  /// Every (domain, op type) with a handler, for documentation and tests.
  std::vector<std::string> supportedOps() const;

private:
  llvm::StringMap<OpTableEntry> entries;
};

// Each file of handlers registers itself here.
void addElementwiseOps(OpTable &table);
void addShapeOps(OpTable &table);
void addNeuralNetOps(OpTable &table);
void addAttentionOps(OpTable &table);
void addQuantizationOps(OpTable &table);
void addMicrosoftQLinearOps(OpTable &table); // MicrosoftQLinearOps.cpp
void addIndexingOps(OpTable &table);         // IndexingOps.cpp
void addSpatialOps(OpTable &table);          // SpatialOps.cpp

constexpr const char *kMicrosoftDomain = "com.microsoft";

} // namespace anvil::onnx_import

#endif // ANVIL_COMPILER_IMPORT_ONNX_ONNXOPTABLE_H
