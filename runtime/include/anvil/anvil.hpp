//===- anvil.hpp - RAII handles over the C API -------------------*- C++
//-*-===//
//
// Owning handles for anvil.h's objects, in the ggml/llama.cpp style: the C
// API stays the contract, these only release what they hold.
//
//   anvil::Status status{anvil_model_open_file(path, nullptr, &raw)};
//   if (status) std::cerr << anvil_status_get_message(status.get());
//   anvil::Model model{raw};
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_ANVIL_HPP
#define ANVIL_ANVIL_HPP

#include "anvil/anvil.h"

#include <memory>

namespace anvil {

struct StatusDeleter {
  void operator()(anvil_status status) const { anvil_status_free(status); }
};
struct InstanceDeleter {
  void operator()(anvil_instance *instance) const {
    anvil_instance_release(instance);
  }
};
struct ModelDeleter {
  void operator()(anvil_model *model) const { anvil_model_release(model); }
};
struct TensorDeleter {
  void operator()(anvil_tensor *tensor) const { anvil_tensor_release(tensor); }
};

struct EngineDeleter {
  void operator()(anvil_engine *engine) const { anvil_engine_release(engine); }
};

/// Null means success.
using Status = std::unique_ptr<anvil_status_s, StatusDeleter>;
using Instance = std::unique_ptr<anvil_instance, InstanceDeleter>;
using Model = std::unique_ptr<anvil_model, ModelDeleter>;
using Tensor = std::unique_ptr<anvil_tensor, TensorDeleter>;
using Engine = std::unique_ptr<anvil_engine, EngineDeleter>;

/// Sampling parameters with their defaults filled in.
inline anvil_sampling_params defaultSamplingParams() {
  anvil_sampling_params params;
  anvil_sampling_params_init(&params);
  return params;
}

} // namespace anvil

#endif // ANVIL_ANVIL_HPP
