//===- CodeLoader.cpp - loading an artifact's code section ----------------===//

#include "CodeLoader.h"

#include <cstddef>
#include <cstdlib>

#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace anvil::runtime {

namespace {
/// Whether an object loaded from `path` is still mapped.
bool isResident(const std::string &path) {
  struct Query {
    const std::string *path;
    bool found;
  } query{&path, false};
  dl_iterate_phdr(
      [](struct dl_phdr_info *info, size_t, void *data) {
        auto *q = static_cast<Query *>(data);
        if (info->dlpi_name && *q->path == info->dlpi_name)
          q->found = true;
        return 0;
      },
      &query);
  return query.found;
}
} // namespace

LoadedCode::~LoadedCode() {
  if (handle)
    dlclose(handle);
  if (codeFd < 0)
    return;
  // An object linked with -z nodelete stays mapped after dlclose. Its
  // in-memory file must then stay open too: the loader recognizes objects
  // by file identity, and a closed memfd's inode number can be given to
  // the next one, which would make dlopen return this stale object.
  if (!isResident(path))
    close(codeFd);
}

bool LoadedCode::load(const void *data, size_t size, std::string &error) {
  // dlopen needs a path: an anonymous in-memory file gives one without
  // writing the code anywhere.
  int fd = memfd_create("anvil-code", MFD_CLOEXEC);
  if (fd < 0) {
    error = std::string("memfd_create failed: ") + std::strerror(errno);
    return false;
  }
  const char *p = static_cast<const char *>(data);
  for (size_t done = 0; done < size;) {
    ssize_t n = write(fd, p + done, size - done);
    if (n <= 0) {
      error =
          std::string("cannot stage the code section: ") + std::strerror(errno);
      close(fd);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  // The fd stays open while the object is loaded (see the destructor), so
  // no other load can get the same /proc path.
  codeFd = fd;
  path = "/proc/self/fd/" + std::to_string(fd);
  handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *message = dlerror();
    error = std::string("the code section is not a loadable shared object: ") +
            (message ? message : "unknown error");
    return false;
  }
  auto getTable = reinterpret_cast<anvil_code_table_fn>(
      dlsym(handle, ANVIL_CODE_TABLE_SYMBOL));
  if (!getTable) {
    error = "the code section does not export " +
            std::string(ANVIL_CODE_TABLE_SYMBOL);
    return false;
  }
  codeTable = getTable();
  // Version 3's table ends with init; a shorter one cannot be read.
  constexpr size_t kTableV3Size =
      offsetof(anvil_code_table, init) + sizeof(codeTable->init);
  if (!codeTable || codeTable->struct_size < kTableV3Size ||
      codeTable->abi_version != ANVIL_ABI_VERSION ||
      (codeTable->entry_count && !codeTable->entries)) {
    error = "the code section's table is malformed or has another ABI "
            "version";
    codeTable = nullptr;
    return false;
  }
  return true;
}

bool cpuHasFeature(const std::string &feature, bool &known) {
  known = true;
  // For testing the refusal path on machines that have everything:
  // ANVIL_HIDE_CPU_FEATURES=avx512f,avx2 makes the loader act as if the
  // listed features were missing.
  if (const char *hidden = std::getenv("ANVIL_HIDE_CPU_FEATURES")) {
    std::string list = std::string(",") + hidden + ",";
    if (list.find("," + feature + ",") != std::string::npos)
      return false;
  }
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (feature == "sse4.2")
    return __builtin_cpu_supports("sse4.2");
  if (feature == "avx")
    return __builtin_cpu_supports("avx");
  if (feature == "avx2")
    return __builtin_cpu_supports("avx2");
  if (feature == "fma")
    return __builtin_cpu_supports("fma");
  if (feature == "avx512f")
    return __builtin_cpu_supports("avx512f");
  if (feature == "avx512bw")
    return __builtin_cpu_supports("avx512bw");
  if (feature == "avx512vl")
    return __builtin_cpu_supports("avx512vl");
  if (feature == "avx512dq")
    return __builtin_cpu_supports("avx512dq");
  if (feature == "avx512cd")
    return __builtin_cpu_supports("avx512cd");
  if (feature == "avx512vnni")
    return __builtin_cpu_supports("avx512vnni");
  if (feature == "avx512bf16")
    return __builtin_cpu_supports("avx512bf16");
  if (feature == "amx-tile" || feature == "amx-int8") {
    // Not a name clang 16's __builtin_cpu_supports knows: CPUID leaf 7,
    // EDX bit 24 (AMX-TILE) or 25 (AMX-INT8).
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
      return false;
    return (edx >> (feature == "amx-tile" ? 24 : 25)) & 1u;
  }
#endif
  known = false;
  return false;
}

} // namespace anvil::runtime
