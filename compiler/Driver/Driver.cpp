//===- Driver.cpp - what anvilc does, as a library ------------------------===//

#include "compiler/Driver/Driver.h"
#include "compiler/Driver/CodeGeneration.h"
#include "compiler/Driver/Diagnostics.h"
#include "compiler/Import/Onnx/OnnxFileAccess.h"
#include "compiler/Pipeline/Pipelines.h"
#include "compiler/Target/Target.h"
#include "compiler/Transforms/Passes.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/ShapeUtils.h"
#include "dialects/Kernel/KernelOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

using namespace mlir;

namespace anvil::driver {
void listOnnxOps(llvm::raw_ostream &os) {
  for (const onnx_import::SupportedOp &op : onnx_import::supportedOnnxOps()) {
    os << op.domain << " " << op.opType;
    if (!op.functionBodyOpsets.empty())
      os << " (function body, opsets " << op.functionBodyOpsets << ")";
    os << "\n";
  }
}

namespace {

/// Progress lines on stderr: the stage and the time since start.
class Progress {
public:
  Progress(bool quiet, StringRef tool) : quiet(quiet), tool(tool.str()) {}
  void stage(StringRef what) {
    if (quiet)
      return;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    llvm::errs() << llvm::formatv("{0}: [{1,6:f2}s] {2}\n", tool, seconds,
                                  what);
  }

private:
  bool quiet;
  std::string tool;
  std::chrono::steady_clock::time_point start =
      std::chrono::steady_clock::now();
};

OwningOpRef<ModuleOp> parseMlirFile(MLIRContext &context, StringRef path) {
  // A FIFO or a device would block or read for ever.
  if (llvm::Error special = onnx_import::checkNotSpecialFile(path)) {
    emitError(FileLineColLoc::get(&context, path, 0, 0))
        << "cannot read the module: " << llvm::toString(std::move(special));
    return nullptr;
  }
  std::string error;
  auto file = openInputFile(path, &error);
  if (!file) {
    emitError(FileLineColLoc::get(&context, path, 0, 0)) << error;
    return nullptr;
  }
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  return parseSourceFile<ModuleOp>(sourceMgr, &context);
}

/// Dense constants above this many elements print as `dense<"...">`
/// unless --print-weights is given.
constexpr int64_t kPrintedElementLimit = 64;

int64_t byteSize(ElementsAttr attr) {
  Type elementType = attr.getElementType();
  int64_t bits =
      elementType.isIntOrFloat() ? elementType.getIntOrFloatBitWidth() : 8;
  return attr.getNumElements() * std::max<int64_t>(bits / 8, 1);
}

} // namespace

void printModule(ModuleOp module, llvm::raw_ostream &os, bool printWeights) {
  OpPrintingFlags flags;
  if (printWeights) {
    module.print(os, flags);
    os << "\n";
    return;
  }
  // Print a copy whose weight constants point at blob-less resources: the
  // text keeps the constants' names and types but not megabytes of hex.
  OwningOpRef<ModuleOp> copy = module.clone();
  auto &manager =
      DenseResourceElementsHandle::getManagerInterface(module.getContext());
  int64_t count = 0, bytes = 0;
  // Graph constants (anvil.constant) and kernel weights (kernel.weight)
  // both keep their data in a `value` attribute.
  copy->walk([&](Operation *op) {
    auto resource = op->getAttrOfType<DenseResourceElementsAttr>("value");
    if (!resource)
      return;
    ++count;
    bytes += byteSize(resource);
    auto handle = manager.insert(
        ("elided." + resource.getRawHandle().getKey()).str(), std::nullopt);
    op->setAttr("value",
                DenseResourceElementsAttr::get(resource.getType(), handle));
  });
  if (count)
    os << llvm::formatv("// {0} weight tensors ({1:f2} MB) elided; "
                        "--print-weights prints them\n",
                        count, bytes / 1e6);
  // Constants computed by folding (causal masks, rotary tables) are dense
  // attributes; elide the big ones too.
  flags.elideLargeElementsAttrs(kPrintedElementLimit);
  copy->print(os, flags);
  os << "\n";
}

void printSummary(ModuleOp module, llvm::raw_ostream &os) {
  std::map<std::string, int64_t> opCounts;
  int64_t weightTensors = 0, weightBytes = 0, dynamicResults = 0;
  module.walk([&](Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "anvil")
      ++opCounts[op->getName().getStringRef().str()];
    if (auto constant = dyn_cast<ConstantOp>(op)) {
      ++weightTensors;
      weightBytes += byteSize(constant.getValue());
    }
    for (Type type : op->getResultTypes())
      if (auto shaped = type.dyn_cast<ShapedType>();
          shaped && !shaped.hasStaticShape())
        ++dynamicResults;
  });
  for (auto func : module.getOps<func::FuncOp>()) {
    os << "function @" << func.getName() << "\n";
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      auto name = func.getArgAttrOfType<StringAttr>(i, "anvil.name");
      os << "  input  " << (name ? name.getValue() : "?") << ": "
         << func.getArgument(i).getType() << "\n";
    }
    for (unsigned i = 0; i < func.getNumResults(); ++i) {
      auto name = func.getResultAttrOfType<StringAttr>(i, "anvil.name");
      os << "  output " << (name ? name.getValue() : "?") << ": "
         << func.getFunctionType().getResult(i) << "\n";
    }
  }
  int64_t total = 0;
  for (auto &[name, count] : opCounts)
    total += count;
  os << llvm::formatv("constants: {0} tensors, {1:f2} MB\n", weightTensors,
                      weightBytes / 1e6);
  os << "ops: " << total << " (";
  bool first = true;
  for (auto &[name, count] : opCounts) {
    os << (first ? "" : ", ") << StringRef(name).drop_front(6) << " " << count;
    first = false;
  }
  os << ")\n";
  os << "results with dynamic dims: " << dynamicResults << "\n";
}

