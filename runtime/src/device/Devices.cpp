//===- Devices.cpp - the targets this runtime can run ---------------------===//
//
// One line per device; a GPU backend adds its own (backends/<t>/device).

#include "device/CpuDevice.h"

namespace anvil::runtime {

std::unique_ptr<Device> createDevice(const std::string &target,
                                     ThreadPool &pool) {
  if (target == "cpu")
    return std::make_unique<CpuDevice>(pool);
  return nullptr;
}

} // namespace anvil::runtime
