//===- ModelHandle.h - what an anvil_model handle holds ---------*- C++ -*-===//
//
// Shared by the model C API (CApi.cpp) and the engine's C API, which keeps
// the loaded model alive for as long as an engine runs it.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_MODELHANDLE_H
#define ANVIL_RUNTIME_MODELHANDLE_H

#include "LoadedModel.h"

#include <memory>

struct anvil_model_s {
  std::shared_ptr<anvil::runtime::LoadedModel> model;
};

#endif // ANVIL_RUNTIME_MODELHANDLE_H
