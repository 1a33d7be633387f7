//===- main.cpp - anvil-kernel-bench's entry point ------------------------===//
//
// Runs the Google Benchmark microbenchmarks of matmul_bench.cpp and
// paged_attention_bench.cpp after measuring this machine's ceilings for 1
// and 2 threads, which it prints first; each benchmark's `roofline`
// counter is its share of the ceiling that bounds it.
//
//===----------------------------------------------------------------------===//

#include "BenchSupport.h"

#include <benchmark/benchmark.h>

#include <cstdio>

// The ceilings are measured before any benchmark: OpenBLAS's threads keep
// spinning after a call and would take a core from the bandwidth test.
int main(int argc, char **argv) {
  for (int threads : {1, 2})
    anvil::bench::ceilings(threads);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  for (int threads : {1, 2}) {
    const anvil::bench::Ceilings &c = anvil::bench::ceilings(threads);
    std::printf("ceilings, %d thread(s): read %.1f GB/s, fp32 %.1f GFLOP/s\n",
                threads, c.readGBs.max, c.fp32Gflops.max);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
