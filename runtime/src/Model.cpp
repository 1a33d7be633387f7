//===- Model.cpp - loading and running artifacts (the C API) --------------===//

#include "CodeLoader.h"
#include "Manifest.h"
#include "Status.h"
#include "Tensor.h"
#include "ThreadPool.h"

#include "anvil/artifact.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace anvil::runtime;
using anvil::artifact::ArtifactView;
using anvil::artifact::SectionKind;

namespace {

/// The artifact's bytes: a read-only file mapping, or an owned aligned copy.
/// Both are page-aligned, so the weights section can be used in place.
class Bytes {
public:
  ~Bytes() {
    if (mapped)
      munmap(data, size);
    else
      std::free(data);
  }
  bool mapFile(const char *path, std::string &error) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      error =
          std::string("cannot open '") + path + "': " + std::strerror(errno);
      return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      error = std::string("'") + path + "' is not a regular file";
      close(fd);
      return false;
    }
    size = static_cast<size_t>(st.st_size);
    if (size == 0) {
      close(fd);
      return true;
    }
    void *p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
      error = std::string("cannot map '") + path + "': " + std::strerror(errno);
      return false;
    }
    data = static_cast<unsigned char *>(p);
    mapped = true;
    return true;
  }
  bool copy(const void *source, size_t n) {
    size = n;
    data = static_cast<unsigned char *>(
        std::aligned_alloc(4096, (n + 4095) / 4096 * 4096 + 4096));
    if (!data)
      return false;
    std::memcpy(data, source, n);
    return true;
  }
  unsigned char *data = nullptr;
  size_t size = 0;

private:
  bool mapped = false;
};

void poolParallelFor(void *host, int64_t n, int64_t grain,
                     anvil_parallel_fn fn, void *arg) {
  static_cast<ThreadPool *>(host)->parallelFor(n, grain, fn, arg);
}

void *poolScratch(void *host, int thread, size_t bytes) {
  return static_cast<ThreadPool *>(host)->scratch(thread, bytes);
}

void logToStderr(void *, anvil_log_level level, const char *message) {
  static const char *const names[] = {"error", "warning", "info", "debug"};
  if (level <= ANVIL_LOG_WARNING && message)
    std::fprintf(stderr, "anvil: %s: %s\n", names[level], message);
}

/// Bytes of the error buffer each run gives generated code.
constexpr size_t kErrorBufferSize = 512;

/// Arenas of one entry point, reused across runs: a run takes a free one
/// (allocating only when every arena is in use by a concurrent run) and
/// gives it back, so steady-state runs allocate nothing.
class ArenaPool {
public:
  ArenaPool() = default;
  ArenaPool(const ArenaPool &) = delete;
  ~ArenaPool() {
    for (void *arena : free)
      std::free(arena);
  }
  void init(size_t bytes) { size = (bytes + 63) / 64 * 64; }
  void *take() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!free.empty()) {
        void *arena = free.back();
        free.pop_back();
        return arena;
      }
    }
    return std::aligned_alloc(64, size);
  }
  void give(void *arena) {
    std::lock_guard<std::mutex> lock(mutex);
    free.push_back(arena);
  }

private:
  size_t size = 0;
  std::mutex mutex;
  std::vector<void *> free;
};

} // namespace

struct anvil_model_s {
  Bytes bytes;
  std::string manifestText;
  std::string target;
  Manifest manifest;
  LoadedCode code;
  std::vector<anvil_entry_fn> functions; // parallel to manifest.entryPoints
  const unsigned char *weights = nullptr;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<ArenaPool[]> arenas; // parallel to manifest.entryPoints
  anvil_host_api host{sizeof(anvil_host_api),
                      ANVIL_ABI_VERSION,
                      nullptr,
                      1,
                      poolParallelFor,
                      poolScratch,
                      logToStderr,
                      nullptr};

  const EntryPoint *find(const char *name, size_t *index = nullptr) const {
    for (size_t i = 0; name && i < manifest.entryPoints.size(); ++i)
      if (manifest.entryPoints[i].name == name) {
        if (index)
          *index = i;
        return &manifest.entryPoints[i];
      }
    return nullptr;
  }
};

