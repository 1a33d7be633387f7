//===- anvil-bench.cpp - prefill and decode speed of a decoder artifact ---===//
//
//   anvil-bench MODEL.anvil [-p 128,512] [-n 64] [-d 0] [-t 1,2] [-b 1,16]
//               [-r 5] [--ceilings] [--output md|csv|json]
//   anvil-bench --ceilings [-t 1,2]
//
// For each thread count and batch, times prefill (pp) and decode (tg) of
// seeded random token ids through the engine (EngineBench.h), median and
// spread over the repetitions after a warm-up, with the peak RSS; with
// --ceilings also this machine's read bandwidth and multiply-add peaks
// (Ceilings.h) and each decode row's share of the bandwidth roofline.
// docs/cli.md describes the output; scripts (bench/side_by_side.py) read
// its JSON.
//
//===----------------------------------------------------------------------===//

#include "Ceilings.h"
#include "EngineBench.h"
#include "tools/common/ParseNumbers.h"

#include "anvil/anvil.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <vector>

using namespace anvil::bench;
using anvil::tools::parseInt;

namespace {

constexpr const char *kUsage =
    "usage: anvil-bench MODEL.anvil [options]\n"
    "       anvil-bench --ceilings [-t LIST] [--output FORMAT]\n"
    "\n"
    "Times a decoder artifact (anvilc's paged step function) through the\n"
    "engine: prefill (pp) and decode (tg) of seeded random token ids with\n"
    "`batch` concurrent sequences, for every combination of the lists\n"
    "below (LIST: comma-separated, e.g. 128,512). Each row is the median\n"
    "and min..max over the repetitions, after warm-up runs.\n"
    "\n"
    "  -p, --n-prompt LIST    prefill tests: prompt tokens per sequence\n"
    "                         (default 128; 0: no prefill tests)\n"
    "  -n, --n-gen LIST       decode tests: decode steps timed (default 64;\n"
    "                         0: no decode tests)\n"
    "  -d, --depth LIST       decode tests: tokens in each sequence's\n"
    "                         context before the timed steps (default 0: a\n"
    "                         1-token prompt)\n"
    "  -t, --threads LIST     threads of the model's instance (default: one\n"
    "                         per hardware thread)\n"
    "  -b, --batch LIST       concurrent sequences (default 1)\n"
    "  -r, --repetitions N    timed runs per row (default 5)\n"
    "  -w, --warmup N         untimed runs before them (default 1)\n"
    "  -s, --seed S           seed of the prompts (default 0; run i of a row\n"
    "                         uses S + i)\n"
    "  -o, --output FORMAT    md (default), csv or json\n"
    "  --ceilings             also measure this machine's read bandwidth\n"
    "                         and fp32/int8 multiply-add peaks with each\n"
    "                         thread count, and report each decode row's\n"
    "                         share of the bandwidth roofline (without a\n"
    "                         model: only the ceilings)\n"
    "  --bandwidth-mib N      the bandwidth test's buffer (default: 16x the\n"
    "                         last-level cache, at least 512 MiB, at most\n"
    "                         1 GiB)\n"
    "  --no-verify            skip the artifact's section checksums\n"
    "  --progress             print each row to stderr as it starts\n"
    "  -h, --help             this text\n"
    "\n"
    "Prefill: tokens = batch x prompt, timed from the submits to the step\n"
    "that gives the last sequence its first token (TTFT: the median\n"
    "sequence's). Decode: tokens = batch x n, timed over n engine steps in\n"
    "which every sequence generates a token. Roofline (decode, with\n"
    "--ceilings): steps/s x the weight bytes a step reads (the artifact's\n"
    "weights less tables only a gather reads, such as the token embedding)\n"
    "/ the best measured read bandwidth with the row's thread count\n"
    "(docs/cli.md).\n";

int fail(const std::string &message) {
  std::cerr << "anvil-bench: error: " << message << "\n";
  return 1;
}

/// "1,2,3" into values in [min, max]; false when malformed or empty.
bool parseList(const std::string &text, int64_t min, int64_t max,
               std::vector<int64_t> &out) {
  out.clear();
  std::stringstream in(text);
  std::string item;
  if (text.empty() || text.back() == ',')
    return false;
  while (std::getline(in, item, ',')) {
    int64_t v = 0;
    if (!parseInt(item, min, max, v))
      return false;
    out.push_back(v);
  }
  return !out.empty();
}

/// Peak resident set size since the last resetPeakRss(), in bytes (VmHWM;
/// getrusage's process-wide peak where /proc cannot say).
int64_t peakRssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::atoll(line.c_str() + 6) * 1024;
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return int64_t(usage.ru_maxrss) * 1024;
}

