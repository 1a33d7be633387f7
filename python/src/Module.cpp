//===- Module.cpp - the _anvil extension module ---------------------------===//
//
// The native half of the `anvil` package: thin classes over anvil.h. The
// Python half (python/anvil) checks arguments, names things and documents
// them; this half only calls the C API, releasing the GIL around runs and
// waits.
//
//===----------------------------------------------------------------------===//

#include "python/src/Module.h"
#include "python/src/Status.h"

PYBIND11_MODULE(_anvil, m) {
  m.doc() = "Native part of the anvil package (use `anvil`, not this).";
  anvil::python::registerStatusTranslator();
  anvil::python::defineDtypes(m);
  anvil::python::defineModel(m);
  anvil::python::defineEngine(m);
}
