//===- CpuDeviceTest.cpp - the CPU device's memory ------------------------===//
//
// CpuDevice::allocate: arenas 64-byte aligned; KV pools of 2 MiB or more on
// a 2 MiB boundary (offered for transparent huge pages), usable to their
// last byte; sizes that cannot be rounded up refused with null.
//
//===----------------------------------------------------------------------===//

#include "device/CpuDevice.h"
#include "ThreadPool.h"

#include <cstdint>
#include <cstring>
#include <gtest/gtest.h>

using anvil::runtime::CpuDevice;
using anvil::runtime::Device;
using anvil::runtime::ThreadPool;

namespace {

constexpr size_t kMiB = size_t(1) << 20;

/// Writes every byte of [memory, memory + bytes) and reads each back: the
/// whole range is ours.
void expectUsable(void *memory, size_t bytes) {
  ASSERT_NE(memory, nullptr);
  auto *p = static_cast<unsigned char *>(memory);
  auto pattern = [](size_t i) {
    return static_cast<unsigned char>(i * 131 + 7);
  };
  for (size_t i = 0; i < bytes; ++i)
    p[i] = pattern(i);
  size_t wrong = 0;
  for (size_t i = 0; i < bytes; ++i)
    wrong += p[i] != pattern(i);
  EXPECT_EQ(wrong, 0u) << bytes;
}

TEST(CpuDevice, ArenasAre64ByteAligned) {
  ThreadPool pool(1);
  CpuDevice device(pool);
  for (size_t bytes : {size_t(1), size_t(100), size_t(4096), 3 * kMiB + 5}) {
    void *arena = device.allocate(bytes, Device::Use::Arena);
    expectUsable(arena, bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(arena) % 64, 0u) << bytes;
    device.release(arena);
  }
}

TEST(CpuDevice, LargeKvPoolsStartOnA2MiBBoundary) {
  ThreadPool pool(1);
  CpuDevice device(pool);
  for (size_t bytes : {2 * kMiB, 3 * kMiB + 5, 64 * kMiB + 64}) {
    void *kv = device.allocate(bytes, Device::Use::KvPool);
    expectUsable(kv, bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(kv) % (2 * kMiB), 0u) << bytes;
    device.release(kv);
  }
  // Below one huge page, a pool is allocated as an arena is.
  void *small = device.allocate(kMiB, Device::Use::KvPool);
  expectUsable(small, kMiB);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small) % 64, 0u);
  device.release(small);
}

TEST(CpuDevice, RefusesSizesThatCannotBeRoundedUp) {
  ThreadPool pool(1);
  CpuDevice device(pool);
  for (Device::Use use : {Device::Use::Arena, Device::Use::KvPool})
    for (size_t bytes : {SIZE_MAX, SIZE_MAX - 62, SIZE_MAX - kMiB})
      EXPECT_EQ(device.allocate(bytes, use), nullptr) << bytes;
}

} // namespace
