#!/usr/bin/env bash
# Installs everything Anvil needs to build and test, by package name.
# Idempotent: when all is present it only checks and returns in about a second.
#   scripts/bootstrap.sh [BUILD_DIR]     (default: build)
# Python: Debian's /usr/bin/python3, deliberately (not a pyenv shim that may
# differ between machines), in a virtual environment at BUILD_DIR/venv.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}

debian_packages=(
  libmlir-16-dev mlir-16-tools llvm-16-dev llvm-16-tools clang-16 lld-16
  libclang-rt-16-dev cmake ninja-build ccache protobuf-compiler
  libprotobuf-dev libonnx-dev libfmt-dev nlohmann-json3-dev libgtest-dev
  libgmock-dev libbenchmark-dev libopenblas-dev python3 python3-venv python3-dev
  libsodium-dev pkg-config libxxhash-dev libsentencepiece-dev libutf8proc-dev
  pybind11-dev
  libcpp-httplib-dev
  # anvil-serve's web page test drives a headless browser (selenium).
  chromium chromium-driver
  # bench/side_by_side.py --write-docs draws docs/performance.png with it.
  python3-matplotlib
)

missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The test venv: re-created only when the requirements change.
req="$root/scripts/requirements-test.txt"
venv="$build/venv"
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  # An existing environment (possibly a symlink to a shared one, which
  # venv refuses to re-create) only gets the missing packages.
  if [ ! -x "$venv/bin/python" ]; then
    echo "bootstrap: creating Python environment in $venv"
    mkdir -p "$build"
    /usr/bin/python3 -m venv "$venv"
  fi
  echo "bootstrap: installing Python packages into $venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
  echo "$want" >"$stamp"
fi
