//===- Engine.cpp - the LLM engine: requests in, tokens out ---------------===//

#include "runtime/engine/Engine.h"

#include "runtime/src/Status.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>

namespace anvil::engine {

/// The KV budget an engine gets when its config gives none.
constexpr int64_t kDefaultKvBytes = int64_t(1) << 30;

using runtime::guarded;
using runtime::makeStatus;

namespace {

using Clock = std::chrono::steady_clock;

/// Generated tokens a request's token vector has room for at submit.
constexpr int64_t kReservedNewTokens = 1024;

anvil_status invalid(const std::string &message) {
  return makeStatus(ANVIL_INVALID_ARGUMENT, message);
}

bool endsWithReplacementChar(const std::string &text) {
  // U+FFFD in UTF-8: a decoder's mark for bytes that are not yet a char.
  return text.size() >= 3 &&
         text.compare(text.size() - 3, 3, "\xEF\xBF\xBD") == 0;
}

} // namespace

/// A request and what only the engine needs of it.
struct Engine::Live : Request {
  TokenCallback callback;
  // Incremental detokenization (HF's DecodeStream / vLLM's
  // detokenize_incrementally): offsets into the generated tokens.
  size_t prefixOffset = 0, readOffset = 0;
  /// Decoded text not yet delivered: it may be the start of a stop string.
  std::string held;
  size_t longestStop = 0;
};

anvil_status Engine::create(std::unique_ptr<StepModel> model,
                            const EngineConfig &config,
                            std::unique_ptr<Engine> &out) {
  return guarded([&]() -> anvil_status {
    if (!model)
      return invalid("the engine needs a step model");
    const StepModelInfo &info = model->info();
    if (info.vocabSize <= 0 || info.blockSize <= 0 ||
        info.maxContext < info.blockSize || info.maxTokensPerStep <= 0 ||
        info.maxSeqsPerStep <= 0 || info.maxBlocks <= 0 ||
        info.maxBlocks > INT32_MAX || info.blockSize > INT32_MAX)
      return invalid("the step model's facts are inconsistent (vocab " +
                     std::to_string(info.vocabSize) + ", block size " +
                     std::to_string(info.blockSize) + ", context " +
                     std::to_string(info.maxContext) + ", tokens per step " +
                     std::to_string(info.maxTokensPerStep) +
                     ", sequences per step " +
                     std::to_string(info.maxSeqsPerStep) + ", max blocks " +
                     std::to_string(info.maxBlocks) + ")");
    if (config.kvBlocks < 0 || config.kvBytes < 0)
      return invalid("the KV budget is negative");
    if (config.kvBlocks && config.kvBytes)
      return invalid("give the KV budget in blocks or in bytes, not both");
    // Without a budget: 1 GiB of KV, but at least one full context, and
    // no more than the model takes.
    int64_t contextBlocks =
        (info.maxContext + info.blockSize - 1) / info.blockSize;
    int64_t blocks =
        info.bytesPerBlock > 0
            ? std::max(contextBlocks, kDefaultKvBytes / info.bytesPerBlock)
            : contextBlocks;
    blocks = std::min(blocks, info.maxBlocks);
    if (config.kvBlocks) {
      blocks = config.kvBlocks;
    } else if (config.kvBytes) {
      if (info.bytesPerBlock <= 0)
        return invalid("the step model does not say its bytes per block: "
                       "give the KV budget in blocks");
      blocks = config.kvBytes / info.bytesPerBlock;
      if (blocks == 0)
        return invalid("a KV budget of " + std::to_string(config.kvBytes) +
                       " bytes is less than one block (" +
                       std::to_string(info.bytesPerBlock) + " bytes)");
    }
    if (blocks > info.maxBlocks)
      return invalid("a KV budget of " + std::to_string(blocks) +
                     " blocks is above the model's limit of " +
                     std::to_string(info.maxBlocks));
    if (config.maxTokensPerStep < 0 ||
        config.maxTokensPerStep > info.maxTokensPerStep)
      return invalid(
          "max tokens per step " + std::to_string(config.maxTokensPerStep) +
          " is outside [0, " + std::to_string(info.maxTokensPerStep) + "]");
    if (config.maxSeqsPerStep < 0 ||
        config.maxSeqsPerStep > info.maxSeqsPerStep)
      return invalid(
          "max sequences per step " + std::to_string(config.maxSeqsPerStep) +
          " is outside [0, " + std::to_string(info.maxSeqsPerStep) + "]");
    for (int64_t id : config.eosTokenIds)
      if (id < 0 || id >= info.vocabSize)
        return invalid("EOS token id " + std::to_string(id) +
                       " is outside the vocabulary");
    if (config.tokenizer && config.tokenizer->vocabSize() > info.vocabSize)
      return invalid("the tokenizer's vocabulary (" +
                     std::to_string(config.tokenizer->vocabSize()) +
                     ") is larger than the model's (" +
                     std::to_string(info.vocabSize) + ")");
    if (anvil_status status = model->allocatePool(blocks))
      return status;
    StepModelInfo copy = info;
    out.reset(new Engine(std::move(model), config, copy, blocks));
    return nullptr;
  });
}

Engine::Engine(std::unique_ptr<StepModel> stepModel, const EngineConfig &cfg,
               const StepModelInfo &modelInfo, int64_t blocks)
    : model(std::move(stepModel)), config(cfg), info(modelInfo),
      numBlocks(blocks), tableWidth(modelInfo.maxContext / modelInfo.blockSize),
      kv(static_cast<int32_t>(blocks),
         static_cast<int32_t>(modelInfo.blockSize), cfg.enablePrefixCaching),
      sched(SchedulerConfig{cfg.maxTokensPerStep ? cfg.maxTokensPerStep
                                                 : modelInfo.maxTokensPerStep,
                            cfg.maxSeqsPerStep ? cfg.maxSeqsPerStep
                                               : modelInfo.maxSeqsPerStep},
            kv),
      sampler(modelInfo.vocabSize) {
  // Block tables hold maxContext / blockSize entries: a request ends there.
  contextCap =
      std::min(tableWidth * info.blockSize, numBlocks * info.blockSize);
  size_t tokens = static_cast<size_t>(info.maxTokensPerStep);
  size_t seqs = static_cast<size_t>(info.maxSeqsPerStep);
  batchTokens.resize(tokens);
  batchPositions.resize(tokens);
  batchSlots.resize(tokens);
  batchSeqOfToken.resize(tokens);
  batchTables.resize(seqs * static_cast<size_t>(tableWidth));
  batchContextLens.resize(seqs);
  batchLogitRows.resize(seqs);
  logitSeq.resize(seqs);
  logits.resize(seqs * static_cast<size_t>(info.vocabSize));
  plan.seqs.reserve(seqs);
  events.resize(seqs);
  eventCallbacks.reserve(seqs);
  finishedThisStep.reserve(seqs);
  counters.kvBlocksTotal = counters.kvBlocksFree = numBlocks;
}

Engine::~Engine() { stop(); }

anvil_status Engine::reject(anvil_status status) {
  std::lock_guard<std::mutex> lock(mu);
  ++counters.requestsRejected;
  return status;
}

anvil_status Engine::submit(std::vector<int64_t> prompt,
                            const SamplingParams &params,
                            TokenCallback callback, uint64_t &outId) {
  return guarded([&]() -> anvil_status {
    return admit(std::move(prompt), params, std::move(callback), outId);
  });
}

anvil_status Engine::submitText(std::string_view prompt,
                                const SamplingParams &params,
                                TokenCallback callback, uint64_t &outId) {
  return guarded([&]() -> anvil_status {
    if (!config.tokenizer)
      return reject(makeStatus(ANVIL_NOT_FOUND,
                               "the engine has no tokenizer (the artifact "
                               "has none): submit token ids"));
    std::vector<int64_t> ids;
    if (anvil_status status = config.tokenizer->encode(prompt, true, ids))
      return reject(status);
    return admit(std::move(ids), params, std::move(callback), outId);
  });
}

anvil_status Engine::admit(std::vector<int64_t> prompt,
                           const SamplingParams &params, TokenCallback callback,
                           uint64_t &outId) {
  int64_t length = static_cast<int64_t>(prompt.size());
  int64_t context = tableWidth * info.blockSize;
  int64_t capacity = numBlocks * info.blockSize;
  if (prompt.empty())
    return reject(invalid("the prompt is empty"));
  for (size_t i = 0; i < prompt.size(); ++i)
    if (prompt[i] < 0 || prompt[i] >= info.vocabSize)
      return reject(invalid("prompt token " + std::to_string(i) + " is " +
                            std::to_string(prompt[i]) +
                            ", outside the vocabulary [0, " +
                            std::to_string(info.vocabSize) + ")"));
  if (anvil_status status = validateSamplingParams(params, info.vocabSize))
    return reject(status);
  if (!params.stopStrings.empty() && !config.tokenizer)
    return reject(invalid("stop strings need a tokenizer, and the engine has "
                          "none: use stop token ids"));
  if (length >= context)
    return reject(invalid("the prompt has " + std::to_string(length) +
                          " tokens; the model's context is " +
                          std::to_string(context) +
                          " (prompt and generated tokens together)"));
  if (params.maxNewTokens > context - length)
    return reject(invalid("the prompt (" + std::to_string(length) +
                          " tokens) and max new "
                          "tokens (" +
                          std::to_string(params.maxNewTokens) +
                          ") exceed the model's context of " +
                          std::to_string(context)));
  int64_t wanted = length + std::max<int64_t>(1, params.maxNewTokens);
  if (wanted > capacity)
    return reject(makeStatus(
        ANVIL_RESOURCE_EXHAUSTED,
        "the request needs " + std::to_string(wanted) +
            " KV positions (prompt and max new tokens); the KV pool holds " +
            std::to_string(capacity) + " (" + std::to_string(numBlocks) +
            " blocks of " + std::to_string(info.blockSize) +
            "): raise the KV budget or lower max new tokens"));

  auto live = std::make_unique<Live>();
  live->tokens = std::move(prompt);
  live->promptLen = live->tokens.size();
  live->params = params;
  live->maxNewTokens =
      params.maxNewTokens ? params.maxNewTokens : contextCap - length;
  if (params.hasSeed) {
    live->seed = params.seed;
  } else {
    std::random_device device;
    live->seed = (static_cast<uint64_t>(device()) << 32) ^ device();
  }
  for (const std::string &stop : params.stopStrings)
    live->longestStop = std::max(live->longestStop, stop.size());
  live->callback = std::move(callback);
  // Room for typical outputs up front; a long one grows (rarely).
  live->tokens.reserve(live->promptLen +
                       static_cast<size_t>(std::min<int64_t>(
                           live->maxNewTokens, kReservedNewTokens)));
  live->arrival = Clock::now();

  std::lock_guard<std::mutex> lock(mu);
  live->id = nextId++;
  outId = live->id;
  liveIds.insert(live->id);
  submissions.push_back(std::move(live));
  ++counters.requestsSubmitted;
  wake.notify_one();
  return nullptr;
}

anvil_status Engine::cancel(uint64_t id) {
  return guarded([&]() -> anvil_status {
    std::lock_guard<std::mutex> lock(mu);
    if (!liveIds.count(id))
      return makeStatus(ANVIL_NOT_FOUND,
                        "no live request " + std::to_string(id) +
                            " (never submitted, or already finished)");
    cancels.push_back(id);
    wake.notify_one();
    return nullptr;
  });
}

void Engine::takeSubmissions() {
  {
    std::lock_guard<std::mutex> lock(mu);
    takenSubmissions.swap(submissions);
    takenCancels.swap(cancels);
  }
  for (auto &live : takenSubmissions) {
    Live *raw = live.get();
    requests.emplace(raw->id, std::move(live));
    sched.add(raw);
  }
  takenSubmissions.clear();
  for (uint64_t id : takenCancels) {
    auto it = requests.find(id);
    if (it != requests.end() && it->second->state != RequestState::Finished)
      finish(*it->second, FinishReason::Cancelled, -1, {});
  }
  takenCancels.clear();
}

/// The next event slot of this step, reset.
static TokenEvent &nextEvent(std::vector<TokenEvent> &events, size_t &count) {
  if (count == events.size())
    events.emplace_back();
  TokenEvent &event = events[count++];
  event.token = -1;
  event.text.clear();
  event.finish = FinishReason::None;
  event.logprob = 0.0f;
  event.top.clear();
  event.error.clear();
  return event;
}

void Engine::finish(Live &live, FinishReason reason, int64_t token,
                    std::string error) {
  TokenEvent &event = nextEvent(events, numEvents);
  event.requestId = live.id;
  event.token = token;
  event.finish = reason;
  event.error = std::move(error);
  eventCallbacks.push_back(&live.callback);
  retire(live, event);
}

void Engine::retire(Live &live, TokenEvent &event) {
  live.finish = event.finish;
  if (!sched.remove(&live) && event.error.empty()) {
    // A block freed twice: the engine's bug; the request still ends.
    event.finish = live.finish = FinishReason::Error;
    event.error = "internal error: a KV block was freed twice";
  }
  auto it = requests.find(live.id);
  finishedThisStep.push_back(std::move(it->second));
  requests.erase(it);
}

void Engine::emitToken(Live &live, int64_t token, const SampleResult &sample) {
  live.tokens.push_back(token);
  size_t generated = live.numGenerated();
  if (!live.firstTokenSeen) {
    live.firstTokenSeen = true;
    double ms =
        std::chrono::duration<double, std::milli>(Clock::now() - live.arrival)
            .count();
    std::lock_guard<std::mutex> lock(mu);
    ++counters.ttftCount;
    ttftMsSum += ms;
    counters.ttftMsLast = ms;
    counters.ttftMsMax = std::max(counters.ttftMsMax, ms);
  }
  bool stopToken =
      std::find(live.params.stopTokenIds.begin(),
                live.params.stopTokenIds.end(),
                token) != live.params.stopTokenIds.end() ||
      (!live.params.ignoreEos &&
       std::find(config.eosTokenIds.begin(), config.eosTokenIds.end(), token) !=
           config.eosTokenIds.end());
  bool length = static_cast<int64_t>(generated) >= live.maxNewTokens;

  TokenEvent &event = nextEvent(events, numEvents);
  event.requestId = live.id;
  event.token = token;
  if (live.params.logprobs >= 0) {
    event.logprob = sample.logprob;
    event.top.assign(sample.top.begin(), sample.top.end());
  }
  bool stopString = false;
  if (config.tokenizer) {
    // A stop token's own text is not output: stream up to before it.
    size_t end = stopToken ? generated - 1 : generated;
    bool last = stopToken || length;
    const tokenizer::Tokenizer &tok = *config.tokenizer;
    auto decode = [&](size_t from, size_t to) {
      std::vector<int64_t> ids(live.tokens.begin() + live.promptLen + from,
                               live.tokens.begin() + live.promptLen + to);
      return tok.decode(ids, /*skipSpecialTokens=*/true);
    };
    std::string delta;
    if (end > live.readOffset || last) {
      std::string prefix = decode(live.prefixOffset, live.readOffset);
      std::string full = decode(live.prefixOffset, end);
      if (full.size() > prefix.size() &&
          (last || !endsWithReplacementChar(full))) {
        delta = full.substr(prefix.size());
        live.prefixOffset = live.readOffset;
        live.readOffset = end;
      }
    }
    live.held += delta;
    size_t stopAt = std::string::npos;
    for (const std::string &stop : live.params.stopStrings)
      stopAt = std::min(stopAt, live.held.find(stop));
    if (stopAt != std::string::npos) {
      event.text.assign(live.held, 0, stopAt);
      live.held.clear();
      stopString = true;
    } else if (last) {
      event.text.swap(live.held);
      live.held.clear();
    } else {
      // Hold back what may be the start of a stop string, on a UTF-8
      // character boundary.
      size_t keep = std::min(live.held.size(),
                             live.longestStop ? live.longestStop - 1 : 0);
      size_t cut = live.held.size() - keep;
      while (cut > 0 && cut < live.held.size() &&
             (static_cast<unsigned char>(live.held[cut]) & 0xC0) == 0x80)
        --cut;
      event.text.assign(live.held, 0, cut);
      live.held.erase(0, cut);
    }
  }
  FinishReason reason = stopToken || stopString ? FinishReason::Stop
                        : length                ? FinishReason::Length
                                                : FinishReason::None;
  if (reason == FinishReason::None) {
    eventCallbacks.push_back(&live.callback);
    return;
  }
  // This token's event is the final one.
  event.finish = reason;
  eventCallbacks.push_back(&live.callback);
  retire(live, event);
}

void Engine::deliver() {
  for (size_t i = 0; i < numEvents; ++i) {
    TokenCallback *callback = eventCallbacks[i];
    if (*callback) {
      (*callback)(events[i]);
      continue;
    }
    std::lock_guard<std::mutex> lock(mu);
    polled.push_back(std::move(events[i]));
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto &live : finishedThisStep) {
      liveIds.erase(live->id);
      switch (live->finish) {
      case FinishReason::Cancelled:
        ++counters.requestsCancelled;
        break;
      case FinishReason::Error:
        ++counters.requestsFailed;
        break;
      default:
        ++counters.requestsFinished;
      }
    }
  }
  finishedThisStep.clear();
  numEvents = 0;
  eventCallbacks.clear();
}

