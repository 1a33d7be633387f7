#!/usr/bin/env python3
"""Every kernel unit test skips on a CPU that cannot run its build's code.

The kernel tests (test/Unit/Kernels) are built once per x86-64 level and
ISA extension (-march=x86-64-v4, AVX512-VNNI, ...); on a CPU below it (an
AVX2-only AMD Zen 3 runs no x86-64-v4 code) a test must skip with the
reason before any code of its own runs, or the whole binary dies of SIGILL
(three tests without the check did so on a Zen 3, 2026-12-06). So every
TEST's first statement must be REQUIRE_LEVEL() (KernelLevel.h) or
ANVIL_NEEDS_CPU() (PagedAttentionTest.cpp); a test that runs no code of
its build's level says so in a comment line `// Any CPU: why` just above.

Usage: check_kernel_test_levels.py DIR   (prints each offender; exit 1)
"""
import os
import re
import sys

GUARDS = ("REQUIRE_LEVEL();", "ANVIL_NEEDS_CPU();")


def offenders(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    for i, line in enumerate(lines):
        if not re.match(r"TEST(_F|_P)?\(", line):
            continue
        if i > 0 and lines[i - 1].strip().startswith("// Any CPU:"):
            continue
        j = i + 1
        while j < len(lines) and (not lines[j].strip() or
                                  lines[j].strip().startswith("//")):
            j += 1
        if j >= len(lines) or lines[j].strip() not in GUARDS:
            yield i + 1, line.strip()


def main():
    folder = sys.argv[1]
    bad = 0
    checked = 0
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".cpp"):
            continue
        checked += 1
        for number, test in offenders(os.path.join(folder, name)):
            bad += 1
            print(f"{name}:{number}: {test} does not start with "
                  f"REQUIRE_LEVEL() or ANVIL_NEEDS_CPU()")
    print(f"kernel test files: {checked} checked, {bad} unguarded tests")
    return 1 if bad or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
