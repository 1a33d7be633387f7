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

/// The newest manifest version this runtime reads; it reads every older
/// one too (version 1 has no run-time sizes).
constexpr int64_t kManifestVersion = 2;

/// A run-time size of an entry point (manifest v2 "sizes"): a dimension the
/// compiler left symbolic within bounds. Its value comes from the inputs.
struct SizeSpec {
  std::string name;
  int64_t min = 0, max = 0;
};

struct TensorSpec {
  std::string name;
  anvil_dtype dtype;
  /// Static dims; -1 where the dim is a run-time size.
  std::vector<int64_t> dims;
  /// Per dim: the index of its size in EntryPoint::sizes, or -1 if static.
  std::vector<int> sizeOf;
};

struct EntryPoint {
  std::string name;
  uint64_t arenaBytes = 0;
  /// In the order of the invocation's sizes[].
  std::vector<SizeSpec> sizes;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  /// In-out buffers the runtime keeps across runs (the paged KV pools).
  std::vector<TensorSpec> states;
};

/// A paged decoder's facts (manifest "llm", written by anvil-paged-kv):
/// what the engine needs to drive its step entry point.
struct LlmInfo {
  bool present = false;
  std::string entry;
  int64_t vocabSize = 0, blockSize = 0, maxContext = 0, kvHeads = 0,
          headDim = 0, numPools = 0, maxTokensPerStep = 0, maxSeqsPerStep = 0,
          maxKvBlocks = 0;
  std::vector<int64_t> eosTokenIds, bosTokenIds;
};

struct Manifest {
  std::string target;
  std::vector<std::string> cpuFeatures;
  std::vector<EntryPoint> entryPoints;
  LlmInfo llm;
};

/// Parses and checks `text`; returns false with `error` on any problem:
/// wrong types, unknown dtypes, shape items that are neither a dim nor a
/// declared size, bounds with min > max, and a size no input dim binds
/// (its value would be unknown at run time), and sizes beyond anvil/limits.h
/// (a tensor whose byte size at its sizes' maxima overflows or exceeds
/// kMaxTensorBytes, an arena_bytes above kMaxArenaBytes). Unknown keys are
/// ignored. The section's size and nesting were checked with the artifact
/// (ArtifactView::parse), so parsing cannot recurse deeply.
bool parseManifest(const std::string &text, Manifest &manifest,
                   std::string &error);

/// Parses "f32", "i64", ... ; returns false for an unknown name.
bool parseDtype(const std::string &name, anvil_dtype &dtype);

} // namespace anvil::runtime

#endif // ANVIL_RUNTIME_MANIFEST_H
