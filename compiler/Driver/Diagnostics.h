//===- Diagnostics.h - how anvilc reports errors -----------------*- C++
//-*-===//

#ifndef ANVIL_COMPILER_DRIVER_DIAGNOSTICS_H
#define ANVIL_COMPILER_DRIVER_DIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/raw_ostream.h"

namespace anvil::driver {

/// Prints diagnostics as `tool: error: file: node 'name': message`, so users
/// see which ONNX node a problem comes from. Counts errors.
class DiagnosticPrinter {
public:
  DiagnosticPrinter(mlir::MLIRContext *context, llvm::StringRef toolName,
                    llvm::raw_ostream &os);
  unsigned errorCount() const { return errors; }

private:
  mlir::ScopedDiagnosticHandler handler;
  std::string toolName;
  llvm::raw_ostream &os;
  unsigned errors = 0;
};

/// `file: node 'name'` (or `file:line:col` for MLIR input) for a location.
std::string describeLocation(mlir::Location loc);

} // namespace anvil::driver

#endif // ANVIL_COMPILER_DRIVER_DIAGNOSTICS_H
