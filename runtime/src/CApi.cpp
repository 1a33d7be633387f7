//===- CApi.cpp - the C API over instances and loaded models --------------===//
//
// Argument checks, name lookups and status messages; the work is in
// Instance and LoadedModel. Tensors and statuses are in Tensor.cpp.
//
//===----------------------------------------------------------------------===//

#include "Instance.h"
#include "LoadedModel.h"
#include "ModelHandle.h"
#include "Signature.h"
#include "SignatureCheck.h"
#include "Status.h"
#include "Tensor.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

using namespace anvil::runtime;

namespace {

/// The first version of anvil_instance_options ends after num_threads.
constexpr size_t kInstanceOptionsV1Size =
    offsetof(anvil_instance_options, num_threads) + sizeof(int);

/// Null for a num_threads in [0, ANVIL_MAX_THREADS], else why not.
anvil_status checkThreadCount(int threads) {
  if (threads < 0)
    return makeStatus(ANVIL_INVALID_ARGUMENT, "num_threads is negative");
  if (threads > ANVIL_MAX_THREADS)
    return makeStatus(ANVIL_INVALID_ARGUMENT,
                      "num_threads " + std::to_string(threads) +
                          " is above the limit of " +
                          std::to_string(ANVIL_MAX_THREADS));
  return nullptr;
}

anvil_status open(std::unique_ptr<ArtifactBytes> bytes,
                  const anvil_model_options *options, anvil_model **out_model) {
  int threads = options ? options->num_threads : 0;
  if (anvil_status status = checkThreadCount(threads))
    return status;
  // Before anything else reads the artifact, and before its code loads.
  if (options && options->required_public_key)
    if (anvil_status status =
            checkRequiredSignature(*bytes, options->required_public_key))
      return status;
  std::shared_ptr<Instance> instance;
  if (options && options->instance) {
    if (threads != 0)
      return makeStatus(ANVIL_INVALID_ARGUMENT,
                        "num_threads must be 0 with an instance: the "
                        "instance's threads run the model");
    instance = options->instance->instance;
  } else {
    instance = std::make_shared<Instance>(static_cast<unsigned>(threads));
  }
  auto handle = std::make_unique<anvil_model_s>();
  std::unique_ptr<LoadedModel> loaded;
  if (anvil_status status = LoadedModel::open(
          std::move(bytes), !(options && options->skip_checksums),
          std::move(instance), loaded))
    return status;
  handle->model = std::move(loaded);
  *out_model = handle.release();
  return nullptr;
}

anvil_status noEntry(const char *entry_point) {
  return makeStatus(ANVIL_NOT_FOUND, std::string("no entry point '") +
                                         (entry_point ? entry_point : "") +
                                         "'");
}

const EntryPoint *findEntry(const anvil_model *model, const char *name,
                            size_t *index = nullptr) {
  if (!model)
    return nullptr;
  int64_t i = model->model->findEntry(name);
  if (i < 0)
    return nullptr;
  if (index)
    *index = static_cast<size_t>(i);
  return &model->model->manifest().entryPoints[static_cast<size_t>(i)];
}

/// Input or output `index` of `entry`, or a NOT_FOUND status in `status`.
const TensorSpec *findTensor(const EntryPoint &entry, int is_output,
                             size_t index, anvil_status &status) {
  const auto &specs = is_output ? entry.outputs : entry.inputs;
  if (index < specs.size())
    return &specs[index];
  status =
      makeStatus(ANVIL_NOT_FOUND, "entry point '" + entry.name + "' has only " +
                                      std::to_string(specs.size()) +
                                      (is_output ? " outputs" : " inputs"));
  return nullptr;
}

} // namespace