anvil_status Engine::step(bool *outWorked) {
  if (outWorked)
    *outWorked = false;
  return guarded([&]() -> anvil_status {
    std::lock_guard<std::mutex> stepLock(stepMutex);
    Clock::time_point begin = Clock::now();
    takeSubmissions();
    sched.schedule(plan);
    anvil_status failure = nullptr;
    int64_t computedPrompt = 0, generated = 0;
    if (plan.seqs.empty()) {
      // Nothing runs and the head cannot start: it can never fit (submit
      // rejects such requests; this keeps a bug from becoming a hang).
      if (sched.running().empty() && !sched.waiting().empty() &&
          !plan.numPreempted) {
        Live &head = static_cast<Live &>(*sched.waiting().front());
        finish(head, FinishReason::Error, -1,
               "the request does not fit in the KV pool");
      }
    } else {
      const int64_t blockSize = info.blockSize;
      size_t t = 0, rows = 0;
      std::fill(batchTables.begin(),
                batchTables.begin() + plan.seqs.size() * tableWidth, 0);
      bool shared = false;
      for (size_t s = 0; s < plan.seqs.size(); ++s) {
        const ScheduledSeq &seq = plan.seqs[s];
        const Request &request = *seq.request;
        int64_t end = seq.start + seq.numNew;
        for (int64_t position = seq.start; position < end; ++position, ++t) {
          batchTokens[t] = request.tokens[position];
          batchPositions[t] = position;
          batchSeqOfToken[t] = static_cast<int32_t>(s);
          batchSlots[t] = kv.slot(request, position);
          shared |= !kv.ownsSlot(request, position);
        }
        size_t usedBlocks =
            static_cast<size_t>((end + blockSize - 1) / blockSize);
        std::copy(request.blocks.begin(), request.blocks.begin() + usedBlocks,
                  batchTables.begin() + s * tableWidth);
        batchContextLens[s] = static_cast<int32_t>(end);
        if (end == static_cast<int64_t>(request.tokens.size())) {
          batchLogitRows[rows] = static_cast<int32_t>(t - 1);
          logitSeq[rows++] = static_cast<int32_t>(s);
        }
      }
      StepBatch batch;
      batch.numTokens = static_cast<int64_t>(t);
      batch.numSeqs = static_cast<int64_t>(plan.seqs.size());
      batch.numLogitRows = static_cast<int64_t>(rows);
      batch.tokens = batchTokens.data();
      batch.positions = batchPositions.data();
      batch.seqOfToken = batchSeqOfToken.data();
      batch.slotMapping = batchSlots.data();
      batch.blockTables = batchTables.data();
      batch.contextLens = batchContextLens.data();
      batch.logitRows = batchLogitRows.data();
      if (shared)
        failure = makeStatus(ANVIL_INTERNAL, "a step would write into a shared "
                                             "or cached KV block");
      else
        failure = model->step(batch, logits.data());
      if (failure) {
        std::string message = anvil_status_get_message(failure);
        for (const ScheduledSeq &seq : plan.seqs)
          finish(static_cast<Live &>(*seq.request), FinishReason::Error, -1,
                 "the model's step failed: " + message);
      } else {
        for (const ScheduledSeq &seq : plan.seqs) {
          Request &request = *seq.request;
          request.numComputed = seq.start + seq.numNew;
          kv.cacheComputedBlocks(request);
          int64_t promptLen = static_cast<int64_t>(request.promptLen);
          computedPrompt += std::max<int64_t>(
              0, std::min(request.numComputed, promptLen) - seq.start);
        }
        for (size_t r = 0; r < rows; ++r) {
          Live &live = static_cast<Live &>(*plan.seqs[logitSeq[r]].request);
          float *row = &logits[r * static_cast<size_t>(info.vocabSize)];
          sampler.sample(row, live.params, live.seed, live.tokens,
                         live.promptLen, sampled);
          emitToken(live, sampled.token, sampled);
          ++generated;
        }
      }
    }
    double seconds =
        std::chrono::duration<double>(Clock::now() - begin).count();
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!plan.seqs.empty()) {
        ++counters.steps;
        counters.busySeconds += seconds;
      }
      counters.preemptions += plan.numPreempted;
      counters.computedTokens += failure ? 0 : plan.numTokens;
      counters.computedPromptTokens += computedPrompt;
      counters.generatedTokens += generated;
      counters.prefixQueriedTokens += plan.numQueriedTokens;
      counters.prefixHitTokens += plan.numCachedTokens;
      counters.waiting = static_cast<int64_t>(sched.waiting().size());
      counters.running = static_cast<int64_t>(sched.running().size());
      counters.kvBlocksFree = kv.pool().numFree();
      counters.kvBlocksUsed = kv.pool().numUsed();
      counters.kvBlocksCached = kv.pool().numCached();
    }
    if (outWorked)
      *outWorked = !plan.seqs.empty() || numEvents > 0;
    deliver();
    return failure;
  });
}

