//===- ArtifactStepModel.cpp - the step model of a loaded artifact --------===//
//
// PLACEHOLDER (issue #11): the integrator replaces these three functions
// once the paged-KV rewrite defines the artifact's step entry point, its
// manifest's "llm" facts (StepModelInfo, EOS ids) and its tokenizer
// section. Until then no artifact has a step function, and
// anvil_engine_create answers ANVIL_INCOMPATIBLE.
//
//===----------------------------------------------------------------------===//

#include "runtime/engine/ArtifactStepModel.h"

#include "runtime/src/LoadedModel.h"
#include "runtime/src/Status.h"

namespace anvil::engine {

anvil_status openArtifactStepModel(std::shared_ptr<runtime::LoadedModel> model,
                                   std::unique_ptr<StepModel> &out) {
  (void)model;
  (void)out;
  // PLACEHOLDER: find the step entry point and wrap it.
  return runtime::makeStatus(ANVIL_INCOMPATIBLE,
                             "this artifact has no paged-KV step function");
}

std::vector<int64_t> artifactEosTokenIds(const runtime::LoadedModel &model) {
  (void)model;
  return {}; // PLACEHOLDER: the manifest's EOS ids.
}

anvil_status
openArtifactTokenizer(const runtime::LoadedModel &model,
                      std::shared_ptr<const tokenizer::Tokenizer> &out) {
  (void)model;
  out.reset(); // PLACEHOLDER: Tokenizer::load on the tokenizer section.
  return nullptr;
}

} // namespace anvil::engine