std::string defaultCacheDir() {
  if (const char *dir = std::getenv("ANVIL_CACHE_DIR"))
    return dir;
  llvm::SmallString<256> path;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    path = xdg;
  else if (const char *home = std::getenv("HOME"); home && *home)
    llvm::sys::path::append(path, home, ".cache");
  else
    return "";
  llvm::sys::path::append(path, "anvil");
  return path.str().str();
}

void listTargets(llvm::raw_ostream &os) {
  os << "Registered targets:\n";
  if (target::registeredTargets().empty())
    os << "  (none: the tool registered no target)\n";
  for (const target::Target *target : target::registeredTargets()) {
    os << llvm::formatv("  {0,-6} {1}\n", target->name(),
                        target->description());
    std::vector<std::string> subtargets = target->subtargets();
    if (!subtargets.empty())
      os << "         --mcpu=" << llvm::join(subtargets, "|") << " (default "
         << subtargets.front() << ")\n";
  }
}

namespace {

/// A symbol name from a file name: foo-bar.onnx gives foo_bar.
std::string entryNameFor(StringRef path) {
  std::string name = llvm::sys::path::stem(path).str();
  for (char &c : name)
    if (!llvm::isAlnum(c) && c != '_')
      c = '_';
  if (name.empty() || llvm::isDigit(name[0]))
    name = "m_" + name;
  return name;
}

/// Imports every input; several are merged into one module, one entry
/// point each.
OwningOpRef<ModuleOp> importInputs(MLIRContext &context, const Options &options,
                                   Progress &progress) {
  OwningOpRef<ModuleOp> merged;
  bool bundle = options.inputPaths.size() > 1;
  if (bundle)
    progress.stage(llvm::formatv("importing {0} models into one bundle",
                                 options.inputPaths.size())
                       .str());
  std::set<std::string> names;
  for (const std::string &path : options.inputPaths) {
    if (!bundle)
      progress.stage("importing " + path);
    OwningOpRef<ModuleOp> module;
    onnx_import::ImportOptions import = options.import;
    if (bundle)
      import.entryName = entryNameFor(path);
    if (bundle && !names.insert(import.entryName).second) {
      emitError(FileLineColLoc::get(&context, path, 0, 0))
          << "two bundled models would both be entry point '"
          << import.entryName << "'; rename one file";
      return nullptr;
    }
    if (StringRef(path).endswith(".mlir"))
      module = parseMlirFile(context, path);
    else
      module = onnx_import::importOnnxFile(&context, path, import);
    if (!module || failed(verify(*module)))
      return nullptr;
    if (!merged) {
      merged = std::move(module);
      continue;
    }
    for (Operation &op :
         llvm::make_early_inc_range(module->getBody()->getOperations()))
      op.moveBefore(merged->getBody(), merged->getBody()->end());
  }
  if (bundle)
    (*merged)->removeAttr("anvil.source");
  return merged;
}

std::string formatBytes(int64_t bytes) {
  if (bytes < 1024)
    return llvm::formatv("{0} B", bytes).str();
  if (bytes < 1024 * 1024)
    return llvm::formatv("{0:f1} KiB", bytes / 1024.0).str();
  return llvm::formatv("{0:f1} MiB", bytes / (1024.0 * 1024.0)).str();
}

/// Opens `path` ("-" is stdout, refused for binary data on a terminal),
/// lets `write` fill it, and keeps it only if every byte was written.
/// Returns the bytes written.
FailureOr<uint64_t>
writeOutput(MLIRContext &context, const std::string &path, bool binary,
            function_ref<LogicalResult(llvm::raw_fd_ostream &)> write) {
  if (path == "-" && binary && llvm::sys::Process::StandardOutIsDisplayed()) {
    emitError(UnknownLoc::get(&context))
        << "refusing to write binary output to a terminal; use -o FILE";
    return failure();
  }
  std::string error;
  auto output = openOutputFile(path, &error);
  if (!output) {
    emitError(UnknownLoc::get(&context)) << error;
    return failure();
  }
  if (failed(write(output->os())))
    return failure();
  output->os().flush();
  if (output->os().has_error()) {
    emitError(UnknownLoc::get(&context))
        << "cannot write " << path << ": " << output->os().error().message();
    output->os().clear_error();
    return failure();
  }
  output->keep();
  return output->os().tell();
}

LogicalResult writeOutput(MLIRContext &context, const std::string &path,
                          StringRef data, bool binary) {
  return success(succeeded(
      writeOutput(context, path, binary, [&](llvm::raw_fd_ostream &os) {
        os << data;
        return success();
      })));
}

/// The proxy sizes a decoder is specialized at before anvil-paged-kv: 17
/// new tokens (a prime unlikely to be a model dim; the rewrite refuses what
/// still depends on it) after a past of max-context - 18 positions, so that
/// the mask check sees every sliding window up to max-context - 2 (a mask
/// evaluated at a short past shows a wider window as plain causal). At
/// least 29, at most 16383 (the mask is folded at compile time).
constexpr int64_t kProxyTokens = 17;
int64_t proxyPast(const Options &options) {
  return std::clamp<int64_t>(options.maxContext - kProxyTokens - 1, 29, 16383);
}

/// The dims a paged compile binds, found by dataflow in the imported graph:
/// a past-KV input (rank 4, concatenated along axis 2) names the past
/// length and the batch; the token ids (integers indexing an embedding
/// table) name the sequence length. Empty when the model has no KV cache.
struct PagedDims {
  /// Each symbolic dim name by role: batch, new tokens, cached positions,
  /// and the mask's past + new (exporters may give one role several
  /// names, one per tensor).
  std::vector<std::string> batch, sequence, past, total;
  /// Inputs whose whole shape is set: a mask whose length the exporter
  /// named by an expression other than past + sequence (Optimum's
  /// "past_sequence_length + 1").
  std::map<std::string, std::vector<int64_t>> shapes;
  bool has(const std::string &name) const {
    for (const auto *list : {&batch, &sequence, &past, &total})
      if (llvm::is_contained(*list, name))
        return true;
    return false;
  }
};

std::optional<PagedDims> findPagedDims(ModuleOp module, int64_t total) {
  auto funcs = module.getOps<func::FuncOp>();
  if (std::distance(funcs.begin(), funcs.end()) != 1)
    return std::nullopt;
  func::FuncOp func = *funcs.begin();
  auto dimName = [&](BlockArgument arg, unsigned i) -> std::string {
    auto names =
        func.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), kDimNamesAttr);
    if (!names || i >= names.size())
      return "";
    auto name = names[i].dyn_cast<StringAttr>();
    return name ? name.getValue().str() : "";
  };
  PagedDims dims;
  // A symbol named as one role (an expression like "a + 1" is computed by
  // the importer from the names it holds, never bound).
  auto add = [&](std::vector<std::string> &role, const std::string &name) {
    if (!name.empty() && name.find(' ') == std::string::npos && !dims.has(name))
      role.push_back(name);
  };
  BlockArgument tokens;
  for (BlockArgument arg : func.getArguments()) {
    auto type = arg.getType().dyn_cast<RankedTensorType>();
    if (!type)
      continue;
    for (Operation *user : arg.getUsers()) {
      if (auto concat = dyn_cast<ConcatOp>(user))
        if (type.getRank() == 4 && concat.getInputs().size() == 2 &&
            concat.getInputs()[0] == arg &&
            ((int64_t)concat.getAxis() == 2 ||
             (int64_t)concat.getAxis() == -2)) {
          add(dims.batch, dimName(arg, 0));
          add(dims.past, dimName(arg, 2));
        }
      // Token ids index an embedding table (the one with the most rows
      // when learned positions index another: settled by anvil-paged-kv).
      if (auto gather = dyn_cast<GatherOp>(user))
        if (gather.getIndices() == arg && type.getRank() == 2 &&
            gather.getInput().getDefiningOp<ConstantOp>() && !tokens) {
          tokens = arg;
          add(dims.batch, dimName(arg, 0));
          add(dims.sequence, dimName(arg, 1));
        }
    }
  }
  if (dims.past.empty() || !tokens || dims.sequence.empty())
    return std::nullopt;
  // The other rank-2 integer inputs: position ids ([batch, sequence]) and
  // the attention mask ([batch, past + sequence]).
  for (BlockArgument arg : func.getArguments()) {
    auto type = arg.getType().dyn_cast<RankedTensorType>();
    if (!type || arg == tokens || type.getRank() != 2 ||
        !type.getElementType().isa<IntegerType>())
      continue;
    add(dims.batch, dimName(arg, 0));
    std::string name = dimName(arg, 1);
    if (name.empty() || llvm::is_contained(dims.sequence, name) ||
        llvm::is_contained(dims.past, name))
      continue;
    if (name.find(' ') == std::string::npos) {
      add(dims.total, name);
      continue;
    }
    auto input =
        func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "anvil.name");
    if (input)
      dims.shapes[input.getValue().str()] = {total};
  }
  return dims;
}

