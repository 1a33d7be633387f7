//===- Module.h - the parts of the _anvil module ----------------*- C++ -*-===//

#ifndef ANVIL_PYTHON_MODULE_H
#define ANVIL_PYTHON_MODULE_H

#include <pybind11/pybind11.h>

namespace anvil::python {

void defineDtypes(pybind11::module_ &m);
void defineModel(pybind11::module_ &m);
void defineEngine(pybind11::module_ &m);

} // namespace anvil::python

#endif // ANVIL_PYTHON_MODULE_H