namespace {

anvil_status finishOpen(std::unique_ptr<anvil_model_s> model,
                        const anvil_model_options *options,
                        anvil_model **out_model) {
  std::string error;
  anvil::artifact::ParseOptions parse;
  parse.verifySectionChecksums = !(options && options->skip_checksums);
  auto view =
      ArtifactView::parse(model->bytes.data, model->bytes.size, parse, error);
  if (!view) {
    bool incompatible = error.find("version") != std::string::npos ||
                        error.find("built for target") != std::string::npos;
    return makeStatus(
        incompatible ? ANVIL_INCOMPATIBLE : ANVIL_INVALID_ARTIFACT, error);
  }
  model->target = view->target();
  if (model->target != "cpu")
    return makeStatus(ANVIL_INCOMPATIBLE,
                      "the artifact was built for target '" + model->target +
                          "', which this runtime cannot run");
  const auto *manifestSection = view->find(SectionKind::Manifest);
  model->manifestText.assign(
      reinterpret_cast<const char *>(manifestSection->data),
      manifestSection->size);
  if (!parseManifest(model->manifestText, model->manifest, error))
    return makeStatus(ANVIL_INVALID_ARTIFACT, error);
  for (const std::string &feature : model->manifest.cpuFeatures) {
    bool known;
    if (!cpuHasFeature(feature, known))
      return makeStatus(ANVIL_INCOMPATIBLE,
                        known
                            ? "the artifact needs the CPU feature '" + feature +
                                  "', which this CPU does not have; "
                                  "recompile with a lower --mcpu"
                            : "the artifact needs an unknown CPU feature '" +
                                  feature + "'");
  }
  int threads = options ? options->num_threads : 0;
  if (threads < 0)
    return makeStatus(ANVIL_INVALID_ARGUMENT, "num_threads is negative");
  model->pool = std::make_unique<ThreadPool>(static_cast<unsigned>(threads));
  model->host.host = model->pool.get();
  model->host.num_threads = static_cast<int32_t>(model->pool->size());
  if (const auto *weights = view->find(SectionKind::Weights))
    model->weights = weights->data;
  const auto *code = view->find(SectionKind::Code);
  if (!model->manifest.entryPoints.empty()) {
    if (!code)
      return makeStatus(ANVIL_INVALID_ARTIFACT,
                        "the artifact has entry points but no code section");
    if (!model->code.load(code->data, code->size, error))
      return makeStatus(ANVIL_INVALID_ARTIFACT, error);
    const anvil_code_table *table = model->code.table();
    for (const EntryPoint &entry : model->manifest.entryPoints) {
      anvil_entry_fn fn = nullptr;
      for (uint32_t i = 0; i < table->entry_count; ++i)
        if (table->entries[i].name && entry.name == table->entries[i].name)
          fn = table->entries[i].fn;
      if (!fn)
        return makeStatus(ANVIL_INVALID_ARTIFACT,
                          "the code section has no function for entry point '" +
                              entry.name + "'");
      model->functions.push_back(fn);
    }
    model->arenas.reset(new ArenaPool[model->manifest.entryPoints.size()]);
    for (size_t i = 0; i < model->manifest.entryPoints.size(); ++i)
      model->arenas[i].init(model->manifest.entryPoints[i].arenaBytes);
    if (table->init && table->init(&model->host) != 0)
      return makeStatus(ANVIL_INTERNAL, "the code section's init failed");
  }
  *out_model = model.release();
  return nullptr;
}

std::string describe(const TensorSpec &spec) {
  std::string text = std::string(anvil_dtype_name(spec.dtype)) + "[";
  for (size_t i = 0; i < spec.dims.size(); ++i)
    text += (i ? "x" : "") + std::to_string(spec.dims[i]);
  return text + "]";
}

anvil_status checkTensors(const EntryPoint &entry,
                          const std::vector<TensorSpec> &specs,
                          anvil_tensor *const *tensors, size_t count,
                          const char *what) {
  if (count != specs.size() || (count && !tensors))
    return makeStatus(ANVIL_INVALID_ARGUMENT,
                      "entry point '" + entry.name + "' takes " +
                          std::to_string(specs.size()) + " " + what + ", got " +
                          std::to_string(count));
  for (size_t i = 0; i < count; ++i) {
    const anvil_tensor *t = tensors[i];
    const TensorSpec &spec = specs[i];
    if (!t || t->dtype != spec.dtype || t->dims != spec.dims) {
      std::string got = "nothing";
      if (t) {
        TensorSpec actual{"", t->dtype, t->dims};
        got = describe(actual);
      }
      return makeStatus(ANVIL_INVALID_ARGUMENT,
                        std::string(what) + " '" + spec.name + "' of '" +
                            entry.name + "' must be " + describe(spec) +
                            ", got " + got);
    }
  }
  return nullptr;
}

} // namespace

