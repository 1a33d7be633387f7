#!/usr/bin/env bash
# Configures (once) and builds Anvil into BUILD_DIR (default: build).
#   scripts/build.sh [ninja targets...]
# Environment: ANVIL_BUILD_DIR, ANVIL_SANITIZE=1 (ASan+UBSan build).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ANVIL_BUILD_DIR:-$root/build}
"$root/scripts/bootstrap.sh" "$build"
# Paths relative to the checkout, so clones share ccache entries.
export CCACHE_BASEDIR="$root"

if [ ! -f "$build/build.ninja" ]; then
  extra=()
  [ "${ANVIL_SANITIZE:-0}" = 1 ] && extra+=(-DANVIL_SANITIZE=ON)
  cmake -G Ninja -S "$root" -B "$build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-16 -DCMAKE_CXX_COMPILER=clang++-16 \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DLLVM_USE_LINKER=lld \
    -DPython3_EXECUTABLE="$build/venv/bin/python" \
    "${extra[@]}" >/dev/null
fi
cmake --build "$build" -- "$@"
