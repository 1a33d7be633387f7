#!/usr/bin/env python3
"""Writes a .anvil file from docs/artifact-format.md alone.

An implementation of the format independent of the C++ writer, for seeding
fuzzers and for checking that the documented layout is the one the runtime
reads. Usage:
  make_artifact.py OUT [--target cpu] [--abi N] [--manifest F] [--code F]
                       [--weights F]
Without files, writes a small artifact with placeholder sections.
"""
import argparse
import struct
import sys

MAGIC = b"ANVIL\x1a\r\n"
KINDS = {"manifest": 1, "code": 2, "weights": 3, "tokenizer": 4}
PLACEHOLDER_MANIFEST = (b'{"manifest_version": 1, "target": {"name": "cpu"}, '
                        b'"entry_points": []}')
HEADER = struct.Struct("<8sIIIIQQ16sII")   # 64 bytes
ENTRY = struct.Struct("<IIQQQII16s")      # 56 bytes


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


ABI_VERSION = 4  # docs/artifact-format.md, "Code ABI"


def write(sections, target, abi=ABI_VERSION):
    table_offset = HEADER.size
    cursor = table_offset + ENTRY.size * len(sections)
    entries, placed = [], []
    for name, data, align in sections:
        offset = (cursor + align - 1) // align * align
        entries.append(ENTRY.pack(KINDS[name], 0, offset, len(data), align,
                                  crc32c(data), 0, name.encode()))
        placed.append((offset, data))
        cursor = offset + len(data)
    table = b"".join(entries)
    fields = [MAGIC, 1, abi, 0, len(sections), table_offset, cursor,
              target.encode(), crc32c(table)]
    head = HEADER.pack(*fields, 0)
    head = HEADER.pack(*fields, crc32c(head[:60]))
    out = bytearray(cursor)
    out[:len(head)] = head
    out[table_offset:table_offset + len(table)] = table
    for offset, data in placed:
        out[offset:offset + len(data)] = data
    return bytes(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("output")
    ap.add_argument("--target", default="cpu")
    ap.add_argument("--abi", type=int, default=ABI_VERSION,
                    help="the header's abi_version (1 writes an old artifact)")
    ap.add_argument("--manifest", help="manifest JSON file")
    ap.add_argument("--code", help="code section file (a shared object)")
    ap.add_argument("--weights", help="weights section file (raw bytes)")
    args = ap.parse_args()

    def content(path, default):
        if path is None:
            return default
        with open(path, "rb") as f:
            return f.read()

    sections = [("manifest", content(args.manifest, PLACEHOLDER_MANIFEST), 64),
                ("code", content(args.code, b"\x7fELF not really"), 64),
                ("weights", content(args.weights, bytes(range(256)) * 4), 4096)]
    with open(args.output, "wb") as f:
        f.write(write(sections, args.target, args.abi))
    return 0


if __name__ == "__main__":
    sys.exit(main())
