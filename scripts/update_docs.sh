#!/usr/bin/env bash
# Regenerates docs/reference/: the op and pass reference from the ODS
# sources, and the list of ONNX ops the importer takes (anvilc --list-ops).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ANVIL_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" anvil-docs anvilc
mkdir -p "$root/docs/reference"
cp "$build/docs/Dialects/AnvilOps.md" "$root/docs/reference/anvil-dialect.md"
cp "$build/docs/Dialects/KernelOps.md" "$root/docs/reference/kernel-dialect.md"
cp "$build/docs/Passes/AnvilPasses.md" "$root/docs/reference/passes.md"
cp "$build/docs/Passes/LoweringPasses.md" "$root/docs/reference/lowering-passes.md"
echo "updated docs/reference/"
"$build/bin/anvilc" --list-ops | python3 "$root/scripts/onnx_ops_doc.py" \
    > "$root/docs/reference/onnx-ops.md"
echo "updated docs/reference/onnx-ops.md"
