//===- ReferenceStepModel.h - a tiny LM that reads its KV pool --*- C++ -*-===//
//
// The engine tests' StepModel. Its "KV" row for a token is the token's id
// and position, written at the token's slot; the logits of a token are a
// hash of every token id of its context, read back through the sequence's
// block table. So a wrong slot mapping, block table, prefix-cache hit or
// preemption gives other tokens (or a position mismatch, an error), and
// greedyContinuation() is the exact expected output.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TEST_UNIT_ENGINE_REFERENCESTEPMODEL_H
#define ANVIL_TEST_UNIT_ENGINE_REFERENCESTEPMODEL_H

#include "runtime/engine/StepModel.h"
#include "runtime/src/Status.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace anvil::engine::test {

inline StepModelInfo referenceInfo(int64_t vocab = 97, int64_t blockSize = 4,
                                   int64_t maxContext = 512,
                                   int64_t maxTokens = 64, int64_t maxSeqs = 40,
                                   int64_t maxBlocks = 4096) {
  StepModelInfo info;
  info.vocabSize = vocab;
  info.blockSize = blockSize;
  info.maxContext = maxContext;
  info.maxTokensPerStep = maxTokens;
  info.maxSeqsPerStep = maxSeqs;
  info.bytesPerBlock = 2 * 8 * blockSize;
  info.maxBlocks = maxBlocks;
  return info;
}

inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// The hash of a context, token by token in order.
inline uint64_t contextHash(const int64_t *tokens, size_t n) {
  uint64_t h = 0x5eed;
  for (size_t i = 0; i < n; ++i)
    h = mix64(h ^ static_cast<uint64_t>(tokens[i]));
  return h;
}

/// Logits in [-4, 4) from a context hash.
inline void logitsFor(uint64_t h, int64_t vocab, float *out) {
  for (int64_t v = 0; v < vocab; ++v) {
    uint64_t bits =
        mix64(h ^ (static_cast<uint64_t>(v) * 0xd1b54a32d192ed03ull));
    out[v] = static_cast<float>(bits >> 40) / 16777216.0f * 8.0f - 4.0f;
  }
}

/// What greedy decoding of `prompt` must give: `n` tokens.
inline std::vector<int64_t> greedyContinuation(std::vector<int64_t> tokens,
                                               int64_t n, int64_t vocab) {
  std::vector<float> logits(static_cast<size_t>(vocab));
  std::vector<int64_t> out;
  for (int64_t i = 0; i < n; ++i) {
    logitsFor(contextHash(tokens.data(), tokens.size()), vocab, logits.data());
    int64_t best = 0;
    for (int64_t v = 1; v < vocab; ++v)
      if (logits[v] > logits[best])
        best = v;
    out.push_back(best);
    tokens.push_back(best);
  }
  return out;
}

class ReferenceStepModel : public StepModel {
public:
  explicit ReferenceStepModel(const StepModelInfo &info) : facts(info) {}

  const StepModelInfo &info() const override { return facts; }

  anvil_status allocatePool(int64_t numBlocks) override {
    if (numBlocks < 1 || numBlocks > facts.maxBlocks)
      return fail(ANVIL_INVALID_ARGUMENT,
                  "pool of " + std::to_string(numBlocks));
    blocks = numBlocks;
    // Undefined contents: positions that match nothing.
    pool.assign(static_cast<size_t>(numBlocks * facts.blockSize * 2), -7);
    return nullptr;
  }

  anvil_status step(const StepBatch &batch, float *logits) override {
    ++steps;
    const int64_t B = facts.blockSize, W = facts.maxContext / B;
    if (batch.numTokens < 1 || batch.numTokens > facts.maxTokensPerStep ||
        batch.numSeqs < 1 || batch.numSeqs > facts.maxSeqsPerStep ||
        batch.numLogitRows < 0 || batch.numLogitRows > batch.numSeqs)
      return fail(ANVIL_INVALID_ARGUMENT, "batch over the maxima");
    for (int64_t t = 0; t < batch.numTokens; ++t) {
      int64_t slot = batch.slotMapping[t];
      int32_t s = batch.seqOfToken[t];
      if (slot < 0 || slot >= blocks * B || s < 0 || s >= batch.numSeqs ||
          batch.tokens[t] < 0 || batch.tokens[t] >= facts.vocabSize)
        return fail(ANVIL_INVALID_ARGUMENT, "bad token " + std::to_string(t));
      if (batch.tokens[t] == failOnToken)
        return fail(ANVIL_EXECUTION_FAILED, "the failing token");
      if (batch.positions[t] >= batch.contextLens[s])
        return fail(ANVIL_INVALID_ARGUMENT, "position past the context");
      pool[2 * slot] = batch.tokens[t];
      pool[2 * slot + 1] = batch.positions[t];
    }
    for (int64_t s = 0; s < batch.numSeqs; ++s) {
      int64_t len = batch.contextLens[s];
      if (len < 1 || len > facts.maxContext)
        return fail(ANVIL_INVALID_ARGUMENT, "context length");
      for (int64_t i = (len + B - 1) / B; i < W; ++i)
        if (batch.blockTables[s * W + i] != 0)
          return fail(ANVIL_INVALID_ARGUMENT, "unused table entry not 0");
    }
    std::vector<int64_t> context;
    for (int64_t r = 0; r < batch.numLogitRows; ++r) {
      int32_t t = batch.logitRows[r];
      if (t < 0 || t >= batch.numTokens)
        return fail(ANVIL_INVALID_ARGUMENT, "logit row");
      int32_t s = batch.seqOfToken[t];
      int64_t len = batch.positions[t] + 1; // causal
      context.clear();
      for (int64_t p = 0; p < len; ++p) {
        int64_t block = batch.blockTables[s * W + p / B];
        if (block < 0 || block >= blocks)
          return fail(ANVIL_INVALID_ARGUMENT, "block table entry");
        int64_t slot = block * B + p % B;
        if (pool[2 * slot + 1] != p)
          return fail(ANVIL_EXECUTION_FAILED,
                      "slot " + std::to_string(slot) + " holds position " +
                          std::to_string(pool[2 * slot + 1]) + ", wanted " +
                          std::to_string(p));
        context.push_back(pool[2 * slot]);
      }
      logitsFor(contextHash(context.data(), context.size()), facts.vocabSize,
                logits + r * facts.vocabSize);
      adjustLogits(batch.tokens[t], logits + r * facts.vocabSize);
    }
    computedTokens += batch.numTokens;
    return nullptr;
  }

  /// Tests may bend the logits of row `row`, whose token is `token`.
  virtual void adjustLogits(int64_t token, float *row) {
    (void)token;
    (void)row;
  }

  /// A step with this token id fails (ANVIL_EXECUTION_FAILED).
  std::atomic<int64_t> failOnToken{-1};
  std::atomic<int64_t> computedTokens{0}, steps{0};
  std::string lastError;

private:
  anvil_status fail(anvil_status_code code, const std::string &message) {
    lastError = message;
    return runtime::makeStatus(code, message);
  }

  StepModelInfo facts;
  int64_t blocks = 0;
  std::vector<int64_t> pool;
};

} // namespace anvil::engine::test

#endif // ANVIL_TEST_UNIT_ENGINE_REFERENCESTEPMODEL_H
