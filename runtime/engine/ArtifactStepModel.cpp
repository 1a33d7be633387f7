//===- ArtifactStepModel.cpp - the paged step of a compiled artifact ------===//

#include "runtime/engine/ArtifactStepModel.h"

#include "runtime/src/LoadedModel.h"
#include "runtime/src/Status.h"
#include "runtime/src/device/Device.h"

#include <string>
#include <vector>

namespace anvil::engine {

using runtime::LoadedModel;
using runtime::makeStatus;

namespace {

/// The step's inputs, in the order StepBatch gives them.
const char *const kInputNames[] = {
    "token_ids",    "positions",    "seq_of_token", "slot_mapping",
    "block_tables", "context_lens", "logit_rows"};
constexpr size_t kNumInputs = sizeof(kInputNames) / sizeof(kInputNames[0]);
/// Their dtypes: what StepBatch's pointers point to.
const anvil_dtype kInputDtypes[kNumInputs] = {
    ANVIL_DTYPE_I64, ANVIL_DTYPE_I64, ANVIL_DTYPE_I32, ANVIL_DTYPE_I64,
    ANVIL_DTYPE_I32, ANVIL_DTYPE_I32, ANVIL_DTYPE_I32};
/// The run-time sizes the step takes, by name.
const char *const kSizeNames[] = {"tokens", "seqs", "logit_rows", "kv_blocks"};

class ArtifactStepModel final : public StepModel {
public:
  ArtifactStepModel(std::shared_ptr<LoadedModel> owner, size_t entry)
      : owner(std::move(owner)), model(*this->owner), entry(entry) {}
  ~ArtifactStepModel() override {
    if (pool)
      model.deviceRef().release(pool);
  }

