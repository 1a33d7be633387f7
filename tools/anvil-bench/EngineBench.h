//===- EngineBench.h - timing prefill and decode through the engine -------===//
//
// One test of anvil-bench: `batch` concurrent sequences of seeded random
// token ids through the engine's C API (anvil_engine_*), stepped from the
// calling thread, on a model opened with a given thread count.
//
//   prefill (pp): each sequence's prompt of `prompt` tokens, up to its first
//     generated token; tokens = batch x prompt, time = submit to the step
//     that gives the last sequence its first token.
//   decode (tg): after a prompt of max(depth, 1) tokens, `gen` decode steps
//     in which every sequence generates a token; tokens = batch x gen, time
//     = from the end of the step that gave the last sequence its first token
//     to the end of the gen-th step after it.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_ANVIL_BENCH_ENGINEBENCH_H
#define ANVIL_TOOLS_ANVIL_BENCH_ENGINEBENCH_H

#include "anvil/anvil.h"

#include <cstdint>
#include <string>
#include <vector>

namespace anvil::bench {

/// What anvil-bench reads of the artifact's manifest.
struct ModelFacts {
  int64_t weightBytes = 0; // the weights section (manifest model.weight_bytes)
  /// What a decode step reads of it (model.streamed_weight_bytes: all but
  /// the tables only a gather reads); weightBytes for artifacts from before
  /// anvilc recorded it.
  int64_t streamedWeightBytes = 0;
  int64_t vocabSize = 0, blockSize = 0, maxContext = 0, maxKvBlocks = 0;
  int64_t maxTokensPerStep = 0, maxSeqsPerStep = 0;
  std::string target;
};

/// Reads `model`'s manifest; false with `error` set when it is not a
/// decoder the engine runs.
bool readModelFacts(anvil_model *model, ModelFacts &facts, std::string &error);

enum class TestKind { Prefill, Decode };

struct TestSpec {
  TestKind kind = TestKind::Prefill;
  int64_t prompt = 0; // prefill: tokens per sequence
  int64_t gen = 0;    // decode: steps timed
  int64_t depth = 0;  // decode: context before the timed steps
  int64_t batch = 1;
};

/// One timed run.
struct RunResult {
  double seconds = 0;
  int64_t tokens = 0;
  std::vector<double> ttftMs; // prefill: each sequence's time to first token
};

/// Positions a sequence of `spec` needs in the KV pool, and the tokens it
/// generates (max_new_tokens) so that every sequence is still decoding in
/// each timed step.
int64_t sequenceLength(const TestSpec &spec, const ModelFacts &facts,
                       int64_t &maxNewTokens);

/// Runs `spec` once with prompts drawn from `seed`. False with `error` set
/// when the engine fails.
bool runTest(anvil_engine *engine, const ModelFacts &facts,
             const TestSpec &spec, uint64_t seed, RunResult &result,
             std::string &error);

} // namespace anvil::bench

#endif // ANVIL_TOOLS_ANVIL_BENCH_ENGINEBENCH_H