/// The process's peak RSS since the ceilings were measured: the largest
/// peakRssBytes() seen before each reset.
int64_t processPeakRss = 0;

/// Resets VmHWM to the current RSS (Linux's clear_refs "5"), so the next
/// peakRssBytes() is the peak of what ran in between.
void resetPeakRss() {
  processPeakRss = std::max(processPeakRss, peakRssBytes());
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
}

struct Row {
  TestSpec spec;
  int64_t threads = 0;
  std::string test; // pp128, tg64, tg64@d128
  int64_t reps = 0, tokens = 0;
  Spread tokS, ms, ttftMs;
  int64_t peakRss = 0;
  std::optional<Ceilings> ceilings;
  std::optional<Spread> roofline;
};

nlohmann::ordered_json orNull(bool has, double value) {
  return has ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json rowJson(const Row &r) {
  bool pp = r.spec.kind == TestKind::Prefill;
  nlohmann::ordered_json j;
  j["test"] = r.test;
  j["kind"] = pp ? "pp" : "tg";
  j["n_prompt"] = pp ? r.spec.prompt : 0;
  j["n_gen"] = pp ? 0 : r.spec.gen;
  j["depth"] = pp ? 0 : r.spec.depth;
  j["threads"] = r.threads;
  j["batch"] = r.spec.batch;
  j["reps"] = r.reps;
  j["tokens"] = r.tokens;
  j["tok_s"] = r.tokS.median;
  j["tok_s_min"] = r.tokS.min;
  j["tok_s_max"] = r.tokS.max;
  j["ms"] = r.ms.median;
  j["ms_min"] = r.ms.min;
  j["ms_max"] = r.ms.max;
  j["ttft_ms"] = orNull(pp, r.ttftMs.median);
  j["ttft_ms_min"] = orNull(pp, r.ttftMs.min);
  j["ttft_ms_max"] = orNull(pp, r.ttftMs.max);
  j["peak_rss_bytes"] = r.peakRss;
  bool c = r.ceilings.has_value();
  j["read_gb_s"] = orNull(c, c ? r.ceilings->readGBs.max : 0);
  j["fp32_gflops"] = orNull(c, c ? r.ceilings->fp32Gflops.max : 0);
  bool roof = r.roofline.has_value();
  j["roofline"] = orNull(roof, roof ? r.roofline->median : 0);
  j["roofline_min"] = orNull(roof, roof ? r.roofline->min : 0);
  j["roofline_max"] = orNull(roof, roof ? r.roofline->max : 0);
  return j;
}

nlohmann::ordered_json ceilingsJson(const Ceilings &c, const CpuInfo &cpu) {
  nlohmann::ordered_json j;
  j["threads"] = c.threads;
  j["buffer_bytes"] = c.bandwidthBufferBytes;
  j["read_gb_s"] = c.readGBs.max;
  j["read_gb_s_median"] = c.readGBs.median;
  j["read_gb_s_min"] = c.readGBs.min;
  j["read_streams"] = c.readStreams;
  j["read_prefetched"] = c.readPrefetched;
  j["fp32_isa"] = cpu.fmaIsa;
  j["fp32_gflops"] = c.fp32Gflops.max;
  j["fp32_gflops_median"] = c.fp32Gflops.median;
  j["fp32_gflops_min"] = c.fp32Gflops.min;
  j["int8_vnni_gops"] = orNull(cpu.vnni, c.int8Gops.max);
  j["int8_vnni_gops_median"] = orNull(cpu.vnni, c.int8Gops.median);
  j["int8_vnni_gops_min"] = orNull(cpu.vnni, c.int8Gops.min);
  return j;
}

std::string fmt(double v, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, v);
  return buffer;
}

