#!/usr/bin/env python3
"""anvil.Model's errors: each bad call raises the anvil.Error subclass of
its status code, with `.code` and the runtime's message.

Prints one line per case, `CASE: CLASS CODE: MESSAGE`, for FileCheck to
hold to the exact class, code and wording; a case that raises nothing, or
something that is not an anvil.Error, prints `CASE: no error` or
`CASE: unexpected TYPE: ...` and fails the check.

The artifact is bert compiled with batch_size=2 and sequence_length
bounded to 1..16.

Usage: check_model_errors.py --artifact bert.anvil --work DIR
"""
import argparse
import os
import sys

import numpy as np

import anvil


def bert_inputs(batch=2, length=7, dtype=np.int64):
    return {"input_ids": np.ones((batch, length), dtype),
            "attention_mask": np.ones((batch, length), np.int64),
            "token_type_ids": np.zeros((batch, length), np.int64)}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--artifact", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    bad = 0

    def case(name, call):
        nonlocal bad
        try:
            call()
        except anvil.Error as e:
            # The code is the C API's number, also as a StatusCode.
            consistent = (isinstance(e.code, anvil.StatusCode)
                          and e.code == type(e).code and e.message in str(e))
            bad += not consistent
            print(f"{name}: {type(e).__name__} {int(e.code)}: {e.message}"
                  + ("" if consistent else " (inconsistent code)"))
            return
        except Exception as e:  # not an anvil.Error: a failure
            bad += 1
            print(f"{name}: unexpected {type(e).__name__}: {e}")
            return
        bad += 1
        print(f"{name}: no error")

    missing = os.path.join(args.work, "missing.anvil")
    case("missing-file", lambda: anvil.Model(missing))
    case("directory", lambda: anvil.Model(args.work))
    truncated = os.path.join(args.work, "truncated.anvil")
    with open(args.artifact, "rb") as f:
        data = f.read()
    with open(truncated, "wb") as f:
        f.write(data[:len(data) // 2])
    case("truncated", lambda: anvil.Model(truncated))
    case("key-size", lambda: anvil.Model(args.artifact, public_key=b"short"))
    case("threads", lambda: anvil.Model(args.artifact, num_threads=100000))

    model = anvil.Model(args.artifact, num_threads=1)
    case("entry-point", lambda: model.signature("nope"))
    case("run-entry-point", lambda: model.run(bert_inputs(), entry="nope"))
    inputs = bert_inputs()
    inputs["input_idz"] = inputs.pop("input_ids")
    case("unknown-name", lambda: model.run(inputs))
    case("missing-input", lambda: model.run(input_ids=np.ones((2, 7),
                                                             np.int64)))
    case("given-twice", lambda: model.run(
        {"input_ids": np.ones((2, 7), np.int64)}, **bert_inputs()))
    case("dtype", lambda: model.run(bert_inputs(dtype=np.int32)))
    case("rank", lambda: model.run(
        dict(bert_inputs(), token_type_ids=np.zeros((2, 7, 1), np.int64))))
    case("static-dim", lambda: model.run(bert_inputs(batch=3)))
    case("size-bounds", lambda: model.run(bert_inputs(length=17)))
    case("size-two-values", lambda: model.run(
        dict(bert_inputs(), attention_mask=np.ones((2, 8), np.int64))))

    # Outside the errors: a non-contiguous input is copied, not refused.
    strided = np.ones((2, 14), np.int64)[:, ::2]
    out = model.run(dict(bert_inputs(), input_ids=strided))
    same = model.run(bert_inputs())
    equal = all(np.array_equal(out[k], same[k]) for k in out)
    bad += not equal
    print(f"strided-input: {'same outputs' if equal else 'DIFFERENT outputs'}")

    model.close()
    case("closed", lambda: model.run(bert_inputs()))
    print(f"python-model-errors: {'all as expected' if not bad else bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
