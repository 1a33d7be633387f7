//===- anvilc.cpp - the Anvil model compiler ------------------------------===//
//
// llc-style: `anvilc model.onnx [-O2] [--emit=mlir] [-o out]`. Parses flags
// and calls the driver library.
//
//===----------------------------------------------------------------------===//

#include "compiler/Driver/Driver.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"

using namespace llvm;

namespace {
cl::OptionCategory category("anvilc options");

cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                               cl::desc("<model.onnx | module.mlir>"),
                               cl::cat(category));
cl::opt<std::string> outputPath("o", cl::desc("Output file ('-' for stdout)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::cat(category));
cl::opt<anvil::driver::EmitKind> emit(
    "emit", cl::desc("The stage to stop after and print"),
    cl::init(anvil::driver::EmitKind::Mlir),
    cl::values(clEnumValN(anvil::driver::EmitKind::Mlir, "mlir",
                          "the anvil-dialect module after the -O pipeline"),
               clEnumValN(anvil::driver::EmitKind::Kernel, "kernel",
                          "the kernel program (not available yet)"),
               clEnumValN(anvil::driver::EmitKind::Source, "source",
                          "the generated target source (not available yet)"),
               clEnumValN(anvil::driver::EmitKind::Obj, "obj",
                          "the compiled code object (not available yet)"),
               clEnumValN(anvil::driver::EmitKind::Artifact, "artifact",
                          "the .anvil artifact (not available yet)")),
    cl::cat(category));
cl::opt<unsigned> optLevel(
    "O", cl::desc("Optimization level: -O0 (import only) to -O3 (default 2)"),
    cl::Prefix, cl::init(2), cl::cat(category));
cl::list<std::string>
    dims("dim",
         cl::desc("Bind symbolic dimensions by name: --dim=batch_size=1,"
                  "sequence_length=128 (repeatable)"),
         cl::value_desc("name=size,..."), cl::CommaSeparated,
         cl::cat(category));
cl::list<std::string> inputShapes(
    "input-shape",
    cl::desc("Set a graph input's whole shape: --input-shape=input_ids:1x128 "
             "(repeatable)"),
    cl::value_desc("name:DxD..."), cl::cat(category));
cl::list<std::string> constantInputs(
    "constant-input",
    cl::desc("Compile a graph input as a constant read from an ONNX "
             "TensorProto file: --constant-input=axes=axes.pb (repeatable). "
             "For inputs that determine shapes (axes, split sizes, pads)."),
    cl::value_desc("name=file.pb"), cl::cat(category));
cl::opt<bool> printWeights(
    "print-weights",
    cl::desc("Print weight tensors in --emit=mlir (elided by default)"),
    cl::cat(category));
cl::opt<bool> summary("summary",
                      cl::desc("Print inputs, outputs and op counts to stderr"),
                      cl::cat(category));
cl::opt<bool> quiet("q", cl::desc("Do not print progress on stderr"),
                    cl::cat(category));

bool parseDims(anvil::onnx_import::ImportOptions &import) {
  for (const std::string &entry : dims) {
    auto [name, value] = StringRef(entry).split('=');
    int64_t size;
    if (name.empty() || value.getAsInteger(10, size) || size < 0) {
      errs() << "anvilc: error: --dim=" << entry
             << ": expected name=size with a size >= 0\n";
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
  for (const std::string &entry : inputShapes) {
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
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  // libLLVM registers hundreds of backend flags; show only ours and MLIR's
  // IR-printing and pass-manager flags (--mlir-print-ir-after-all, ...).
  static cl::OptionCategory mlirCategory("MLIR printing and debugging");
  for (auto &entry : cl::getRegisteredOptions())
    if (entry.getKey().startswith("mlir-"))
      entry.getValue()->addCategory(mlirCategory);
  cl::HideUnrelatedOptions({&category, &mlirCategory});
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << "anvilc (Anvil) 0.1.0, built on LLVM/MLIR " LLVM_VERSION_STRING "\n";
  });
  cl::ParseCommandLineOptions(
      argc, argv,
      "Anvil model compiler\n\n"
      "  Imports an ONNX model (or an anvil-dialect .mlir file), runs the -O\n"
      "  pipeline and prints the requested stage.\n\n"
      "  anvilc model.onnx --emit=mlir --dim=batch_size=1 -o model.mlir\n");

  anvil::driver::Options options;
  options.inputPath = inputPath;
  options.outputPath = outputPath;
  options.emit = emit;
  options.optLevel = optLevel;
  options.printWeights = printWeights;
  options.summary = summary;
  options.quiet = quiet;
  if (!parseDims(options.import))
    return 1;
  return anvil::driver::run(options);
}