extern "C" {

anvil_status anvil_model_open_file(const char *path,
                                   const anvil_model_options *options,
                                   anvil_model **out_model) {
  return anvil::runtime::guarded([&]() -> anvil_status {
    if (!path || !out_model)
      return makeStatus(ANVIL_INVALID_ARGUMENT,
                        "path and out_model are required");
    auto model = std::make_unique<anvil_model_s>();
    std::string error;
    if (!model->bytes.mapFile(path, error))
      return makeStatus(ANVIL_NOT_FOUND, error);
    anvil_status status = finishOpen(std::move(model), options, out_model);
    if (status)
      status->message = std::string(path) + ": " + status->message;
    return status;
  });
}

anvil_status anvil_model_open_memory(const void *data, size_t size,
                                     const anvil_model_options *options,
                                     anvil_model **out_model) {
  return anvil::runtime::guarded([&]() -> anvil_status {
    if ((!data && size) || !out_model)
      return makeStatus(ANVIL_INVALID_ARGUMENT,
                        "data and out_model are required");
    auto model = std::make_unique<anvil_model_s>();
    if (!model->bytes.copy(data, size))
      return makeStatus(ANVIL_RESOURCE_EXHAUSTED, "out of memory");
    return finishOpen(std::move(model), options, out_model);
  });
}

void anvil_model_release(anvil_model *model) { delete model; }

const char *anvil_model_manifest(const anvil_model *model) {
  return model->manifestText.c_str();
}
const char *anvil_model_target(const anvil_model *model) {
  return model->target.c_str();
}
size_t anvil_model_entry_point_count(const anvil_model *model) {
  return model->manifest.entryPoints.size();
}
const char *anvil_model_entry_point_name(const anvil_model *model,
                                         size_t index) {
  return index < model->manifest.entryPoints.size()
             ? model->manifest.entryPoints[index].name.c_str()
             : nullptr;
}

anvil_status anvil_model_signature(const anvil_model *model,
                                   const char *entry_point,
                                   size_t *out_input_count,
                                   size_t *out_output_count) {
  return anvil::runtime::guarded([&]() -> anvil_status {
    const EntryPoint *entry = model ? model->find(entry_point) : nullptr;
    if (!entry)
      return makeStatus(ANVIL_NOT_FOUND, std::string("no entry point '") +
                                             (entry_point ? entry_point : "") +
                                             "'");
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
  return anvil::runtime::guarded([&]() -> anvil_status {
    const EntryPoint *entry = model ? model->find(entry_point) : nullptr;
    if (!entry || !out_info)
      return makeStatus(ANVIL_NOT_FOUND, std::string("no entry point '") +
                                             (entry_point ? entry_point : "") +
                                             "'");
    const auto &specs = is_output ? entry->outputs : entry->inputs;
    if (index >= specs.size())
      return makeStatus(ANVIL_NOT_FOUND,
                        "entry point '" + entry->name + "' has only " +
                            std::to_string(specs.size()) +
                            (is_output ? " outputs" : " inputs"));
    const TensorSpec &spec = specs[index];
    out_info->name = spec.name.c_str();
    out_info->dtype = spec.dtype;
    out_info->rank = spec.dims.size();
    for (size_t i = 0; i < spec.dims.size(); ++i)
      out_info->dims[i] = spec.dims[i];
    return nullptr;
  });
}

anvil_status anvil_model_run(anvil_model *model, const char *entry_point,
                             anvil_tensor *const *inputs, size_t input_count,
                             anvil_tensor *const *outputs,
                             size_t output_count) {
  return anvil::runtime::guarded([&]() -> anvil_status {
    size_t index = 0;
    const EntryPoint *entry =
        model ? model->find(entry_point, &index) : nullptr;
    if (!entry)
      return makeStatus(ANVIL_NOT_FOUND, std::string("no entry point '") +
                                             (entry_point ? entry_point : "") +
                                             "'");
    if (anvil_status s =
            checkTensors(*entry, entry->inputs, inputs, input_count, "inputs"))
      return s;
    if (anvil_status s = checkTensors(*entry, entry->outputs, outputs,
                                      output_count, "outputs"))
      return s;
    std::vector<const void *> in(input_count);
    std::vector<void *> out(output_count);
    for (size_t i = 0; i < input_count; ++i)
      in[i] = inputs[i]->data;
    for (size_t i = 0; i < output_count; ++i)
      out[i] = outputs[i]->data;
    // Concurrent runs each hold their own arena (see ArenaPool).
    void *arena = nullptr;
    if (entry->arenaBytes) {
      arena = model->arenas[index].take();
      if (!arena)
        return makeStatus(ANVIL_RESOURCE_EXHAUSTED,
                          "cannot allocate the " +
                              std::to_string(entry->arenaBytes) +
                              "-byte arena");
    }
    char error[kErrorBufferSize] = {0};
    anvil_invocation invocation{};
    invocation.struct_size = sizeof(anvil_invocation);
    invocation.inputs = in.data();
    invocation.num_inputs = input_count;
    invocation.outputs = out.data();
    invocation.num_outputs = output_count;
    invocation.arena = arena;
    invocation.weights = model->weights;
    invocation.error = error;
    invocation.error_size = sizeof(error);
    int rc = model->functions[index](&model->host, &invocation);
    error[sizeof(error) - 1] = 0; // whatever the code wrote
    if (arena)
      model->arenas[index].give(arena);
    if (rc != 0)
      return makeStatus(ANVIL_EXECUTION_FAILED,
                        "entry point '" + entry->name + "' failed" +
                            (error[0] ? std::string(": ") + error
                                      : " with code " + std::to_string(rc)));
    return nullptr;
  });
}

} // extern "C"