std::string spread(const Spread &s, int digits, double scale = 1) {
  std::string m = fmt(s.median * scale, digits);
  std::string lo = fmt(s.min * scale, digits), hi = fmt(s.max * scale, digits);
  if (lo == hi)
    return m;
  return m + " (" + lo + ".." + hi + ")";
}

void printCeilingsMarkdown(const std::vector<Ceilings> &all,
                           const CpuInfo &cpu) {
  std::cout << "CPU: " << (cpu.model.empty() ? "unknown" : cpu.model) << ", "
            << cpu.hardwareThreads << " hardware threads, last-level cache "
            << cpu.llcBytes / (1 << 20) << " MiB\n\n";
  std::cout << "| threads | read GB/s | fp32 GFLOP/s (" << cpu.fmaIsa
            << ") | int8 GOP/s (vpdpbusd) |\n|---|---|---|---|\n";
  for (const Ceilings &c : all)
    std::cout << "| " << c.threads << " | " << spread(c.readGBs, 1) << " | "
              << spread(c.fp32Gflops, 1) << " | "
              << (cpu.vnni ? spread(c.int8Gops, 1) : "no VNNI") << " |\n";
  std::cout << "\nmedian (min..max) over the repetitions; the roofline uses "
               "the max. Reads: the faster of two patterns,";
  for (const Ceilings &c : all)
    std::cout << " " << c.threads << " thread(s): " << c.readStreams
              << " streams per thread"
              << (c.readPrefetched ? " prefetched in software" : "") << ";";
  std::cout << " over a "
            << (all.empty() ? 0 : all[0].bandwidthBufferBytes >> 20)
            << " MiB buffer\n\n";
}

void printMarkdown(const std::vector<Row> &rows, bool roofline) {
  std::cout << "| threads | batch | test | tok/s | ms | TTFT ms | peak RSS "
               "MiB |"
            << (roofline ? " roofline |" : "") << "\n";
  std::cout << "|---|---|---|---|---|---|---|" << (roofline ? "---|" : "")
            << "\n";
  for (const Row &r : rows) {
    std::cout << "| " << r.threads << " | " << r.spec.batch << " | " << r.test
              << " | " << spread(r.tokS, 1) << " | " << spread(r.ms, 1) << " | "
              << (r.spec.kind == TestKind::Prefill ? spread(r.ttftMs, 1) : "-")
              << " | " << fmt(double(r.peakRss) / (1 << 20), 0) << " |";
    if (roofline)
      std::cout << " "
                << (r.roofline ? spread(*r.roofline, 1, 100.0) + "%" : "-")
                << " |";
    std::cout << "\n";
  }
}

void printCsv(const std::vector<nlohmann::ordered_json> &rows) {
  if (rows.empty())
    return;
  std::vector<std::string> keys;
  for (auto it = rows[0].begin(); it != rows[0].end(); ++it)
    keys.push_back(it.key());
  for (size_t i = 0; i < keys.size(); ++i)
    std::cout << (i ? "," : "") << keys[i];
  std::cout << "\n";
  for (const nlohmann::ordered_json &row : rows) {
    for (size_t i = 0; i < keys.size(); ++i) {
      const nlohmann::ordered_json &v = row[keys[i]];
      std::cout << (i ? "," : "");
      if (v.is_string())
        std::cout << v.get<std::string>();
      else if (!v.is_null())
        std::cout << v.dump();
    }
    std::cout << "\n";
  }
}

struct Options {
  std::string path;
  std::vector<int64_t> prompts{128}, gens{64}, depths{0}, threads, batches{1};
  int64_t reps = 5, warmup = 1, seed = 0, bandwidthMib = 0;
  std::string output = "md";
  bool ceilings = false, verify = true, progress = false;
};

