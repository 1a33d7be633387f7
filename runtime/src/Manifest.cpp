//===- Manifest.cpp - the artifact's manifest, parsed ---------------------===//

#include "Manifest.h"

#include "anvil/artifact.h"
#include "anvil/limits.h"

#include <nlohmann/json.hpp>

namespace anvil::runtime {

using Json = nlohmann::json;

bool parseDtype(const std::string &name, anvil_dtype &dtype) {
#define ANVIL_DTYPE(ID, VALUE, NAME, BITS, KIND, STORAGE, NPY, ONNX)           \
  if (name == NAME) {                                                          \
    dtype = ANVIL_DTYPE_##ID;                                                  \
    return true;                                                               \
  }
#include "anvil/dtypes.def"
  return false;
}

namespace {

// Built with -fno-exceptions, nlohmann aborts on a wrong-typed access, so
// every access below checks the type first.

bool getString(const Json &object, const char *key, std::string &out) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string())
    return false;
  out = it->get<std::string>();
  return true;
}

bool parseTensors(const Json &list, const std::vector<SizeSpec> &sizes,
                  std::vector<TensorSpec> &out, const std::string &where,
                  std::string &error) {
  if (!list.is_array()) {
    error = where + " is not a list";
    return false;
  }
  for (const Json &item : list) {
    TensorSpec spec;
    std::string dtype;
    if (!item.is_object() || !getString(item, "name", spec.name) ||
        !getString(item, "dtype", dtype)) {
      error = where + ": each tensor needs a name and a dtype";
      return false;
    }
    if (!parseDtype(dtype, spec.dtype)) {
      error = where + ": tensor '" + spec.name + "' has unknown dtype '" +
              dtype + "'";
      return false;
    }
    auto shape = item.find("shape");
    if (shape == item.end() || !shape->is_array() ||
        shape->size() > ANVIL_MAX_RANK) {
      error = where + ": tensor '" + spec.name +
              "' needs a shape of rank <= " + std::to_string(ANVIL_MAX_RANK);
      return false;
    }
    for (const Json &dim : *shape) {
      if (dim.is_string()) {
        // A run-time size, by name.
        const std::string symbol = dim.get<std::string>();
        int found = -1;
        for (size_t i = 0; i < sizes.size(); ++i)
          if (sizes[i].name == symbol)
            found = static_cast<int>(i);
        if (found < 0) {
          error = where + ": tensor '" + spec.name + "' has dimension '" +
                  symbol + "', which is not in the entry point's sizes";
          return false;
        }
        spec.dims.push_back(-1);
        spec.sizeOf.push_back(found);
        continue;
      }
      if (!dim.is_number_integer() || dim.get<int64_t>() < 0) {
        error = where + ": tensor '" + spec.name +
                "' has a dimension that is neither a non-negative integer "
                "nor a size name";
        return false;
      }
      spec.dims.push_back(dim.get<int64_t>());
      spec.sizeOf.push_back(-1);
    }
    out.push_back(std::move(spec));
  }
  return true;
}

/// True if `spec` fits the runtime's tensor limit at the maxima of its
/// sizes; otherwise false with `error` giving the size (or saying that it
/// overflows, which a shape with a 0 dim after huge ones is also called:
/// it is refused either way). The runtime allocates and the code addresses
/// tensors of this size, so an overflowing or absurd byte size is refused
/// at load, not when a run first computes it.
bool checkTensorBytes(const TensorSpec &spec,
                      const std::vector<SizeSpec> &sizes,
                      const std::string &where, std::string &error) {
  uint64_t elements = 1;
  bool overflow = false;
  for (size_t d = 0; d < spec.dims.size(); ++d) {
    int64_t dim = spec.sizeOf[d] < 0 ? spec.dims[d] : sizes[spec.sizeOf[d]].max;
    overflow |=
        __builtin_mul_overflow(elements, static_cast<uint64_t>(dim), &elements);
  }
  uint64_t bits = 0;
  overflow |=
      __builtin_mul_overflow(elements, anvil_dtype_bits(spec.dtype), &bits);
  uint64_t bytes = bits / 8 + (bits % 8 != 0);
  if (!overflow && bytes <= limits::kMaxTensorBytes)
    return true;
  error = where + ": tensor '" + spec.name + "' " +
          (overflow ? std::string("has a byte size that overflows 64 bits")
                    : "needs " + std::to_string(bytes) + " bytes") +
          ", more than the runtime's limit of " +
          std::to_string(limits::kMaxTensorBytes) +
          " bytes per tensor (docs/security.md)";
  return false;
}

