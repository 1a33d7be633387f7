//===- Manifest.h - the artifact's manifest, parsed --------------*- C++
//-*-===//
//
// The manifest section is JSON (docs/artifact-format.md, "Manifest"). The
// parser checks every field it reads: a manifest is input, not trusted.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_MANIFEST_H
#define ANVIL_RUNTIME_MANIFEST_H

#include "anvil/anvil.h"

#include <cstdint>
#include <string>
#include <vector>

namespace anvil::runtime {

constexpr int64_t kManifestVersion = 1;

struct TensorSpec {
  std::string name;
  anvil_dtype dtype;
  std::vector<int64_t> dims;
};

struct EntryPoint {
  std::string name;
  uint64_t arenaBytes = 0;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
};

struct Manifest {
  std::string target;
  std::vector<std::string> cpuFeatures;
  std::vector<EntryPoint> entryPoints;
};

/// Parses and checks `text`; returns false with `error` on any problem.
bool parseManifest(const std::string &text, Manifest &manifest,
                   std::string &error);

/// Parses "f32", "i64", ... ; returns false for an unknown name.
bool parseDtype(const std::string &name, anvil_dtype &dtype);

} // namespace anvil::runtime

#endif // ANVIL_RUNTIME_MANIFEST_H
