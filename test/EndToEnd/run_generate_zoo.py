#!/usr/bin/env python3
"""Greedy generation from every zoo decoder, compared with ONNX Runtime.

For each decoder of the given manifests, compiles the paged step function
(`anvilc -q --kv-cache=paged --max-context=128`), runs
`anvil-run generate --prompt-ids <greedy.prompt_ids> --max-new-tokens 32
--json --ignore-eos` and compares `token_ids` with the manifest's
`greedy.continuation_ids` (32 tokens from a plain ONNX Runtime loop that
feeds the past back). The rule is exact equality: no near-tie allowance.

A decoder in REFUSED must be refused by anvilc's paged compile with a
non-zero exit and an error containing the stated text; if it compiles, the
check fails (XPASS), so the list is updated when support lands.

Usage: run_generate_zoo.py --anvilc anvilc --anvil-run anvil-run --work DIR
                           --models models/zoo models/zoo-current
                           [--only FOLDER/FILE...] [--jobs N]
                           [--anvilc-flag=FLAG...]
Prints one line per decoder (`ok`, `refused`, `FAIL`, `XPASS`) and
'generate-zoo: N identical, R refused as listed, F failed'.
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import zoo_models  # noqa: E402

# "<zoo folder name>/<file>": (why the paged-KV rewrite refuses it, the text
# anvilc's error must contain).
REFUSED = {
    # Every decoder of both zoos pages today (TorchScript, Optimum, dynamo
    # with named and automatic dims, transformers' exporter, the GenAI
    # builder in fp32 and int4). A decoder the rewrite must refuse goes
    # here with the reason and the error text.
}

NEW_TOKENS = 32


def first_error(stderr):
    """The first 'error:' line of anvilc's stderr (else its first line)."""
    lines = stderr.strip().splitlines()
    for line in lines:
        if "error:" in line:
            return line.strip()
    return lines[0].strip() if lines else "(no output)"


def check(args, folder, entry):
    """Returns (verdict, line): verdict is 'ok', 'refused', 'FAIL' or
    'XPASS'."""
    key = f"{os.path.basename(os.path.normpath(folder))}/{entry['file']}"
    greedy = entry["greedy"]
    stem = os.path.splitext(entry["file"])[0]
    work = os.path.join(args.work, key.replace("/", "_"))
    os.makedirs(work, exist_ok=True)
    artifact = os.path.join(work, stem + ".anvil")
    compiled = subprocess.run(
        [args.anvilc, "-q", "--kv-cache=paged", "--max-context=128",
         *args.anvilc_flag, os.path.join(folder, entry["file"]), "-o",
         artifact],
        capture_output=True, text=True)
    if key in REFUSED:
        why, text = REFUSED[key]
        if compiled.returncode == 0:
            return "XPASS", (f"{key}: compiles paged now; check its tokens "
                             "and drop it from REFUSED")
        if text not in compiled.stderr:
            return "FAIL", (f"{key}: refused, but without '{text}': "
                            f"{first_error(compiled.stderr)}")
        return "refused", f"{key}: {why}"
    if compiled.returncode != 0:
        return "FAIL", f"{key}: anvilc: {first_error(compiled.stderr)}"
    prompt = ",".join(str(t) for t in greedy["prompt_ids"])
    run = subprocess.run(
        [args.anvil_run, "generate", artifact, "--prompt-ids", prompt,
         "--max-new-tokens", str(NEW_TOKENS), "--json", "--ignore-eos",
         "--threads", "1"], capture_output=True, text=True)
    if run.returncode != 0:
        return "FAIL", f"{key}: anvil-run generate: {run.stderr.strip()}"
    try:
        got = json.loads(run.stdout)["token_ids"]
    except (ValueError, KeyError) as e:
        return "FAIL", f"{key}: no token_ids in the JSON ({e}): {run.stdout}"
    want = greedy["continuation_ids"][:NEW_TOKENS]
    if got != want:
        step = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w),
                    min(len(got), len(want)))
        return "FAIL", (f"{key}: token {step} differs\n  got  {got}\n"
                        f"  want {want}")
    return "ok", f"{key}: {len(got)} tokens identical"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--anvil-run", required=True)
    ap.add_argument("--work", required=True, help="folder for artifacts")
    ap.add_argument("--models", required=True, nargs="+",
                    help="folders holding a manifest.json")
    ap.add_argument("--only", nargs="*", help="FOLDER/FILE keys to check")
    ap.add_argument("--anvilc-flag", action="append", default=[],
                    help="one more anvilc flag (repeatable)")
    ap.add_argument("--jobs", type=int, default=2,
                    help="models compiled and run at once (default 2)")
    args = ap.parse_args()
    todo = []
    for folder, entry in zoo_models.entries(args.models):
        key = f"{os.path.basename(os.path.normpath(folder))}/{entry['file']}"
        if entry.get("kind") != "decoder" or (args.only and
                                              key not in args.only):
            continue
        todo.append((folder, entry))
    listed = {f"{os.path.basename(os.path.normpath(f))}/{e['file']}"
              for f, e in todo}
    counts = {"ok": 0, "refused": 0, "FAIL": 0, "XPASS": 0}
    # A REFUSED entry naming no decoder of the manifests is stale.
    for key in sorted(set(REFUSED) - listed):
        if not args.only:
            counts["FAIL"] += 1
            print(f"FAIL {key}: in REFUSED but not a decoder of the manifests")
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for verdict, line in pool.map(lambda t: check(args, *t), todo):
            counts[verdict] += 1
            print(f"{verdict:<7} {line}")
            sys.stdout.flush()
    failed = counts["FAIL"] + counts["XPASS"]
    print(f"generate-zoo: {counts['ok']} identical, {counts['refused']} "
          f"refused as listed, {failed} failed")
    return 1 if failed or not counts["ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
