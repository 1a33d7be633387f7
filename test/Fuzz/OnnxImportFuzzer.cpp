//===- OnnxImportFuzzer.cpp - libFuzzer entry for the ONNX importer -------===//
//
// Any byte string must produce either a module that verifies or
// diagnostics: never a crash, a sanitizer report or a hang.
//   anvil-onnx-import-fuzzer -max_total_time=600 CORPUS_DIR
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Onnx/OnnxImporter.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::MLIRContext context;
  context.printOpOnDiagnostic(false);
  mlir::ScopedDiagnosticHandler quiet(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  anvil::onnx_import::ImportOptions options;
  auto module = anvil::onnx_import::importOnnxBuffer(&context, bytes,
                                                     "fuzz.onnx", "", options);
  // A module the importer returns must be valid IR.
  if (module && mlir::failed(mlir::verify(*module))) {
    std::fprintf(stderr, "importer returned a module that does not verify\n");
    std::abort();
  }
  return 0;
}
