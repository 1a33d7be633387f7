//===- Diagnostics.cpp - how anvilc reports errors ------------------------===//

#include "compiler/Driver/Diagnostics.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;

namespace anvil::driver {

std::string describeLocation(Location loc) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (auto name = loc.dyn_cast<NameLoc>()) {
    os << describeLocation(name.getChildLoc());
    if (!text.empty())
      os << ": ";
    os << "node '" << name.getName().getValue() << "'";
  } else if (auto file = loc.dyn_cast<FileLineColLoc>()) {
    os << file.getFilename().getValue();
    if (file.getLine() > 0)
      os << ':' << file.getLine() << ':' << file.getColumn();
  } else if (auto fused = loc.dyn_cast<FusedLoc>()) {
    if (!fused.getLocations().empty())
      os << describeLocation(fused.getLocations().front());
  } else if (auto callSite = loc.dyn_cast<CallSiteLoc>()) {
    os << describeLocation(callSite.getCallee());
  }
  return os.str();
}

DiagnosticPrinter::DiagnosticPrinter(MLIRContext *context, StringRef toolName,
                                     llvm::raw_ostream &os)
    : handler(context,
              [this](Diagnostic &diag) {
                const char *severity = "note";
                switch (diag.getSeverity()) {
                case DiagnosticSeverity::Error:
                  severity = "error";
                  ++errors;
                  break;
                case DiagnosticSeverity::Warning:
                  severity = "warning";
                  break;
                case DiagnosticSeverity::Remark:
                  severity = "remark";
                  break;
                case DiagnosticSeverity::Note:
                  break;
                }
                this->os << this->toolName << ": " << severity << ": ";
                std::string where = describeLocation(diag.getLocation());
                if (!where.empty())
                  this->os << where << ": ";
                this->os << diag << "\n";
                for (Diagnostic &note : diag.getNotes())
                  this->os << this->toolName << ": note: " << note << "\n";
                return success();
              }),
      toolName(toolName.str()), os(os) {}

} // namespace anvil::driver
