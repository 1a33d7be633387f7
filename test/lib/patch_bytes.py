#!/usr/bin/env python3
"""Copies a file while damaging it, for corruption tests.

  patch_bytes.py IN OUT --flip OFFSET       flip the low bit of one byte
  patch_bytes.py IN OUT --flip-section KIND flip a byte in the middle of a
                                            section (manifest, code, weights),
                                            found through the section table
  patch_bytes.py IN OUT --header FIELD=VALUE
                                            rewrite a header field (format,
                                            abi, flags, table_offset, target)
                                            and its checksum, so only the
                                            field is wrong
  patch_bytes.py IN OUT --truncate LEN      keep the first LEN bytes
  patch_bytes.py IN OUT --append N          add N zero bytes
The layout is the one docs/artifact-format.md documents (and
make_artifact.py writes).
"""
import argparse
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from make_artifact import ENTRY, HEADER, KINDS, crc32c  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__,
                             formatter_class=argparse.RawTextHelpFormatter)
ap.add_argument("input")
ap.add_argument("output")
group = ap.add_mutually_exclusive_group(required=True)
group.add_argument("--flip", type=int)
group.add_argument("--flip-section", choices=sorted(KINDS))
group.add_argument("--header")
group.add_argument("--truncate", type=int)
group.add_argument("--append", type=int)
args = ap.parse_args()
data = bytearray(open(args.input, "rb").read())
if args.flip is not None:
    data[args.flip] ^= 1
elif args.flip_section is not None:
    fields = HEADER.unpack_from(data, 0)
    count, table = fields[4], fields[5]
    for i in range(count):
        kind, _, offset, size, _, _, _, _ = ENTRY.unpack_from(
            data, table + i * ENTRY.size)
        if kind == KINDS[args.flip_section]:
            if size == 0:
                sys.exit(f"section {args.flip_section} is empty")
            data[offset + size // 2] ^= 1
            break
    else:
        sys.exit(f"no {args.flip_section} section")
elif args.header is not None:
    name, value = args.header.split("=", 1)
    fields = list(HEADER.unpack_from(data, 0))
    index = {"format": 1, "abi": 2, "flags": 3, "table_offset": 5,
             "target": 7}[name]
    fields[index] = value.encode() if name == "target" else int(value)
    head = HEADER.pack(*fields[:-1], 0)
    head = HEADER.pack(*fields[:-1], crc32c(head[:60]))
    data[:HEADER.size] = head
elif args.truncate is not None:
    data = data[:args.truncate]
else:
    data += bytes(args.append)
open(args.output, "wb").write(data)
