#!/usr/bin/env python3
"""Changes one byte of an artifact's section and recomputes every checksum
(the section's, the table's, the header's), so the container looks intact
and only a signature can tell. For the signature tests.

  tamper_section.py IN OUT KIND      KIND: manifest, code, weights, signature
The layout is the one docs/artifact-format.md documents.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from make_artifact import ENTRY, HEADER, KINDS, crc32c  # noqa: E402

KINDS = dict(KINDS, signature=5)
source, target, kind = sys.argv[1:4]
data = bytearray(open(source, "rb").read())
fields = list(HEADER.unpack_from(data, 0))
count, table = fields[4], fields[5]
for i in range(count):
    entry = list(ENTRY.unpack_from(data, table + i * ENTRY.size))
    if entry[0] == KINDS[kind]:
        offset, size = entry[2], entry[3]
        if size == 0:
            sys.exit(f"section {kind} is empty")
        data[offset + size // 2] ^= 1
        entry[5] = crc32c(data[offset:offset + size])
        ENTRY.pack_into(data, table + i * ENTRY.size, *entry)
        break
else:
    sys.exit(f"no {kind} section")
fields[8] = crc32c(data[table:table + count * ENTRY.size])
head = HEADER.pack(*fields[:-1], 0)
data[:HEADER.size] = HEADER.pack(*fields[:-1], crc32c(head[:60]))
open(target, "wb").write(data)
