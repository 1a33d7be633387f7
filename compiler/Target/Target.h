//===- Target.h - the code generation target interface -----------*- C++
//-*-===//
//
// A target turns a planned kernel program into target source, builds that
// with its toolchain into one or more code objects, and says what the
// artifact needs from the machine that runs it. Targets live under
// backends/<name>/codegen and register themselves here from the tools'
// main (registerCpuTarget()); the compiler finds them only through this
// registry, as LLVM keeps TargetRegistry below its targets.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_TARGET_TARGET_H
#define ANVIL_COMPILER_TARGET_TARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <string>
#include <vector>

namespace anvil::target {

struct TargetOptions {
  /// The subtarget (--mcpu: an x86-64 level for cpu; sm_80 or gfx90a for a
  /// GPU target). Empty means the target's default, its first subtarget.
  std::string subtarget;
  /// Where compiled code objects are cached by content hash; empty: no cache.
  std::string cacheDir;
  /// The compiler to run (empty: the target's default).
  std::string compiler;
  /// Emit repeated blocks of steps (a model's layers) as one function
  /// each, called per block (--no-outline: false).
  bool outlineRepeats = true;
  /// Progress lines (stage descriptions); may be empty.
  std::function<void(const std::string &)> progress;
};

/// One built code object. The cpu target builds one, `code` (a shared
/// object); a GPU target builds a host stub plus a device binary per
/// subtarget, each with its own name.
struct CodeObject {
  std::string name;
  std::string bytes;
};

class Target {
public:
  virtual ~Target() = default;
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  /// The subtargets (--mcpu values) it accepts, the default first; at
  /// least one.
  virtual std::vector<std::string> subtargets() const = 0;
  /// Machine features an artifact built with `options` needs at run time
  /// (the manifest's target.cpu_features).
  virtual std::vector<std::string>
  requiredFeatures(const TargetOptions &options) const = 0;
  /// Run by anvil-pack-weights before offsets are given: says, with a
  /// `layout` on each kernel.weight, how the weight section stores the
  /// weights the target's kernels want in another layout (and adjusts the
  /// launches that read them). The bytes are transformed only as the
  /// section is written.
  virtual mlir::LogicalResult packWeights(mlir::ModuleOp module) const = 0;
  /// Writes the source for every kernel program in `module`.
  virtual mlir::LogicalResult emitSource(mlir::ModuleOp module,
                                         const TargetOptions &options,
                                         llvm::raw_ostream &os) const = 0;
  /// Builds `source` into the artifact's code objects (at least one).
  /// Reports problems through `error`.
  virtual bool buildObjects(const std::string &source,
                            const TargetOptions &options,
                            std::vector<CodeObject> &objects,
                            std::string &error) const = 0;
};

/// Adds `target` (which must outlive every use: targets are function-local
/// statics) to the registry. Registering a name twice keeps the first.
/// Tools call each target's register function from main, before any
/// lookup; the registry is not synchronized.
void registerTarget(const Target &target);
/// Every registered target, in registration order (--list-targets).
const std::vector<const Target *> &registeredTargets();
/// The target called `name`, or null.
const Target *lookupTarget(llvm::StringRef name);
/// "cpu, cuda": the registered names, for diagnostics.
std::string registeredTargetNames();

} // namespace anvil::target

#endif // ANVIL_COMPILER_TARGET_TARGET_H