/// Parses argv into `o`; returns -1 to go on, else the exit code.
int parseOptions(int argc, char **argv, Options &o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto is = [&](const char *shortName, const char *longName) {
      return (shortName && a == shortName) || a == longName;
    };
    if (is("-h", "--help")) {
      std::cout << kUsage;
      return 0;
    }
    if (a == "--ceilings") {
      o.ceilings = true;
      continue;
    }
    if (a == "--no-verify") {
      o.verify = false;
      continue;
    }
    if (a == "--progress") {
      o.progress = true;
      continue;
    }
    if (a.empty() || a[0] != '-') {
      if (!o.path.empty())
        return fail("more than one artifact given ('" + o.path + "', '" + a +
                    "')");
      o.path = a;
      continue;
    }
    bool known = is("-p", "--n-prompt") || is("-n", "--n-gen") ||
                 is("-d", "--depth") || is("-t", "--threads") ||
                 is("-b", "--batch") || is("-r", "--repetitions") ||
                 is("-w", "--warmup") || is("-s", "--seed") ||
                 is("-o", "--output") || is(nullptr, "--bandwidth-mib");
    if (!known)
      return fail("unknown option '" + a + "' (anvil-bench --help)");
    if (i + 1 >= argc)
      return fail(a + " needs a value (anvil-bench --help)");
    std::string v = argv[++i];
    const int64_t big = int64_t(1) << 30;
    if (is("-p", "--n-prompt") || is("-n", "--n-gen")) {
      std::vector<int64_t> &list = is("-p", "--n-prompt") ? o.prompts : o.gens;
      if (v == "0")
        list.clear();
      else if (!parseList(v, 1, big, list))
        return fail(a + " " + v +
                    ": expected token counts >= 1 like 128,512 (or 0)");
    } else if (is("-d", "--depth")) {
      if (!parseList(v, 0, big, o.depths))
        return fail(a + " " + v + ": expected token counts >= 0 like 0,128");
    } else if (is("-t", "--threads")) {
      if (!parseList(v, 1, ANVIL_MAX_THREADS, o.threads))
        return fail(a + " " + v + ": expected thread counts from 1 to " +
                    std::to_string(ANVIL_MAX_THREADS) + " like 1,2");
    } else if (is("-b", "--batch")) {
      if (!parseList(v, 1, 1 << 20, o.batches))
        return fail(a + " " + v + ": expected batch sizes >= 1 like 1,16");
    } else if (is("-r", "--repetitions")) {
      if (!parseInt(v, 1, 1 << 20, o.reps))
        return fail(a + " " + v + ": expected N >= 1");
    } else if (is("-w", "--warmup")) {
      if (!parseInt(v, 0, 1 << 20, o.warmup))
        return fail(a + " " + v + ": expected N >= 0");
    } else if (is("-s", "--seed")) {
      if (!parseInt(v, 0, INT64_MAX, o.seed))
        return fail(a + " " + v + ": expected S >= 0");
    } else if (is(nullptr, "--bandwidth-mib")) {
      if (!parseInt(v, 1, int64_t(1) << 24, o.bandwidthMib))
        return fail(a + " " + v + ": expected N >= 1 (MiB)");
    } else if (is("-o", "--output")) {
      if (v != "md" && v != "csv" && v != "json")
        return fail(a + " " + v + ": expected md, csv or json");
      o.output = v;
    }
  }
  if (o.path.empty() && !o.ceilings)
    return fail("no artifact given (anvil-bench --help)");
  if (!o.path.empty() && o.prompts.empty() && o.gens.empty())
    return fail("nothing to run: -p 0 and -n 0");
  if (o.threads.empty()) {
    unsigned hw = std::thread::hardware_concurrency();
    o.threads.push_back(hw ? hw : 1);
  }
  return -1;
}

