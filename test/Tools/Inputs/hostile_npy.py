#!/usr/bin/env python3
"""Writes hostile and careless .npy files for hostile-npy.test.

  hostile_npy.py DIR
Each file differs from a valid int64 [3] array in one way; the name says
which.
"""
import os
import struct
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
DATA = struct.pack("<3q", 3, 0, 1)


def npy(header, data=DATA, version=(1, 0), raw_length=None):
    header = header.encode("latin1")
    pad = (64 - (10 + len(header) + 1) % 64) % 64
    header += b" " * pad + b"\n"
    length = len(header) if raw_length is None else raw_length
    if version[0] == 1:
        prefix = struct.pack("<BB", *version) + struct.pack("<H", length)
    else:
        prefix = struct.pack("<BB", *version) + struct.pack("<I", length)
    return b"\x93NUMPY" + prefix + header + data


def save(name, content):
    with open(os.path.join(out, name), "wb") as f:
        f.write(content)


good = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }"
save("good.npy", npy(good))
save("good-v2.npy", npy(good, version=(2, 0)))
save("good-v3.npy", npy(good, version=(3, 0)))
save("huge-dim.npy", npy(good.replace("(3,)", "(12345678901234567890123,)")))
save("negative-dim.npy", npy(good.replace("(3,)", "(-3,)")))
save("junk-dim.npy", npy(good.replace("(3,)", "(3x,)")))
save("float-dim.npy", npy(good.replace("(3,)", "(3.0,)")))
save("overflow-product.npy",
     npy(good.replace("(3,)", "(4294967296, 4294967296, 4,)")))
save("not-a-tuple.npy", npy(good.replace("(3,)", "(3)")))
save("version-4.npy", npy(good, version=(4, 0)))
save("version-1-1.npy", npy(good, version=(1, 1)))
save("header-past-end.npy", npy(good, version=(2, 0), raw_length=0x7fffffff))
save("huge-header.npy",
     npy(good.replace("}", "'x': '" + "a" * 70000 + "'}"), version=(2, 0)))
save("long-descr.npy",
     npy(good.replace("<i8", "<" + "i" * 60000), version=(2, 0)))
save("long-dim.npy",
     npy(good.replace("(3,)", "(" + "9" * 60000 + ",)"), version=(2, 0)))
save("extra-key.npy", npy(good.replace("}", "'extra': 1, }")))
save("missing-shape.npy",
     npy("{'descr': '<i8', 'fortran_order': False, }"))
save("duplicate-descr.npy", npy(good.replace("{", "{'descr': '<i8', ")))
save("fortran.npy", npy(good.replace("False", "True")))
save("big-endian.npy", npy(good.replace("<i8", ">i8")))
save("short-data.npy", npy(good, data=DATA[:-1]))
save("long-data.npy", npy(good, data=DATA + b"\0"))
save("deep-parens.npy", npy(good.replace("(3,)", "(" * 5000 + "3" + ")" * 5000)))
save("binary-header.npy", npy(good.replace(" }", "\x00}")))
save("unterminated.npy", npy("{'descr': '<i8"))
save("no-magic.npy", b"NUMPY\x01\x00" + DATA)
save("empty.npy", b"")
