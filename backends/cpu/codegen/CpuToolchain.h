//===- CpuToolchain.h - building generated C++ into a shared object -*- C++
//-*-===//

#ifndef ANVIL_BACKENDS_CPU_CODEGEN_CPUTOOLCHAIN_H
#define ANVIL_BACKENDS_CPU_CODEGEN_CPUTOOLCHAIN_H

#include "compiler/Target/Target.h"

#include <string>
#include <vector>

namespace anvil::backend::cpu {

/// Compiles `source` with the system C++ compiler into a shared object
/// (the bytes go to `object`). `flags` are the target's code generation
/// flags (-march=...). With options.cacheDir set, the object is looked up
/// by a hash of everything that determines it (source, kernel headers,
/// flags, compiler, and `keyExtras`: whatever else decides the object,
/// such as the host's features under -march=native) and stored there after
/// a build.
bool buildSharedObject(const std::string &source,
                       const std::vector<std::string> &flags,
                       const std::vector<std::string> &keyExtras,
                       const target::TargetOptions &options,
                       std::string &object, std::string &error);

/// The code cache's size limit: $ANVIL_CACHE_MAX_MB megabytes, default
/// 1024.
uint64_t cacheLimitBytes();

/// Deletes the least recently used objects in `dir` until the objects
/// there take at most `limitBytes`.
void pruneCache(const std::string &dir, uint64_t limitBytes);

} // namespace anvil::backend::cpu

#endif // ANVIL_BACKENDS_CPU_CODEGEN_CPUTOOLCHAIN_H
