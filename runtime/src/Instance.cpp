//===- Instance.cpp - what models opened together share -------------------===//

#include "Instance.h"

namespace anvil::runtime {

Device *Instance::device(const std::string &target) {
  std::lock_guard<std::mutex> lock(mutex);
  for (const auto &device : devices)
    if (target == device->target())
      return device.get();
  std::unique_ptr<Device> created = createDevice(target, threadPool);
  if (!created)
    return nullptr;
  devices.push_back(std::move(created));
  return devices.back().get();
}

} // namespace anvil::runtime
