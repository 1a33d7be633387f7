//===- Status.cpp - C API statuses as Python exceptions -------------------===//

#include "python/src/Status.h"

#include "anvil/anvil.hpp"

namespace py = pybind11;

namespace anvil::python {

void check(anvil_status raw) {
  anvil::Status status{raw};
  if (!status)
    return;
  throw StatusError(anvil_status_get_code(status.get()),
                    anvil_status_get_message(status.get()));
}

void fail(anvil_status_code code, std::string message) {
  throw StatusError(code, std::move(message));
}

void registerStatusTranslator() {
  py::register_exception_translator([](std::exception_ptr pending) {
    try {
      if (pending)
        std::rethrow_exception(pending);
    } catch (const StatusError &error) {
      // The classes live in Python so that they can be caught, subclassed
      // and documented like any other exception.
      py::object exception =
          py::module_::import("anvil.errors")
              .attr("error_for_code")(int(error.code), error.message);
      PyErr_SetObject(reinterpret_cast<PyObject *>(Py_TYPE(exception.ptr())),
                      exception.ptr());
    }
  });
}

} // namespace anvil::python
