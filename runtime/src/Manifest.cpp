//===- Manifest.cpp - the artifact's manifest, parsed ---------------------===//

#include "Manifest.h"

#include <nlohmann/json.hpp>

namespace anvil::runtime {

using Json = nlohmann::json;

bool parseDtype(const std::string &name, anvil_dtype &dtype) {
  for (anvil_dtype d :
       {ANVIL_DTYPE_F32, ANVIL_DTYPE_F16, ANVIL_DTYPE_BF16, ANVIL_DTYPE_F64,
        ANVIL_DTYPE_I64, ANVIL_DTYPE_I32, ANVIL_DTYPE_I8, ANVIL_DTYPE_U8,
        ANVIL_DTYPE_BOOL, ANVIL_DTYPE_I16, ANVIL_DTYPE_U16, ANVIL_DTYPE_U32,
        ANVIL_DTYPE_U64}) {
    if (name == anvil_dtype_name(d)) {
      dtype = d;
      return true;
    }
  }
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

bool parseTensors(const Json &list, std::vector<TensorSpec> &out,
                  const std::string &where, std::string &error) {
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
      if (!dim.is_number_integer() || dim.get<int64_t>() < 0) {
        error = where + ": tensor '" + spec.name +
                "' has a dimension that is not a non-negative integer";
        return false;
      }
      spec.dims.push_back(dim.get<int64_t>());
    }
    out.push_back(std::move(spec));
  }
  return true;
}

} // namespace

bool parseManifest(const std::string &text, Manifest &manifest,
                   std::string &error) {
  Json root = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    error = "the manifest is not a JSON object";
    return false;
  }
  auto version = root.find("manifest_version");
  if (version == root.end() || !version->is_number_integer() ||
      version->get<int64_t>() != kManifestVersion) {
    error = "the manifest has no manifest_version " +
            std::to_string(kManifestVersion);
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
    }
    auto inputs = item.find("inputs"), outputs = item.find("outputs");
    if (inputs == item.end() || outputs == item.end()) {
      error = "entry point '" + entry.name + "' needs inputs and outputs";
      return false;
    }
    if (!parseTensors(*inputs, entry.inputs,
                      "entry point '" + entry.name + "' inputs", error) ||
        !parseTensors(*outputs, entry.outputs,
                      "entry point '" + entry.name + "' outputs", error))
      return false;
    manifest.entryPoints.push_back(std::move(entry));
  }
  return true;
}

} // namespace anvil::runtime
