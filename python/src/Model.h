//===- Model.h - an open artifact, shared by Model and Engine ---*- C++ -*-===//

#ifndef ANVIL_PYTHON_MODEL_H
#define ANVIL_PYTHON_MODEL_H

#include "anvil/anvil.h"

#include <shared_mutex>
#include <string>

namespace anvil::python {

/// An anvil_model that Python may close while other threads use it: calls
/// hold `lock` shared (runs included), close() takes it exclusively, so a
/// model is never released under a running call (anvil_model_release's
/// contract).
class OpenModel {
public:
  OpenModel(const std::string &path, int numThreads, bool skipChecksums,
            const std::string *publicKey);
  ~OpenModel();
  OpenModel(const OpenModel &) = delete;
  OpenModel &operator=(const OpenModel &) = delete;

  /// The model; throws INVALID_ARGUMENT once closed. Hold `lock` shared.
  anvil_model *get() const;
  void close();

  mutable std::shared_mutex lock;

private:
  anvil_model *model = nullptr;
};

} // namespace anvil::python

#endif // ANVIL_PYTHON_MODEL_H