/// Reads the tokenizer file to embed: --tokenizer, else tokenizer.json
/// beside the model (when present). Empty when there is none.
LogicalResult readTokenizer(MLIRContext &context, const Options &options,
                            std::string &bytes) {
  std::string path = options.tokenizerPath;
  if (options.noTokenizer)
    return success();
  if (path.empty()) {
    llvm::SmallString<256> beside(
        llvm::sys::path::parent_path(options.inputPaths.front()));
    llvm::sys::path::append(beside, "tokenizer.json");
    if (!llvm::sys::fs::is_regular_file(beside))
      return success();
    path = std::string(beside);
  }
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    emitError(UnknownLoc::get(&context)) << "cannot read the tokenizer " << path
                                         << ": " << buffer.getError().message();
    return failure();
  }
  if ((*buffer)->getBufferSize() > (64u << 20)) {
    emitError(UnknownLoc::get(&context))
        << "the tokenizer " << path << " is larger than 64 MiB";
    return failure();
  }
  bytes = (*buffer)->getBuffer().str();
  return success();
}

} // namespace

int run(const Options &options) {
  DialectRegistry registry;
  registry.insert<AnvilDialect, func::FuncDialect, kernel::KernelDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  DiagnosticPrinter diagnostics(&context, options.toolName, llvm::errs());
  Progress progress(options.quiet, options.toolName);

  if (options.optLevel > kMaxOptLevel) {
    emitError(UnknownLoc::get(&context))
        << "-O" << options.optLevel << " is not an optimization level (0-3)";
    return 1;
  }
  const target::Target *target = target::lookupTarget(options.target);
  if (!target) {
    emitError(UnknownLoc::get(&context))
        << "unknown target '" << options.target
        << "' (registered: " << target::registeredTargetNames()
        << "); anvilc --list-targets lists them";
    return 1;
  }
  target::TargetOptions targetOptions;
  targetOptions.subtarget = options.subtarget;
  targetOptions.compiler = options.cxx;
  targetOptions.cacheDir = options.cacheDir;
  targetOptions.outlineRepeats = options.outlineRepeats;
  targetOptions.progress = [&](const std::string &line) {
    progress.stage(line);
  };
  if (!options.subtarget.empty() &&
      !llvm::is_contained(target->subtargets(), options.subtarget)) {
    emitError(UnknownLoc::get(&context))
        << "--mcpu=" << options.subtarget << " is not a subtarget of target '"
        << target->name() << "' (" << llvm::join(target->subtargets(), ", ")
        << ")";
    return 1;
  }

  // --mlir-timing: one report with every stage, and each pass in the two
  // pipelines, nested under its stage.
  DefaultTimingManager timing;
  applyDefaultTimingManagerCLOptions(timing);
  TimingScope rootTimer = timing.getRootScope();

  // Diagnostics name the ONNX node; a dump of the op adds nothing for
  // users (anvil-opt shows it to compiler developers).
  context.printOpOnDiagnostic(false);
  // A decoder with a KV cache compiles to the paged step function
  // (anvil-paged-kv) unless --kv-cache=graph, -O0 (import only), or --dim
  // or --input-shape binds its KV dims (the fixed-shape compile users drive
  // themselves).
  TimingScope importTimer = rootTimer.nest("import");
  bool mayPage =
      options.kvCache != Options::KvCache::Graph &&
      (options.optLevel > 0 || options.kvCache == Options::KvCache::Paged) &&
      options.inputPaths.size() == 1 &&
      !StringRef(options.inputPaths.front()).endswith(".mlir");
  std::optional<PagedDims> dims;
  if (mayPage) {
    // The probes that look for a KV cache run quietly (the real import
    // below reports any problem): as given, then, for graphs that import
    // only with their dims bound (a Split of a sequence dim), with every
    // unbound symbolic dim bound to a distinct size. In a context of their
    // own: their weight blobs would stay in `context` and the real import's
    // resource keys would get a suffix (onnx__MatMul_12_1).
    MLIRContext probeContext(registry);
    probeContext.loadAllAvailableDialects();
    ScopedDiagnosticHandler quiet(&probeContext,
                                  [](Diagnostic &) { return success(); });
    Progress silent(true, options.toolName);
    OwningOpRef<ModuleOp> probed = importInputs(probeContext, options, silent);
    if (!probed) {
      Options probe = options;
      int64_t size = 101;
      for (const std::string &name : onnx_import::symbolicDimNames(
               &probeContext, options.inputPaths.front()))
        if (!probe.import.dims.count(name) &&
            !probe.import.boundedDims.count(name))
          probe.import.dims[name] = size++;
      probed = importInputs(probeContext, probe, silent);
    }
    if (probed)
      dims = findPagedDims(*probed, kProxyTokens + proxyPast(options));
  }
  auto userBinds = [&](const std::vector<std::string> &names) {
    return llvm::any_of(names, [&](const std::string &name) {
      return options.import.dims.count(name) ||
             options.import.boundedDims.count(name);
    });
  };
  // --input-shape fixes whole inputs (run_zoo.py binds a decoder so): the
  // fixed-shape compile, as with --dim.
  bool bound = dims && (userBinds(dims->past) || userBinds(dims->sequence) ||
                        !options.import.inputShapes.empty());
  if (options.kvCache == Options::KvCache::Paged && !dims) {
    emitError(UnknownLoc::get(&context))
        << "--kv-cache=paged: the model has no KV cache the paged-KV "
           "rewrite recognizes (a rank-4 past input concatenated with new "
           "keys or values along axis 2, and token ids indexing an "
           "embedding table)";
    return 1;
  }
  if (options.kvCache == Options::KvCache::Paged && bound) {
    emitError(UnknownLoc::get(&context))
        << "--kv-cache=paged sets dims '" << llvm::join(dims->sequence, "', '")
        << "' and '" << llvm::join(dims->past, "', '")
        << "' itself; drop them from --dim and --input-shape";
    return 1;
  }
  bool paged = dims && !bound;
  if (!options.kvDtype.empty() && !paged) {
    emitError(UnknownLoc::get(&context))
        << "--kv-dtype=" << options.kvDtype
        << " sets the paged KV cache's type, and this compile is not paged ("
        << (options.kvCache == Options::KvCache::Graph ? "--kv-cache=graph"
            : options.optLevel == 0                    ? "-O0"
            : bound ? "--dim or --input-shape binds the KV cache's dims"
                    : "the input is not one ONNX decoder with a KV cache the "
                      "paged-KV rewrite recognizes")
        << ")";
    return 1;
  }
  Options pagedOptions = options;
  if (paged) {
    auto &bind = pagedOptions.import.dims;
    for (const auto &[role, size] :
         {std::pair(&dims->batch, int64_t(1)),
          std::pair(&dims->sequence, kProxyTokens),
          std::pair(&dims->past, proxyPast(options)),
          std::pair(&dims->total, kProxyTokens + proxyPast(options))})
      for (const std::string &name : *role)
        if (!bind.count(name))
          bind[name] = size;
    for (const auto &[input, shape] : dims->shapes) {
      std::vector<int64_t> full{1};
      full.insert(full.end(), shape.begin(), shape.end());
      pagedOptions.import.inputShapes.emplace(input, full);
    }
    progress.stage("decoder with a KV cache: compiling the paged step "
                   "function (--kv-cache=graph for the fixed-shape graph)");
  }
  OwningOpRef<ModuleOp> module =
      importInputs(context, paged ? pagedOptions : options, progress);
  importTimer.stop();
  if (!module)
    return 1;

  progress.stage(
      llvm::formatv("running the -O{0} pipeline", options.optLevel).str());
  PassManager pm(&context);
  applyPassManagerCLOptions(pm);
  TimingScope pipelineTimer = rootTimer.nest("graph pipeline");
  pm.enableTiming(pipelineTimer);
  // The recognizers the rewrite relies on run at -O2 and above.
  buildPipeline(pm, paged ? std::max(options.optLevel, 2u) : options.optLevel);
  if (paged) {
    AnvilPagedKvOptions kv;
    kv.proxyTokens = kProxyTokens;
    kv.proxyPast = proxyPast(options);
    kv.blockSize = options.kvBlockSize;
    kv.maxTokens = options.maxTokensPerStep;
    kv.maxSeqs = options.maxSeqsPerStep;
    kv.maxContext = options.maxContext;
    kv.maxBlocks = options.maxKvBlocks;
    kv.kvDtype = options.kvDtype;
    pm.addPass(createAnvilPagedKv(kv));
    OpPassManager &func = pm.nest<func::FuncOp>();
    func.addPass(createCanonicalizerPass());
    func.addPass(createCSEPass());
    // The rope of the queries and new keys into the attention's prologue
    // and the KV write; the canonicalizer then folds the transposes that
    // were around it, CSE the tables' reshapes each layer rebuilt.
    if (options.fuseRope) {
      func.addPass(createAnvilFuseRope());
      func.addPass(createCanonicalizerPass());
      func.addPass(createCSEPass());
    }
  }
  // Matmuls are merged before they are quantized (a merged weight is one
  // plain constant), and after anvil-paged-kv, whose dataflow match of the
  // KV cache (new keys and values projected, reshaped and concatenated to
  // the past) must see the projections unmerged; the step's [tokens, K]
  // activations are then the shared input.
  if (options.mergeMatmuls && (paged || options.optLevel >= 2))
    pm.nest<func::FuncOp>().addPass(createAnvilMergeMatmuls());
  // Weights are quantized last among the graph passes: after the
  // recognizers and, in a paged decoder, after anvil-paged-kv moved the
  // logit-rows gather in front of the LM head (it looks for a constant
  // weight there).
  if (!options.quantize.empty()) {
    if (options.optLevel < 2) {
      emitError(UnknownLoc::get(&context))
          << "--quantize needs -O2 or -O3 (it runs in their graph pipeline)";
      return 1;
    }
    if (options.quantize == "bf16" || options.quantize == "f16") {
      // 16-bit float storage: anvil-narrow-weights (no scales, no skip list).
      if (options.quantizeAsym || !options.quantizeSkip.empty() ||
          options.quantizeFloatLhs) {
        emitError(UnknownLoc::get(&context))
            << "--quantize-asym, --quantize-skip and --quantize-float-lhs "
               "apply to the integer modes, not to --quantize="
            << options.quantize;
        return 1;
      }
      AnvilNarrowWeightsOptions narrow;
      narrow.dtype = options.quantize;
      pm.addPass(createAnvilNarrowWeights(narrow));
    } else {
      AnvilQuantizeWeightsOptions quantize;
      quantize.mode = options.quantize;
      quantize.asym = options.quantizeAsym;
      quantize.skip = options.quantizeSkip;
      quantize.floatLhs = options.quantizeFloatLhs;
      pm.addPass(createAnvilQuantizeWeights(quantize));
    }
  }
  if (failed(pm.run(*module)))
    return 1;
  pipelineTimer.stop();
  if (options.summary)
    printSummary(*module, llvm::errs());

  if (options.emit == EmitKind::Mlir) {
    progress.stage("writing " + options.outputPath);
    std::string text;
    llvm::raw_string_ostream os(text);
    printModule(*module, os, options.printWeights);
    if (failed(writeOutput(context, options.outputPath, os.str(), false)))
      return 1;
    progress.stage("done");
    return diagnostics.errorCount() ? 1 : 0;
  }

  progress.stage("lowering to a kernel program for target " + target->name());
  TimingScope kernelTimer = rootTimer.nest("kernel pipeline");
  if (failed(lowerToKernelProgram(*module, options, kernelTimer)))
    return 1;
  kernelTimer.stop();
  for (auto func : module->getOps<func::FuncOp>()) {
    auto arena = func->getAttrOfType<IntegerAttr>(kernel::kArenaBytesAttr);
    auto naive = func->getAttrOfType<IntegerAttr>(kernel::kNaiveArenaBytesAttr);
    if (arena && naive)
      progress.stage(
          llvm::formatv("@{0}: arena of {1} planned ({2} without reuse)",
                        func.getName(), formatBytes(arena.getInt()),
                        formatBytes(naive.getInt()))
              .str());
  }
  if (options.emit == EmitKind::Kernel) {
    std::string text;
    llvm::raw_string_ostream os(text);
    printModule(*module, os, options.printWeights);
    if (failed(writeOutput(context, options.outputPath, os.str(), false)))
      return 1;
    progress.stage("done");
    return 0;
  }

  progress.stage("generating " + target->name() + " code");
  std::string source;
  llvm::raw_string_ostream sourceStream(source);
  TimingScope emitTimer = rootTimer.nest("emit source");
  if (failed(target->emitSource(*module, targetOptions, sourceStream)))
    return 1;
  sourceStream.flush();
  emitTimer.stop();
  if (options.emit == EmitKind::Source) {
    if (failed(writeOutput(context, options.outputPath, source, false)))
      return 1;
    progress.stage("done");
    return 0;
  }

  std::vector<target::CodeObject> objects;
  std::string error;
  TimingScope buildTimer = rootTimer.nest("build code");
  if (!target->buildObjects(source, targetOptions, objects, error)) {
    emitError(UnknownLoc::get(&context)) << error;
    return 1;
  }
  if (objects.empty()) {
    emitError(UnknownLoc::get(&context))
        << "target '" << target->name() << "' built no code object";
    return 1;
  }
  buildTimer.stop();
  if (options.emit == EmitKind::Obj) {
    if (objects.size() != 1) {
      std::vector<std::string> names;
      for (const target::CodeObject &object : objects)
        names.push_back(object.name);
      emitError(UnknownLoc::get(&context))
          << "--emit=obj writes one code object, but target '" << target->name()
          << "' builds " << objects.size() << " (" << llvm::join(names, ", ")
          << "); use --emit=artifact";
      return 1;
    }
    if (failed(writeOutput(context, options.outputPath, objects.front().bytes,
                           true)))
      return 1;
    progress.stage("done");
    return 0;
  }

  progress.stage("packaging the artifact");
  TimingScope packageTimer = rootTimer.nest("package");
  auto manifest = buildManifest(*module, options, *target, targetOptions);
  std::string tokenizer;
  if (failed(readTokenizer(context, options, tokenizer)))
    return 1;
  WeightSection weights;
  if (failed(manifest) || failed(collectWeights(*module, weights)))
    return 1;
  auto written =
      writeOutput(context, options.outputPath, /*binary=*/true,
                  [&](llvm::raw_fd_ostream &os) {
                    return writeArtifactFile(*module, target->name(), *manifest,
                                             objects, weights, tokenizer, os);
                  });
  if (failed(written))
    return 1;
  progress.stage(
      llvm::formatv("wrote {0} ({1:f2} MB)", options.outputPath, *written / 1e6)
          .str());
  return diagnostics.errorCount() ? 1 : 0;
}

} // namespace anvil::driver
