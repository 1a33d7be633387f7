//===- Driver.cpp - what anvilc does, as a library ------------------------===//

#include "compiler/Driver/Driver.h"
#include "compiler/Driver/Diagnostics.h"
#include "compiler/Pipeline/Pipelines.h"
#include "dialects/Anvil/AnvilOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include <chrono>
#include <map>

using namespace mlir;

namespace anvil::driver {
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
  copy->walk([&](ConstantOp op) {
    auto resource = op.getValue().dyn_cast<DenseResourceElementsAttr>();
    if (!resource)
      return;
    ++count;
    bytes += byteSize(resource);
    auto handle = manager.insert(
        ("elided." + resource.getRawHandle().getKey()).str(), std::nullopt);
    op.setValueAttr(DenseResourceElementsAttr::get(resource.getType(), handle));
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

int run(const Options &options) {
  DialectRegistry registry;
  registry.insert<AnvilDialect, func::FuncDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  DiagnosticPrinter diagnostics(&context, options.toolName, llvm::errs());
  Progress progress(options.quiet, options.toolName);

  if (options.emit != EmitKind::Mlir) {
    emitError(UnknownLoc::get(&context))
        << "this stage of --emit is not available yet: lowering to the "
           "kernel dialect and code generation come with the CPU backend; "
           "use --emit=mlir";
    return 1;
  }
  if (options.optLevel > kMaxOptLevel) {
    emitError(UnknownLoc::get(&context))
        << "-O" << options.optLevel << " is not an optimization level (0-3)";
    return 1;
  }

  progress.stage("importing " + options.inputPath);
  OwningOpRef<ModuleOp> module;
  if (StringRef(options.inputPath).endswith(".mlir"))
    module = parseMlirFile(context, options.inputPath);
  else {
    // Diagnostics name the ONNX node; the half-built op adds nothing.
    context.printOpOnDiagnostic(false);
    module = onnx_import::importOnnxFile(&context, options.inputPath,
                                         options.import);
    context.printOpOnDiagnostic(true);
  }
  if (!module)
    return 1;
  if (failed(verify(*module)))
    return 1;

  progress.stage(
      llvm::formatv("running the -O{0} pipeline", options.optLevel).str());
  PassManager pm(&context);
  applyPassManagerCLOptions(pm);
  buildPipeline(pm, options.optLevel);
  if (failed(pm.run(*module)))
    return 1;

  progress.stage("writing " + options.outputPath);
  std::string error;
  auto output = openOutputFile(options.outputPath, &error);
  if (!output) {
    emitError(UnknownLoc::get(&context)) << error;
    return 1;
  }
  printModule(*module, output->os(), options.printWeights);
  output->keep();
  if (options.summary)
    printSummary(*module, llvm::errs());
  progress.stage("done");
  return diagnostics.errorCount() ? 1 : 0;
}

} // namespace anvil::driver
