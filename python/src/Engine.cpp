//===- Engine.cpp - _anvil.Engine and _anvil.Request ----------------------===//
//
// The engine steps on its own background thread (anvil_engine_start). Each
// request gets a callback that copies its events into the request's queue
// under the queue's mutex and never touches Python, so the stepping thread
// needs no GIL. Python waits on the queue with the GIL released, in short
// slices so that Ctrl-C is noticed.
//
// Lifetimes: a request's state is owned by the engine core's `live` table
// until its last event (the callback's user_data points at it, so it must
// outlive every callback) and by its Python Request; the core, which owns
// the anvil_engine, lives while the Python Engine or any Request does.
//
//===----------------------------------------------------------------------===//

#include "python/src/Model.h"
#include "python/src/Module.h"
#include "python/src/Status.h"

#include "anvil/anvil.hpp"

#include <pybind11/stl.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace py = pybind11;

namespace anvil::python {
namespace {

/// An anvil_engine_event, copied out of the callback.
struct Event {
  int64_t tokenId = -1;
  std::string text;
  anvil_finish_reason finish = ANVIL_FINISH_NONE;
  bool hasLogprob = false;
  float logprob = 0;
  std::vector<std::pair<int64_t, float>> topLogprobs;
  std::string error;
};

class EngineCore;

struct RequestState {
  EngineCore *core = nullptr; // outlives the state's time in `live`
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<Event> events;
  bool ended = false;  // the last event was queued
  bool closed = false; // the engine was closed before it
  bool wantsLogprobs = false;
};

class EngineCore {
public:
  EngineCore(anvil_model *model, const anvil_engine_config &config) {
    anvil_engine *raw = nullptr;
    anvil_status status;
    {
      // Allocates the KV pool (up to a GiB).
      py::gil_scoped_release release;
      status = anvil_engine_create(model, &config, &raw);
    }
    check(status);
    engine.reset(raw);
    check(anvil_engine_start(engine.get()));
  }

  ~EngineCore() { close(); }

  /// Stops the background thread, frees the engine and wakes every request
  /// still waiting. Call without the GIL: the stepping thread may be in a
  /// callback, which takes `liveMutex` but never the GIL.
  void close() {
    std::unique_lock<std::shared_mutex> exclusive(apiLock);
    if (!engine)
      return;
    engine.reset(); // anvil_engine_release joins the stepping thread
    std::unordered_map<RequestState *, std::shared_ptr<RequestState>> left;
    {
      std::lock_guard<std::mutex> guard(liveMutex);
      left.swap(live);
    }
    for (auto &entry : left) {
      std::lock_guard<std::mutex> guard(entry.first->mutex);
      entry.first->closed = true;
      entry.first->changed.notify_all();
    }
  }

  std::pair<uint64_t, std::shared_ptr<RequestState>>
  submit(const std::vector<int64_t> *tokens, const std::string *text,
         const anvil_sampling_params &params) {
    auto state = std::make_shared<RequestState>();
    state->core = this;
    state->wantsLogprobs = params.logprobs >= 0;
    std::shared_lock<std::shared_mutex> shared(apiLock);
    if (!engine)
      fail(ANVIL_INVALID_ARGUMENT, "the engine is closed");
    {
      // In the table before the first callback can run.
      std::lock_guard<std::mutex> guard(liveMutex);
      live[state.get()] = state;
    }
    uint64_t id = 0;
    anvil_status status =
        tokens
            ? anvil_engine_submit_tokens(engine.get(), tokens->data(),
                                         tokens->size(), &params, onEvent,
                                         state.get(), &id)
            : anvil_engine_submit_text(engine.get(), text->data(), text->size(),
                                       &params, onEvent, state.get(), &id);
    if (status) {
      std::lock_guard<std::mutex> guard(liveMutex);
      live.erase(state.get());
    }
    check(status);
    return {id, state};
  }

  /// False when the request is no longer live (it ended, or the engine is
  /// closed).
  bool cancel(uint64_t id) {
    std::shared_lock<std::shared_mutex> shared(apiLock);
    if (!engine)
      return false;
    anvil::Status status{anvil_engine_cancel(engine.get(), id)};
    if (status && anvil_status_get_code(status.get()) == ANVIL_NOT_FOUND)
      return false;
    check(status.release());
    return true;
  }

