#!/usr/bin/env bash
# Regenerates docs/reference/ (op and pass reference) from the ODS sources.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ANVIL_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" anvil-docs
mkdir -p "$root/docs/reference"
cp "$build/docs/Dialects/AnvilOps.md" "$root/docs/reference/anvil-dialect.md"
cp "$build/docs/Dialects/KernelOps.md" "$root/docs/reference/kernel-dialect.md"
cp "$build/docs/Passes/AnvilPasses.md" "$root/docs/reference/passes.md"
cp "$build/docs/Passes/LoweringPasses.md" "$root/docs/reference/lowering-passes.md"
echo "updated docs/reference/"
