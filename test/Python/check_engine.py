#!/usr/bin/env python3
"""anvil.Engine (python/anvil) on the default model.

The artifact is models/default compiled as scripts/main.sh does
(`--max-context=1024 --eos-token-id=0`, its tokenizer embedded). Checks,
each printing `ok <name>` or `FAIL <name>: why`:

  greedy-text   complete(PROMPT, max_tokens=32, temperature=0): token ids,
                text and finish reason equal `anvil-run generate --json`'s
                for the same prompt and settings
  greedy-ids    the manifest's prompt ids: the tokens equal anvil-run's and
                the manifest's ONNX Runtime continuation
  stream        generate()'s pieces: several non-empty str that
                concatenate to complete()'s text
  events        stream()'s events: one per token, the finish reason on the
                last only
  stop          a stop string taken from the middle of the greedy text:
                the text ends right before it, finish 'stop', as anvil-run
                generate --stop gives
  sampling      temperature, top_k, top_p, min_p, the three penalties and a
                seed: the tokens and text anvil-run generate gives with the
                same flags (and not the greedy ones)
  penalties     greedy with the three penalties, as anvil-run generate; the
                two OpenAI penalties swapped give other tokens
  stop-token    a stop token id from the greedy tokens: delivered last,
                finish 'stop', as anvil-run generate --stop-token-id
  seed          sampling (temperature 0.9, top_p 0.95) with one seed twice
                gives the same tokens, also inside a batch of others;
                other seeds give other tokens
  batch         complete_batch of 4 prompts equals 4 lone complete()s, and
                ran concurrently (fewer engine steps than tokens)
  threads       two Python threads generating at once get the lone results
  logprobs      logprobs=3: one logprob and 3 most-likely per token, the
                greedy token first, descending
  cancel-close  closing a stream after one piece (and keeping it) cancels
                the request: the engine counts it cancelled and frees its
                KV blocks
  cancel-drop   dropping the last reference to a stream does the same
  cancel-unstarted, cancel-unstarted-close
                the same for a stream never read (dropped, closed)
  from-model    an engine made from an open Model (closed afterwards)
                gives the greedy completion
  closed-engine a stream whose engine is closed raises anvil.Error
Then one line per bad call, `CASE: CLASS CODE: MESSAGE`, for FileCheck.

Usage: check_engine.py --anvil-run anvil-run --artifact M.anvil
         --model-dir models/default --no-tokenizer M2.anvil
         --not-decoder M3.anvil
"""
import argparse
import gc
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from generate_json import generate_json  # noqa: E402

import anvil  # noqa: E402

PROMPT = "def fib(n):"


def anvil_run_generate(args, *flags):
    return generate_json(args.anvil_run, args.artifact, *flags)


def same_as_cli(completion, cli):
    """None when a Completion equals anvil-run generate --json's output."""
    for field in ("token_ids", "text", "finish_reason"):
        if getattr(completion, field) != cli[field]:
            return (f"{field} {getattr(completion, field)!r}, anvil-run "
                    f"generate {cli[field]!r}")
    return None


def settle(engine, done, timeout=20.0):
    """Polls stats() until done(stats) (the engine counts a request when
    its last event is out, which may be just after the reader sees it)."""
    deadline = time.monotonic() + timeout
    while True:
        stats = engine.stats()
        if done(stats) or time.monotonic() > deadline:
            return stats
        time.sleep(0.01)


