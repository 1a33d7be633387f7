#!/usr/bin/env python3
"""Prints one field of the JSON object on stdin, as compact JSON.

  json_field.py FIELD < object.json

Exits non-zero when stdin is not a JSON object or lacks FIELD, so a test
that compares fields of two runs cannot pass on two empty outputs.
"""
import json
import sys

if len(sys.argv) != 2:
    sys.exit(__doc__)
obj = json.load(sys.stdin)
if sys.argv[1] not in obj:
    sys.exit(f"json_field.py: no field '{sys.argv[1]}' in {obj}")
print(json.dumps(obj[sys.argv[1]], separators=(",", ":")))
