//===- Model.cpp - _anvil.Model: open, inspect, run -----------------------===//

#include "python/src/Model.h"
#include "python/src/Module.h"
#include "python/src/Status.h"

#include "anvil/anvil.hpp"

#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <vector>

namespace py = pybind11;

namespace anvil::python {

OpenModel::OpenModel(const std::string &path, int numThreads,
                     bool skipChecksums, const std::string *publicKey) {
  anvil_model_options options{};
  options.skip_checksums = skipChecksums ? 1 : 0;
  options.num_threads = numThreads;
  if (publicKey) {
    if (publicKey->size() != 32)
      fail(ANVIL_INVALID_ARGUMENT,
           "public_key must be the 32 raw bytes of an Ed25519 key, not " +
               std::to_string(publicKey->size()) + " bytes");
    options.required_public_key =
        reinterpret_cast<const unsigned char *>(publicKey->data());
  }
  anvil_status status;
  {
    // Opening maps the file, checks checksums and starts threads.
    py::gil_scoped_release release;
    status = anvil_model_open_file(path.c_str(), &options, &model);
  }
  check(status);
}

OpenModel::~OpenModel() { anvil_model_release(model); }

anvil_model *OpenModel::get() const {
  if (!model)
    fail(ANVIL_INVALID_ARGUMENT, "the model is closed");
  return model;
}

void OpenModel::close() {
  std::unique_lock<std::shared_mutex> exclusive(lock);
  anvil_model_release(model);
  model = nullptr;
}

namespace {

py::tuple tensorInfo(anvil_model *model, const std::string &entry, int isOutput,
                     size_t index) {
  anvil_tensor_info info;
  check(anvil_model_tensor_info(model, entry.c_str(), isOutput, index, &info));
  py::list dims, sizes;
  for (size_t axis = 0; axis < info.rank; ++axis) {
    int64_t size = -1;
    check(anvil_model_dim_size(model, entry.c_str(), isOutput, index, axis,
                               &size));
    dims.append(info.dims[axis]);
    sizes.append(size);
  }
  return py::make_tuple(info.name, int(info.dtype), dims, sizes);
}

/// {"inputs": [(name, dtype, dims, size_of_dim)], "outputs": [...],
///  "sizes": [(name, min, max)]}; dims are -1 where size_of_dim says which
/// run-time size the dim is.
py::dict signature(const OpenModel &open, const std::string &entry) {
  std::shared_lock<std::shared_mutex> shared(open.lock);
  anvil_model *model = open.get();
  size_t inputs = 0, outputs = 0, sizeCount = 0;
  check(anvil_model_signature(model, entry.c_str(), &inputs, &outputs));
  check(anvil_model_size_count(model, entry.c_str(), &sizeCount));
  py::dict result;
  py::list in, out, sizes;
  for (size_t i = 0; i < inputs; ++i)
    in.append(tensorInfo(model, entry, 0, i));
  for (size_t i = 0; i < outputs; ++i)
    out.append(tensorInfo(model, entry, 1, i));
  for (size_t i = 0; i < sizeCount; ++i) {
    anvil_size_info info;
    check(anvil_model_size_info(model, entry.c_str(), i, &info));
    sizes.append(py::make_tuple(info.name, info.min, info.max));
  }
  result["inputs"] = in;
  result["outputs"] = out;
  result["sizes"] = sizes;
  return result;
}

/// Wraps a C-contiguous buffer (borrowed: `buffer` outlives the tensor).
/// The buffer protocol, not pybind11's numpy API: Debian's pybind11 2.10
/// predates numpy 2's dtype layout and misreads its arrays.
anvil::Tensor wrap(const py::buffer_info &buffer, anvil_dtype dtype,
                   const std::string &what) {
  std::vector<int64_t> dims(buffer.shape.begin(), buffer.shape.end());
  py::ssize_t stride = buffer.itemsize;
  for (size_t axis = dims.size(); axis-- > 0;) {
    if (dims[axis] > 1 && buffer.strides[axis] != stride)
      fail(ANVIL_INVALID_ARGUMENT, what + " is not C-contiguous");
    stride *= buffer.shape[axis];
  }
  anvil_tensor *tensor = nullptr;
  check(anvil_tensor_wrap(dtype, dims.size(), dims.data(), buffer.ptr,
                          size_t(buffer.size * buffer.itemsize), &tensor));
  return anvil::Tensor{tensor};
}

/// Runs `entry` on `inputs`, writing `outputs` (both C-contiguous buffers
/// in signature order: python/anvil/model.py checks names, dtypes and ranks
/// and creates the outputs with the sizes' values). Shapes and bounds are
/// checked by anvil_model_run.
void run(const OpenModel &open, const std::string &entry,
         const std::vector<py::buffer> &inputs,
         const std::vector<py::buffer> &outputs) {
  std::shared_lock<std::shared_mutex> shared(open.lock);
  anvil_model *model = open.get();
  const char *name = entry.c_str();
  size_t inputCount = 0, outputCount = 0;
  check(anvil_model_signature(model, name, &inputCount, &outputCount));
  if (inputs.size() != inputCount || outputs.size() != outputCount)
    fail(ANVIL_INVALID_ARGUMENT,
         "entry point '" + entry + "' takes " + std::to_string(inputCount) +
             " inputs and " + std::to_string(outputCount) + " outputs");
  // The buffer views keep the memory pinned until they are destroyed.
  std::vector<py::buffer_info> views;
  views.reserve(inputCount + outputCount);
  std::vector<anvil::Tensor> tensors;
  std::vector<anvil_tensor *> pointers[2];
  for (int isOutput = 0; isOutput < 2; ++isOutput) {
    const auto &buffers = isOutput ? outputs : inputs;
    for (size_t i = 0; i < buffers.size(); ++i) {
      anvil_tensor_info info;
      check(anvil_model_tensor_info(model, name, isOutput, i, &info));
      views.push_back(buffers[i].request(/*writable=*/isOutput != 0));
      tensors.push_back(wrap(views.back(), info.dtype,
                             std::string(isOutput ? "output '" : "input '") +
                                 info.name + "'"));
      pointers[isOutput].push_back(tensors.back().get());
    }
  }
  anvil_status status;
  {
    py::gil_scoped_release release;
    status = anvil_model_run(model, name, pointers[0].data(), inputCount,
                             pointers[1].data(), outputCount);
  }
  check(status);
}

} // namespace

void defineModel(py::module_ &m) {
  py::class_<OpenModel, std::shared_ptr<OpenModel>>(m, "Model")
      .def(py::init([](const std::string &path, int numThreads,
                       bool skipChecksums, std::optional<py::bytes> key) {
             std::string keyBytes = key ? std::string(*key) : std::string();
             return std::make_shared<OpenModel>(path, numThreads, skipChecksums,
                                                key ? &keyBytes : nullptr);
           }),
           py::arg("path"), py::arg("num_threads"), py::arg("skip_checksums"),
           py::arg("public_key"))
      .def("close", &OpenModel::close, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("target",
                             [](const OpenModel &open) {
                               std::shared_lock<std::shared_mutex> s(open.lock);
                               return std::string(
                                   anvil_model_target(open.get()));
                             })
      .def_property_readonly("manifest",
                             [](const OpenModel &open) {
                               std::shared_lock<std::shared_mutex> s(open.lock);
                               return std::string(
                                   anvil_model_manifest(open.get()));
                             })
      .def_property_readonly(
          "entry_points",
          [](const OpenModel &open) {
            std::shared_lock<std::shared_mutex> s(open.lock);
            std::vector<std::string> names;
            size_t count = anvil_model_entry_point_count(open.get());
            for (size_t i = 0; i < count; ++i)
              names.push_back(anvil_model_entry_point_name(open.get(), i));
            return names;
          })
      .def("signature", &signature)
      .def("run", &run);
}

} // namespace anvil::python