extern "C" {

anvil_status anvil_instance_create(const anvil_instance_options *options,
                                   anvil_instance **out_instance) {
  return guarded([&]() -> anvil_status {
    if (!out_instance)
      return makeStatus(ANVIL_INVALID_ARGUMENT, "out_instance is NULL");
    int threads = 0;
    if (options) {
      if (options->struct_size < kInstanceOptionsV1Size)
        return makeStatus(ANVIL_INVALID_ARGUMENT,
                          "anvil_instance_options.struct_size is " +
                              std::to_string(options->struct_size) +
                              "; set it to sizeof(anvil_instance_options)");
      threads = options->num_threads;
    }
    if (anvil_status status = checkThreadCount(threads))
      return status;
    auto handle = std::make_unique<anvil_instance_s>();
    handle->instance =
        std::make_shared<Instance>(static_cast<unsigned>(threads));
    *out_instance = handle.release();
    return nullptr;
  });
}

void anvil_instance_release(anvil_instance *instance) { delete instance; }

size_t anvil_instance_thread_count(const anvil_instance *instance) {
  return instance->instance->pool().size();
}

anvil_status anvil_model_open_file(const char *path,
                                   const anvil_model_options *options,
                                   anvil_model **out_model) {
  return guarded([&]() -> anvil_status {
    if (!path || !out_model)
      return makeStatus(ANVIL_INVALID_ARGUMENT,
                        "path and out_model are required");
    auto bytes = std::make_unique<ArtifactBytes>();
    std::string error;
    if (!bytes->mapFile(path, error))
      return makeStatus(ANVIL_NOT_FOUND, error);
    anvil_status status = open(std::move(bytes), options, out_model);
    if (status)
      status->message = std::string(path) + ": " + status->message;
    return status;
  });
}

anvil_status anvil_model_open_memory(const void *data, size_t size,
                                     const anvil_model_options *options,
                                     anvil_model **out_model) {
  return guarded([&]() -> anvil_status {
    if ((!data && size) || !out_model)
      return makeStatus(ANVIL_INVALID_ARGUMENT,
                        "data and out_model are required");
    auto bytes = std::make_unique<ArtifactBytes>();
    if (!bytes->copy(data, size))
      return makeStatus(ANVIL_RESOURCE_EXHAUSTED, "out of memory");
    return open(std::move(bytes), options, out_model);
  });
}

void anvil_model_release(anvil_model *model) { delete model; }

const char *anvil_model_manifest(const anvil_model *model) {
  return model->model->manifestText().c_str();
}
const char *anvil_model_target(const anvil_model *model) {
  return model->model->target().c_str();
}
size_t anvil_model_entry_point_count(const anvil_model *model) {
  return model->model->manifest().entryPoints.size();
}
const char *anvil_model_entry_point_name(const anvil_model *model,
                                         size_t index) {
  const auto &entries = model->model->manifest().entryPoints;
  return index < entries.size() ? entries[index].name.c_str() : nullptr;
}

anvil_status anvil_model_signature(const anvil_model *model,
                                   const char *entry_point,
                                   size_t *out_input_count,
                                   size_t *out_output_count) {
  return guarded([&]() -> anvil_status {
    const EntryPoint *entry = findEntry(model, entry_point);
    if (!entry)
      return noEntry(entry_point);
    if (out_input_count)
      *out_input_count = entry->inputs.size();
    if (out_output_count)
      *out_output_count = entry->outputs.size();
    return nullptr;
  });
}

anvil_status anvil_model_tensor_info(const anvil_model *model,
                                     const char *entry_point, int is_output,
                                     size_t index,
                                     anvil_tensor_info *out_info) {
  return guarded([&]() -> anvil_status {
    const EntryPoint *entry = findEntry(model, entry_point);
    if (!entry || !out_info)
      return noEntry(entry_point);
    anvil_status status = nullptr;
    const TensorSpec *spec = findTensor(*entry, is_output, index, status);
    if (!spec)
      return status;
    out_info->name = spec->name.c_str();
    out_info->dtype = spec->dtype;
    out_info->rank = spec->dims.size();
    for (size_t i = 0; i < spec->dims.size(); ++i)
      out_info->dims[i] = spec->dims[i]; // -1 for a run-time size
    return nullptr;
  });
}

anvil_status anvil_model_size_count(const anvil_model *model,
                                    const char *entry_point,
                                    size_t *out_count) {
  return guarded([&]() -> anvil_status {
    const EntryPoint *entry = findEntry(model, entry_point);
    if (!entry || !out_count)
      return noEntry(entry_point);
    *out_count = entry->sizes.size();
    return nullptr;
  });
}

anvil_status anvil_model_size_info(const anvil_model *model,
                                   const char *entry_point, size_t index,
                                   anvil_size_info *out_info) {
  return guarded([&]() -> anvil_status {
    const EntryPoint *entry = findEntry(model, entry_point);
    if (!entry || !out_info)
      return noEntry(entry_point);
    if (index >= entry->sizes.size())
      return makeStatus(ANVIL_NOT_FOUND,
                        "entry point '" + entry->name + "' has only " +
                            std::to_string(entry->sizes.size()) + " sizes");
    const SizeSpec &size = entry->sizes[index];
    out_info->name = size.name.c_str();
    out_info->min = size.min;
    out_info->max = size.max;
    return nullptr;
  });
}

anvil_status anvil_model_dim_size(const anvil_model *model,
                                  const char *entry_point, int is_output,
                                  size_t index, size_t axis,
                                  int64_t *out_size_index) {
  return guarded([&]() -> anvil_status {
    const EntryPoint *entry = findEntry(model, entry_point);
    if (!entry || !out_size_index)
      return noEntry(entry_point);
    anvil_status status = nullptr;
    const TensorSpec *spec = findTensor(*entry, is_output, index, status);
    if (!spec)
      return status;
    if (axis >= spec->sizeOf.size())
      return makeStatus(ANVIL_NOT_FOUND, "tensor '" + spec->name +
                                             "' has rank " +
                                             std::to_string(spec->dims.size()));
    *out_size_index = spec->sizeOf[axis];
    return nullptr;
  });
}

anvil_status anvil_model_run(anvil_model *model, const char *entry_point,
                             anvil_tensor *const *inputs, size_t input_count,
                             anvil_tensor *const *outputs,
                             size_t output_count) {
  return guarded([&]() -> anvil_status {
    size_t index = 0;
    const EntryPoint *entry = findEntry(model, entry_point, &index);
    if (!entry)
      return noEntry(entry_point);
    if ((input_count && !inputs) || (output_count && !outputs))
      return makeStatus(ANVIL_INVALID_ARGUMENT,
                        "inputs and outputs are required");
    std::vector<TensorShape> inShapes(input_count), outShapes(output_count);
    std::vector<const void *> in(input_count);
    std::vector<void *> out(output_count);
    for (size_t i = 0; i < input_count; ++i) {
      if (!inputs[i])
        return makeStatus(ANVIL_INVALID_ARGUMENT,
                          "input " + std::to_string(i) + " is NULL");
      inShapes[i] = {inputs[i]->dtype, inputs[i]->dims.data(),
                     inputs[i]->dims.size()};
      in[i] = inputs[i]->data;
    }
    for (size_t i = 0; i < output_count; ++i) {
      if (!outputs[i])
        return makeStatus(ANVIL_INVALID_ARGUMENT,
                          "output " + std::to_string(i) + " is NULL");
      outShapes[i] = {outputs[i]->dtype, outputs[i]->dims.data(),
                      outputs[i]->dims.size()};
      out[i] = outputs[i]->data;
    }
    std::vector<int64_t> sizes;
    if (anvil_status status =
            checkSignature(*entry, inShapes.data(), input_count,
                           outShapes.data(), output_count, sizes))
      return status;
    Invocation call;
    call.inputs = in.data();
    call.inputCount = input_count;
    call.outputs = out.data();
    call.outputCount = output_count;
    call.sizes = sizes.data();
    call.sizeCount = sizes.size();
    return model->model->run(index, call);
  });
}

} // extern "C"
