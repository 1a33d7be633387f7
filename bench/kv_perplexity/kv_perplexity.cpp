//===- kv_perplexity.cpp - a decoder artifact's perplexity on a token stream =//
//
//   anvil-kv-perplexity MODEL.anvil TOKENS.i64 [--window N] [--threads N]
//                       [--argmax OUT.i32]
//
// The paged step function of MODEL (docs/llm.md) over windows of N + 1
// tokens with stride N (models/default/report.md's evaluation: N = 256),
// each prefilled in steps of at most max_seqs_per_step tokens (the most
// logit rows a step returns), so later chunks read the K/V earlier ones
// wrote to the pool: with --kv-dtype=f16 they read f16 keys and values
// (int8 ones and their scales with --kv-dtype=int8). TOKENS.i64 is the
// token stream as raw little-endian int64. Prints the mean NLL (nats per
// token) and the perplexity; --argmax writes each prediction's argmax (raw
// int32), to compare two artifacts' next-token choices position by
// position (teacher-forced agreement).
//
//===----------------------------------------------------------------------===//

#include "ModelHandle.h"
#include "anvil/anvil.h"
#include "runtime/engine/ArtifactStepModel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

using namespace anvil::engine;

static int fail(const std::string &message) {
  std::fprintf(stderr, "anvil-kv-perplexity: error: %s\n", message.c_str());
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 3)
    return fail("usage: anvil-kv-perplexity MODEL.anvil TOKENS.i64 "
                "[--window N] [--threads N] [--argmax OUT.i32]");
  int64_t window = 256;
  int threads = 1;
  const char *argmaxPath = nullptr;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--window"))
      window = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads"))
      threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--argmax"))
      argmaxPath = argv[i + 1];
    else
      return fail(std::string("unknown flag ") + argv[i]);
  }
  std::ifstream in(argv[2], std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  std::vector<int64_t> ids(bytes.size() / sizeof(int64_t));
  std::memcpy(ids.data(), bytes.data(), ids.size() * sizeof(int64_t));
  if (window < 1 || (int64_t)ids.size() < window + 1)
    return fail("fewer tokens than one window");

  anvil_model_options options{};
  options.num_threads = threads;
  anvil_model *model = nullptr;
  if (anvil_status status = anvil_model_open_file(argv[1], &options, &model))
    return fail(anvil_status_get_message(status));
  std::unique_ptr<StepModel> step;
  if (anvil_status status = openArtifactStepModel(model->model, step))
    return fail(anvil_status_get_message(status));
  const StepModelInfo &info = step->info();
  if (window > info.maxContext)
    return fail("the window is longer than the model's context");
  int64_t blocks = (window + info.blockSize - 1) / info.blockSize;
  int64_t tableWidth = info.maxContext / info.blockSize;
  if (anvil_status status = step->allocatePool(blocks))
    return fail(anvil_status_get_message(status));
  int64_t chunk = std::min(info.maxTokensPerStep, info.maxSeqsPerStep);
  std::vector<int32_t> table(tableWidth, 0);
  for (int64_t b = 0; b < blocks; ++b)
    table[b] = int32_t(b);
  std::vector<float> logits(chunk * info.vocabSize);
  double nll = 0;
  int64_t predicted = 0;
  std::vector<int32_t> argmax;
  for (int64_t start = 0; start + window + 1 <= (int64_t)ids.size();
       start += window) {
    for (int64_t done = 0; done < window; done += chunk) {
      int64_t n = std::min(chunk, window - done);
      std::vector<int64_t> tokens(ids.begin() + start + done,
                                  ids.begin() + start + done + n);
      std::vector<int64_t> positions(n), slots(n);
      std::vector<int32_t> seqOf(n, 0), rows(n);
      for (int64_t t = 0; t < n; ++t) {
        positions[t] = slots[t] = done + t;
        rows[t] = int32_t(t);
      }
      int32_t contextLen = int32_t(done + n);
      StepBatch batch;
      batch.numTokens = n;
      batch.numSeqs = 1;
      batch.numLogitRows = n;
      batch.tokens = tokens.data();
      batch.positions = positions.data();
      batch.seqOfToken = seqOf.data();
      batch.slotMapping = slots.data();
      batch.blockTables = table.data();
      batch.contextLens = &contextLen;
      batch.logitRows = rows.data();
      if (anvil_status status = step->step(batch, logits.data()))
        return fail(anvil_status_get_message(status));
      for (int64_t t = 0; t < n; ++t) {
        const float *row = logits.data() + t * info.vocabSize;
        float top = row[0];
        int32_t best = 0;
        for (int64_t v = 1; v < info.vocabSize; ++v)
          if (row[v] > top) {
            top = row[v];
            best = int32_t(v);
          }
        argmax.push_back(best);
        double sum = 0;
        for (int64_t v = 0; v < info.vocabSize; ++v)
          sum += std::exp(double(row[v]) - top);
        int64_t next = ids[start + done + t + 1];
        nll += std::log(sum) + top - row[next];
        ++predicted;
      }
    }
  }
  anvil_model_release(model);
  if (argmaxPath) {
    std::ofstream out(argmaxPath, std::ios::binary);
    out.write(reinterpret_cast<const char *>(argmax.data()),
              std::streamsize(argmax.size() * sizeof(int32_t)));
    if (!out)
      return fail(std::string("cannot write ") + argmaxPath);
  }
  std::printf("%lld predicted tokens, NLL %.6f nats/token, perplexity %.4f\n",
              (long long)predicted, nll / predicted, std::exp(nll / predicted));
  return 0;
}
