//===- LoadedModel.cpp - a checked, loaded artifact -----------------------===//

#include "LoadedModel.h"

#include "CodeRecord.h"
#include "Signature.h"
#include "Status.h"

#include "anvil/artifact.h"

#include <cstring>

namespace anvil::runtime {

using anvil::artifact::ArtifactView;
using anvil::artifact::SectionKind;

namespace {
/// Bytes of the error buffer each run gives the code.
constexpr size_t kErrorBufferSize = 512;
} // namespace

LoadedModel::~LoadedModel() {
  for (auto &arenas : freeArenas)
    for (void *arena : arenas)
      device->release(arena);
}

anvil_status LoadedModel::open(std::unique_ptr<ArtifactBytes> bytes,
                               bool verifySectionChecksums,
                               std::shared_ptr<Instance> instance,
                               std::unique_ptr<LoadedModel> &out) {
  std::unique_ptr<LoadedModel> model(new LoadedModel);
  model->bytes = std::move(bytes);
  model->instance = std::move(instance);
  std::string error;
  anvil::artifact::ParseOptions parse;
  parse.verifySectionChecksums = verifySectionChecksums;
  auto view = ArtifactView::parse(model->bytes->data(), model->bytes->size(),
                                  parse, error);
  if (!view) {
    bool incompatible = error.find("version") != std::string::npos ||
                        error.find("built for target") != std::string::npos;
    return makeStatus(
        incompatible ? ANVIL_INCOMPATIBLE : ANVIL_INVALID_ARTIFACT, error);
  }
  model->targetName = view->target();
  model->device = model->instance->device(model->targetName);
  if (!model->device)
    return makeStatus(ANVIL_INCOMPATIBLE,
                      "the artifact was built for target '" +
                          model->targetName +
                          "', which this runtime cannot run");
  const auto *manifestSection = view->find(SectionKind::Manifest);
  model->text.assign(reinterpret_cast<const char *>(manifestSection->data),
                     manifestSection->size);
  if (!parseManifest(model->text, model->parsed, error))
    return makeStatus(ANVIL_INVALID_ARTIFACT, error);
  if (anvil_status status = model->device->checkManifest(model->parsed))
    return status;
  if (const auto *tokenizer = view->find(SectionKind::Tokenizer))
    model->tokenizer = std::string_view(
        reinterpret_cast<const char *>(tokenizer->data), tokenizer->size);
  const auto *weights = view->find(SectionKind::Weights);
  model->weights = weights ? weights->data : nullptr;
  const auto *code = view->find(SectionKind::Code);
  const auto &entries = model->parsed.entryPoints;
  model->freeArenas.resize(entries.size());
  if (!entries.empty()) {
    if (!code)
      return makeStatus(ANVIL_INVALID_ARTIFACT,
                        "the artifact has entry points but no code section");
    // Loading runs the object's ELF constructors: the checks above cannot
    // protect against hostile code, only trust can (docs/security.md).
    if (anvil_status status =
            model->device->loadCode(code->data, code->size, model->code))
      return status;
    const anvil_code_table *table = model->code->table();
    for (const EntryPoint &entry : entries) {
      const anvil_code_entry *found = nullptr;
      for (uint32_t i = 0; i < table->entry_count && !found; ++i)
        if (table->entries[i].name && entry.name == table->entries[i].name)
          found = &table->entries[i];
      if (!found || !found->fn)
        return makeStatus(ANVIL_INVALID_ARTIFACT,
                          "the code section has no function for entry point '" +
                              entry.name + "'");
      // Before init and before any entry point can run.
      if (anvil_status status =
              checkCodeRecord(entry, *found, weights ? weights->size : 0))
        return status;
      model->functions.push_back(found->fn);
    }
    if (table->init && table->init(model->device->hostApi()) != 0)
      return makeStatus(ANVIL_INTERNAL, "the code section's init failed");
  }
  out = std::move(model);
  return nullptr;
}

int64_t LoadedModel::findEntry(const char *name) const {
  for (size_t i = 0; name && i < parsed.entryPoints.size(); ++i)
    if (parsed.entryPoints[i].name == name)
      return static_cast<int64_t>(i);
  return -1;
}

void *LoadedModel::takeArena(size_t entry) {
  {
    std::lock_guard<std::mutex> lock(arenaMutex);
    auto &arenas = freeArenas[entry];
    if (!arenas.empty()) {
      void *arena = arenas.back();
      arenas.pop_back();
      return arena;
    }
  }
  return device->allocate(parsed.entryPoints[entry].arenaBytes,
                          Device::Use::Arena);
}

void LoadedModel::giveArena(size_t entry, void *arena) {
  std::lock_guard<std::mutex> lock(arenaMutex);
  freeArenas[entry].push_back(arena);
}

anvil_status LoadedModel::run(size_t index, const Invocation &call) {
  if (index >= functions.size())
    return makeStatus(ANVIL_NOT_FOUND,
                      "no entry point number " + std::to_string(index));
  const EntryPoint &entry = parsed.entryPoints[index];
  if (call.inputCount != entry.inputs.size() ||
      call.outputCount != entry.outputs.size() ||
      call.stateCount != entry.states.size())
    return makeStatus(ANVIL_INVALID_ARGUMENT,
                      "entry point '" + entry.name + "' takes " +
                          std::to_string(entry.inputs.size()) + " inputs, " +
                          std::to_string(entry.outputs.size()) +
                          " outputs and " +
                          std::to_string(entry.states.size()) + " states");
  if (anvil_status status = checkSizeBounds(entry, call.sizes, call.sizeCount))
    return status;
  // Concurrent runs each hold their own arena.
  void *arena = nullptr;
  if (entry.arenaBytes) {
    arena = takeArena(index);
    if (!arena)
      return makeStatus(ANVIL_RESOURCE_EXHAUSTED,
                        "cannot allocate the " +
                            std::to_string(entry.arenaBytes) + "-byte arena");
  }
  char error[kErrorBufferSize];
  error[0] = '\0';
  anvil_invocation invocation{};
  invocation.struct_size = sizeof(anvil_invocation);
  invocation.inputs = call.inputs;
  invocation.num_inputs = call.inputCount;
  invocation.outputs = call.outputs;
  invocation.num_outputs = call.outputCount;
  invocation.states = call.states;
  invocation.num_states = call.stateCount;
  invocation.sizes = call.sizes;
  invocation.num_sizes = call.sizeCount;
  invocation.arena = arena;
  invocation.weights = weights;
  invocation.stream = device->stream();
  invocation.error = error;
  invocation.error_size = sizeof(error);
  int rc = functions[index](device->hostApi(), &invocation);
  error[sizeof(error) - 1] = '\0'; // whatever the code wrote
  if (arena)
    giveArena(index, arena);
  if (rc != 0)
    return makeStatus(ANVIL_EXECUTION_FAILED,
                      "entry point '" + entry.name + "' failed" +
                          (error[0] ? std::string(": ") + error
                                    : " with code " + std::to_string(rc)));
  return nullptr;
}

} // namespace anvil::runtime
