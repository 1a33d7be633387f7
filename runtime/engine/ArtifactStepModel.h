//===- ArtifactStepModel.h - the step model of a loaded artifact *- C++ -*-===//
//
// What anvil_engine_create needs from a loaded artifact: its paged-KV step
// function as a StepModel, its EOS ids and its tokenizer. The paged-KV
// rewrite (issue #11's compiler part) decides what the artifact holds;
// ArtifactStepModel.cpp implements these against it.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_ENGINE_ARTIFACTSTEPMODEL_H
#define ANVIL_RUNTIME_ENGINE_ARTIFACTSTEPMODEL_H

#include "runtime/engine/StepModel.h"
#include "runtime/src/Manifest.h"
#include "runtime/tokenizer/Tokenizer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace anvil::runtime {
class LoadedModel;
} // namespace anvil::runtime

namespace anvil::engine {

/// The paged-KV step function of `model` (which the StepModel keeps
/// alive). ANVIL_INCOMPATIBLE when the artifact has none;
/// ANVIL_INVALID_ARGUMENT for a null model.
anvil_status openArtifactStepModel(std::shared_ptr<runtime::LoadedModel> model,
                                   std::unique_ptr<StepModel> &out);

/// How the engine lays out a paged step's state buffers (the K/V pools,
/// then an int8 cache's scales) in one allocation: each state is kv_blocks
/// blocks of its own bytes.
struct KvStateLayout {
  /// Slices start at multiples of this many bytes (a slice of 1-byte
  /// elements may end anywhere).
  static constexpr uint64_t kSliceAlign = 64;
  /// Bytes of one block of each state (its dims after kv_blocks times its
  /// dtype's size), in the entry point's order.
  std::vector<int64_t> blockBytes;
  /// Their sum: what a KV budget in bytes is divided by.
  int64_t bytesPerBlock = 0;
  /// Each state's byte offset in an allocation of `blocks` blocks, and in
  /// `total` that allocation's size.
  std::vector<uint64_t> offsets(int64_t blocks, uint64_t &total) const;
};

/// Checks the states of the paged step `e` against the manifest's `llm`
/// (kvBlocksSize: the index of the kv_blocks size in e.sizes) and fills
/// `out`: "" on success, else what is wrong, to follow "the paged step
/// '<name>' ".
std::string planKvStates(const runtime::EntryPoint &e,
                         const runtime::LlmInfo &llm, int kvBlocksSize,
                         KvStateLayout &out);

/// The EOS token ids the artifact's manifest records (empty when none).
std::vector<int64_t> artifactEosTokenIds(const runtime::LoadedModel &model);

/// The artifact's tokenizer, or null in `out` when it has none (a status
/// only for a tokenizer section that is there but malformed).
anvil_status
openArtifactTokenizer(const runtime::LoadedModel &model,
                      std::shared_ptr<const tokenizer::Tokenizer> &out);

} // namespace anvil::engine

#endif // ANVIL_RUNTIME_ENGINE_ARTIFACTSTEPMODEL_H