def cancel_check(engine, finish, read_first=True):
    """Starts a long request, reads one piece (or none), lets `finish` end
    the stream; the request must be counted cancelled, nothing running
    and no KV block in use, long before it could have run to the end."""
    before = engine.stats()
    pieces = engine.generate(PROMPT, max_tokens=1000, temperature=0,
                             ignore_eos=True)
    first = next(pieces) if read_first else "(none read)"
    # What `finish` returns stays referenced until the end of the check:
    # a closed stream must cancel while it still exists.
    kept = finish(pieces)  # noqa: F841
    del pieces
    stats = settle(engine, lambda s: s["requests_cancelled"]
                   > before["requests_cancelled"] and s["running"] == 0
                   and s["waiting"] == 0 and s["kv_blocks_used"] == 0)
    generated = stats["generated_tokens"] - before["generated_tokens"]
    if not first:
        return "the first piece is empty"
    if stats["requests_cancelled"] != before["requests_cancelled"] + 1:
        return (f"requests_cancelled went from {before['requests_cancelled']}"
                f" to {stats['requests_cancelled']}")
    if stats["running"] or stats["waiting"] or stats["kv_blocks_used"]:
        return (f"left running={stats['running']} waiting="
                f"{stats['waiting']} kv_blocks_used={stats['kv_blocks_used']}")
    if generated >= 1000:
        return f"it generated {generated} tokens: not cancelled early"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvil-run", required=True)
    ap.add_argument("--artifact", required=True)
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--no-tokenizer", required=True)
    ap.add_argument("--not-decoder", required=True)
    args = ap.parse_args()
    failed = 0
    checks = 0

    def verdict(name, problem):
        nonlocal failed, checks
        checks += 1
        failed += bool(problem)
        print(f"FAIL {name}: {problem}" if problem else f"ok   {name}")
        sys.stdout.flush()

    engine = anvil.Engine(args.artifact, num_threads=1)

    greedy = engine.complete(PROMPT, max_tokens=32, temperature=0)
    cli = anvil_run_generate(args, "--prompt", PROMPT,
                             "--max-new-tokens", "32")
    verdict("greedy-text", same_as_cli(greedy, cli))

    with open(os.path.join(args.model_dir, "manifest.json")) as f:
        reference = json.load(f)["models"][0]["greedy"]
    ids = reference["prompt_ids"]
    by_ids = engine.complete(ids, max_tokens=32, temperature=0)
    problem = same_as_cli(by_ids, anvil_run_generate(
        args, "--prompt-ids", ",".join(map(str, ids)),
        "--max-new-tokens", "32"))
    if not problem and by_ids.token_ids != reference["continuation_ids"][:32]:
        problem = (f"{by_ids.token_ids}, ONNX Runtime "
                   f"{reference['continuation_ids'][:32]}")
    verdict("greedy-ids", problem)

    pieces = list(engine.generate(PROMPT, max_tokens=32, temperature=0))
    problem = None
    if "".join(pieces) != greedy.text:
        problem = f"pieces {pieces!r} join to other text than {greedy.text!r}"
    elif len(pieces) < 2 or not all(isinstance(p, str) and p for p in pieces):
        problem = f"pieces {pieces!r}"
    verdict("stream", problem)

    events = list(engine.stream(PROMPT, max_tokens=32, temperature=0))
    problem = None
    if [e.token_id for e in events] != greedy.token_ids:
        problem = f"event ids {[e.token_id for e in events]}"
    elif ([e.finish_reason for e in events]
          != [None] * (len(events) - 1) + ["length"]):
        problem = f"finish reasons {[e.finish_reason for e in events]}"
    verdict("events", problem)

    text = greedy.text
    stop = text[len(text) // 2:len(text) // 2 + 4]
    stopped = engine.complete(PROMPT, max_tokens=32, temperature=0, stop=stop)
    cli = anvil_run_generate(args, "--prompt", PROMPT, "--max-new-tokens",
                             "32", "--stop", stop)
    problem = same_as_cli(stopped, cli)
    if not problem and (stopped.text != text[:text.find(stop)]
                        or stopped.finish_reason != "stop"):
        problem = (f"stop {stop!r}: {stopped.text!r} ({stopped.finish_reason})"
                   f", want {text[:text.find(stop)]!r} (stop)")
    verdict("stop", problem)

    # Every sampling field reaches the engine as anvil-run's flag does (a
    # field that went to the wrong place gives other tokens): distinct
    # values for the two OpenAI penalties, so swapping them shows.
    cli = anvil_run_generate(
        args, "--prompt", PROMPT, "--max-new-tokens", "24",
        "--temperature", "0.8", "--top-k", "40", "--top-p", "0.9",
        "--min-p", "0.05", "--repetition-penalty", "1.3",
        "--frequency-penalty", "0.7", "--presence-penalty", "0.1",
        "--seed", "5", "--ignore-eos")
    sampled = engine.complete(
        PROMPT, max_tokens=24, temperature=0.8, top_k=40, top_p=0.9,
        min_p=0.05, repetition_penalty=1.3, frequency_penalty=0.7,
        presence_penalty=0.1, seed=5, ignore_eos=True)
    problem = same_as_cli(sampled, cli)
    if not problem and sampled.token_ids[:24] == greedy.token_ids[:24]:
        problem = "sampling gave the greedy tokens: the fields had no effect"
    verdict("sampling", problem)
    # Greedy, so only the penalties move the tokens. The two OpenAI
    # penalties act alike on a token seen once; these values make the
    # default model repeat enough that swapping them shows.
    penalized = dict(max_tokens=32, temperature=0, repetition_penalty=1.1,
                     frequency_penalty=0.8, presence_penalty=0.05)
    want = engine.complete(PROMPT, **penalized)
    problem = same_as_cli(want, anvil_run_generate(
        args, "--prompt", PROMPT, "--max-new-tokens", "32",
        "--repetition-penalty", "1.1", "--frequency-penalty", "0.8",
        "--presence-penalty", "0.05"))
    swapped = engine.complete(PROMPT, **dict(
        penalized, frequency_penalty=0.05, presence_penalty=0.8))
    if not problem and swapped.token_ids == want.token_ids:
        problem = "swapping the penalties changes nothing: a weak check"
    elif not problem and want.token_ids == greedy.token_ids:
        problem = "the penalties change nothing: a weak check"
    verdict("penalties", problem)

    stop_id = greedy.token_ids[5]
    by_id = engine.complete(PROMPT, max_tokens=32, temperature=0,
                            stop_token_ids=[stop_id])
    problem = same_as_cli(by_id, anvil_run_generate(
        args, "--prompt", PROMPT, "--max-new-tokens", "32",
        "--stop-token-id", str(stop_id)))
    want = greedy.token_ids[:greedy.token_ids.index(stop_id) + 1]
    if not problem and (by_id.token_ids != want
                        or by_id.finish_reason != "stop"):
        problem = (f"stop token {stop_id}: {by_id.token_ids} "
                   f"({by_id.finish_reason}), want {want} (stop)")
    verdict("stop-token", problem)

    sampling = dict(max_tokens=24, temperature=0.9, top_p=0.95,
                    ignore_eos=True)
    first = engine.complete(PROMPT, seed=7, **sampling).token_ids
    again = engine.complete(PROMPT, seed=7, **sampling).token_ids
    in_batch = engine.complete_batch(["import os", PROMPT, "class A:"],
                                     seed=7, **sampling)[1].token_ids
    others = [engine.complete(PROMPT, seed=s, **sampling).token_ids
              for s in (8, 9, 10)]
    problem = None
    if again != first or in_batch != first:
        problem = f"seed 7 gave {first}, then {again}, in a batch {in_batch}"
    elif all(o == first for o in others):
        problem = f"seeds 7 to 10 all gave {first}"
    verdict("seed", problem)

    prompts = [PROMPT, "import os\n", "class Foo:", "    for i in range("]
    before = engine.stats()
    batch = engine.complete_batch(prompts, max_tokens=16, temperature=0,
                                  ignore_eos=True)
    steps = settle(engine, lambda s: s["requests_finished"]
                   >= before["requests_finished"] + 4)["steps"] - before["steps"]
    alone = [engine.complete(p, max_tokens=16, temperature=0, ignore_eos=True)
             for p in prompts]
    problem = None
    if batch != alone:
        problem = f"batch {batch}, one at a time {alone}"
    elif steps >= 4 * 16:
        problem = f"{steps} steps for 4 x 16 tokens: not batched"
    verdict("batch", problem)

    results = [None, None]
    errors = []

    def worker(i):
        try:
            results[i] = "".join(engine.generate(
                prompts[i], max_tokens=16, temperature=0, ignore_eos=True))
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    verdict("threads", "; ".join(errors) or (
        None if results == [alone[0].text, alone[1].text]
        else f"{results}, alone {[alone[0].text, alone[1].text]}"))

    scored = engine.complete(PROMPT, max_tokens=8, temperature=0, logprobs=3)
    problem = None
    if (scored.token_ids != greedy.token_ids[:8] or scored.logprobs is None
            or len(scored.logprobs) != 8 or len(scored.top_logprobs) != 8):
        problem = f"{scored}"
    else:
        for token, lp, top in zip(scored.token_ids, scored.logprobs,
                                  scored.top_logprobs):
            values = [v for _, v in top]
            if (len(top) != 3 or top[0][0] != token or top[0][1] != lp
                    or values != sorted(values, reverse=True) or lp > 0):
                problem = f"token {token}: logprob {lp}, top {top}"
                break
    verdict("logprobs", problem)

    def close(stream):
        stream.close()
        return stream

    verdict("cancel-close", cancel_check(engine, close))
    # The stream's last reference goes in cancel_check (`del pieces`);
    # collect() only makes sure no cycle keeps it.
    verdict("cancel-drop", cancel_check(engine, lambda g: gc.collect()))
    verdict("cancel-unstarted", cancel_check(engine, lambda g: gc.collect(),
                                             read_first=False))
    verdict("cancel-unstarted-close", cancel_check(engine, close,
                                                   read_first=False))

    # An engine made from an open Model keeps it alive after close().
    model = anvil.Model(args.artifact, num_threads=1)
    from_model = anvil.Engine(model)
    model.close()
    again = from_model.complete(PROMPT, max_tokens=32, temperature=0)
    from_model.close()
    verdict("from-model", None if again == greedy else f"{again}")

    other = anvil.Engine(args.artifact, num_threads=1)
    live = other.generate(PROMPT, max_tokens=500, temperature=0,
                          ignore_eos=True)
    next(live)
    other.close()
    try:
        for _ in live:
            pass
        problem = "the stream ran on after close()"
    except anvil.Error as e:
        problem = None if e.code == anvil.StatusCode.INVALID_ARGUMENT else (
            f"{type(e).__name__}: {e}")
    verdict("closed-engine", problem)

    def case(name, call):
        nonlocal failed
        try:
            call()
        except anvil.Error as e:
            print(f"{name}: {type(e).__name__} {int(e.code)}: {e.message}")
            return
        except Exception as e:  # not an anvil.Error: a failure
            print(f"{name}: unexpected {type(e).__name__}: {e}")
        else:
            print(f"{name}: no error")
        failed += 1

    case("temperature", lambda: engine.generate(PROMPT, temperature=-1))
    case("top-p", lambda: engine.complete(PROMPT, top_p=0))
    case("max-tokens", lambda: engine.complete(PROMPT, max_tokens=0))
    case("seed", lambda: engine.complete(PROMPT, seed=-1))
    case("vocabulary", lambda: engine.complete([1, 2, 999999]))
    case("empty-prompt", lambda: engine.complete([]))
    case("context", lambda: engine.complete([1] * 1000, max_tokens=100))
    case("prompt-type", lambda: engine.complete(3.5))
    case("closed", lambda: other.complete(PROMPT))
    case("no-tokenizer", lambda: anvil.Engine(
        args.no_tokenizer, num_threads=1).complete(PROMPT))
    case("stop-without-tokenizer", lambda: anvil.Engine(
        args.no_tokenizer, num_threads=1).complete([1, 2], stop="x"))
    case("not-decoder", lambda: anvil.Engine(args.not_decoder, num_threads=1))
    case("budget", lambda: anvil.Engine(args.artifact, num_threads=1,
                                        kv_budget_blocks=1,
                                        kv_budget_bytes=4096))
    print(f"python-engine: {checks - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
