//===- EngineCApiInternal.h - an anvil_engine over any StepModel *- C++ -*-===//
//
// Not installed: tests (and tools that bring their own StepModel) create a
// C API engine without an artifact.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_ENGINE_ENGINECAPIINTERNAL_H
#define ANVIL_RUNTIME_ENGINE_ENGINECAPIINTERNAL_H

#include "runtime/engine/StepModel.h"
#include "runtime/tokenizer/Tokenizer.h"

#include <memory>

namespace anvil::engine {

/// anvil_engine_create's work after the artifact is opened: `config` may
/// be null; `tokenizer` may be null; `eosTokenIds` apply when the config
/// lists none.
anvil_status
createCEngine(std::unique_ptr<StepModel> model,
              const anvil_engine_config *config,
              std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
              std::vector<int64_t> eosTokenIds, anvil_engine **out_engine);

} // namespace anvil::engine

#endif // ANVIL_RUNTIME_ENGINE_ENGINECAPIINTERNAL_H
