// paged_attention_bench.cpp - times the CPU paged_attention kernel on
// synthetic batches (one sequence decoding at several contexts, prefills,
// a batch of decoding sequences) on the runtime's thread pool, and prints
// a markdown table: median and min..max of --runs repetitions, each the
// mean of enough calls to last about 50 ms.
//
// Built by hand (the kernel is a header; point -I at the version to time,
// first on the include path), with the flags generated code gets for this
// machine (backends/cpu/codegen: -O2 -fno-math-errno -march=<level>):
//
//   c++ -std=c++17 -O2 -fwrapv -fno-math-errno -march=x86-64-v4 \
//     -I backends/cpu/kernels -I dialects/Kernel -I runtime/include \
//     bench/kernels/paged_attention_bench.cpp runtime/src/ThreadPool.cpp \
//     -lpthread -o /tmp/paged-attention-bench
//   /tmp/paged-attention-bench [--runs N] [--threads N] [--q-heads N]
//     [--kv-heads N] [--head-dim N]   (default 16, 4, 64)
//     [--only TEXT]                   (the cases whose name contains TEXT)
//     [--kv-dtype f32|f16|int8]       (the pools' type; int8 with scales)
#include "../../runtime/src/ThreadPool.h"

#include "paged_attention.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

using anvil::runtime::ThreadPool;

struct Shape {
  const char *name;
  int64_t seqs, context, queries; // each sequence: `queries` tokens ending
                                  // at `context`
};

double medianOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

} // namespace

