//===- Status.h - C API statuses as Python exceptions -----------*- C++ -*-===//
//
// A failed C API call throws StatusError; the translator registered by
// registerStatusTranslator turns it into the anvil.Error subclass for its
// code (python/anvil/errors.py), so Python sees `.code` and `.message`.
// Throwing never needs the GIL; the translation runs where pybind11 holds it.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PYTHON_STATUS_H
#define ANVIL_PYTHON_STATUS_H

#include "anvil/anvil.h"

#include <pybind11/pybind11.h>

#include <exception>
#include <string>

namespace anvil::python {

struct StatusError : std::exception {
  StatusError(anvil_status_code code, std::string message)
      : code(code), message(std::move(message)) {}
  const char *what() const noexcept override { return message.c_str(); }
  anvil_status_code code;
  std::string message;
};

/// Frees `status` and throws its code and message; returns when it is NULL.
void check(anvil_status status);

[[noreturn]] void fail(anvil_status_code code, std::string message);

void registerStatusTranslator();

} // namespace anvil::python

#endif // ANVIL_PYTHON_STATUS_H