bool parseSizes(const Json &item, const std::string &where,
                std::vector<SizeSpec> &out, std::string &error) {
  auto sizes = item.find("sizes");
  if (sizes == item.end())
    return true; // all static
  if (!sizes->is_array()) {
    error = where + ": sizes is not a list";
    return false;
  }
  for (const Json &s : *sizes) {
    SizeSpec spec;
    auto min = s.is_object() ? s.find("min") : s.end();
    auto max = s.is_object() ? s.find("max") : s.end();
    if (!s.is_object() || !getString(s, "name", spec.name) ||
        spec.name.empty() || min == s.end() || max == s.end() ||
        !min->is_number_integer() || !max->is_number_integer()) {
      error = where + ": each size needs a name and integer min and max";
      return false;
    }
    spec.min = min->get<int64_t>();
    spec.max = max->get<int64_t>();
    if (spec.min < 0 || spec.min > spec.max) {
      error = where + ": size '" + spec.name + "' has bounds [" +
              std::to_string(spec.min) + ", " + std::to_string(spec.max) +
              "]; they need 0 <= min <= max";
      return false;
    }
    for (const SizeSpec &other : out)
      if (other.name == spec.name) {
        error = where + ": size '" + spec.name + "' is listed twice";
        return false;
      }
    out.push_back(std::move(spec));
  }
  return true;
}

bool parseLlm(const Json &item, LlmInfo &llm, std::string &error) {
  if (!item.is_object()) {
    error = "the manifest's llm is not an object";
    return false;
  }
  llm.present = true;
  if (!getString(item, "entry", llm.entry)) {
    error = "the manifest's llm names no entry point";
    return false;
  }
  struct Field {
    const char *name;
    int64_t *value;
    int64_t min, max;
  };
  for (const Field &f :
       {Field{"vocab_size", &llm.vocabSize, 1, int64_t(1) << 31},
        Field{"block_size", &llm.blockSize, 1, 1 << 16},
        Field{"max_context", &llm.maxContext, 1, int64_t(1) << 31},
        Field{"kv_heads", &llm.kvHeads, 1, 1 << 16},
        Field{"head_dim", &llm.headDim, 1, 1 << 16},
        Field{"num_pools", &llm.numPools, 1, 1 << 16},
        Field{"max_tokens_per_step", &llm.maxTokensPerStep, 1, 1 << 24},
        Field{"max_seqs_per_step", &llm.maxSeqsPerStep, 1, 1 << 24},
        Field{"max_kv_blocks", &llm.maxKvBlocks, 1, int64_t(1) << 40}}) {
    auto it = item.find(f.name);
    if (it == item.end() || !it->is_number_integer() ||
        it->get<int64_t>() < f.min || it->get<int64_t>() > f.max) {
      error = std::string("the manifest's llm.") + f.name +
              " is missing or out of range [" + std::to_string(f.min) + ", " +
              std::to_string(f.max) + "]";
      return false;
    }
    *f.value = it->get<int64_t>();
  }
  if (llm.maxContext % llm.blockSize) {
    error = "the manifest's llm.max_context is not a multiple of block_size";
    return false;
  }
  for (auto [name, list] : {std::pair<const char *, std::vector<int64_t> *>{
                                "eos_token_ids", &llm.eosTokenIds},
                            {"bos_token_ids", &llm.bosTokenIds}}) {
    auto it = item.find(name);
    if (it == item.end())
      continue;
    if (!it->is_array() || it->size() > 64) {
      error = std::string("the manifest's llm.") + name + " is not a list";
      return false;
    }
    for (const Json &id : *it) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
          id.get<int64_t>() >= llm.vocabSize) {
        error = std::string("the manifest's llm.") + name +
                " holds an id outside the vocabulary";
        return false;
      }
      list->push_back(id.get<int64_t>());
    }
  }
  return true;
}

} // namespace