anvil_status Engine::runUntilIdle() {
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (liveIds.empty())
        return nullptr;
    }
    if (anvil_status status = step())
      return status;
  }
}

size_t Engine::poll(std::vector<TokenEvent> &out, size_t max) {
  std::lock_guard<std::mutex> lock(mu);
  size_t n = std::min(max, polled.size());
  for (size_t i = 0; i < n; ++i) {
    out.push_back(std::move(polled.front()));
    polled.pop_front();
  }
  return n;
}

anvil_status Engine::start() {
  return guarded([&]() -> anvil_status {
    std::lock_guard<std::mutex> lock(mu);
    if (background.joinable())
      return invalid("the engine's background thread is already running");
    stopping = false;
    background = std::thread([this] { backgroundLoop(); });
    return nullptr;
  });
}

anvil_status Engine::stop() {
  std::thread thread;
  {
    std::lock_guard<std::mutex> lock(mu);
    stopping = true;
    thread.swap(background);
  }
  wake.notify_all();
  if (thread.joinable())
    thread.join();
  return nullptr;
}

void Engine::backgroundLoop() {
  std::unique_lock<std::mutex> lock(mu);
  while (!stopping) {
    if (liveIds.empty()) {
      wake.wait(lock);
      continue;
    }
    lock.unlock();
    // A failed step already ended its requests with Error events.
    anvil_status_free(step());
    lock.lock();
  }
}

EngineStats Engine::stats() const {
  std::lock_guard<std::mutex> lock(mu);
  EngineStats out = counters;
  out.waiting += static_cast<int64_t>(submissions.size());
  if (out.ttftCount)
    out.ttftMsMean = ttftMsSum / static_cast<double>(out.ttftCount);
  if (out.prefixQueriedTokens)
    out.prefixCacheHitRate = static_cast<double>(out.prefixHitTokens) /
                             static_cast<double>(out.prefixQueriedTokens);
  if (out.busySeconds > 0) {
    out.promptTokensPerSecond =
        static_cast<double>(out.computedPromptTokens) / out.busySeconds;
    out.generatedTokensPerSecond =
        static_cast<double>(out.generatedTokens) / out.busySeconds;
  }
  return out;
}

} // namespace anvil::engine
