//===- Instance.h - what models opened together share ------------*- C++
//-*-===//
//
// An instance owns the thread pool, the devices (and through them the
// memory) that every model opened on it uses: a draft and a target model,
// or many models in one server, share one set of threads instead of each
// starting its own. Models hold a reference, so an instance lives until the
// application and its last model have released it.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_INSTANCE_H
#define ANVIL_RUNTIME_INSTANCE_H

#include "ThreadPool.h"
#include "device/Device.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace anvil::runtime {

class Instance {
public:
  /// `threads` counts the caller; 0 means one per hardware thread.
  explicit Instance(unsigned threads) : threadPool(threads) {}
  Instance(const Instance &) = delete;
  Instance &operator=(const Instance &) = delete;

  ThreadPool &pool() { return threadPool; }
  /// The device that runs artifacts built for `target`, created on first
  /// use; null if this runtime has none. Thread-safe.
  Device *device(const std::string &target);

private:
  ThreadPool threadPool;
  std::mutex mutex; // guards devices
  std::vector<std::unique_ptr<Device>> devices;
};

} // namespace anvil::runtime

/// The C API's handle: one reference to the instance.
struct anvil_instance_s {
  std::shared_ptr<anvil::runtime::Instance> instance;
};

#endif // ANVIL_RUNTIME_INSTANCE_H
