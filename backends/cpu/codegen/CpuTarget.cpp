//===- CpuTarget.cpp - the cpu target -------------------------------------===//
//
// x86-64 levels map to -march and to the features the runtime checks
// before loading (the manifest's target.cpu_features); `native` builds for
// the compiling machine and records what it has.
//
//===----------------------------------------------------------------------===//

#include "backends/cpu/codegen/CpuTarget.h"
#include "backends/cpu/codegen/CpuEmitter.h"
#include "backends/cpu/codegen/CpuToolchain.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

namespace anvil::backend::cpu {
namespace {

struct Level {
  const char *name;
  std::vector<std::string> features;
};

const std::vector<Level> &levels() {
  static const std::vector<Level> table = {
      {"x86-64-v2", {"sse4.2"}},
      {"x86-64-v3", {"sse4.2", "avx", "avx2", "fma"}},
      {"x86-64-v4",
       {"sse4.2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512cd",
        "avx512dq", "avx512vl"}},
  };
  return table;
}

std::vector<std::string> hostFeatures() {
  std::vector<std::string> features;
#if defined(__x86_64__)
  __builtin_cpu_init();
#define ANVIL_FEATURE(name)                                                    \
  if (__builtin_cpu_supports(name))                                            \
    features.push_back(name);
  ANVIL_FEATURE("sse4.2")
  ANVIL_FEATURE("avx")
  ANVIL_FEATURE("avx2")
  ANVIL_FEATURE("fma")
  ANVIL_FEATURE("avx512f")
  ANVIL_FEATURE("avx512bw")
  ANVIL_FEATURE("avx512cd")
  ANVIL_FEATURE("avx512dq")
  ANVIL_FEATURE("avx512vl")
  ANVIL_FEATURE("avx512vnni")
#undef ANVIL_FEATURE
#endif
  return features;
}

/// What -march=native resolves to here: the CPU name and every feature
/// LLVM detects.
std::vector<std::string> hostIdentity() {
  std::vector<std::string> identity = {llvm::sys::getHostCPUName().str()};
  llvm::StringMap<bool> features;
  if (llvm::sys::getHostCPUFeatures(features)) {
    std::vector<std::string> enabled;
    for (const auto &feature : features)
      if (feature.getValue())
        enabled.push_back(feature.getKey().str());
    llvm::sort(enabled);
    identity.insert(identity.end(), enabled.begin(), enabled.end());
  }
  return identity;
}

class CpuTarget : public Target {
public:
  std::string name() const override { return "cpu"; }
  std::string description() const override {
    return "x86-64 CPUs: C++17 built by the system compiler into a shared "
           "object";
  }
  std::vector<std::string> cpus() const override {
    std::vector<std::string> names = {"native"};
    for (const Level &level : levels())
      names.push_back(level.name);
    return names;
  }
  std::vector<std::string>
  requiredFeatures(const TargetOptions &options) const override {
    if (options.cpu.empty() || options.cpu == "native")
      return hostFeatures();
    for (const Level &level : levels())
      if (options.cpu == level.name)
        return level.features;
    return {};
  }
  mlir::LogicalResult packWeights(mlir::ModuleOp module) const override {
    return packCpuWeights(module);
  }
  mlir::LogicalResult emitSource(mlir::ModuleOp module,
                                 llvm::raw_ostream &os) const override {
    return emitCpuSource(module, os);
  }
  bool buildObject(const std::string &source, const TargetOptions &options,
                   std::string &object, std::string &error) const override {
    std::string cpu = options.cpu.empty() ? "native" : options.cpu;
    // -march=native means this machine: a cache shared between machines
    // (a network home folder) must not hand its object to another CPU.
    std::vector<std::string> keyExtras;
    if (cpu == "native")
      keyExtras = hostIdentity();
    return buildSharedObject(source, {"-march=" + cpu}, keyExtras, options,
                             object, error);
  }
};

} // namespace

const Target &cpuTarget() {
  static const CpuTarget target;
  return target;
}

} // namespace anvil::backend::cpu
