//===- OnnxImportFuzzer.cpp - libFuzzer entry for the ONNX importer -------===//
//
// Any byte string must produce either a module that verifies (and survives
// the -O1 folding pipeline, as anvilc runs it) or diagnostics: never a
// crash, a sanitizer report or a hang.
//   anvil-onnx-import-fuzzer -max_total_time=600 CORPUS_DIR
//
// Two modes, chosen by the first byte of the input:
//   'E' external data: the input is 'E', a flags byte, a length byte N, N
//       bytes of data, then the model. The model is imported from a scratch
//       folder holding the data as w.data and, as the flags say, a symlink
//       to a file outside the folder (link.data), a symlink to a folder
//       outside it (out/), a FIFO (fifo.data), a directory (dir.data), a
//       symlink loop (loop.data) and an empty file (empty.data); the
//       model's external_data locations can name any of them. Nothing
//       outside the folder may be read and nothing may block.
//   anything else: the whole input is the model, imported without a
//       folder (external data is an error).
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Onnx/OnnxImporter.h"
#include "compiler/Pipeline/Pipelines.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {

/// The scratch folder of this process: <tmp>/anvil-import-fuzz-XXXXXX with
/// outside.data and outdir/secret.data beside the model folder m/.
const std::string &scratchRoot() {
  // Never destroyed: the atexit handler below still needs it.
  static const std::string &root = *new std::string([] {
    const char *tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp && *tmp ? tmp : "/tmp") + "/anvil-import-fuzz-XXXXXX";
    if (!mkdtemp(pattern.data())) {
      std::perror("mkdtemp");
      std::abort();
    }
    // Removed at exit (remove_all deletes symlinks, never what they
    // point to).
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(scratchRoot(), ignored);
    });
    std::ofstream(pattern + "/outside.data") << std::string(4096, '\x7f');
    mkdir((pattern + "/outdir").c_str(), 0700);
    std::ofstream(pattern + "/outdir/secret.data") << std::string(4096, 'S');
    return pattern;
  }());
  return root;
}

/// Rebuilds the model folder m/ for one input: the data file and the
/// hostile entries `flags` asks for.
std::string prepareModelFolder(uint8_t flags, llvm::StringRef data) {
  const std::string &root = scratchRoot();
  std::string dir = root + "/m";
  // The folder holds only what is made below; remove it the same way.
  for (const char *name :
       {"w.data", "link.data", "out", "fifo.data", "loop.data", "empty.data"})
    unlink((dir + "/" + name).c_str());
  rmdir((dir + "/dir.data").c_str());
  mkdir(dir.c_str(), 0700);
  std::ofstream(dir + "/w.data", std::ios::binary) << data.str();
  if (flags & 1)
    (void)symlink((root + "/outside.data").c_str(),
                  (dir + "/link.data").c_str());
  if (flags & 2)
    (void)symlink((root + "/outdir").c_str(), (dir + "/out").c_str());
  if (flags & 4)
    mkfifo((dir + "/fifo.data").c_str(), 0600);
  if (flags & 8)
    mkdir((dir + "/dir.data").c_str(), 0700);
  if (flags & 16)
    (void)symlink("loop.data", (dir + "/loop.data").c_str());
  if (flags & 32)
    std::ofstream(dir + "/empty.data");
  return dir;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  std::string baseDir;
  if (bytes.startswith("E") && bytes.size() >= 3) {
    uint8_t flags = bytes[1], length = bytes[2];
    llvm::StringRef rest = bytes.drop_front(3);
    llvm::StringRef fileData = rest.take_front(length);
    baseDir = prepareModelFolder(flags, fileData);
    bytes = rest.drop_front(fileData.size());
  }
  mlir::MLIRContext context;
  context.printOpOnDiagnostic(false);
  mlir::ScopedDiagnosticHandler quiet(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });
  anvil::onnx_import::ImportOptions options;
  auto module = anvil::onnx_import::importOnnxBuffer(
      &context, bytes, "fuzz.onnx", baseDir, options);
  if (!module)
    return 0;
  // A module the importer returns must be valid IR ...
  if (mlir::failed(mlir::verify(*module))) {
    std::fprintf(stderr, "importer returned a module that does not verify\n");
    std::abort();
  }
  // ... and folding it (anvilc -O1) may fail with diagnostics, not crash.
  mlir::PassManager pm(&context);
  anvil::buildPipeline(pm, 1);
  (void)pm.run(*module);
  return 0;
}
