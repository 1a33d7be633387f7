#!/usr/bin/env python3
"""Copies a file while damaging it, for corruption tests.

  patch_bytes.py IN OUT --flip OFFSET     flip the low bit of one byte
  patch_bytes.py IN OUT --truncate LEN    keep the first LEN bytes
  patch_bytes.py IN OUT --append N        add N zero bytes
"""
import argparse

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("input")
ap.add_argument("output")
group = ap.add_mutually_exclusive_group(required=True)
group.add_argument("--flip", type=int)
group.add_argument("--truncate", type=int)
group.add_argument("--append", type=int)
args = ap.parse_args()
data = bytearray(open(args.input, "rb").read())
if args.flip is not None:
    data[args.flip] ^= 1
elif args.truncate is not None:
    data = data[:args.truncate]
else:
    data += bytes(args.append)
open(args.output, "wb").write(data)