bool parseManifest(const std::string &text, Manifest &manifest,
                   std::string &error) {
  // Bounded before parsing: nlohmann::json may recurse per level.
  if (!artifact::checkManifestBounds(text.data(), text.size(), error))
    return false;
  Json root = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    error = "the manifest is not a JSON object";
    return false;
  }
  auto version = root.find("manifest_version");
  if (version == root.end() || !version->is_number_integer() ||
      version->get<int64_t>() < 1 ||
      version->get<int64_t>() > kManifestVersion) {
    error = "the manifest has no manifest_version from 1 to " +
            std::to_string(kManifestVersion) +
            " (a newer manifest needs a newer runtime)";
    return false;
  }
  auto target = root.find("target");
  if (target == root.end() || !target->is_object() ||
      !getString(*target, "name", manifest.target)) {
    error = "the manifest has no target name";
    return false;
  }
  if (auto features = target->find("cpu_features"); features != target->end()) {
    if (!features->is_array()) {
      error = "target.cpu_features is not a list";
      return false;
    }
    for (const Json &f : *features) {
      if (!f.is_string()) {
        error = "target.cpu_features holds a non-string";
        return false;
      }
      manifest.cpuFeatures.push_back(f.get<std::string>());
    }
  }
  auto entries = root.find("entry_points");
  if (entries == root.end() || !entries->is_array()) {
    error = "the manifest has no entry_points list";
    return false;
  }
  if (auto llm = root.find("llm"); llm != root.end())
    if (!parseLlm(*llm, manifest.llm, error))
      return false;
  for (const Json &item : *entries) {
    EntryPoint entry;
    if (!item.is_object() || !getString(item, "name", entry.name)) {
      error = "an entry point has no name";
      return false;
    }
    for (const EntryPoint &other : manifest.entryPoints)
      if (other.name == entry.name) {
        error = "entry point '" + entry.name + "' is listed twice";
        return false;
      }
    if (auto arena = item.find("arena_bytes"); arena != item.end()) {
      if (!arena->is_number_unsigned()) {
        error = "entry point '" + entry.name + "': bad arena_bytes";
        return false;
      }
      entry.arenaBytes = arena->get<uint64_t>();
      if (entry.arenaBytes > limits::kMaxArenaBytes) {
        error = "entry point '" + entry.name + "': arena_bytes is " +
                std::to_string(entry.arenaBytes) +
                ", more than the runtime's limit of " +
                std::to_string(limits::kMaxArenaBytes) +
                " bytes (docs/security.md)";
        return false;
      }
    }
    auto inputs = item.find("inputs"), outputs = item.find("outputs");
    if (inputs == item.end() || outputs == item.end()) {
      error = "entry point '" + entry.name + "' needs inputs and outputs";
      return false;
    }
    const std::string where = "entry point '" + entry.name + "'";
    if (!parseSizes(item, where, entry.sizes, error) ||
        !parseTensors(*inputs, entry.sizes, entry.inputs, where + " inputs",
                      error) ||
        !parseTensors(*outputs, entry.sizes, entry.outputs, where + " outputs",
                      error))
      return false;
    // In-out state buffers (the paged KV pool; optional).
    if (auto states = item.find("states"); states != item.end())
      if (!parseTensors(*states, entry.sizes, entry.states, where + " states",
                        error))
        return false;
    for (const auto *list : {&entry.inputs, &entry.outputs, &entry.states})
      for (const TensorSpec &spec : *list)
        if (!checkTensorBytes(spec, entry.sizes,
                              where + (list == &entry.inputs    ? " inputs"
                                       : list == &entry.outputs ? " outputs"
                                                                : " states"),
                              error))
          return false;
    // Every size takes its value from an input's or state's dim; one
    // neither binds could not be known at run time.
    for (size_t i = 0; i < entry.sizes.size(); ++i) {
      bool bound = false;
      for (const auto *list : {&entry.inputs, &entry.states})
        for (const TensorSpec &input : *list)
          for (int s : input.sizeOf)
            bound |= s == static_cast<int>(i);
      if (!bound) {
        error = where + ": size '" + entry.sizes[i].name +
                "' is not a dimension of any input or state";
        return false;
      }
    }
    manifest.entryPoints.push_back(std::move(entry));
  }
  return true;
}

} // namespace anvil::runtime
