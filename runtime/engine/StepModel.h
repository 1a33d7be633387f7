//===- StepModel.h - what the engine runs: one paged step -------*- C++ -*-===//
//
// The paged step function of a decoder (DESIGN "Execution model for decoder
// LLMs") as the engine sees it: one forward pass over a flattened batch of
// tokens from many sequences. New K/V rows are written at their slots of the
// KV pool; attention reads each sequence's keys through its block table. The
// compiled artifact implements it (ArtifactStepModel); tests implement it
// with small reference models.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_ENGINE_STEPMODEL_H
#define ANVIL_RUNTIME_ENGINE_STEPMODEL_H

#include "anvil/anvil.h"

#include <cstdint>

namespace anvil::engine {

/// The model's fixed shape facts, from the artifact's manifest ("llm").
struct StepModelInfo {
  int64_t vocabSize = 0;
  /// Positions per KV block (vLLM's block_size).
  int64_t blockSize = 16;
  /// Longest sequence (prompt + generated) a request may reach: the model's
  /// position limit, and block tables have maxContext / blockSize entries.
  int64_t maxContext = 0;
  /// Compile-time maxima of one step (bounded dims): tokens and sequences.
  int64_t maxTokensPerStep = 0;
  int64_t maxSeqsPerStep = 0;
  /// Bytes one KV block takes over all layers (keys and values).
  int64_t bytesPerBlock = 0;
  /// Largest pool the compiled code accepts, in blocks.
  int64_t maxBlocks = 0;
};

/// One step's batch. T = numTokens, S = numSeqs, R = numLogitRows. Every
/// pointer is valid for the call only.
struct StepBatch {
  int64_t numTokens = 0;
  int64_t numSeqs = 0;
  int64_t numLogitRows = 0;
  const int64_t *tokens = nullptr; ///< [T] token ids
  /// [T] position of each token in its sequence.
  const int64_t *positions = nullptr;
  const int32_t *seqOfToken = nullptr; ///< [T] index in [0, S) of its sequence
  /// [T] pool slot (block * blockSize + offset) its K/V row is written to.
  const int64_t *slotMapping = nullptr;
  /// [S, maxContext / blockSize] row-major, pool block ids; entries past a
  /// sequence's last block are ignored (fill with 0).
  const int32_t *blockTables = nullptr;
  /// [S] keys each sequence has after this step's writes (its last token's
  /// position + 1).
  const int32_t *contextLens = nullptr;
  /// [R] indices into [0, T) of the tokens whose logits are wanted.
  const int32_t *logitRows = nullptr;
};

class StepModel {
public:
  virtual ~StepModel() = default;
  virtual const StepModelInfo &info() const = 0;
  /// Sets the KV pool to `numBlocks` blocks (1 <= numBlocks <= maxBlocks);
  /// called once before the first step. Its contents start undefined.
  virtual anvil_status allocatePool(int64_t numBlocks) = 0;
  /// Runs one step: writes the batch's K/V rows into the pool and
  /// `logits` ([R, vocabSize] f32, row r for token logitRows[r]; room for
  /// at least one row, which a model may write even when R is 0). Errors
  /// are statuses (ANVIL_INVALID_ARGUMENT for a batch over the maxima,
  /// ANVIL_EXECUTION_FAILED from the code).
  virtual anvil_status step(const StepBatch &batch, float *logits) = 0;
};

} // namespace anvil::engine

#endif // ANVIL_RUNTIME_ENGINE_STEPMODEL_H
