//===- Driver.h - what anvilc does, as a library -----------------*- C++
//-*-===//

#ifndef ANVIL_COMPILER_DRIVER_DRIVER_H
#define ANVIL_COMPILER_DRIVER_DRIVER_H

#include "compiler/Import/Onnx/OnnxImporter.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <string>
#include <vector>

namespace anvil::driver {

/// The stages `--emit=` can stop after (DESIGN.md invariant 3).
enum class EmitKind { Mlir, Kernel, Source, Obj, Artifact };

struct Options {
  /// One model, or several bundled into one artifact: each becomes an
  /// entry point named after its file (foo.onnx: @foo).
  std::vector<std::string> inputPaths;
  std::string outputPath = "-";
  EmitKind emit = EmitKind::Mlir;
  unsigned optLevel = 2;
  /// Run anvil-merge-matmuls at -O2 and above (after anvil-paged-kv when
  /// the step function is compiled).
  bool mergeMatmuls = false;
  onnx_import::ImportOptions import;
  /// Print weight blobs in --emit=mlir output (elided by default).
  bool printWeights = false;
  /// Print a summary of the model (inputs, outputs, op counts) to stderr.
  bool summary = false;
  /// Silence progress messages.
  bool quiet = false;
  /// The program name used in messages.
  std::string toolName = "anvilc";

  /// Code generation (--emit=kernel and later stages).
  std::string target = "cpu";
  /// --mcpu: the subtarget (an x86-64 level for cpu); empty is the
  /// target's default.
  std::string subtarget;
  /// The C++ compiler for targets that build C++ (empty: $ANVIL_CXX or c++).
  std::string cxx;
  /// Where compiled code objects are cached; empty disables the cache.
  std::string cacheDir;
  /// Outline repeated blocks of steps (layers) in the generated code.
  bool outlineRepeats = true;
  /// Run a matmul's elementwise tail inside its kernel (from -O2).
  bool fuseEpilogues = true;
  /// Fold a paged decoder's rotary embeddings into its attention and KV
  /// writes (anvil-fuse-rope).
  bool fuseRope = true;

  /// How a decoder's KV cache is compiled: Auto pages it when the model
  /// has one (anvil-paged-kv), Paged requires that, Graph keeps past and
  /// present KV as the graph's inputs and outputs.
  enum class KvCache { Auto, Paged, Graph };
  KvCache kvCache = KvCache::Auto;
  /// The paged step's compile-time limits (anvil-paged-kv's options).
  int64_t kvBlockSize = 16;
  int64_t maxTokensPerStep = 256;
  int64_t maxSeqsPerStep = 64;
  int64_t maxContext = 2048;
  int64_t maxKvBlocks = 1 << 20;
  /// The KV pools' element type ("f32", "f16" or "int8", the last with
  /// f32 scales beside each pool); empty keeps the model's.
  /// Given for a compile that is not paged, it is an error.
  std::string kvDtype;
  /// Special token ids for the manifest's "llm" object, by key
  /// ("eos_token_ids", "bos_token_ids").
  std::map<std::string, std::vector<int64_t>> llmTokenIds;
  /// The tokenizer file embedded as the artifact's tokenizer section
  /// (empty: tokenizer.json next to the first model, when present).
  std::string tokenizerPath;
  bool noTokenizer = false;

  /// --quantize: the anvil-quantize-weights mode (empty: no quantization),
  /// --quantize-asym, --quantize-skip and --quantize-float-lhs
  /// (docs/quantization.md).
  std::string quantize;
  bool quantizeAsym = false;
  std::vector<std::string> quantizeSkip;
  bool quantizeFloatLhs = false;
};

/// The cache folder used when --cache-dir is not given: $ANVIL_CACHE_DIR,
/// else $XDG_CACHE_HOME/anvil, else ~/.cache/anvil.
std::string defaultCacheDir();

/// Prints the registered targets and their subtargets (--mcpu values).
void listTargets(llvm::raw_ostream &os);

/// Prints every ONNX op the importer takes, one per line: "<domain> <op>",
/// and for ops imported through their ONNX function body
/// "ai.onnx <op> (function body, opsets <ranges>)".
void listOnnxOps(llvm::raw_ostream &os);

/// Runs the compiler: import (ONNX, or MLIR text for replays), the -O
/// pipeline, then emits the requested stage. Diagnostics go to stderr with
/// the node they concern. Returns the process exit code.
int run(const Options &options);

/// Prints `module` with weight blobs replaced by empty placeholders unless
/// `printWeights`; the result stays parseable.
void printModule(mlir::ModuleOp module, llvm::raw_ostream &os,
                 bool printWeights);

/// Writes the one-screen summary `--summary` prints.
void printSummary(mlir::ModuleOp module, llvm::raw_ostream &os);

} // namespace anvil::driver

#endif // ANVIL_COMPILER_DRIVER_DRIVER_H
