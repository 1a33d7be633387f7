"""anvil.Engine: generate text with a compiled decoder through the LLM engine.

    with anvil.Engine("default.anvil") as engine:
        for piece in engine.generate("def fib(n):", max_tokens=64,
                                     temperature=0):
            print(piece, end="", flush=True)
        done = engine.complete("import os", max_tokens=16, temperature=0)
        many = engine.complete_batch(["a = ", "b = "], max_tokens=8, seed=1)

The engine (docs/engine.md) steps on its own background thread: requests
from any number of Python threads, streams and batches run together in
its continuous batches. Waiting releases the GIL.
"""
import collections
import dataclasses
import os
from typing import List, Optional, Tuple

from . import _anvil
from .errors import ExecutionFailedError, InvalidArgumentError
from .model import Model

#: anvil_finish_reason -> the name anvil-run generate --json prints.
_FINISH = {0: None, 1: "stop", 2: "length", 3: "cancelled", 4: "error"}


@dataclasses.dataclass(frozen=True)
class Event:
    """One event of a request.

    token_id: the generated token, or -1 for an event that only ends the
      request (cancelled, failed). A stopping token (EOS, a stop token id)
      is delivered, with no text.
    text: text that became final with this token ('' while text that may
      begin a stop string is held back, and without a tokenizer).
    finish_reason: None while the request runs; on its last event 'stop'
      (EOS, a stop token id or string), 'length' (max_tokens, or the
      context is full) or 'cancelled'.
    logprob: with `logprobs` set, the token's log-probability (log-softmax
      of the raw logits), else None.
    top_logprobs: with `logprobs=n`, the n most likely (token_id, logprob),
      most likely first.
    """
    token_id: int
    text: str
    finish_reason: Optional[str]
    logprob: Optional[float]
    top_logprobs: List[Tuple[int, float]]


@dataclasses.dataclass
class Completion:
    """A finished request: its text, generated token ids (a stopping token
    included), why it ended, and with `logprobs` set one logprob and one
    top list per token."""
    text: str
    token_ids: List[int]
    finish_reason: str
    logprobs: Optional[List[float]] = None
    top_logprobs: Optional[List[List[Tuple[int, float]]]] = None


def _sampling(max_tokens=16, temperature=1.0, top_p=1.0, top_k=0, min_p=0.0,
              repetition_penalty=1.0, frequency_penalty=0.0,
              presence_penalty=0.0, stop=None, stop_token_ids=None,
              seed=None, logprobs=None, ignore_eos=False):
    """The native parameters; the runtime checks ranges (naming the field
    as anvil_sampling_params does) at submit."""
    if max_tokens is not None and (not _is_int(max_tokens) or max_tokens < 1):
        raise InvalidArgumentError(
            f"max_tokens must be an int >= 1 or None, not {max_tokens!r}")
    if seed is not None and (not _is_int(seed) or not 0 <= seed < 2**64):
        raise InvalidArgumentError(
            f"seed must be an int in [0, 2**64) or None, not {seed!r}")
    if logprobs is not None and not _is_int(logprobs):
        raise InvalidArgumentError(
            f"logprobs must be an int or None, not {logprobs!r}")
    if isinstance(stop, str):
        stop = [stop]
    for name, value in (("temperature", temperature), ("top_p", top_p),
                        ("min_p", min_p),
                        ("repetition_penalty", repetition_penalty),
                        ("frequency_penalty", frequency_penalty),
                        ("presence_penalty", presence_penalty)):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise InvalidArgumentError(
                f"{name} must be a number, not {value!r}")
    if not _is_int(top_k):
        raise InvalidArgumentError(f"top_k must be an int, not {top_k!r}")
    return {
        "max_new_tokens": max_tokens or 0,
        "temperature": float(temperature), "top_p": float(top_p),
        "top_k": int(top_k), "min_p": float(min_p),
        "repetition_penalty": float(repetition_penalty),
        "frequency_penalty": float(frequency_penalty),
        "presence_penalty": float(presence_penalty),
        "stop": [str(s) for s in (stop or [])],
        "stop_token_ids": [int(t) for t in (stop_token_ids or [])],
        "seed": seed, "logprobs": -1 if logprobs is None else int(logprobs),
        "ignore_eos": bool(ignore_eos),
    }


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _event(raw):
    token_id, text, finish, logprob, top, error = raw
    if finish == 4:
        raise ExecutionFailedError(error or "the engine's step failed")
    return Event(token_id, text.decode("utf-8", errors="replace"),
                 _FINISH.get(finish, "unknown"), logprob, list(top))


