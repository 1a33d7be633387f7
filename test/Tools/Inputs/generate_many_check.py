"""Checks docs/examples/generate_many.c on a compiled decoder: every request
finishes, and each request's greedy ids equal those of `anvil-run generate`
run alone on the same prompt, in a plain batch, under a KV pool so small
that requests are preempted, and with a long shared prefix (prefix-cache
hits). Prints one line per case for FileCheck; exits 1 on a mismatch.

  generate_many_check.py APP ANVIL_RUN MODEL.anvil [--requests 8]
      [--max-new-tokens 24]
"""
import argparse
import json
import subprocess
import sys

# A shared "system prompt" of more than 16 blocks of 16 tokens, longer than
# the per-step token budget below, so later requests start after the first
# has cached it.
PREFIX = ('"""Utilities for reading, validating and writing configuration '
          'files.\n\nEach function takes a path or an open file and returns '
          'plain Python objects (dicts, lists, strings and numbers) so that '
          'callers never depend on the file format. Errors are raised as '
          'ValueError with the name of the file and the line that could not '
          'be parsed. The module has no dependencies outside the standard '
          'library and is safe to import from any thread.\n"""\n\nimport '
          'json\nimport os\nimport sys\n\n\n')


def run_app(args, extra):
    cmd = [args.app, args.model, "--json", "-n", str(args.requests),
           "--max-new-tokens", str(args.max_new_tokens),
           "--threads", "1"] + extra
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                 f"{proc.stderr}")
    requests, stats = {}, None
    for line in proc.stdout.splitlines():
        obj = json.loads(line)
        if "stats" in obj:
            stats = obj["stats"]
        else:
            if obj["request"] in requests:
                sys.exit(f"request {obj['request']} finished twice")
            requests[obj["request"]] = obj
    if sorted(requests) != list(range(args.requests)) or stats is None:
        sys.exit(f"expected {args.requests} finished requests and the "
                 f"statistics, got {sorted(requests)}:\n{proc.stdout}")
    for r in requests.values():
        if r["finish_reason"] not in ("stop", "length"):
            sys.exit(f"request {r['request']} ended with "
                     f"{r['finish_reason']}: {r.get('error', '')}")
    return requests, stats


alone_cache = {}


def alone(args, prompt):
    if prompt not in alone_cache:
        cmd = [args.anvil_run, "generate", args.model, "--prompt", prompt,
               "--json", "--threads", "1",
               "--max-new-tokens", str(args.max_new_tokens)]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"anvil-run generate failed: {out.stderr}")
        alone_cache[prompt] = json.loads(out.stdout)["token_ids"]
    return alone_cache[prompt]


def compare(args, name, requests):
    for index in sorted(requests):
        r = requests[index]
        expected = alone(args, r["prompt"])
        if r["token_ids"] != expected:
            print(f"{name}: request {index} ({r['prompt'][:30]!r}) differs "
                  f"from anvil-run generate alone:\n  batch {r['token_ids']}"
                  f"\n  alone {expected}")
            sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("app")
    ap.add_argument("anvil_run")
    ap.add_argument("model")
    ap.add_argument("--requests", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=24)
    args = ap.parse_args()

    requests, stats = run_app(args, [])
    compare(args, "batch", requests)
    generated = sum(len(r["token_ids"]) for r in requests.values())
    print(f"batch: {len(requests)} requests finished, {generated} tokens, "
          f"each as generated alone")

    # Eight requests need about 24 blocks together; 6 hold one or two.
    requests, stats = run_app(args, ["--kv-blocks", "6"])
    compare(args, "preemption", requests)
    print(f"preemption: {len(requests)} requests finished, preemptions "
          f"{'> 0' if stats['preemptions'] > 0 else '= 0'}, each as "
          f"generated alone")

    requests, stats = run_app(args, ["--prefix", PREFIX,
                                     "--max-tokens-per-step", "64"])
    compare(args, "prefix", requests)
    print(f"prefix: {len(requests)} requests finished, prefix hits "
          f"{'> 0' if stats['prefix_hit_tokens'] > 0 else '= 0'}, each as "
          f"generated alone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