  anvil_status init();
  const StepModelInfo &info() const override { return facts; }
  anvil_status allocatePool(int64_t numBlocks) override;
  anvil_status step(const StepBatch &batch, float *logits) override;

private:
  std::shared_ptr<LoadedModel> owner; // kept alive while the engine runs
  LoadedModel &model;
  size_t entry;
  StepModelInfo facts;
  /// Manifest input index of each of kInputNames, and sizes[] index of
  /// each of kSizeNames.
  size_t inputIndex[kNumInputs] = {};
  size_t sizeIndex[4] = {};
  size_t numStates = 0;
  KvStateLayout layout;
  void *pool = nullptr;
  int64_t numBlocks = 0;
  std::vector<void *> states;
};

anvil_status ArtifactStepModel::init() {
  const runtime::LlmInfo &llm = model.manifest().llm;
  const runtime::EntryPoint &e = model.manifest().entryPoints[entry];
  auto refuse = [&](const std::string &what) {
    return makeStatus(ANVIL_INVALID_ARTIFACT,
                      "the paged step '" + e.name + "' " + what);
  };
  if (e.inputs.size() != kNumInputs)
    return refuse("does not take the " + std::to_string(kNumInputs) +
                  " inputs of a paged step");
  for (size_t i = 0; i < kNumInputs; ++i) {
    size_t found = e.inputs.size();
    for (size_t j = 0; j < e.inputs.size(); ++j)
      if (e.inputs[j].name == kInputNames[i])
        found = j;
    if (found == e.inputs.size() || e.inputs[found].dtype != kInputDtypes[i])
      return refuse(std::string("has no input '") + kInputNames[i] +
                    "' of dtype " + anvil_dtype_name(kInputDtypes[i]));
    inputIndex[i] = found;
  }
  for (size_t i = 0; i < 4; ++i) {
    size_t found = e.sizes.size();
    for (size_t j = 0; j < e.sizes.size(); ++j)
      if (e.sizes[j].name == kSizeNames[i])
        found = j;
    if (found == e.sizes.size())
      return refuse(std::string("has no run-time size '") + kSizeNames[i] +
                    "'");
    sizeIndex[i] = found;
  }
  if (e.sizes.size() != 4)
    return refuse("has run-time sizes the engine does not know");
  if (e.outputs.size() != 1 || e.outputs[0].dtype != ANVIL_DTYPE_F32 ||
      e.outputs[0].dims.size() != 2 || e.outputs[0].dims[1] != llm.vocabSize)
    return refuse("does not return f32 logits [logit_rows, vocab_size]");
  std::string problem = planKvStates(e, llm, (int)sizeIndex[3], layout);
  if (!problem.empty())
    return refuse(problem);
  numStates = e.states.size();
  facts.vocabSize = llm.vocabSize;
  facts.blockSize = llm.blockSize;
  facts.maxContext = llm.maxContext;
  facts.maxTokensPerStep = e.sizes[sizeIndex[0]].max;
  facts.maxSeqsPerStep =
      std::min(e.sizes[sizeIndex[1]].max, e.sizes[sizeIndex[2]].max);
  facts.bytesPerBlock = layout.bytesPerBlock;
  facts.maxBlocks = e.sizes[sizeIndex[3]].max;
  return nullptr;
}

anvil_status ArtifactStepModel::allocatePool(int64_t blocks) {
  if (blocks < 1 || blocks > facts.maxBlocks)
    return makeStatus(ANVIL_INVALID_ARGUMENT,
                      "a KV pool of " + std::to_string(blocks) +
                          " blocks; this artifact takes 1 to " +
                          std::to_string(facts.maxBlocks));
  if (pool)
    model.deviceRef().release(pool);
  pool = nullptr;
  states.clear();
  // One allocation; each layer's keys and values (and an int8 cache's
  // scales) are consecutive slices of it.
  uint64_t total = 0;
  std::vector<uint64_t> offsets = layout.offsets(blocks, total);
  pool = model.deviceRef().allocate(total, runtime::Device::Use::KvPool);
  if (!pool)
    return makeStatus(ANVIL_RESOURCE_EXHAUSTED,
                      "cannot allocate a KV pool of " + std::to_string(total) +
                          " bytes");
  for (size_t i = 0; i < numStates; ++i)
    states.push_back(static_cast<unsigned char *>(pool) + offsets[i]);
  numBlocks = blocks;
  return nullptr;
}

anvil_status ArtifactStepModel::step(const StepBatch &batch, float *logits) {
  if (!pool)
    return makeStatus(ANVIL_INVALID_ARGUMENT,
                      "the step model's KV pool is not allocated");
  // A step of prefill chunks only wants no logits, but the compiled step
  // takes at least one row (PagedKv.cpp bounds logit_rows to [1, max]):
  // ask for the last token's, into the engine's logits buffer (sized for
  // max_seqs rows), which it ignores.
  int64_t numLogitRows = batch.numLogitRows;
  const int32_t *logitRows = batch.logitRows;
  int32_t lastToken = static_cast<int32_t>(batch.numTokens - 1);
  if (numLogitRows == 0 && batch.numTokens > 0) {
    numLogitRows = 1;
    logitRows = &lastToken;
  }
  const void *given[kNumInputs] = {
      batch.tokens,      batch.positions,   batch.seqOfToken, batch.slotMapping,
      batch.blockTables, batch.contextLens, logitRows};
  const void *inputs[kNumInputs];
  for (size_t i = 0; i < kNumInputs; ++i)
    inputs[inputIndex[i]] = given[i];
  int64_t sizes[4];
  sizes[sizeIndex[0]] = batch.numTokens;
  sizes[sizeIndex[1]] = batch.numSeqs;
  sizes[sizeIndex[2]] = numLogitRows;
  sizes[sizeIndex[3]] = numBlocks;
  void *outputs[1] = {logits};
  runtime::Invocation call;
  call.inputs = inputs;
  call.inputCount = kNumInputs;
  call.outputs = outputs;
  call.outputCount = 1;
  call.states = states.data();
  call.stateCount = states.size();
  call.sizes = sizes;
  call.sizeCount = 4;
  return model.run(entry, call);
}

} // namespace

std::vector<uint64_t> KvStateLayout::offsets(int64_t blocks,
                                             uint64_t &total) const {
  std::vector<uint64_t> at;
  total = 0;
  for (int64_t bytes : blockBytes) {
    at.push_back(total);
    total += ((uint64_t)bytes * (uint64_t)blocks + kSliceAlign - 1) /
             kSliceAlign * kSliceAlign;
  }
  return at;
}

std::string planKvStates(const runtime::EntryPoint &e,
                         const runtime::LlmInfo &llm, int kvBlocksSize,
                         KvStateLayout &out) {
  out = KvStateLayout();
  // The states: the manifest's num_pools K/V pools [kv_blocks, block_size,
  // kv_heads, head_dim] of one dtype, then, when those are i8 (anvilc
  // --kv-dtype=int8), as many f32 scale states [kv_blocks, block_size,
  // kv_heads]. The engine itself only needs each state to be kv_blocks
  // blocks of static bytes, but it refuses layouts it was not built for
  // rather than guess what they hold.
  const int64_t numPools = llm.numPools;
  if (numPools < 1)
    return "has no KV pools in the manifest's llm";
  bool int8 = !e.states.empty() && e.states[0].dtype == ANVIL_DTYPE_I8;
  if ((int64_t)e.states.size() != (int8 ? 2 : 1) * numPools)
    return "has " + std::to_string(e.states.size()) + " states, not the " +
           std::to_string(numPools) + " KV pools the manifest's llm describes" +
           (int8 ? " and their scales" : "");
  for (size_t i = 0; i < e.states.size(); ++i) {
    const runtime::TensorSpec &state = e.states[i];
    bool scales = (int64_t)i >= numPools;
    std::string what =
        std::string(scales ? "KV scales '" : "KV pool '") + state.name + "'";
    std::vector<int64_t> want{0, llm.blockSize, llm.kvHeads};
    if (!scales)
      want.push_back(llm.headDim);
    bool layout = state.dims.size() == want.size() &&
                  state.sizeOf.size() == want.size() &&
                  state.sizeOf[0] == kvBlocksSize;
    for (size_t d = 1; layout && d < want.size(); ++d)
      layout = state.dims[d] == want[d] && state.sizeOf[d] < 0;
    if (!layout)
      return "has " + what + " of another layout than [kv_blocks, " +
             "block_size, kv_heads" + (scales ? "" : ", head_dim") + "]";
    if (anvil_dtype_size(state.dtype) == 0)
      return "has " + what + " of a packed dtype";
    // The pools share one dtype (f32; f16 or i8 with --kv-dtype); the
    // scales are f32.
    anvil_dtype dtype = scales ? ANVIL_DTYPE_F32 : e.states[0].dtype;
    if (state.dtype != dtype)
      return "has " + what + " of dtype " + anvil_dtype_name(state.dtype) +
             ", not " + anvil_dtype_name(dtype) +
             (scales ? " (an int8 KV pool's scales)"
                     : " like '" + e.states[0].name + "'");
  }
  // Each state's bytes per block, from its own dims and dtype: 2 per
  // element with f16 KV, 1 with int8 plus 4 per (position, head) of scales.
  for (const runtime::TensorSpec &state : e.states) {
    int64_t bytes = (int64_t)anvil_dtype_size(state.dtype);
    for (size_t d = 1; d < state.dims.size(); ++d)
      bytes *= state.dims[d];
    out.blockBytes.push_back(bytes);
    out.bytesPerBlock += bytes;
  }
  return "";
}

anvil_status openArtifactStepModel(std::shared_ptr<LoadedModel> model,
                                   std::unique_ptr<StepModel> &out) {
  if (!model)
    return makeStatus(ANVIL_INVALID_ARGUMENT, "no model to make a step of");
  const runtime::LlmInfo &llm = model->manifest().llm;
  if (!llm.present)
    return makeStatus(ANVIL_INCOMPATIBLE,
                      "this artifact has no paged step function for the "
                      "engine (its manifest has no \"llm\"); compile the "
                      "decoder without --kv-cache=graph");
  int64_t entry = model->findEntry(llm.entry.c_str());
  if (entry < 0)
    return makeStatus(ANVIL_INVALID_ARTIFACT,
                      "the manifest's llm names entry point '" + llm.entry +
                          "', which the artifact does not have");
  auto step =
      std::make_unique<ArtifactStepModel>(std::move(model), (size_t)entry);
  if (anvil_status status = step->init())
    return status;
  out = std::move(step);
  return nullptr;
}

std::vector<int64_t> artifactEosTokenIds(const LoadedModel &model) {
  return model.manifest().llm.eosTokenIds;
}

anvil_status
openArtifactTokenizer(const LoadedModel &model,
                      std::shared_ptr<const tokenizer::Tokenizer> &out) {
  out.reset();
  std::string_view bytes = model.tokenizerBytes();
  if (bytes.empty())
    return nullptr;
  std::unique_ptr<tokenizer::Tokenizer> loaded;
  if (anvil_status status = tokenizer::Tokenizer::load(bytes, loaded))
    return status;
  out = std::move(loaded);
  return nullptr;
}

} // namespace anvil::engine
