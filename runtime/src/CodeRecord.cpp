//===- CodeRecord.cpp - the manifest checked against the code's record ---===//

#include "CodeRecord.h"

#include "Status.h"

#include <string>

namespace anvil::runtime {
namespace {

std::string dtypeText(int32_t dtype) {
  return anvil_dtype_name(static_cast<anvil_dtype>(dtype));
}

/// "f32[Sx4]" for a tensor of the code's record, sizes by the manifest's
/// names where it has them.
std::string describeCode(const anvil_code_tensor &tensor,
                         const EntryPoint &entry) {
  std::string text = dtypeText(tensor.dtype) + "[";
  for (uint32_t d = 0; d < tensor.rank; ++d) {
    text += d ? "x" : "";
    int64_t dim = tensor.dims[d];
    if (dim >= 0) {
      text += std::to_string(dim);
      continue;
    }
    uint64_t k = static_cast<uint64_t>(-(dim + 1));
    text += k < entry.sizes.size() ? entry.sizes[k].name
                                   : "size #" + std::to_string(k);
  }
  return text + "]";
}

/// "f32[Sx4]" for a tensor of the manifest, sizes by name.
std::string describeManifest(const TensorSpec &spec, const EntryPoint &entry) {
  std::string text = std::string(anvil_dtype_name(spec.dtype)) + "[";
  for (size_t d = 0; d < spec.dims.size(); ++d) {
    text += d ? "x" : "";
    text += spec.sizeOf[d] < 0 ? std::to_string(spec.dims[d])
                               : entry.sizes[spec.sizeOf[d]].name;
  }
  return text + "]";
}

bool sameTensor(const TensorSpec &spec, const anvil_code_tensor &tensor) {
  if (tensor.dtype != static_cast<int32_t>(spec.dtype) ||
      tensor.rank != spec.dims.size())
    return false;
  for (size_t d = 0; d < spec.dims.size(); ++d) {
    int64_t want =
        spec.sizeOf[d] < 0 ? spec.dims[d] : ANVIL_CODE_DIM_SIZE(spec.sizeOf[d]);
    if (tensor.dims[d] != want)
      return false;
  }
  return true;
}

/// A record whose arrays are missing or whose ranks are impossible.
bool wellFormed(const anvil_code_tensor *list, uint32_t count) {
  if (count && !list)
    return false;
  for (uint32_t i = 0; i < count; ++i)
    if (list[i].rank > ANVIL_MAX_RANK || (list[i].rank && !list[i].dims))
      return false;
  return true;
}

} // namespace

anvil_status checkCodeRecord(const EntryPoint &entry,
                             const anvil_code_entry &code,
                             uint64_t weightBytes) {
  const std::string where = "entry point '" + entry.name + "': ";
  auto refuse = [&](const std::string &what) {
    return makeStatus(ANVIL_INVALID_ARTIFACT, where + what);
  };
  auto disagree = [&](const std::string &field, const std::string &manifest,
                      const std::string &compiled) {
    return refuse(field + " is " + manifest +
                  " in the manifest but the code was compiled for " + compiled);
  };
  if ((code.num_sizes && !code.sizes) ||
      !wellFormed(code.inputs, code.num_inputs) ||
      !wellFormed(code.outputs, code.num_outputs) ||
      !wellFormed(code.states, code.num_states))
    return refuse("the code section's record of what it was compiled for is "
                  "malformed");
  if (code.arena_bytes != entry.arenaBytes)
    return disagree("arena_bytes", std::to_string(entry.arenaBytes),
                    std::to_string(code.arena_bytes));
  if (code.weight_bytes != weightBytes)
    return refuse("the weights section has " + std::to_string(weightBytes) +
                  " bytes but the code was compiled for " +
                  std::to_string(code.weight_bytes));
  if (code.num_sizes != entry.sizes.size())
    return disagree("the number of sizes", std::to_string(entry.sizes.size()),
                    std::to_string(code.num_sizes));
  for (size_t i = 0; i < entry.sizes.size(); ++i) {
    const SizeSpec &size = entry.sizes[i];
    const anvil_code_size &compiled = code.sizes[i];
    if (size.min != compiled.min || size.max != compiled.max)
      return disagree("size '" + size.name + "'",
                      "[" + std::to_string(size.min) + ", " +
                          std::to_string(size.max) + "]",
                      "[" + std::to_string(compiled.min) + ", " +
                          std::to_string(compiled.max) + "]");
  }
  struct List {
    const char *kind;
    const std::vector<TensorSpec> &specs;
    const anvil_code_tensor *tensors;
    uint32_t count;
  };
  for (const List &list :
       {List{"input", entry.inputs, code.inputs, code.num_inputs},
        List{"output", entry.outputs, code.outputs, code.num_outputs},
        List{"state", entry.states, code.states, code.num_states}}) {
    if (list.count != list.specs.size())
      return disagree(std::string("the number of ") + list.kind + "s",
                      std::to_string(list.specs.size()),
                      std::to_string(list.count));
    for (size_t i = 0; i < list.specs.size(); ++i)
      if (!sameTensor(list.specs[i], list.tensors[i]))
        return disagree(std::string(list.kind) + " '" + list.specs[i].name +
                            "'",
                        describeManifest(list.specs[i], entry),
                        describeCode(list.tensors[i], entry));
  }
  return nullptr;
}

} // namespace anvil::runtime
