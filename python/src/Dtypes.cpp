//===- Dtypes.cpp - anvil/dtypes.def for Python ---------------------------===//
//
// The one dtype table, expanded for python/anvil/dtypes.py (which maps it
// to numpy dtypes); Python never keeps a copy of the numbers.
//
//===----------------------------------------------------------------------===//

#include "python/src/Module.h"

#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace anvil::python {

void defineDtypes(py::module_ &m) {
  m.def(
      "dtype_table",
      [] {
        py::list table;
#define ANVIL_DTYPE(ID, VALUE, NAME, BITS, KIND, STORAGE, NPY, ONNX)           \
  table.append(py::make_tuple(VALUE, NAME, BITS, NPY));
#include "anvil/dtypes.def"
        return table;
      },
      "[(value, name, bits, numpy descriptor or '')] from anvil/dtypes.def.");
}

} // namespace anvil::python
