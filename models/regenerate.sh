#!/usr/bin/env bash
# Regenerate everything committed under models/: the zoo (+ manifest and ORT
# references) and the trained default model (+ tokenizer, report, manifest).
# Creates models/.venv from Debian's /usr/bin/python3 with the pinned
# requirements if it is missing.  Benchmark decoders are separate:
#   models/.venv/bin/python models/make_bench_decoder.py --size 250m
#
# models/zoo-current (today's exporters) has its own venv,
# models/.venv-current, made from requirements-current.txt constrained by
# requirements-current-lock.txt; `all` does not include it.
#
# Usage: models/regenerate.sh [zoo|default|current|all]   (default: all)
#   THREADS=N  torch threads for training (default 1: the committed model was
#              trained with 1 thread, ~25 min; other counts change the last
#              bits of the weights)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
what="${1:-all}"
threads="${THREADS:-1}"

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
if [[ "$what" == current ]]; then
  if [[ ! -x "$here/.venv-current/bin/python" ]]; then
    /usr/bin/python3 -m venv "$here/.venv-current"
    "$here/.venv-current/bin/pip" install -r "$here/requirements-current.txt" \
        -c "$here/requirements-current-lock.txt"
  fi
  export OMP_NUM_THREADS="$threads" RAYON_NUM_THREADS="$threads"
  "$here/.venv-current/bin/python" "$here/export_zoo_current.py"
  exec "$here/.venv-current/bin/python" "$here/check_zoo.py" --root "$here" \
      --zoos zoo-current
fi

if [[ ! -x "$here/.venv/bin/python" ]]; then
  /usr/bin/python3 -m venv "$here/.venv"
  "$here/.venv/bin/pip" install -r "$here/requirements.txt" \
      -c "$here/requirements-lock.txt"
fi
py="$here/.venv/bin/python"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export OMP_NUM_THREADS="$threads" RAYON_NUM_THREADS="$threads"

if [[ "$what" == zoo || "$what" == all ]]; then
  "$py" "$here/export_zoo.py"
fi
if [[ "$what" == default || "$what" == all ]]; then
  "$py" "$here/train_default.py" --threads "$threads"
fi
"$py" "$here/check_zoo.py" --root "$here"
