#!/usr/bin/env python3
"""Prints 'N passed, N failed, N skipped' from lit's xunit output."""
import sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    if case.find("failure") is not None or case.find("error") is not None:
        failed += 1
    elif case.find("skipped") is not None:
        skipped += 1
    else:
        passed += 1
# One word before the colon: the closing-line format CI reads.
print(f"anvil: {passed} passed, {failed} failed, {skipped} skipped")
