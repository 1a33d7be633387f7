#!/usr/bin/env bash
# Formats Anvil's C++ sources in place with clang-format (LLVM style, see
# .clang-format). With --check, lists unformatted files and exits 1.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
files=$(git ls-files --cached --others --exclude-standard '*.cpp' '*.h' '*.hpp' '*.c')
if [ "${1:-}" = "--check" ]; then
  bad=$(for f in $files; do clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || echo "$f"; done)
  [ -z "$bad" ] || { echo "not clang-formatted:"; echo "$bad"; exit 1; }
  exit 0
fi
clang-format -i $files
