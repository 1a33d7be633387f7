//===- LoadedModel.h - a checked, loaded artifact ----------------*- C++
//-*-===//
//
// What the C API's anvil_model wraps and what the engine calls directly:
// the artifact's bytes, its parsed manifest, its code on the instance's
// device, and a pool of arenas per entry point. run() takes an entry point
// by index and raw buffers, so a caller that checked its shapes once does
// no name lookup or shape check per call.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_LOADEDMODEL_H
#define ANVIL_RUNTIME_LOADEDMODEL_H

#include "ArtifactBytes.h"
#include "Instance.h"
#include "Manifest.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace anvil::runtime {

/// One run's buffers, in the manifest's signature order.
struct Invocation {
  const void *const *inputs = nullptr;
  size_t inputCount = 0;
  void *const *outputs = nullptr;
  size_t outputCount = 0;
  void *const *states = nullptr;
  size_t stateCount = 0;
  /// One value per entry of the entry point's sizes, within bounds.
  const int64_t *sizes = nullptr;
  size_t sizeCount = 0;
};

class LoadedModel {
public:
  LoadedModel(const LoadedModel &) = delete;
  LoadedModel &operator=(const LoadedModel &) = delete;
  ~LoadedModel();

  /// Checks and loads the artifact in `bytes` on `instance`'s device for
  /// its target. Null on success; otherwise the status says what is wrong.
  static anvil_status open(std::unique_ptr<ArtifactBytes> bytes,
                           bool verifySectionChecksums,
                           std::shared_ptr<Instance> instance,
                           std::unique_ptr<LoadedModel> &out);

  const Manifest &manifest() const { return parsed; }
  const std::string &manifestText() const { return text; }
  const std::string &target() const { return targetName; }
  /// The optional tokenizer section's bytes (empty when there is none);
  /// valid while the model is.
  std::string_view tokenizerBytes() const { return tokenizer; }
  /// The device the model runs on (the engine allocates the KV pool on
  /// it).
  Device &deviceRef() const { return *device; }
  /// The index of entry point `name`, or -1.
  int64_t findEntry(const char *name) const;

  /// Runs entry point `entry` (an index): checks the counts and the sizes'
  /// bounds, not the buffers' shapes (the caller made them match the
  /// signature with these sizes). Thread-safe: concurrent runs each take
  /// their own arena. ANVIL_EXECUTION_FAILED carries the code's reason.
  anvil_status run(size_t entry, const Invocation &call);

private:
  LoadedModel() = default;
  void *takeArena(size_t entry);
  void giveArena(size_t entry, void *arena);

  std::unique_ptr<ArtifactBytes> bytes;
  std::shared_ptr<Instance> instance;
  Device *device = nullptr;
  std::string text, targetName;
  std::string_view tokenizer;
  Manifest parsed;
  std::unique_ptr<CodeObject> code;
  std::vector<anvil_entry_fn> functions; // parallel to parsed.entryPoints
  const unsigned char *weights = nullptr;
  /// Free arenas per entry point, reused across runs: a run takes one
  /// (allocating only when every arena is in use by a concurrent run), so
  /// steady-state runs allocate nothing.
  std::mutex arenaMutex;
  std::vector<std::vector<void *>> freeArenas;
};

} // namespace anvil::runtime

#endif // ANVIL_RUNTIME_LOADEDMODEL_H
