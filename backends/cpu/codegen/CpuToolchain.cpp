//===- CpuToolchain.cpp - building generated C++ into a shared object -----===//

#include "backends/cpu/codegen/CpuToolchain.h"
#include "backends/cpu/codegen/KernelSources.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SHA256.h"

#include <chrono>
#include <utime.h>

using namespace llvm;

namespace anvil::backend::cpu {
using target::TargetOptions;

namespace {

/// Flags every build uses: integer ops wrap as the kernel dialect defines
/// them; no -ffast-math, which would change NaN and rounding behaviour;
/// -fopenmp-simd honours the `omp simd` of elementwise loops (no OpenMP
/// runtime). -fno-trapping-math lets GCC if-convert float selects (a
/// clamp, a NaN test) into blends: without it GCC 12 vectorizes no loop
/// calling exp_f32, erf_f32 or tanh_f32 below AVX-512 ("control flow in
/// loop"; AVX-512 has masked operations), so SiLU, GELU and the softmax
/// ran scalar on AVX2 machines. It changes no value (the run never
/// unmasks floating-point exceptions); BERT-base at x86-64-v3, 2 threads:
/// 191-198 -> 173-177 ms.
const char *const kCommonFlags[] = {"-std=c++17",
                                    "-O2",
                                    "-fPIC",
                                    "-shared",
                                    "-fwrapv",
                                    "-fno-math-errno",
                                    "-fno-trapping-math",
                                    "-fopenmp-simd",
                                    "-fvisibility=hidden"};

bool writeFile(const Twine &path, StringRef data, std::string &error) {
  std::error_code ec;
  raw_fd_ostream os(path.str(), ec, sys::fs::OF_None);
  if (!ec) {
    os << data;
    os.close();
    if (!os.has_error())
      return true;
    ec = os.error();
  }
  error = ("cannot write " + path + ": " + ec.message()).str();
  return false;
}

bool readFile(const Twine &path, std::string &data) {
  auto buffer = MemoryBuffer::getFile(path, /*IsText=*/false,
                                      /*RequiresNullTerminator=*/false);
  if (!buffer)
    return false;
  data = (*buffer)->getBuffer().str();
  return true;
}

std::string findCompiler(const TargetOptions &options, std::string &error) {
  std::string name = options.compiler;
  if (name.empty()) {
    if (const char *env = std::getenv("ANVIL_CXX"))
      name = env;
    else
      name = "c++";
  }
  auto found = sys::findProgramByName(name);
  if (!found) {
    error =
        "cannot find the C++ compiler '" + name + "' (set --cxx or ANVIL_CXX)";
    return "";
  }
  return *found;
}

/// Everything the object depends on, hashed.
std::string cacheKey(const std::string &source,
                     const std::vector<std::string> &flags,
                     const std::vector<std::string> &keyExtras,
                     const std::string &compiler) {
  SHA256 hash;
  auto add = [&](StringRef text) {
    hash.update(text);
    hash.update(StringRef("\0", 1));
  };
  add("anvil-cpu-cache-v1");
  add(source);
  for (const KernelSource &file : kernelSources()) {
    add(file.path);
    add(file.text);
  }
  for (const char *flag : kCommonFlags)
    add(flag);
  for (const std::string &flag : flags)
    add(flag);
  for (const std::string &extra : keyExtras)
    add(extra);
  add(compiler);
  sys::fs::file_status status;
  if (!sys::fs::status(compiler, status)) {
    add(std::to_string(status.getSize()));
    add(std::to_string(
        status.getLastModificationTime().time_since_epoch().count()));
  }
  return toHex(hash.final(), /*LowerCase=*/true);
}

} // namespace

bool buildSharedObject(const std::string &source,
                       const std::vector<std::string> &flags,
                       const std::vector<std::string> &keyExtras,
                       const TargetOptions &options, std::string &object,
                       std::string &error) {
  std::string compiler = findCompiler(options, error);
  if (compiler.empty())
    return false;
  std::string key = cacheKey(source, flags, keyExtras, compiler);
  SmallString<256> cached;
  if (!options.cacheDir.empty()) {
    cached = options.cacheDir;
    sys::path::append(cached, key + ".so");
    if (readFile(cached, object)) {
      // Mark it recently used, so pruning removes the coldest objects.
      (void)::utime(cached.c_str(), nullptr);
      if (options.progress)
        options.progress("code object found in the cache (" +
                         key.substr(0, 12) + ")");
      return true;
    }
  }

  SmallString<256> dir;
  if (std::error_code ec = sys::fs::createUniqueDirectory("anvil-cpu", dir)) {
    error = "cannot create a build directory: " + ec.message();
    return false;
  }
  auto cleanup =
      llvm::make_scope_exit([&] { sys::fs::remove_directories(dir); });
  for (const KernelSource &file : kernelSources()) {
    SmallString<256> path(dir);
    sys::path::append(path, "include", file.path);
    sys::fs::create_directories(sys::path::parent_path(path));
    if (!writeFile(path, file.text, error))
      return false;
  }
  SmallString<256> sourcePath(dir), objectPath(dir), logPath(dir),
      includeDir(dir);
  sys::path::append(sourcePath, "model.cpp");
  sys::path::append(objectPath, "model.so");
  sys::path::append(logPath, "compiler.log");
  sys::path::append(includeDir, "include");
  if (!writeFile(sourcePath, source, error))
    return false;

  std::vector<std::string> args = {compiler};
  for (const char *flag : kCommonFlags)
    args.push_back(flag);
  args.insert(args.end(), flags.begin(), flags.end());
  args.push_back("-I" + includeDir.str().str());
  args.push_back(sourcePath.str().str());
  args.push_back("-o");
  args.push_back(objectPath.str().str());
  std::vector<StringRef> argRefs(args.begin(), args.end());
  std::optional<StringRef> redirects[] = {std::nullopt, logPath.str(),
                                          logPath.str()};
  if (options.progress)
    options.progress(formatv("compiling {0} KB of C++ with {1}",
                             (source.size() + 1023) / 1024,
                             sys::path::filename(compiler))
                         .str());
  std::string execError;
  int rc = sys::ExecuteAndWait(compiler, argRefs, std::nullopt, redirects, 0, 0,
                               &execError);
  if (rc != 0) {
    std::string log;
    readFile(logPath, log);
    if (log.size() > 4000)
      log = log.substr(0, 4000) + "\n[...]";
    error = "the C++ compiler failed" +
            (execError.empty() ? "" : " (" + execError + ")") + ":\n" + log;
    return false;
  }
  if (!readFile(objectPath, object)) {
    error = "the C++ compiler wrote no " + objectPath.str().str();
    return false;
  }
  if (!cached.empty()) {
    // Write then rename, so concurrent anvilc runs never see half a file.
    sys::fs::create_directories(options.cacheDir);
    SmallString<256> temp(cached);
    temp += formatv(".tmp{0}", sys::Process::getProcessId()).str();
    std::string ignored;
    if (writeFile(temp, object, ignored))
      sys::fs::rename(temp, cached);
    pruneCache(options.cacheDir, cacheLimitBytes());
  }
  return true;
}

uint64_t cacheLimitBytes() {
  if (const char *text = std::getenv("ANVIL_CACHE_MAX_MB")) {
    char *end = nullptr;
    unsigned long long mb = std::strtoull(text, &end, 10);
    if (*text && !*end)
      return uint64_t(mb) << 20;
  }
  return uint64_t(1024) << 20;
}

void pruneCache(const std::string &dir, uint64_t limitBytes) {
  struct Entry {
    std::string path;
    uint64_t size;
    sys::TimePoint<> used;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  std::error_code ec;
  for (sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    if (!StringRef(it->path()).endswith(".so"))
      continue;
    sys::fs::file_status status;
    if (sys::fs::status(it->path(), status))
      continue;
    entries.push_back(
        {it->path(), status.getSize(), status.getLastModificationTime()});
    total += status.getSize();
  }
  if (total <= limitBytes)
    return;
  // Oldest first; a cache hit refreshes the time (see buildSharedObject).
  llvm::sort(entries,
             [](const Entry &a, const Entry &b) { return a.used < b.used; });
  for (const Entry &entry : entries) {
    if (total <= limitBytes)
      break;
    if (!sys::fs::remove(entry.path))
      total -= entry.size;
  }
}

} // namespace anvil::backend::cpu
