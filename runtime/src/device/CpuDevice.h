//===- CpuDevice.h - the host CPU as a device --------------------*- C++
//-*-===//

#ifndef ANVIL_RUNTIME_DEVICE_CPUDEVICE_H
#define ANVIL_RUNTIME_DEVICE_CPUDEVICE_H

#include "device/Device.h"

namespace anvil::runtime {

/// Code is a shared object loaded from memory; parallel loops run on the
/// instance's pool; arenas are aligned host memory.
class CpuDevice final : public Device {
public:
  explicit CpuDevice(ThreadPool &pool);
  const char *target() const override { return "cpu"; }
  anvil_status checkManifest(const Manifest &manifest) const override;
  anvil_status loadCode(const void *data, size_t size,
                        std::unique_ptr<CodeObject> &out) override;
  const anvil_host_api *hostApi() const override { return &host; }
  void *allocate(size_t bytes, Use use) override;
  void release(void *memory) override;

private:
  anvil_host_api host;
};

} // namespace anvil::runtime

#endif // ANVIL_RUNTIME_DEVICE_CPUDEVICE_H
