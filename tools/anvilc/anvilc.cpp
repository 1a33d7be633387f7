//===- anvilc.cpp - the Anvil model compiler ------------------------------===//
//
// llc-style: `anvilc model.onnx [-O2] [--emit=mlir] [-o out]`. Parses flags
// and calls the driver library.
//
//===----------------------------------------------------------------------===//

#include "SignArtifact.h"

#include "anvil/artifact_signature.h"
#include "backends/cpu/codegen/CpuTarget.h"
#include "compiler/Driver/Driver.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace llvm;

namespace {
cl::OptionCategory category("anvilc options");

cl::list<std::string>
    inputPaths(cl::Positional,
               cl::desc("<model.onnx | module.mlir>... (several "
                        "models make one artifact with an "
                        "entry point per file)"),
               cl::cat(category));
cl::opt<std::string>
    outputPath("o",
               cl::desc("Output file ('-' for stdout; the default, except for "
                        "--emit=artifact, which writes <input>.anvil)"),
               cl::value_desc("file"), cl::cat(category));
cl::opt<anvil::driver::EmitKind> emit(
    "emit",
    cl::desc("The stage to stop after and write (default: artifact when -o "
             "names a .anvil file, else mlir)"),
    cl::values(clEnumValN(anvil::driver::EmitKind::Mlir, "mlir",
                          "the anvil-dialect module after the -O pipeline"),
               clEnumValN(anvil::driver::EmitKind::Kernel, "kernel",
                          "the planned kernel program (buffers, launches)"),
               clEnumValN(anvil::driver::EmitKind::Source, "source",
                          "the generated target source (C++ for cpu)"),
               clEnumValN(anvil::driver::EmitKind::Obj, "obj",
                          "the compiled code object (a shared object for cpu)"),
               clEnumValN(anvil::driver::EmitKind::Artifact, "artifact",
                          "the .anvil artifact the runtime loads")),
    cl::cat(category));
cl::opt<std::string> target("target",
                            cl::desc("Code generation target (default cpu; "
                                     "--list-targets lists them)"),
                            cl::value_desc("name"), cl::init("cpu"),
                            cl::cat(category));
cl::opt<std::string>
    mcpu("mcpu",
         cl::desc("Subtarget. For cpu: native (the compiling machine, the "
                  "default), x86-64-v2, x86-64-v3 (AVX2, FMA) or x86-64-v4 "
                  "(AVX-512). "
                  "The artifact records the CPU features it needs and the "
                  "runtime refuses machines without them."),
         cl::value_desc("subtarget"), cl::cat(category));
cl::opt<bool> listTargetsFlag("list-targets",
                              cl::desc("List the targets and their subtargets"),
                              cl::cat(category));
cl::opt<bool> listOpsFlag(
    "list-ops",
    cl::desc("List the ONNX ops the importer takes (\"<domain> <op>\"); "
             "ops without a handler that import through their ONNX "
             "function body say so, with the opsets"),
    cl::cat(category));
cl::opt<std::string>
    cxx("cxx",
        cl::desc("C++ compiler that builds generated code (default: "
                 "$ANVIL_CXX, else c++ on PATH)"),
        cl::value_desc("path"), cl::cat(category));
cl::opt<std::string> cacheDir(
    "cache-dir",
    cl::desc("Cache for compiled code, keyed by a hash of the generated "
             "source, kernels, flags and compiler (default: $ANVIL_CACHE_DIR, "
             "else $XDG_CACHE_HOME/anvil, else ~/.cache/anvil)"),
    cl::value_desc("dir"), cl::cat(category));
cl::opt<bool> noCache("no-cache",
                      cl::desc("Always run the C++ compiler; do not read or "
                               "write the code cache"),
                      cl::cat(category));
cl::opt<bool> noOutline(
    "no-outline",
    cl::desc("Write every step of the generated code inline. By default a "
             "run of repeated blocks of steps (a model's layers) becomes one "
             "function, called once per block with that block's buffers, "
             "which keeps the code and its compile time small"),
    cl::cat(category));
cl::opt<bool> noFuseEpilogues(
    "no-fuse-epilogues",
    cl::desc("Keep the elementwise loop after a matmul or a convolution "
             "(bias, activation, residual add) a separate pass over its "
             "result. By default, at -O2 and -O3, the matmul or convolution "
             "kernel runs it on each block of the result it finishes "
             "(anvil-fuse-matmul-epilogue); the results are the same bits "
             "either way"),
    cl::cat(category));
cl::opt<bool> noFuseRope(
    "no-fuse-rope",
    cl::desc("Keep a paged decoder's rotary embeddings separate launches, "
             "each between two transposes. By default the paged attention "
             "rotates the queries as it loads them and the KV write the new "
             "keys before it stores them (anvil-fuse-rope); the results are "
             "the same bits either way"),
    cl::cat(category));
cl::opt<unsigned> optLevel(
    "O", cl::desc("Optimization level: -O0 (import only) to -O3 (default 2)"),
    cl::Prefix, cl::init(2), cl::cat(category));
cl::list<std::string>
    dims("dim",
         cl::desc("Bind symbolic dimensions by name, to a size or to "
                  "bounds: --dim=batch_size=1,sequence_length=1..512 "
                  "(repeatable)"),
         cl::value_desc("name=size|name=min..max,..."), cl::CommaSeparated,
         cl::cat(category));
cl::list<std::string>
    inputShapes("input-shape",
                cl::desc("Set graph inputs' whole shapes: "
                         "--input-shape=input_ids:1x128,attention_mask:1x128 "
                         "(repeatable; name:scalar for a scalar)"),
                cl::value_desc("name:DxD...,..."), cl::cat(category));
cl::list<std::string> constantInputs(
    "constant-input",
    cl::desc("Compile a graph input as a constant read from an ONNX "
             "TensorProto file: --constant-input=axes=axes.pb (repeatable). "
             "For inputs that determine shapes (axes, split sizes, pads)."),
    cl::value_desc("name=file.pb"), cl::cat(category));
cl::opt<bool> mergeMatmuls(
    "merge-matmuls",
    cl::desc("At -O2 and above, merge matmuls of one input by constant "
             "weights (Q/K/V, gate/up) into one matmul and slices "
             "(anvil-merge-matmuls; default off)"),
    cl::init(false), cl::cat(category));
cl::opt<bool> printWeights(
    "print-weights",
    cl::desc("Print weight tensors in --emit=mlir (elided by default)"),
    cl::cat(category));
cl::opt<bool> summary("summary",
                      cl::desc("Print inputs, outputs and op counts to stderr"),
                      cl::cat(category));
cl::opt<bool> quiet("q", cl::desc("Do not print progress on stderr"),
                    cl::cat(category));
cl::opt<std::string> signKey(
    "sign-key",
    cl::desc("Sign the artifact with the Ed25519 secret key in this file "
             "(from --generate-signing-key); docs/signatures.md"),
    cl::value_desc("file"), cl::cat(category));
cl::opt<std::string> generateSigningKey(
    "generate-signing-key",
    cl::desc("Write a new Ed25519 key pair to PREFIX.key (secret, mode "
             "0600) and PREFIX.pub, then exit"),
    cl::value_desc("prefix"), cl::cat(category));

cl::OptionCategory quantCategory(
    "anvilc quantization options (-O2 and -O3; docs/quantization.md)");
cl::opt<std::string> quantize(
    "quantize",
    cl::desc("Quantize constant matmul weights, round to nearest: int8 "
             "(per output channel, symmetric), int4-g32 or int4-g128 "
             "(groups of 32 or 128 along K, symmetric unless "
             "--quantize-asym), w8a8 (int8 weights and per-token int8 "
             "activations), w4a8-g32 or w4a8-g128 (symmetric int4 groups "
             "and per-token int8 activations); or store them as 16-bit "
             "floats: bf16, f16 (activations and accumulation stay f32). "
             "Weights the model quantized itself (MatMulNBits, QDQ) keep "
             "their values; w8a8 and w4a8-* also give them per-token int8 "
             "activations where the kernel takes them (4-bit groups of a "
             "multiple of 8; 8-bit per tensor or channel without zero points)"),
    cl::value_desc("int8|int4-g32|int4-g128|w8a8|w4a8-g32|w4a8-g128|bf16|f16"),
    cl::cat(quantCategory));
cl::opt<bool> quantizeAsym(
    "quantize-asym",
    cl::desc("Asymmetric quantization: a zero point per channel (int8) or "
             "group (int4); not for w8a8 or w4a8"),
    cl::cat(quantCategory));
cl::list<std::string> quantizeSkip(
    "quantize-skip",
    cl::desc("Weights --quantize keeps in float: embed (the token embedding "
             "table, and a tied LM head with it), lm_head (the matmul the "
             "logits come from), or glob patterns of ONNX initializer names "
             "(comma-separated, repeatable)"),
    cl::value_desc("embed,lm_head,pattern,..."), cl::CommaSeparated,
    cl::cat(quantCategory));
cl::opt<bool> quantizeFloatLhs(
    "quantize-float-lhs",
    cl::desc("Keep the activations of int4-g32 and int4-g128 products in "
             "float32. Without it, on CPUs with AVX512-BF16 (--mcpu=native) "
             "they are rounded to bf16 and summed with vdpbf16ps: faster, "
             "at a relative error of up to 2^-9 per activation. Not for "
             "w8a8 or w4a8 (int8 activations)"),
    cl::cat(quantCategory));

cl::OptionCategory
    llmCategory("anvilc options for decoder LLMs (docs/engine.md)");
cl::opt<anvil::driver::Options::KvCache> kvCache(
    "kv-cache",
    cl::desc("How a decoder's KV cache is compiled (default: auto)"),
    cl::values(
        clEnumValN(anvil::driver::Options::KvCache::Auto, "auto",
                   "the paged step function when the model has a KV cache, "
                   "neither --dim nor --input-shape binds its sequence or past "
                   "dims, and -O is at least 1"),
        clEnumValN(anvil::driver::Options::KvCache::Paged, "paged",
                   "the paged step function the engine runs (anvil-run "
                   "generate); an error if the model has no KV cache"),
        clEnumValN(anvil::driver::Options::KvCache::Graph, "graph",
                   "past/present KV as graph inputs and outputs, dims bound "
                   "with --dim (for callers that drive the cache themselves)")),
    cl::init(anvil::driver::Options::KvCache::Auto), cl::cat(llmCategory));
cl::opt<int64_t> kvBlockSize("kv-block-size",
                             cl::desc("Positions per KV block (default 16)"),
                             cl::init(16), cl::cat(llmCategory));
cl::opt<int64_t> maxTokensPerStep(
    "max-tokens-per-step",
    cl::desc("Most tokens one engine step computes (prefill chunks plus "
             "decode tokens; plans the arena; default 256)"),
    cl::init(256), cl::cat(llmCategory));
cl::opt<int64_t>
    maxSeqsPerStep("max-seqs-per-step",
                   cl::desc("Most sequences in one engine step (default 64)"),
                   cl::init(64), cl::cat(llmCategory));
cl::opt<int64_t> maxContext(
    "max-context",
    cl::desc("Longest sequence, prompt plus generated tokens, a multiple of "
             "--kv-block-size (default 2048; the model's trained context is "
             "not in the ONNX file)"),
    cl::init(2048), cl::cat(llmCategory));
cl::opt<int64_t> maxKvBlocks(
    "max-kv-blocks",
    cl::desc("Largest KV pool an engine may allocate, in blocks (default "
             "1048576)"),
    cl::init(1 << 20), cl::cat(llmCategory));
cl::opt<std::string> kvDtype(
    "kv-dtype",
    cl::desc("The paged KV cache's element type: f32, f16 (half the "
             "bytes per cached token, so twice the tokens in the same KV "
             "budget) or int8 (symmetric, with an f32 scale per token and "
             "KV head: 3.8x f32's tokens at head size 64); attention still "
             "computes in f32. Default: the model's own (f32 for an f32 "
             "model). Only for a paged compile"),
    cl::value_desc("f32|f16|int8"), cl::cat(llmCategory));
cl::list<int64_t> eosTokenIds(
    "eos-token-id",
    cl::desc("Token ids that end generation (repeatable or comma-separated; "
             "default: eos_token_id of config.json or generation_config.json "
             "beside the model)"),
    cl::CommaSeparated, cl::cat(llmCategory));
cl::opt<std::string> tokenizerPath(
    "tokenizer",
    cl::desc("Tokenizer to embed in the artifact (tokenizer.json or a "
             "SentencePiece .model; default: tokenizer.json beside the model)"),
    cl::value_desc("file"), cl::cat(llmCategory));
cl::opt<bool> noTokenizer("no-tokenizer", cl::desc("Embed no tokenizer"),
                          cl::cat(llmCategory));

/// eos_token_id from the Hugging Face config files beside the model.
std::vector<int64_t> eosFromConfig(StringRef modelPath) {
  for (const char *file : {"generation_config.json", "config.json"}) {
    SmallString<256> path(sys::path::parent_path(modelPath));
    sys::path::append(path, file);
    auto buffer = MemoryBuffer::getFile(path);
    if (!buffer)
      continue;
    auto json = llvm::json::parse((*buffer)->getBuffer());
    if (!json) {
      llvm::consumeError(json.takeError());
      continue;
    }
    const llvm::json::Object *root = json->getAsObject();
    const llvm::json::Value *eos = root ? root->get("eos_token_id") : nullptr;
    std::vector<int64_t> ids;
    if (eos && eos->getAsInteger())
      ids.push_back(*eos->getAsInteger());
    else if (eos && eos->getAsArray())
      for (const llvm::json::Value &id : *eos->getAsArray())
        if (id.getAsInteger())
          ids.push_back(*id.getAsInteger());
    if (!ids.empty())
      return ids;
  }
  return {};
}

bool parseDims(anvil::onnx_import::ImportOptions &import) {
  for (const std::string &entry : dims) {
    auto [name, value] = StringRef(entry).split('=');
    int64_t size, min, max;
    if (value.contains("..")) {
      auto [low, high] = value.split("..");
      if (name.empty() || low.getAsInteger(10, min) ||
          high.getAsInteger(10, max) || min < 0 || min > max) {
        errs() << "anvilc: error: --dim=" << entry
               << ": expected name=min..max with 0 <= min <= max\n";
        return false;
      }
      if (import.dims.count(name.str())) {
        errs() << "anvilc: error: --dim=" << entry << ": '" << name
               << "' is also bound to a size\n";
        return false;
      }
      // min == max is a plain binding: nothing stays symbolic.
      if (min == max)
        import.dims[name.str()] = min;
      else
        import.boundedDims[name.str()] = {min, max};
      continue;
    }
    if (name.empty() || value.getAsInteger(10, size) || size < 0) {
      errs() << "anvilc: error: --dim=" << entry
             << ": expected name=size with a size >= 0, or name=min..max\n";
      return false;
    }
    if (import.boundedDims.count(name.str())) {
      errs() << "anvilc: error: --dim=" << entry << ": '" << name
             << "' is also given bounds\n";
      return false;
    }
    import.dims[name.str()] = size;
  }
  for (const std::string &entry : constantInputs) {
    auto [name, file] = StringRef(entry).split('=');
    if (name.empty() || file.empty()) {
      errs() << "anvilc: error: --constant-input=" << entry
             << ": expected name=file.pb\n";
      return false;
    }
    import.constantInputs[name.str()] = file.str();
  }
  // Entries are comma-separated; a piece without ':' is part of the next
  // one's name (input names may contain commas, shapes never do).
  std::vector<std::string> shapeEntries;
  for (const std::string &list : inputShapes) {
    SmallVector<StringRef> pieces;
    StringRef(list).split(pieces, ',');
    std::string pending;
    for (StringRef piece : pieces) {
      pending += piece.str();
      if (!piece.contains(':')) {
        pending += ",";
        continue;
      }
      shapeEntries.push_back(pending);
      pending.clear();
    }
    if (!pending.empty())
      shapeEntries.push_back(pending);
  }
  for (const std::string &entry : shapeEntries) {
    auto [name, shapeText] = StringRef(entry).rsplit(':');
    std::vector<int64_t> shape;
    bool ok = !name.empty() && !shapeText.empty();
    SmallVector<StringRef> parts;
    shapeText.split(parts, 'x');
    for (StringRef part : parts) {
      int64_t size;
      if (part.getAsInteger(10, size) || size < 0)
        ok = false;
      else
        shape.push_back(size);
    }
    if (shapeText == "scalar") {
      ok = !name.empty();
      shape.clear();
    }
    if (!ok) {
      errs() << "anvilc: error: --input-shape=" << entry
             << ": expected name:DxDx... (or name:scalar)\n";
      return false;
    }
    import.inputShapes[name.str()] = shape;
  }
  return true;
}
} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // The targets this anvilc builds for, one line each.
  anvil::backend::cpu::registerCpuTarget();
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  // libLLVM registers hundreds of backend flags; show only ours and MLIR's
  // IR-printing and pass-manager flags (--mlir-print-ir-after-all, ...).
  static cl::OptionCategory mlirCategory("MLIR printing and debugging");
  for (auto &entry : cl::getRegisteredOptions())
    if (entry.getKey().startswith("mlir-"))
      entry.getValue()->addCategory(mlirCategory);
  cl::HideUnrelatedOptions(
      {&category, &llmCategory, &quantCategory, &mlirCategory});
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << "anvilc (Anvil) 0.1.0, built on LLVM/MLIR " LLVM_VERSION_STRING "\n";
  });
  cl::ParseCommandLineOptions(
      argc, argv,
      "Anvil model compiler\n\n"
      "  Imports an ONNX model (or an anvil-dialect .mlir file), optimizes "
      "it,\n"
      "  lowers it to a kernel program, generates and builds target code and\n"
      "  packages one .anvil artifact for anvil-run and the runtime C API.\n"
      "  Code generation needs every symbolic dim bound to a size or bounded\n"
      "  (--dim, --input-shape); a bounded dim is computed at run time.\n\n"
      "  anvilc model.onnx --dim=batch_size=1,sequence_length=16 -o "
      "model.anvil\n"
      "  anvilc model.onnx --dim=batch_size=1,sequence_length=1..512 -o "
      "model.anvil\n"
      "  anvilc model.onnx --emit=mlir --dim=batch_size=1 -o model.mlir\n");

  if (listTargetsFlag) {
    anvil::driver::listTargets(outs());
    return 0;
  }
  if (listOpsFlag) {
    anvil::driver::listOnnxOps(outs());
    return 0;
  }
  if (generateSigningKey.getNumOccurrences()) {
    std::string error;
    if (generateSigningKey.empty() ||
        !anvil::tools::generateSigningKeyFiles(generateSigningKey, error)) {
      errs() << "anvilc: error: --generate-signing-key: "
             << (error.empty() ? "expected a file prefix" : error) << "\n";
      return 1;
    }
    if (!quiet)
      errs() << "anvilc: wrote " << generateSigningKey << ".key and "
             << generateSigningKey << ".pub\n";
    return 0;
  }
  if (inputPaths.empty()) {
    errs() << "anvilc: error: no input file (anvilc --help shows usage)\n";
    return 1;
  }
  anvil::driver::Options options;
  options.inputPaths.assign(inputPaths.begin(), inputPaths.end());
  StringRef inputPath = inputPaths.front();
  options.emit = emit.getNumOccurrences()
                     ? emit.getValue()
                     : (StringRef(outputPath).endswith(".anvil")
                            ? anvil::driver::EmitKind::Artifact
                            : anvil::driver::EmitKind::Mlir);
  if (outputPath.getNumOccurrences())
    options.outputPath = outputPath;
  else if (options.emit == anvil::driver::EmitKind::Artifact)
    options.outputPath =
        (sys::path::parent_path(inputPath) +
         (sys::path::parent_path(inputPath).empty() ? "" : "/") +
         sys::path::stem(inputPath) + ".anvil")
            .str();
  else
    options.outputPath = "-";
  options.target = target;
  options.subtarget = mcpu;
  options.cxx = cxx;
  options.cacheDir = noCache ? ""
                             : (cacheDir.getNumOccurrences()
                                    ? cacheDir.getValue()
                                    : anvil::driver::defaultCacheDir());
  options.optLevel = optLevel;
  options.outlineRepeats = !noOutline;
  options.fuseEpilogues = !noFuseEpilogues;
  options.fuseRope = !noFuseRope;
  options.mergeMatmuls = mergeMatmuls;
  options.printWeights = printWeights;
  options.summary = summary;
  options.quiet = quiet;
  if (!parseDims(options.import))
    return 1;
  options.kvCache = kvCache;
  options.kvBlockSize = kvBlockSize;
  options.maxTokensPerStep = maxTokensPerStep;
  options.maxSeqsPerStep = maxSeqsPerStep;
  options.maxContext = maxContext;
  options.maxKvBlocks = maxKvBlocks;
  if (kvDtype.getNumOccurrences()) {
    if (kvDtype != "f32" && kvDtype != "f16" && kvDtype != "int8") {
      errs() << "anvilc: error: --kv-dtype=" << kvDtype
             << ": expected f32, f16 or int8\n";
      return 1;
    }
    options.kvDtype = kvDtype;
  }
  for (const cl::opt<int64_t> *flag :
       {&kvBlockSize, &maxTokensPerStep, &maxSeqsPerStep, &maxContext,
        &maxKvBlocks})
    if (*flag < 1) {
      errs() << "anvilc: error: --" << flag->ArgStr << "=" << *flag
             << ": must be at least 1\n";
      return 1;
    }
  // The step's bounded sizes fit its shapes on three values above 1
  // (compiler/Lowering/SymbolicShapes.cpp); 1 or 2 would fail there with
  // an error about the lowered ops.
  for (const cl::opt<int64_t> *flag :
       {&maxTokensPerStep, &maxSeqsPerStep, &maxKvBlocks})
    if (*flag < 3) {
      errs() << "anvilc: error: --" << flag->ArgStr << "=" << *flag
             << ": values below 3 are not supported yet (the paged step's "
                "sizes are fitted on three values)\n";
      return 1;
    }
  if (maxContext % kvBlockSize) {
    errs() << "anvilc: error: --max-context=" << maxContext
           << " is not a multiple of --kv-block-size=" << kvBlockSize << "\n";
    return 1;
  }
  std::vector<int64_t> eos(eosTokenIds.begin(), eosTokenIds.end());
  if (eos.empty())
    eos = eosFromConfig(inputPath);
  if (!eos.empty())
    options.llmTokenIds["eos_token_ids"] = eos;
  options.tokenizerPath = tokenizerPath;
  options.noTokenizer = noTokenizer;
  options.quantize = quantize;
  options.quantizeAsym = quantizeAsym;
  options.quantizeSkip.assign(quantizeSkip.begin(), quantizeSkip.end());
  options.quantizeFloatLhs = quantizeFloatLhs;
  if ((quantizeAsym || !quantizeSkip.empty() || quantizeFloatLhs) &&
      quantize.empty()) {
    errs() << "anvilc: error: --quantize-asym, --quantize-skip and "
              "--quantize-float-lhs need --quantize\n";
    return 1;
  }
  bool writesArtifact = options.emit == anvil::driver::EmitKind::Artifact &&
                        options.outputPath != "-";
  if (signKey.getNumOccurrences() && !writesArtifact) {
    errs() << "anvilc: error: --sign-key signs an artifact written to a file "
              "(--emit=artifact with -o FILE)\n";
    return 1;
  }
  std::string error;
  anvil::artifact::SecretKey unused;
  // A bad key file is reported before the compile, not after it.
  if (signKey.getNumOccurrences() &&
      !anvil::artifact::readSecretKeyFile(signKey, unused, error)) {
    errs() << "anvilc: error: --sign-key: " << error << "\n";
    return 1;
  }
  if (int status = anvil::driver::run(options))
    return status;
  if (!writesArtifact)
    return 0;
  if (signKey.getNumOccurrences() &&
      !anvil::tools::signArtifactFile(options.outputPath, signKey, error)) {
    errs() << "anvilc: error: --sign-key: " << error << "\n";
    sys::fs::remove(options.outputPath);
    return 1;
  }
  // The hash a user checks a copy against (sha256sum prints the same).
  std::string sha256;
  if (!anvil::tools::sha256OfFile(options.outputPath, sha256, error)) {
    errs() << "anvilc: error: " << error << "\n";
    return 1;
  }
  if (!quiet)
    errs() << "anvilc: " << options.outputPath << ": sha256 " << sha256
           << (signKey.getNumOccurrences() ? " (signed)" : "") << "\n";
  return 0;
}
