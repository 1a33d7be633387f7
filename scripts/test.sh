#!/usr/bin/env bash
# Builds Anvil and runs every test: lit/FileCheck tests, importer and model
# tests, the GoogleTest unit tests, the conformance check and a short fuzz run.
#   scripts/test.sh [lit args...]     e.g. scripts/test.sh -v --filter=Import
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ANVIL_BUILD_DIR:-$root/build}

"$root/scripts/build.sh" anvilc anvil-opt anvil-test-depends

results="$build/test-results.xml"
set +e
"$build/venv/bin/lit" -sv --xunit-xml-output="$results" "$@" \
  "$build/test" "$build/test/Unit"
status=$?
set -e
# One closing line that CI and people can read the same way.
"$build/venv/bin/python" "$root/scripts/summarize_results.py" "$results"
exit $status