class Stream:
    """A request's output as it is generated: an iterator of str pieces
    (`Engine.generate`) or of `Event`s (`Engine.stream`).

    It behaves like a generator: `close()` (or leaving a `with` block, or
    dropping the last reference) before the end cancels the request, and
    so does an exception (Ctrl-C) raised while it waits for a token. The
    engine ends a cancelled request at its next step and frees its KV
    blocks. A failed model step raises ExecutionFailedError from next().
    """

    def __init__(self, request, text_only):
        self._request = request
        self._text_only = text_only
        self._pending = collections.deque()
        self._closed = False

    @property
    def request_id(self):
        """The engine's id of the request (> 0)."""
        return self._request.id

    def __iter__(self):
        return self

    def __next__(self):
        while True:
            while self._pending:
                event = self._pending.popleft()
                if not self._text_only:
                    return event
                if event.text:
                    return event.text
            if self._closed or self._request.finished:
                raise StopIteration
            try:
                self._pending.extend(_event(raw)
                                     for raw in self._request.next(None))
            except BaseException:
                # As a generator would: an exception ends the stream.
                try:
                    self.close()
                except Exception:  # the first exception is the one to see
                    pass
                raise

    def close(self):
        """Cancels the request unless it already ended; later next() calls
        raise StopIteration."""
        self._closed = True
        self._pending.clear()
        if not self._request.finished:
            self._request.cancel()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # the engine is closed or going away
            pass