  anvil_engine_stats stats() {
    std::shared_lock<std::shared_mutex> shared(apiLock);
    if (!engine)
      fail(ANVIL_INVALID_ARGUMENT, "the engine is closed");
    anvil_engine_stats out{};
    out.struct_size = sizeof out;
    check(anvil_engine_get_stats(engine.get(), &out));
    return out;
  }

private:
  static void onEvent(const anvil_engine_event *event, void *userData) {
    auto *state = static_cast<RequestState *>(userData);
    Event copy;
    copy.tokenId = event->token_id;
    copy.text.assign(event->text ? event->text : "", event->text_size);
    copy.finish = event->finish_reason;
    copy.hasLogprob = state->wantsLogprobs && event->token_id >= 0;
    copy.logprob = event->logprob;
    for (size_t i = 0; copy.hasLogprob && i < event->top_logprob_count; ++i)
      copy.topLogprobs.emplace_back(event->top_logprobs[i].token_id,
                                    event->top_logprobs[i].logprob);
    if (event->error)
      copy.error = event->error;
    bool last = event->finish_reason != ANVIL_FINISH_NONE;
    EngineCore *core = state->core;
    {
      std::lock_guard<std::mutex> guard(state->mutex);
      state->events.push_back(std::move(copy));
      state->ended = last;
      state->changed.notify_all();
    }
    if (last) {
      // May free the state (when Python dropped its Request): last use.
      std::lock_guard<std::mutex> guard(core->liveMutex);
      core->live.erase(state);
    }
  }

  /// Held shared by submit, cancel and stats, exclusively by close:
  /// anvil_engine_release may not overlap another call on the engine.
  std::shared_mutex apiLock;
  anvil::Engine engine;
  std::mutex liveMutex;
  std::unordered_map<RequestState *, std::shared_ptr<RequestState>> live;
};

class Request {
public:
  Request(std::shared_ptr<EngineCore> core, uint64_t id,
          std::shared_ptr<RequestState> state)
      : core(std::move(core)), state(std::move(state)), id(id) {}
  Request(const Request &) = delete;
  Request &operator=(const Request &) = delete;

  /// Dropping a request cancels it: the last reference to a generator
  /// that never started (so its `finally` never runs) goes with it.
  ~Request() {
    try {
      cancel();
    } catch (const StatusError &) {
      // Nothing to tell anyone about from a destructor.
    }
  }

  /// Waits up to `timeout` seconds (None: until something happens) for
  /// events and returns those queued: (token_id, text bytes, finish
  /// reason, logprob or None, [(id, logprob)], error). Empty on timeout
  /// and after the last event was taken.
  py::list next(std::optional<double> timeout) {
    if (finished)
      return py::list();
    using Clock = std::chrono::steady_clock;
    auto deadline =
        timeout ? Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(*timeout))
                : Clock::time_point::max();
    std::deque<Event> taken;
    bool closed = false;
    for (;;) {
      {
        py::gil_scoped_release release;
        std::unique_lock<std::mutex> lock(state->mutex);
        auto slice =
            std::min(deadline, Clock::now() + std::chrono::milliseconds(100));
        state->changed.wait_until(lock, slice, [&] {
          return !state->events.empty() || state->closed;
        });
        taken.swap(state->events);
        closed = state->closed && !state->ended;
      }
      if (!taken.empty() || closed || Clock::now() >= deadline)
        break;
      // Ctrl-C (or another signal handler's exception) ends the wait.
      if (PyErr_CheckSignals() != 0)
        throw py::error_already_set();
    }
    py::list events;
    for (Event &event : taken) {
      if (event.finish != ANVIL_FINISH_NONE)
        finished = true;
      py::list top;
      for (auto &[token, logprob] : event.topLogprobs)
        top.append(py::make_tuple(token, logprob));
      events.append(py::make_tuple(
          event.tokenId, py::bytes(event.text), int(event.finish),
          event.hasLogprob ? py::object(py::float_(event.logprob)) : py::none(),
          top, event.error));
    }
    if (events.empty() && closed)
      fail(ANVIL_INVALID_ARGUMENT, "the engine was closed before request " +
                                       std::to_string(id) + " ended");
    return events;
  }

  bool cancel() { return !finished && core->cancel(id); }

