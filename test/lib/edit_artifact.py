#!/usr/bin/env python3
"""Rewrites an artifact's sections and recomputes every checksum, as an
attacker or a careless tool would: only the edited content is wrong, so the
loader's semantic checks (not its checksums) must catch it.

  edit_artifact.py IN OUT --set PATH=JSON ...   set a manifest value; PATH is
                                                dot-separated keys and list
                                                indexes (entry_points.0.arena_bytes)
  edit_artifact.py IN OUT --manifest FILE       replace the manifest's bytes
  edit_artifact.py IN OUT --resize KIND=N       cut or zero-extend a section
  edit_artifact.py IN OUT --reserved N          set the first section entry's
                                                reserved field
The layout is docs/artifact-format.md's (make_artifact.py writes it).
"""
import argparse
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from make_artifact import ENTRY, HEADER, KINDS, crc32c, write  # noqa: E402

NAMES = {v: k for k, v in KINDS.items()}


def read_sections(data):
    fields = HEADER.unpack_from(data, 0)
    abi, count, table, target = fields[2], fields[4], fields[5], fields[7]
    sections = []
    for i in range(count):
        kind, _, offset, size, align, _, _, _ = ENTRY.unpack_from(
            data, table + i * ENTRY.size)
        sections.append([NAMES[kind], bytes(data[offset:offset + size]), align])
    return sections, target.rstrip(b"\0").decode(), abi


def set_path(value, path, new):
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    for key in keys[:-1]:
        value = value[key]
    value[keys[-1]] = new


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--manifest")
    ap.add_argument("--resize", action="append", default=[])
    ap.add_argument("--reserved", type=int)
    args = ap.parse_args()
    sections, target, abi = read_sections(open(args.input, "rb").read())
    by_kind = {s[0]: s for s in sections}
    if args.set:
        manifest = json.loads(by_kind["manifest"][1])
        for item in args.set:
            path, value = item.split("=", 1)
            set_path(manifest, path, json.loads(value))
        by_kind["manifest"][1] = json.dumps(manifest).encode()
    if args.manifest:
        by_kind["manifest"][1] = open(args.manifest, "rb").read()
    for item in args.resize:
        kind, size = item.split("=")
        data = by_kind[kind][1]
        by_kind[kind][1] = data[:int(size)].ljust(int(size), b"\0")
    out = bytearray(write([tuple(s) for s in sections], target, abi))
    if args.reserved is not None:
        table = HEADER.size
        struct.pack_into("<I", out, table + 4, args.reserved)
        fields = list(HEADER.unpack_from(out, 0))
        fields[8] = crc32c(bytes(out[table:table + ENTRY.size * fields[4]]))
        head = HEADER.pack(*fields[:-1], 0)
        out[:HEADER.size] = HEADER.pack(*fields[:-1], crc32c(head[:60]))
    open(args.output, "wb").write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
