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
#include "llvm/TargetParser/Host.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

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
  ANVIL_FEATURE("avx512bf16")
#undef ANVIL_FEATURE
  // AMX: clang 16's __builtin_cpu_supports has no name for it. CPUID leaf 7
  // EDX bit 24 is AMX-TILE, bit 25 AMX-INT8.
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) &&
      (edx >> 24 & 3u) == 3u) {
    features.push_back("amx-tile");
    features.push_back("amx-int8");
  }
#endif
  return features;
}

/// How a --mcpu value is built: compiler flags, and the features the
/// code may use (all of which the runtime checks at load time).
struct Resolved {
  std::vector<std::string> flags;
  std::vector<std::string> features;
};

/// `native` is the highest x86-64 level this machine supports, tuned for
/// it, plus AVX512-VNNI when present (and then AVX512-BF16, AMX-TILE and
/// AMX-INT8 when present). Not
/// -march=native: that would let the C++ compiler use features the manifest
/// cannot list and the runtime cannot check (an artifact could then pass the
/// check elsewhere and die of an illegal instruction).
Resolved resolve(const std::string &cpu) {
  for (const Level &level : levels())
    if (cpu == level.name)
      return {{std::string("-march=") + level.name}, level.features};
  std::vector<std::string> host = hostFeatures();
  const Level *best = nullptr;
  for (const Level &level : levels())
    if (llvm::all_of(level.features, [&](const std::string &f) {
          return llvm::is_contained(host, f);
        }))
      best = &level;
  if (!best) // not x86-64, or an x86-64 older than v2: the compiler's default
    return {{}, {}};
  Resolved resolved{{std::string("-march=") + best->name, "-mtune=native"},
                    best->features};
  if (llvm::is_contained(host, "avx512vnni") &&
      llvm::is_contained(best->features, "avx512f")) {
    resolved.flags.push_back("-mavx512vnni");
    resolved.features.push_back("avx512vnni");
    // vdpbf16ps: symmetric int4 weights times bf16-rounded activations
    // (matmul_int4_bf16.h).
    if (llvm::is_contained(host, "avx512bf16")) {
      resolved.flags.push_back("-mavx512bf16");
      resolved.features.push_back("avx512bf16");
    }
    // AMX int8 tiles (W8A8 prefill, matmul_quant.h); the kernels fall back
    // to VNNI where the OS does not grant the tile state.
    if (llvm::is_contained(host, "amx-int8")) {
      for (const char *feature : {"amx-tile", "amx-int8"}) {
        resolved.flags.push_back(std::string("-m") + feature);
        resolved.features.push_back(feature);
      }
    }
  }
  return resolved;
}

using target::CodeObject;
using target::TargetOptions;

class CpuTarget : public target::Target {
public:
  std::string name() const override { return "cpu"; }
  std::string description() const override {
    return "x86-64 CPUs: C++17 built by the system compiler into a shared "
           "object";
  }
  std::vector<std::string> subtargets() const override {
    std::vector<std::string> names = {"native"};
    for (const Level &level : levels())
      names.push_back(level.name);
    return names;
  }
  std::vector<std::string>
  requiredFeatures(const TargetOptions &options) const override {
    return resolve(options.subtarget.empty() ? "native" : options.subtarget)
        .features;
  }
  mlir::LogicalResult packWeights(mlir::ModuleOp module) const override {
    return packCpuWeights(module);
  }
  mlir::LogicalResult emitSource(mlir::ModuleOp module,
                                 const TargetOptions &options,
                                 llvm::raw_ostream &os) const override {
    CpuSourceOptions sourceOptions;
    sourceOptions.outlineRepeats = options.outlineRepeats;
    return emitCpuSource(module, sourceOptions, os);
  }
  /// One object, `code`: the shared object the runtime dlopens.
  bool buildObjects(const std::string &source, const TargetOptions &options,
                    std::vector<CodeObject> &objects,
                    std::string &error) const override {
    std::string cpu = options.subtarget.empty() ? "native" : options.subtarget;
    Resolved resolved = resolve(cpu);
    // -mtune=native depends on this machine: key the cache by its CPU name.
    std::vector<std::string> keyExtras;
    if (cpu == "native")
      keyExtras.push_back(llvm::sys::getHostCPUName().str());
    CodeObject object{"code", {}};
    if (!buildSharedObject(source, resolved.flags, keyExtras, options,
                           object.bytes, error))
      return false;
    objects.push_back(std::move(object));
    return true;
  }
};

} // namespace

const target::Target &cpuTarget() {
  static const CpuTarget target;
  return target;
}

void registerCpuTarget() { target::registerTarget(cpuTarget()); }

} // namespace anvil::backend::cpu