std::string testName(const TestSpec &s) {
  if (s.kind == TestKind::Prefill)
    return "pp" + std::to_string(s.prompt);
  std::string name = "tg" + std::to_string(s.gen);
  if (s.depth)
    name += "@d" + std::to_string(s.depth);
  return name;
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  int rc = parseOptions(argc, argv, o);
  if (rc >= 0)
    return rc;
  CpuInfo cpu = cpuInfo();

  std::vector<Ceilings> ceilings;
  if (o.ceilings)
    for (int64_t t : o.threads) {
      if (o.progress)
        std::cerr << "anvil-bench: ceilings with " << t << " threads\n";
      ceilings.push_back(
          measureCeilings(int(t), int(o.reps), size_t(o.bandwidthMib) << 20));
    }
  auto ceilingsFor = [&](int64_t threads) -> std::optional<Ceilings> {
    for (const Ceilings &c : ceilings)
      if (c.threads == threads)
        return c;
    return std::nullopt;
  };

  // The process's peak from here on: model loading included, the
  // ceilings' buffer not.
  {
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
  }
  std::vector<Row> rows;
  ModelFacts facts;
  for (int64_t threads : o.threads) {
    if (o.path.empty())
      break;
    anvil_instance_options io{};
    io.struct_size = sizeof io;
    io.num_threads = int(threads);
    anvil_instance *rawInstance = nullptr;
    anvil::Status status{anvil_instance_create(&io, &rawInstance)};
    if (status)
      return fail(anvil_status_get_message(status.get()));
    anvil::Instance instance{rawInstance};
    anvil_model_options mo{};
    mo.skip_checksums = o.verify ? 0 : 1;
    mo.instance = instance.get();
    anvil_model *rawModel = nullptr;
    status.reset(anvil_model_open_file(o.path.c_str(), &mo, &rawModel));
    if (status)
      return fail(o.path + ": " + anvil_status_get_message(status.get()));
    anvil::Model model{rawModel};
    std::string error;
    if (!readModelFacts(model.get(), facts, error))
      return fail(o.path + ": " + error);

    for (int64_t batch : o.batches) {
      if (batch > facts.maxSeqsPerStep)
        return fail("batch " + std::to_string(batch) +
                    " is above the artifact's sequences per step (" +
                    std::to_string(facts.maxSeqsPerStep) +
                    "; anvilc --max-seqs-per-step)");
      std::vector<TestSpec> specs;
      for (int64_t p : o.prompts)
        specs.push_back(TestSpec{TestKind::Prefill, p, 0, 0, batch});
      for (int64_t n : o.gens)
        for (int64_t d : o.depths)
          specs.push_back(TestSpec{TestKind::Decode, 0, n, d, batch});
      // A KV pool for the longest test's sequences, no more (so the peak
      // RSS is what the runs need).
      int64_t blocks = 0;
      for (const TestSpec &s : specs) {
        int64_t maxNew = 0;
        int64_t length = sequenceLength(s, facts, maxNew);
        blocks = std::max(
            blocks, batch * ((length + facts.blockSize - 1) / facts.blockSize));
      }
      if (blocks > facts.maxKvBlocks)
        return fail("the tests need " + std::to_string(blocks) +
                    " KV blocks; the artifact allows " +
                    std::to_string(facts.maxKvBlocks) +
                    " (anvilc --max-kv-blocks)");
      anvil_engine_config config{};
      config.struct_size = sizeof config;
      config.kv_budget_blocks = blocks;
      config.disable_prefix_caching = 1; // random prompts; never a hit
      anvil_engine *rawEngine = nullptr;
      status.reset(anvil_engine_create(model.get(), &config, &rawEngine));
      if (status)
        return fail(o.path + ": " + anvil_status_get_message(status.get()));
      anvil::Engine engine{rawEngine};

      for (const TestSpec &spec : specs) {
        Row row;
        row.spec = spec;
        row.threads = threads;
        row.test = testName(spec);
        row.reps = o.reps;
        if (o.progress)
          std::cerr << "anvil-bench: threads " << threads << ", batch " << batch
                    << ", " << row.test << "\n";
        resetPeakRss();
        RunResult result;
        uint64_t seed = uint64_t(o.seed);
        for (int64_t w = 0; w < o.warmup; ++w)
          if (!runTest(engine.get(), facts, spec, seed + 1000000 + w, result,
                       error))
            return fail(row.test + ": " + error);
        std::vector<double> rates, ms, ttft;
        for (int64_t r = 0; r < o.reps; ++r) {
          if (!runTest(engine.get(), facts, spec, seed + r, result, error))
            return fail(row.test + ": " + error);
          rates.push_back(result.tokens / result.seconds);
          ms.push_back(result.seconds * 1e3);
          if (!result.ttftMs.empty())
            ttft.push_back(Spread::of(result.ttftMs).median);
          row.tokens = result.tokens;
        }
        row.tokS = Spread::of(rates);
        row.ms = Spread::of(ms);
        row.ttftMs = Spread::of(ttft);
        row.peakRss = peakRssBytes();
        row.ceilings = ceilingsFor(threads);
        if (row.ceilings && spec.kind == TestKind::Decode &&
            facts.streamedWeightBytes > 0 && row.ceilings->readGBs.max > 0) {
          // Each decode step reads the weights once for all sequences
          // (one row of a gathered table, such as the token embedding).
          double perToken = double(facts.streamedWeightBytes) / double(batch) /
                            (row.ceilings->readGBs.max * 1e9);
          row.roofline =
              Spread{row.tokS.median * perToken, row.tokS.min * perToken,
                     row.tokS.max * perToken};
        }
        rows.push_back(row);
      }
    }
  }

  std::vector<nlohmann::ordered_json> rowObjects;
  for (const Row &r : rows)
    rowObjects.push_back(rowJson(r));
  if (o.output == "json") {
    nlohmann::ordered_json out;
    nlohmann::ordered_json cpuJson{
        {"model", cpu.model},        {"hardware_threads", cpu.hardwareThreads},
        {"llc_bytes", cpu.llcBytes}, {"fp32_isa", cpu.fmaIsa},
        {"avx512_vnni", cpu.vnni},   {"features", cpu.features}};
    out["cpu"] = cpuJson;
    if (o.path.empty())
      out["model"] = nullptr;
    else
      out["model"] = {{"path", o.path},
                      {"target", facts.target},
                      {"weight_bytes", facts.weightBytes},
                      {"streamed_weight_bytes", facts.streamedWeightBytes},
                      {"vocab_size", facts.vocabSize},
                      {"max_context", facts.maxContext},
                      {"block_size", facts.blockSize},
                      {"max_tokens_per_step", facts.maxTokensPerStep}};
    out["repetitions"] = o.reps;
    out["warmup"] = o.warmup;
    out["seed"] = o.seed;
    out["ceilings"] = nlohmann::ordered_json::array();
    for (const Ceilings &c : ceilings)
      out["ceilings"].push_back(ceilingsJson(c, cpu));
    out["results"] = rowObjects;
    // The ceilings' buffer is not a model's memory.
    resetPeakRss();
    out["peak_rss_bytes"] = rows.empty()
                                ? nlohmann::ordered_json(nullptr)
                                : nlohmann::ordered_json(processPeakRss);
    std::cout << out.dump(1) << "\n";
  } else if (o.output == "csv") {
    if (o.path.empty()) {
      std::vector<nlohmann::ordered_json> objects;
      for (const Ceilings &c : ceilings)
        objects.push_back(ceilingsJson(c, cpu));
      printCsv(objects);
    } else {
      printCsv(rowObjects);
    }
  } else {
    if (!ceilings.empty())
      printCeilingsMarkdown(ceilings, cpu);
    if (!o.path.empty()) {
      std::cout << "model: " << o.path << ", weights "
                << fmt(double(facts.weightBytes) / 1e6, 1) << " MB ("
                << fmt(double(facts.streamedWeightBytes) / 1e6, 1)
                << " MB read per decode step); median (min..max) of " << o.reps
                << " runs after " << o.warmup << " warm-up\n\n";
      printMarkdown(rows, !ceilings.empty());
    }
  }
  return 0;
}