int main(int argc, char **argv) {
  int runs = 7;
  unsigned threads = 2;
  int64_t q_heads = 16, kv_heads = 4, head_dim = 64;
  const char *only = nullptr; // run the cases whose name contains this
  std::string kv_dtype = "f32";
  const int64_t block_size = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--runs"))
      runs = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads"))
      threads = unsigned(std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--q-heads"))
      q_heads = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--kv-heads"))
      kv_heads = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--head-dim"))
      head_dim = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--only"))
      only = argv[i + 1];
    else if (!std::strcmp(argv[i], "--kv-dtype"))
      kv_dtype = argv[i + 1];
  }
  if (kv_dtype != "f32" && kv_dtype != "f16" && kv_dtype != "int8") {
    std::fprintf(stderr, "--kv-dtype must be f32, f16 or int8\n");
    return 1;
  }
  ThreadPool pool(threads);
  anvil_host_api api{};
  api.struct_size = sizeof(api);
  api.abi_version = ANVIL_ABI_VERSION;
  api.host = &pool;
  api.num_threads = int32_t(pool.size());
  api.parallel_for = [](void *host, int64_t n, int64_t grain,
                        anvil_parallel_fn fn, void *arg) {
    static_cast<ThreadPool *>(host)->parallelFor(n, grain, fn, arg);
  };
  api.scratch = [](void *host, int thread, size_t bytes) {
    return static_cast<ThreadPool *>(host)->scratch(thread, bytes);
  };
  char error[256] = {};
  anvil_invocation invocation{};
  invocation.struct_size = sizeof(invocation);
  invocation.error = error;
  invocation.error_size = sizeof error;

  const Shape shapes[] = {
      {"decode, context 128", 1, 128, 1},
      {"decode, context 512", 1, 512, 1},
      {"decode, context 2048", 1, 2048, 1},
      {"decode, 16 seqs x context 512", 16, 512, 1},
      {"prefill 128 tokens", 1, 128, 128},
      {"prefill 512 tokens", 1, 512, 512},
  };
  std::printf("%u threads, %d runs; q_heads %lld, kv_heads %lld, head_dim "
              "%lld, block %lld, %s pools\n\n",
              pool.size(), runs, (long long)q_heads, (long long)kv_heads,
              (long long)head_dim, (long long)block_size, kv_dtype.c_str());
  std::printf("| case | median us | min..max us |\n|---|---|---|\n");
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  for (const Shape &shape : shapes) {
    if (only && !std::strstr(shape.name, only))
      continue;
    anvil::PagedAttentionParams p{};
    int64_t per_seq = (shape.context + block_size - 1) / block_size;
    p.seqs = shape.seqs;
    p.num_blocks = per_seq * shape.seqs;
    p.q_heads = q_heads;
    p.kv_heads = kv_heads;
    p.head_dim = p.value_dim = head_dim;
    p.block_size = block_size;
    p.max_blocks = per_seq;
    p.scale = 1.0 / std::sqrt(double(head_dim));
    p.tokens = shape.seqs * shape.queries;
    // Blocks in a shuffled order, as a long-running pool has them.
    std::vector<int32_t> ids(p.num_blocks);
    for (int64_t i = 0; i < p.num_blocks; ++i)
      ids[i] = int32_t(i);
    std::shuffle(ids.begin(), ids.end(), rng);
    std::vector<int32_t> tables(ids), lens(shape.seqs, int32_t(shape.context)),
        seq_of_token;
    std::vector<int64_t> positions;
    for (int64_t s = 0; s < shape.seqs; ++s)
      for (int64_t i = shape.context - shape.queries; i < shape.context; ++i) {
        seq_of_token.push_back(int32_t(s));
        positions.push_back(i);
      }
    size_t pool_size = size_t(p.num_blocks * block_size * kv_heads * head_dim);
    std::vector<float> keys(pool_size), values(pool_size),
        q(size_t(p.tokens * q_heads * head_dim)), out(q.size());
    for (float &x : keys)
      x = unit(rng);
    for (float &x : values)
      x = unit(rng);
    for (float &x : q)
      x = unit(rng);
    // The pools in the chosen type (int8: values of [-1, 1] at scale
    // 1/127, one scale per slot and head).
    std::vector<anvil::cpu::f16> keys16, values16;
    std::vector<int8_t> keys8, values8;
    std::vector<float> scales(pool_size / size_t(head_dim), 1.0f / 127);
    for (size_t i = 0; kv_dtype == "f16" && i < pool_size; ++i) {
      keys16.push_back(anvil::cpu::f16(keys[i]));
      values16.push_back(anvil::cpu::f16(values[i]));
    }
    for (size_t i = 0; kv_dtype == "int8" && i < pool_size; ++i) {
      keys8.push_back(int8_t(std::lrint(keys[i] * 127)));
      values8.push_back(int8_t(std::lrint(values[i] * 127)));
    }
    std::function<int(const anvil_host_api *)> kernel =
        [&](const anvil_host_api *host) {
          if (kv_dtype == "f16")
            return anvil::cpu::paged_attention(host, p, q.data(), keys16.data(),
                                               values16.data(), tables.data(),
                                               lens.data(), positions.data(),
                                               seq_of_token.data(), out.data());
          if (kv_dtype == "int8")
            return anvil::cpu::paged_attention(
                host, p, q.data(), keys8.data(), values8.data(), tables.data(),
                lens.data(), positions.data(), seq_of_token.data(),
                scales.data(), scales.data(), out.data());
          return anvil::cpu::paged_attention(
              host, p, q.data(), keys.data(), values.data(), tables.data(),
              lens.data(), positions.data(), seq_of_token.data(), out.data());
        };
    auto call = [&] {
      anvil::cpu::RunScope scope(&api, &invocation);
      if (kernel(scope.host())) {
        std::fprintf(stderr, "paged_attention failed: %s\n", error);
        std::exit(1);
      }
    };
    using clock = std::chrono::steady_clock;
    // Calls per run: enough for about 50 ms.
    call();
    auto t0 = clock::now();
    call();
    double once = std::chrono::duration<double>(clock::now() - t0).count();
    int64_t calls = std::max<int64_t>(1, int64_t(0.05 / std::max(once, 1e-7)));
    std::vector<double> us;
    for (int r = 0; r < runs; ++r) {
      auto start = clock::now();
      for (int64_t i = 0; i < calls; ++i)
        call();
      us.push_back(std::chrono::duration<double>(clock::now() - start).count() *
                   1e6 / double(calls));
    }
    std::printf("| %s | %.1f | %.1f..%.1f |\n", shape.name, medianOf(us),
                *std::min_element(us.begin(), us.end()),
                *std::max_element(us.begin(), us.end()));
  }
  return 0;
}
