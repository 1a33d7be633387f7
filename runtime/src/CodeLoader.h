//===- CodeLoader.h - loading an artifact's code section ---------*- C++
//-*-===//

#ifndef ANVIL_RUNTIME_CODELOADER_H
#define ANVIL_RUNTIME_CODELOADER_H

#include "anvil/abi.h"
#include "device/Device.h"

#include <string>

namespace anvil::runtime {

/// A shared object loaded from memory, unloaded on destruction.
class LoadedCode final : public CodeObject {
public:
  LoadedCode() = default;
  LoadedCode(const LoadedCode &) = delete;
  LoadedCode &operator=(const LoadedCode &) = delete;
  ~LoadedCode() override;

  /// Loads `size` bytes of a shared object (through an in-memory file, no
  /// file system write) and finds its code table. Returns false with
  /// `error` if it is not loadable or its table is malformed.
  bool load(const void *data, size_t size, std::string &error);
  const anvil_code_table *table() const override { return codeTable; }

private:
  void *handle = nullptr;
  int codeFd = -1;
  std::string path;
  const anvil_code_table *codeTable = nullptr;
};

/// Whether this CPU has `feature` ("avx2", "avx512f", ...). Sets `known`
/// to false for a name Anvil does not know.
bool cpuHasFeature(const std::string &feature, bool &known);

} // namespace anvil::runtime

#endif // ANVIL_RUNTIME_CODELOADER_H
