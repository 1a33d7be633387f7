//===- CpuTuningTest.cpp - per-CPU speed choices follow the CPU's vendor --===//
//
// cpu_tuning.h reads the vendor, family and model from CPUID; this checks
// them against the kernel's own account of the CPU in /proc/cpuinfo (an
// independent source), and that the 16-bit GEMV's software prefetch is on
// exactly where the CPU is Intel or AMD Zen 3 and the f32 small batches'
// where it is Zen 3 (the CPUs each measured faster on).
//
//===----------------------------------------------------------------------===//

#include "KernelLevel.h"
#include "cpu_tuning.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace {

/// The value of the first /proc/cpuinfo line whose key is `key`
/// ("vendor_id": "GenuineIntel", "AuthenticAMD", ...; "cpu family" and
/// "model" in decimal), or "" where there is none.
std::string procField(const std::string &key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos)
      continue;
    const size_t end = line.find_last_not_of(" \t", colon - 1);
    if (end == std::string::npos || line.compare(0, end + 1, key) != 0 ||
        end + 1 != key.size())
      continue;
    const size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

std::string procVendor() { return procField("vendor_id"); }

TEST(CpuTuning, VendorMatchesProcCpuinfo) {
  REQUIRE_LEVEL();
  const std::string vendor = procVendor();
  if (vendor.empty())
    GTEST_SKIP() << "/proc/cpuinfo names no vendor_id on this machine";
  EXPECT_EQ(anvil::cpu::tuning::cpu_is_intel(), vendor == "GenuineIntel")
      << "/proc/cpuinfo vendor_id: " << vendor;
}

// Zen 3 is AMD's family 25 (19h), models 0-15 and 32-95 as Linux prints
// them (decimal, the extended fields added).
TEST(CpuTuning, Zen3MatchesProcCpuinfo) {
  REQUIRE_LEVEL();
  const std::string vendor = procVendor(), family = procField("cpu family"),
                    model = procField("model");
  if (vendor.empty() || family.empty() || model.empty())
    GTEST_SKIP() << "/proc/cpuinfo names no vendor_id, cpu family or model "
                    "on this machine";
  const int f = std::stoi(family), m = std::stoi(model);
  const bool zen3 =
      vendor == "AuthenticAMD" && f == 25 && (m <= 15 || (m >= 32 && m <= 95));
  EXPECT_EQ(anvil::cpu::tuning::cpu_is_amd_zen3(), zen3)
      << "/proc/cpuinfo: " << vendor << ", family " << f << ", model " << m;
}

TEST(CpuTuning, F32SmallBatchPrefetchOnZen3Only) {
  REQUIRE_LEVEL();
  EXPECT_EQ(anvil::cpu::tuning::kF32SmallBatchPrefetch,
            anvil::cpu::tuning::cpu_is_amd_zen3());
}

TEST(CpuTuning, HalfGemvPrefetchOnIntelAndZen3) {
  REQUIRE_LEVEL();
  EXPECT_EQ(anvil::cpu::tuning::kHalfGemvPrefetch,
            anvil::cpu::tuning::cpu_is_intel() ||
                anvil::cpu::tuning::cpu_is_amd_zen3());
}

} // namespace
