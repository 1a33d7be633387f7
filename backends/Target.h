//===- Target.h - what a code generation target provides ---------*- C++
//-*-===//
//
// A target turns a planned kernel program into target source, builds that
// with its toolchain, and says what the artifact needs from the machine
// that runs it. Adding a target means adding one folder under backends/
// with a Target and one line in Targets.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_BACKENDS_TARGET_H
#define ANVIL_BACKENDS_TARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <string>
#include <vector>

namespace anvil::backend {

struct TargetOptions {
  /// --mcpu (targets define the accepted names; empty means the default).
  std::string cpu;
  /// Where compiled code objects are cached by content hash; empty: no cache.
  std::string cacheDir;
  /// The C++ compiler to run (empty: the target's default).
  std::string compiler;
  /// Progress lines (stage descriptions); may be empty.
  std::function<void(const std::string &)> progress;
};

class Target {
public:
  virtual ~Target() = default;
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  /// The --mcpu values it accepts, the default first.
  virtual std::vector<std::string> cpus() const = 0;
  /// Machine features an artifact built for `cpu` needs at run time (the
  /// manifest's target.cpu_features).
  virtual std::vector<std::string>
  requiredFeatures(const TargetOptions &options) const = 0;
  /// Rewrites weights into the layout the target's kernels want.
  virtual mlir::LogicalResult packWeights(mlir::ModuleOp module) const = 0;
  /// Writes the source for every kernel program in `module`.
  virtual mlir::LogicalResult emitSource(mlir::ModuleOp module,
                                         llvm::raw_ostream &os) const = 0;
  /// Builds `source` into the artifact's code section (a shared object on
  /// the CPU). Reports problems through `error`.
  virtual bool buildObject(const std::string &source,
                           const TargetOptions &options, std::string &object,
                           std::string &error) const = 0;
};

/// Every target, in --list-targets order.
const std::vector<const Target *> &allTargets();
/// The target called `name`, or null.
const Target *lookupTarget(llvm::StringRef name);
/// Registers each target's hooks with the passes (anvil-pack-weights).
/// Tools call it once before running passes.
void registerTargets();

} // namespace anvil::backend

#endif // ANVIL_BACKENDS_TARGET_H
