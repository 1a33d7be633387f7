//===- OnnxImporter.h - ONNX protobuf to the anvil dialect -------*- C++
//-*-===//
//
// Reads an ONNX model (with external data) and builds a module holding one
// func.func whose body is anvil ops. Every problem is reported through MLIR
// diagnostics naming the node; unsupported ops are all collected and
// reported before anything is built.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_IMPORT_ONNX_ONNXIMPORTER_H
#define ANVIL_COMPILER_IMPORT_ONNX_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <map>
#include <string>
#include <vector>

namespace anvil::onnx_import {

/// On each function argument: the ONNX names of its dims (an ArrayAttr of
/// one StringAttr per dim, "" for a dim without a name), bound or not.
/// Set only when at least one dim has a name.
constexpr llvm::StringLiteral kDimNamesAttr = "anvil.dim_names";

/// The default-domain opsets the importer accepts (older ones are
/// converted with onnx's version converter first).
constexpr int64_t kMinOpset = 13;
constexpr int64_t kMaxOpset = 24;

struct ImportOptions {
  /// Symbolic dimension name -> size (`--dim=batch_size=1`).
  std::map<std::string, int64_t> dims;
  /// Symbolic dimension name -> [min, max] (`--dim=sequence_length=1..512`):
  /// the dim stays symbolic, and one artifact serves every size in range.
  /// Recorded on the function as `anvil.sizes` (kSizesAttr).
  std::map<std::string, std::pair<int64_t, int64_t>> boundedDims;
  /// Graph input name -> full shape (`--input-shape=input_ids:1x128`).
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// Graph input name -> a file holding an ONNX TensorProto: the input
  /// becomes that constant (`--constant-input=axes=axes.pb`). For inputs
  /// that determine shapes (axes, split sizes, pads) and are known when the
  /// model is compiled.
  std::map<std::string, std::string> constantInputs;
  /// Name of the function built from the graph.
  std::string entryName = "main";
  /// Constants with at most this many elements are stored inline as
  /// `dense<...>`; larger ones become resource blobs that are not copied.
  int64_t inlineConstantLimit = 64;
};

/// Imports the model at `path`. External data is resolved relative to the
/// model's directory. Returns null after emitting diagnostics on failure.
mlir::OwningOpRef<mlir::ModuleOp> importOnnxFile(mlir::MLIRContext *context,
                                                 llvm::StringRef path,
                                                 const ImportOptions &options);

/// The symbolic dim names (`dim_param`) of the graph inputs of the model
/// at `path`, in order of appearance, leaving out computed ones ("a + b");
/// empty when the file cannot be read (the import reports why).
std::vector<std::string> symbolicDimNames(mlir::MLIRContext *context,
                                          llvm::StringRef path);

/// Imports a model held in memory. `bufferName` is used in diagnostics and
/// `baseDir` for external data (empty: external data is an error).
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxBuffer(mlir::MLIRContext *context, llvm::StringRef bytes,
                 llvm::StringRef bufferName, llvm::StringRef baseDir,
                 const ImportOptions &options);

/// An op the importer takes: a handler, or (default domain) its ONNX
/// function body, inlined, at the listed opsets.
struct SupportedOp {
  std::string domain; ///< "ai.onnx" or e.g. "com.microsoft"
  std::string opType;
  /// Empty for a handler; for a function body the opsets (within
  /// kMinOpset..kMaxOpset) where one exists, e.g. "13-17".
  std::string functionBodyOpsets;
};

/// Every op the importer takes, handlers first (sorted by domain and
/// name), then the ops without a handler that have a function body. A body
/// imports only when the ops inside it are supported (`--list-ops` says
/// so; see docs/importer.md).
std::vector<SupportedOp> supportedOnnxOps();

/// Registers the dialects the importer produces.
void registerImportDialects(mlir::MLIRContext *context);

} // namespace anvil::onnx_import

#endif // ANVIL_COMPILER_IMPORT_ONNX_ONNXIMPORTER_H
