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
#include "runtime/tokenizer/Tokenizer.h"

#include <cstdint>
#include <memory>
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

/// The EOS token ids the artifact's manifest records (empty when none).
std::vector<int64_t> artifactEosTokenIds(const runtime::LoadedModel &model);

/// The artifact's tokenizer, or null in `out` when it has none (a status
/// only for a tokenizer section that is there but malformed).
anvil_status
openArtifactTokenizer(const runtime::LoadedModel &model,
                      std::shared_ptr<const tokenizer::Tokenizer> &out);

} // namespace anvil::engine

#endif // ANVIL_RUNTIME_ENGINE_ARTIFACTSTEPMODEL_H
