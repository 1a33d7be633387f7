//===- ArtifactStepModel.h - the paged step of a compiled artifact -*- C++
//-*-===//
//
// The StepModel the engine runs for a .anvil artifact whose manifest has an
// "llm" object (anvilc's paged-KV rewrite, anvil-paged-kv): it owns the KV
// pool (the entry point's state buffers) and calls the step entry point
// through LoadedModel with the batch's run-time sizes.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_ENGINE_ARTIFACTSTEPMODEL_H
#define ANVIL_RUNTIME_ENGINE_ARTIFACTSTEPMODEL_H

#include "StepModel.h"

#include <memory>

namespace anvil::runtime {
class LoadedModel;
}

namespace anvil::engine {

/// Makes the step model of `model`, which must outlive it. ANVIL_INCOMPATIBLE
/// when the artifact has no paged step function (compiled with
/// --kv-cache=graph, or not a decoder); ANVIL_INVALID_ARTIFACT when its
/// "llm" object and the step's signature disagree.
anvil_status openArtifactStepModel(runtime::LoadedModel &model,
                                   std::unique_ptr<StepModel> &out);

} // namespace anvil::engine

#endif // ANVIL_RUNTIME_ENGINE_ARTIFACTSTEPMODEL_H
