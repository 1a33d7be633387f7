#!/usr/bin/env python3
"""Checks the docs/performance.md that `bench/side_by_side.py --write-docs
--docs-dir DIR` wrote (side-by-side.test): every variant has a row with
numbers on both sides, each Anvil/ORT ratio is the quotient of the printed
medians (within their rounding), the decode roofline is a percentage, the
hand-written part that was there before survives, and the plot is linked
exactly when the PNG exists.

Usage: check_side_by_side.py DOCS_DIR HAND_WRITTEN_TEXT
Prints `side-by-side: ok` or the first problem; exits nonzero on one."""
import os
import sys

VARIANTS = {"fp32": "fp32", "bf16": "fp32", "int8": "fp32",
            "int4-g128": "int4", "w8a8": "fp32", "w4a8-g128": "int4"}


def median(cell):
    """The median of a "median (min..max)" or "median" cell."""
    return float(cell.split(" (")[0])


def main():
    folder, hand = sys.argv[1], sys.argv[2]
    with open(os.path.join(folder, "performance.md")) as f:
        doc = f.read()
    rows = {}
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells[0] in VARIANTS:
            rows[cells[0]] = cells
    if set(rows) != set(VARIANTS):
        return f"rows {sorted(rows)}, expected {sorted(VARIANTS)}"
    for name, cells in rows.items():
        if cells[1] != VARIANTS[name]:
            return f"{name} is compared with ORT {cells[1]}"
        # prefill: cells 2-4, decode: 5-7 (Anvil, ORT, Anvil/ORT).
        for first, what in ((2, "prefill"), (5, "decode")):
            anvil, ort, r = (median(cells[first]), median(cells[first + 1]),
                             float(cells[first + 2]))
            if anvil <= 0 or ort <= 0:
                return f"{name} {what}: {anvil} and {ort} tok/s"
            # Both medians are printed to 0.1, the ratio to 0.01.
            low = (anvil - 0.05) / (ort + 0.05) - 0.005
            high = (anvil + 0.05) / max(ort - 0.05, 1e-9) + 0.005
            if not low <= r <= high:
                return (f"{name} {what}: ratio {r} is not {anvil} / {ort}")
        if not cells[14].endswith("%"):
            return f"{name}: decode roofline {cells[14]!r} is no percentage"
    if hand not in doc:
        return "the hand-written part was not kept"
    png = os.path.join(folder, "performance.png")
    linked = "](performance.png)" in doc
    if linked != os.path.exists(png):
        return f"plot linked: {linked}, performance.png exists: {not linked}"
    if linked:
        with open(png, "rb") as f:
            if f.read(8) != b"\x89PNG\r\n\x1a\n":
                return "performance.png is not a PNG"
    return None


if __name__ == "__main__":
    problem = main()
    print(f"side-by-side: {problem}" if problem else "side-by-side: ok")
    sys.exit(1 if problem else 0)