  std::shared_ptr<EngineCore> core;
  std::shared_ptr<RequestState> state;
  uint64_t id;
  /// The last event was handed to Python.
  bool finished = false;
};

anvil_sampling_params samplingParams(const py::dict &args,
                                     std::vector<int64_t> &stopIds,
                                     std::vector<std::string> &stops,
                                     std::vector<const char *> &stopPointers) {
  anvil_sampling_params params;
  anvil_sampling_params_init(&params);
  params.temperature = args["temperature"].cast<float>();
  params.top_k = args["top_k"].cast<int32_t>();
  params.top_p = args["top_p"].cast<float>();
  params.min_p = args["min_p"].cast<float>();
  params.repetition_penalty = args["repetition_penalty"].cast<float>();
  params.frequency_penalty = args["frequency_penalty"].cast<float>();
  params.presence_penalty = args["presence_penalty"].cast<float>();
  params.max_new_tokens = args["max_new_tokens"].cast<int64_t>();
  params.ignore_eos = args["ignore_eos"].cast<bool>() ? 1 : 0;
  params.logprobs = args["logprobs"].cast<int32_t>();
  if (!args["seed"].is_none()) {
    params.has_seed = 1;
    params.seed = args["seed"].cast<uint64_t>();
  }
  stopIds = args["stop_token_ids"].cast<std::vector<int64_t>>();
  stops = args["stop"].cast<std::vector<std::string>>();
  for (const std::string &s : stops)
    stopPointers.push_back(s.c_str());
  params.stop_token_ids = stopIds.data();
  params.stop_token_id_count = stopIds.size();
  params.stop_strings = stopPointers.data();
  params.stop_string_count = stopPointers.size();
  return params;
}

py::dict statsDict(const anvil_engine_stats &s) {
  py::dict d;
#define ANVIL_STAT(NAME) d[#NAME] = s.NAME;
  ANVIL_STAT(requests_submitted)
  ANVIL_STAT(requests_rejected)
  ANVIL_STAT(requests_finished)
  ANVIL_STAT(requests_cancelled)
  ANVIL_STAT(requests_failed)
  ANVIL_STAT(waiting)
  ANVIL_STAT(running)
  ANVIL_STAT(steps)
  ANVIL_STAT(preemptions)
  ANVIL_STAT(computed_tokens)
  ANVIL_STAT(computed_prompt_tokens)
  ANVIL_STAT(generated_tokens)
  ANVIL_STAT(prefix_queried_tokens)
  ANVIL_STAT(prefix_hit_tokens)
  ANVIL_STAT(prefix_cache_hit_rate)
  ANVIL_STAT(kv_blocks_total)
  ANVIL_STAT(kv_blocks_used)
  ANVIL_STAT(kv_blocks_free)
  ANVIL_STAT(kv_blocks_cached)
  ANVIL_STAT(busy_seconds)
  ANVIL_STAT(prompt_tokens_per_second)
  ANVIL_STAT(generated_tokens_per_second)
  ANVIL_STAT(ttft_count)
  ANVIL_STAT(ttft_ms_mean)
  ANVIL_STAT(ttft_ms_last)
  ANVIL_STAT(ttft_ms_max)
#undef ANVIL_STAT
  return d;
}

} // namespace

void defineEngine(py::module_ &m) {
  py::class_<Request>(m, "Request")
      .def_readonly("id", &Request::id)
      .def_readonly("finished", &Request::finished)
      .def("next", &Request::next, py::arg("timeout"))
      .def("cancel", &Request::cancel);

  py::class_<EngineCore, std::shared_ptr<EngineCore>>(m, "Engine")
      .def(py::init([](std::shared_ptr<OpenModel> model, py::dict args) {
        anvil_engine_config config{};
        config.struct_size = sizeof config;
        config.kv_budget_blocks = args["kv_budget_blocks"].cast<int64_t>();
        config.kv_budget_bytes = args["kv_budget_bytes"].cast<int64_t>();
        config.max_tokens_per_step =
            args["max_tokens_per_step"].cast<int64_t>();
        config.max_seqs_per_step = args["max_seqs_per_step"].cast<int64_t>();
        config.disable_prefix_caching =
            args["prefix_caching"].cast<bool>() ? 0 : 1;
        auto eos = args["eos_token_ids"].cast<std::vector<int64_t>>();
        config.eos_token_ids = eos.data();
        config.eos_token_id_count = eos.size();
        std::shared_lock<std::shared_mutex> shared(model->lock);
        return std::make_shared<EngineCore>(model->get(), config);
      }))
      .def("close", &EngineCore::close,
           py::call_guard<py::gil_scoped_release>())
      .def("stats", [](EngineCore &core) { return statsDict(core.stats()); })
      .def("submit", [](std::shared_ptr<EngineCore> core, py::object prompt,
                        py::dict args) {
        std::vector<int64_t> stopIds;
        std::vector<std::string> stops;
        std::vector<const char *> stopPointers;
        anvil_sampling_params params =
            samplingParams(args, stopIds, stops, stopPointers);
        std::optional<std::vector<int64_t>> tokens;
        std::optional<std::string> text;
        if (py::isinstance<py::str>(prompt))
          text = prompt.cast<std::string>();
        else
          tokens = prompt.cast<std::vector<int64_t>>();
        auto [id, state] = core->submit(tokens ? &*tokens : nullptr,
                                        text ? &*text : nullptr, params);
        return std::make_unique<Request>(core, id, state);
      });
}

} // namespace anvil::python
