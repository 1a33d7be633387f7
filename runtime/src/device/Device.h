//===- Device.h - where an artifact's code runs ------------------*- C++
//-*-===//
//
// One Device per target an instance can run ("cpu"; later "cuda", "hip",
// whose backends/<t>/device register in Devices.cpp). The loader picks the
// device by the artifact's target name; everything target-specific about
// loading and running (checking the target's requirements, loading the code
// section, the host API the code gets, memory, the stream) goes through
// this interface.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_DEVICE_DEVICE_H
#define ANVIL_RUNTIME_DEVICE_DEVICE_H

#include "anvil/abi.h"
#include "anvil/anvil.h"

#include <cstddef>
#include <memory>
#include <string>

namespace anvil::runtime {

struct Manifest;
class ThreadPool;

/// A loaded code section: its table stays valid while this object lives.
class CodeObject {
public:
  virtual ~CodeObject() = default;
  virtual const anvil_code_table *table() const = 0;
};

class Device {
public:
  virtual ~Device() = default;

  /// The artifact target this device runs ("cpu").
  virtual const char *target() const = 0;
  /// Null if this device can run code built as `manifest` says (the CPU
  /// checks its features); otherwise an ANVIL_INCOMPATIBLE status.
  virtual anvil_status checkManifest(const Manifest &manifest) const = 0;
  /// Loads the code section (which the caller keeps alive and unchanged).
  virtual anvil_status loadCode(const void *data, size_t size,
                                std::unique_ptr<CodeObject> &out) = 0;
  /// The host API the code receives; valid while the device is.
  virtual const anvil_host_api *hostApi() const = 0;
  /// What an allocation will hold, which decides how the device backs it.
  enum class Use {
    /// An entry point's arena: small buffers, each read in order.
    Arena,
    /// A paged KV pool: read a block at a time, in block-table order, from
    /// anywhere in it.
    KvPool,
  };
  /// Memory for arenas and KV pools: `bytes` 64-byte aligned, or null when
  /// out of memory; released with release(). Thread-safe.
  virtual void *allocate(size_t bytes, Use use) = 0;
  virtual void release(void *memory) = 0;
  /// The stream a run is ordered on (null on the CPU).
  virtual void *stream() const { return nullptr; }
};

/// The device for `target` over `pool`, or null if this runtime has none.
std::unique_ptr<Device> createDevice(const std::string &target,
                                     ThreadPool &pool);

} // namespace anvil::runtime

#endif // ANVIL_RUNTIME_DEVICE_DEVICE_H
