//===- Signature.cpp - checking tensors against an entry point ------------===//

#include "Signature.h"

#include "Status.h"

namespace anvil::runtime {
namespace {

std::string describeActual(const TensorShape &t) {
  std::string text = std::string(anvil_dtype_name(t.dtype)) + "[";
  for (size_t i = 0; i < t.rank; ++i)
    text += (i ? "x" : "") + std::to_string(t.dims[i]);
  return text + "]";
}

std::string bounds(const SizeSpec &size) {
  return "[" + std::to_string(size.min) + ", " + std::to_string(size.max) + "]";
}

anvil_status countMismatch(const EntryPoint &entry, size_t want, size_t got,
                           const char *what) {
  return makeStatus(ANVIL_INVALID_ARGUMENT,
                    "entry point '" + entry.name + "' takes " +
                        std::to_string(want) + " " + what + ", got " +
                        std::to_string(got));
}

} // namespace

std::string describe(const TensorSpec &spec, const EntryPoint &entry,
                     const int64_t *sizes) {
  std::string text = std::string(anvil_dtype_name(spec.dtype)) + "[";
  for (size_t i = 0; i < spec.dims.size(); ++i) {
    text += i ? "x" : "";
    int s = spec.sizeOf[i];
    if (s < 0)
      text += std::to_string(spec.dims[i]);
    else
      text += sizes ? std::to_string(sizes[s]) : entry.sizes[s].name;
  }
  return text + "]";
}

anvil_status checkSizeBounds(const EntryPoint &entry, const int64_t *sizes,
                             size_t count) {
  if (count != entry.sizes.size() || (count && !sizes))
    return countMismatch(entry, entry.sizes.size(), count, "sizes");
  for (size_t i = 0; i < count; ++i) {
    const SizeSpec &size = entry.sizes[i];
    if (sizes[i] < size.min || sizes[i] > size.max)
      return makeStatus(ANVIL_INVALID_ARGUMENT,
                        "size '" + size.name + "' of '" + entry.name + "' is " +
                            std::to_string(sizes[i]) + ", outside its bounds " +
                            bounds(size));
  }
  return nullptr;
}

anvil_status checkSignature(const EntryPoint &entry, const TensorShape *inputs,
                            size_t inputCount, const TensorShape *outputs,
                            size_t outputCount, std::vector<int64_t> &sizes) {
  if (inputCount != entry.inputs.size() || (inputCount && !inputs))
    return countMismatch(entry, entry.inputs.size(), inputCount, "inputs");
  if (outputCount != entry.outputs.size() || (outputCount && !outputs))
    return countMismatch(entry, entry.outputs.size(), outputCount, "outputs");
  sizes.assign(entry.sizes.size(), -1);
  // The input that gave each size its value, for messages.
  std::vector<const TensorSpec *> boundBy(entry.sizes.size(), nullptr);
  for (size_t i = 0; i < inputCount; ++i) {
    const TensorSpec &spec = entry.inputs[i];
    const TensorShape &t = inputs[i];
    bool same = t.dtype == spec.dtype && t.rank == spec.dims.size();
    for (size_t d = 0; same && d < t.rank; ++d)
      same = spec.sizeOf[d] >= 0 || t.dims[d] == spec.dims[d];
    if (!same)
      return makeStatus(ANVIL_INVALID_ARGUMENT,
                        "inputs '" + spec.name + "' of '" + entry.name +
                            "' must be " + describe(spec, entry) + ", got " +
                            describeActual(t));
    for (size_t d = 0; d < t.rank; ++d) {
      int s = spec.sizeOf[d];
      if (s < 0)
        continue;
      const SizeSpec &size = entry.sizes[s];
      std::string where = "input '" + spec.name + "' of '" + entry.name +
                          "': dimension " + std::to_string(d) + " (size '" +
                          size.name + "') is " + std::to_string(t.dims[d]);
      if (t.dims[d] < size.min || t.dims[d] > size.max)
        return makeStatus(ANVIL_INVALID_ARGUMENT,
                          where + ", outside its bounds " + bounds(size));
      if (boundBy[s] && sizes[s] != t.dims[d])
        return makeStatus(ANVIL_INVALID_ARGUMENT,
                          where + ", but input '" + boundBy[s]->name +
                              "' made it " + std::to_string(sizes[s]));
      sizes[s] = t.dims[d];
      boundBy[s] = &spec;
    }
  }
  // The manifest parser made sure an input binds every size.
  for (size_t i = 0; i < outputCount; ++i) {
    const TensorSpec &spec = entry.outputs[i];
    const TensorShape &t = outputs[i];
    bool same = t.dtype == spec.dtype && t.rank == spec.dims.size();
    for (size_t d = 0; same && d < t.rank; ++d) {
      int s = spec.sizeOf[d];
      same = t.dims[d] == (s < 0 ? spec.dims[d] : sizes[s]);
    }
    if (!same)
      return makeStatus(ANVIL_INVALID_ARGUMENT,
                        "outputs '" + spec.name + "' of '" + entry.name +
                            "' must be " + describe(spec, entry, sizes.data()) +
                            ", got " + describeActual(t));
  }
  return nullptr;
}

} // namespace anvil::runtime