class Engine:
    """The LLM engine over a decoder artifact's paged step function.

    Args:
      model: a .anvil path (opened with num_threads, skip_checksums and
        public_key as `Model` does) or an open `Model`.
      kv_budget_blocks, kv_budget_bytes: the KV pool's size (at most one);
        None: 1 GiB, at least one full context, at most what the artifact
        was compiled for.
      max_tokens_per_step, max_seqs_per_step: per-step limits; None: the
        artifact's compiled maxima.
      prefix_caching: automatic prefix caching (default on).
      eos_token_ids: ids that end a request; None: the artifact's.

    Raises:
      IncompatibleError: the artifact has no paged step function (not a
        decoder, or compiled with --kv-cache=graph).
      InvalidArgumentError: a bad option (both budgets, a budget out of
        range, per-step limits above the compiled ones).
      and what `Model` raises for the path.

    Sampling keywords of generate/stream/complete/complete_batch (vLLM's
    and OpenAI's meanings; ranges checked at submit, InvalidArgumentError
    naming the field):
      max_tokens=16 (None: until EOS, the context or the pool is full),
      temperature=1.0 (0: greedy), top_p=1.0, top_k=0 (all), min_p=0.0,
      repetition_penalty=1.0, frequency_penalty=0.0, presence_penalty=0.0,
      stop=None (a str or list of str; not delivered), stop_token_ids=None,
      seed=None (an int gives the same tokens whatever else runs),
      logprobs=None (0: the token's; n in 1..20: also the top n),
      ignore_eos=False.
    A prompt is a str (tokenized by the artifact's tokenizer, its BOS
    added; NotFoundError without one) or a sequence of int token ids.
    Submit errors (an empty prompt, ids outside the vocabulary, a prompt
    plus max_tokens beyond the context: InvalidArgumentError; a request
    that can never fit in the KV pool: ResourceExhaustedError) raise at
    the call, before any token; a failed model step raises
    ExecutionFailedError where the request's tokens are read.
    """

    def __init__(self, model, *, num_threads=None, skip_checksums=False,
                 public_key=None, kv_budget_blocks=None, kv_budget_bytes=None,
                 max_tokens_per_step=None, max_seqs_per_step=None,
                 prefix_caching=True, eos_token_ids=None):
        if not isinstance(model, Model):
            model = Model(os.fspath(model), num_threads=num_threads,
                          skip_checksums=skip_checksums, public_key=public_key)
        elif num_threads is not None or public_key is not None:
            raise InvalidArgumentError(
                "num_threads and public_key apply when opening a path; "
                "this Model is already open")
        config = {"kv_budget_blocks": kv_budget_blocks or 0,
                  "kv_budget_bytes": kv_budget_bytes or 0,
                  "max_tokens_per_step": max_tokens_per_step or 0,
                  "max_seqs_per_step": max_seqs_per_step or 0,
                  "prefix_caching": bool(prefix_caching),
                  "eos_token_ids": [int(t) for t in (eos_token_ids or [])]}
        for name in ("kv_budget_blocks", "kv_budget_bytes",
                     "max_tokens_per_step", "max_seqs_per_step"):
            if not _is_int(config[name]) or config[name] < 0:
                raise InvalidArgumentError(
                    f"{name} must be an int >= 1 or None, not {config[name]!r}")
        self.model = model
        self._native = _anvil.Engine(model._native, config)

    def _submit(self, prompt, sampling):
        params = _sampling(**sampling)
        if not isinstance(prompt, str):
            try:
                prompt = [int(t) for t in prompt]
            except (TypeError, ValueError):
                raise InvalidArgumentError(
                    "a prompt is a str or a sequence of int token ids, not "
                    f"{type(prompt).__name__}") from None
        return self._native.submit(prompt, params)

    def generate(self, prompt, **sampling):
        """Streams generated text: a `Stream` of str pieces that
        concatenate to the completion's text (a multi-byte character is
        never split). Closing it before it is exhausted cancels the
        request and frees its KV blocks."""
        return Stream(self._submit(prompt, sampling), text_only=True)

    def stream(self, prompt, **sampling):
        """As `generate`, yielding an `Event` per token (ids, logprobs,
        the finish reason on the last)."""
        return Stream(self._submit(prompt, sampling), text_only=False)

    @staticmethod
    def _collect(events):
        text, ids, lps, tops, finish = [], [], [], [], None
        for event in events:
            text.append(event.text)
            if event.token_id >= 0:
                ids.append(event.token_id)
                lps.append(event.logprob)
                tops.append(event.top_logprobs)
            if event.finish_reason:
                finish = event.finish_reason
        has_logprobs = any(lp is not None for lp in lps)
        return Completion("".join(text), ids, finish,
                          lps if has_logprobs else None,
                          tops if has_logprobs else None)

    def complete(self, prompt, **sampling):
        """Generates to the end and returns a `Completion`."""
        with self.stream(prompt, **sampling) as events:
            return self._collect(events)

    def complete_batch(self, prompts, **sampling):
        """Submits every prompt at once (the engine batches them together)
        and returns their `Completion`s in order. With a `seed` every
        request uses it. A submit error, or an exception while waiting
        (Ctrl-C), cancels the requests already submitted and raises."""
        streams = []
        try:
            for prompt in prompts:
                streams.append(self.stream(prompt, **sampling))
            return [self._collect(s) for s in streams]
        finally:
            for s in streams:
                s.close()

    def stats(self):
        """Counters since the engine was made (anvil_engine_stats), a dict:
        requests_submitted, requests_rejected, requests_finished,
        requests_cancelled, requests_failed, waiting, running, steps,
        preemptions, computed_tokens, computed_prompt_tokens,
        generated_tokens, prefix_queried_tokens, prefix_hit_tokens,
        prefix_cache_hit_rate, kv_blocks_total, kv_blocks_used,
        kv_blocks_free, kv_blocks_cached, busy_seconds,
        prompt_tokens_per_second, generated_tokens_per_second, ttft_count,
        ttft_ms_mean, ttft_ms_last, ttft_ms_max."""
        return self._native.stats()

    def close(self):
        """Stops the engine's thread and frees it. A Stream still reading
        raises InvalidArgumentError at its next token."""
        self._native.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


__all__ = ["Engine", "Stream", "Event", "Completion"]
