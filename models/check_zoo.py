#!/usr/bin/env python3
"""Check Anvil's committed reference models against their manifests.

For every model listed in models/zoo/manifest.json,
models/zoo-current/manifest.json and models/default/manifest.json:
  - the .onnx file and its reference .npz exist and their sha256 match,
  - onnx.checker.check_model passes (path form, full check), unless the
    manifest entry has a "checker" field starting with "skip" (the reason
    follows; ONNX Runtime GenAI's builder writes com.microsoft's
    SimplifiedLayerNormalization in the default domain, which the checker
    rejects: those models are still checked by hash, ORT rerun and greedy
    replay),
  - unless --no-ort: ONNX Runtime, run on the stored `input:<name>` arrays,
    reproduces the stored `output:<name>` arrays within the manifest's
    tolerance (rtol 1e-4, atol 1e-5), and for decoders a plain greedy loop
    reproduces the stored 32-token continuation.
Also checks the default model's tokenizer and test-token hashes.

Needs only numpy, onnx and (for the ORT checks) onnxruntime.  Usage, from the
repository root:
    build/venv/bin/python models/check_zoo.py [--root models] [--no-ort]
Prints one line per check and ends with 'zoo: N passed, M failed'; exits 1 if
any check failed.
"""

import argparse
import hashlib
import json
import os
import sys
import traceback


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def ort_session(path, float_matmulnbits=False):
    """An ORT session on the model; with float_matmulnbits, on a copy whose
    MatMulNBits nodes have accuracy_level 0 (float32 products, as the
    references of the int4 models were made: the manifest's reference
    "settings")."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    model = path
    if float_matmulnbits:
        import onnx
        from common import float_matmulnbits as to_float
        model = to_float(onnx.load(path)).SerializeToString()
    return ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])


def greedy_matches(sess, prompt, want, past_shapes, cache_io, tie_tol=1e-4):
    """Replays the stored greedy continuation with a plain ORT loop (the
    cache outputs fed back as past: input <in_prefix>X takes output
    <out_prefix>X, cache_io = (in_prefix, out_prefix); position_ids only
    where the graph has that input).  past_shapes maps each cache input to
    its reference shape [batch, kv_heads, past, head_dim] (some exporters
    leave the head dims symbolic).  Each step must pick the stored token, or
    one whose logit is within tie_tol of it (a near-tie that another CPU's
    kernels may break differently); the stored token is fed on, so one tie
    cannot derail the rest.  Returns (exact_steps, error or None)."""
    import numpy as np
    past = {name: np.zeros([1, shape[1], 0, shape[3]], np.float32)
            for name, shape in past_shapes.items()}
    has_positions = any(i.name == "position_ids" for i in sess.get_inputs())
    outs = [o.name for o in sess.get_outputs()]
    cur, plen, exact = np.asarray([prompt], np.int64), 0, 0
    for step, ref in enumerate(want):
        L = cur.shape[1]
        feeds = {"input_ids": cur,
                 "attention_mask": np.ones((1, plen + L), np.int64)}
        if has_positions:
            feeds["position_ids"] = np.arange(plen, plen + L,
                                              dtype=np.int64)[None]
        feeds.update(past)
        res = dict(zip(outs, sess.run(None, feeds)))
        logits = res["logits"][0, -1]
        got = int(np.argmax(logits))
        if got == ref:
            exact += 1
        elif logits[ref] < logits[got] - tie_tol:
            return exact, (f"greedy step {step}: argmax {got} (logit "
                           f"{logits[got]:.6g}) but reference {ref} (logit "
                           f"{logits[ref]:.6g})")
        for k in past:
            past[k] = res[cache_io[1] + k[len(cache_io[0]):]]
        plen += L
        cur = np.asarray([[ref]], np.int64)
    return exact, None


def check_model(d, e, use_ort):
    import numpy as np
    import onnx
    path = os.path.join(d, e["file"])
    if not os.path.isfile(path):
        raise AssertionError(f"missing file {path}")
    got = sha256_file(path)
    if got != e["sha256"]:
        raise AssertionError(f"sha256 mismatch for {path}: manifest "
                             f"{e['sha256']}, file {got}")
    checker = e.get("checker", "")
    if not checker.startswith("skip"):
        onnx.checker.check_model(path, full_check=True)
    ref = e["reference"]
    npz = os.path.join(d, ref["file"])
    if not os.path.isfile(npz):
        raise AssertionError(f"missing reference {npz}")
    got = sha256_file(npz)
    if got != ref["sha256"]:
        raise AssertionError(f"sha256 mismatch for {npz}: manifest "
                             f"{ref['sha256']}, file {got}")
    m = onnx.load(path, load_external_data=False)
    names = [i.name for i in m.graph.input]
    want = [i["name"] for i in e["inputs"]]
    if names != want:
        raise AssertionError(f"{path}: inputs {names} != manifest {want}")
    outs = [o.name for o in m.graph.output]
    if outs != [o["name"] for o in e["outputs"]]:
        raise AssertionError(f"{path}: outputs {outs} differ from manifest")
    if not use_ort:
        return "hash" if checker.startswith("skip") else "hash+checker"
    data = np.load(npz)
    feeds = {k[len("input:"):]: data[k] for k in data.files
             if k.startswith("input:")}
    sess = ort_session(path, "MatMulNBits accuracy_level set to 0"
                       in ref.get("settings", ""))
    res = dict(zip(outs, sess.run(None, feeds)))
    rtol, atol = ref["rtol"], ref["atol"]
    worst = 0.0
    for k in data.files:
        if not k.startswith("output:"):
            continue
        name = k[len("output:"):]
        exp, act = data[k], res[name]
        if exp.shape != act.shape:
            raise AssertionError(f"{path}: output {name} shape {act.shape} "
                                 f"!= reference {exp.shape}")
        if not np.allclose(act, exp, rtol=rtol, atol=atol):
            err = float(np.max(np.abs(act - exp)))
            raise AssertionError(f"{path}: output {name} differs from the "
                                 f"reference, max abs err {err:g} "
                                 f"(rtol {rtol}, atol {atol})")
        worst = max(worst, float(np.max(np.abs(act - exp))) if exp.size
                    else 0.0)
    msg = ("hash+checker+ort" if not checker.startswith("skip")
           else "hash+ort (checker skipped)") + f" (max abs err {worst:.2g})"
    if "greedy:prompt_ids" in data.files:
        prompt = data["greedy:prompt_ids"][0].tolist()
        want = data["greedy:continuation_ids"][0].tolist()
        io = e.get("cache_io", {})
        cache_io = (io.get("input_prefix", "past_key_values."),
                    io.get("output_prefix", "present."))
        past_shapes = {k[len("input:"):]: data[k].shape for k in data.files
                       if k.startswith("input:" + cache_io[0])}
        exact, err = greedy_matches(sess, prompt, want, past_shapes, cache_io)
        if err:
            raise AssertionError(f"{path}: {err}")
        if e.get("greedy", {}).get("continuation_ids", want) != want:
            raise AssertionError(f"{path}: manifest greedy continuation "
                                 "differs from the .npz")
        msg += f" +greedy {exact}/{len(want)} exact"
    return msg


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=here,
                    help="the models/ folder (default: this script's folder)")
    ap.add_argument("--no-ort", action="store_true",
                    help="skip the ONNX Runtime comparisons")
    ap.add_argument("--zoos", nargs="+",
                    default=["zoo", "zoo-current", "default"],
                    help="folders under --root holding a manifest.json "
                         "(default: zoo zoo-current default)")
    args = ap.parse_args()
    use_ort = not args.no_ort
    if use_ort:
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            print("note: onnxruntime not installed, skipping ORT checks")
            use_ort = False

    passed = failed = 0
    manifests = [os.path.join(args.root, z, "manifest.json")
                 for z in args.zoos]
    for mf in manifests:
        if not os.path.isfile(mf):
            print(f"FAIL {mf}: manifest missing")
            failed += 1
            continue
        d = os.path.dirname(mf)
        with open(mf) as f:
            man = json.load(f)
        for e in man["models"]:
            label = os.path.relpath(os.path.join(d, e["file"]), args.root)
            try:
                msg = check_model(d, e, use_ort)
                print(f"PASS {label}: {msg}")
                passed += 1
            except Exception as ex:  # report every failure, keep going
                print(f"FAIL {label}: {ex}")
                if os.environ.get("CHECK_ZOO_TRACEBACK"):
                    traceback.print_exc()
                failed += 1
        extra = []
        if "tokenizer" in man:
            extra.append((man["tokenizer"]["file"],
                          man["tokenizer"]["sha256"]))
        ev = man.get("evaluation", {})
        if "test_tokens_file" in ev:
            extra.append((ev["test_tokens_file"], ev["test_tokens_sha256"]))
        for fn, want in extra:
            p = os.path.join(d, fn)
            label = os.path.relpath(p, args.root)
            if not os.path.isfile(p):
                print(f"FAIL {label}: missing")
                failed += 1
            elif sha256_file(p) != want:
                print(f"FAIL {label}: sha256 mismatch")
                failed += 1
            else:
                print(f"PASS {label}: hash")
                passed += 1
    print(f"zoo: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
