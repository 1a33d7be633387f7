//===- CpuTuningTest.cpp - per-CPU speed choices follow the CPU's vendor --===//
//
// cpu_tuning.h reads the vendor from CPUID; this checks it against the
// kernel's own account of the CPU in /proc/cpuinfo (an independent
// source), and that the 16-bit GEMV's software prefetch is on exactly
// where the vendor is Intel (the one CPU family it measured faster on).
//
//===----------------------------------------------------------------------===//

#include "KernelLevel.h"
#include "cpu_tuning.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace {

/// The first vendor_id line of /proc/cpuinfo ("GenuineIntel",
/// "AuthenticAMD", ...), or "" where there is none.
std::string procVendor() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("vendor_id", 0) != 0)
      continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos)
      return "";
    const size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

TEST(CpuTuning, VendorMatchesProcCpuinfo) {
  REQUIRE_LEVEL();
  const std::string vendor = procVendor();
  if (vendor.empty())
    GTEST_SKIP() << "/proc/cpuinfo names no vendor_id on this machine";
  EXPECT_EQ(anvil::cpu::tuning::cpu_is_intel(), vendor == "GenuineIntel")
      << "/proc/cpuinfo vendor_id: " << vendor;
}

TEST(CpuTuning, HalfGemvPrefetchOnlyOnIntel) {
  REQUIRE_LEVEL();
  EXPECT_EQ(anvil::cpu::tuning::kHalfGemvPrefetch,
            anvil::cpu::tuning::cpu_is_intel());
}

} // namespace
