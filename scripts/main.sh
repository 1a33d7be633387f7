#!/usr/bin/env bash
# The main job: builds Anvil, compiles the bundled default model
# (models/default/model.onnx, a small Llama trained on Python source) to an
# artifact for this CPU, and runs one forward pass over a prompt, printing
# the most likely next tokens. Text generation arrives with the engine.
#   scripts/main.sh [extra anvilc flags...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ANVIL_BUILD_DIR:-$root/build}

"$root/scripts/build.sh" anvilc anvil-opt anvil-run

model="$root/models/default/model.onnx"
artifact="$build/default-model.anvil"
seq=16
# One prefill step of $seq tokens for one sequence with an empty KV cache.
"$build/bin/anvilc" "$model" -O2 \
  --dim=batch_size=1,sequence_length=$seq,past_sequence_length=0 \
  --summary -o "$artifact" "$@"
echo
"$build/bin/anvil-run" info "$artifact" | sed -n 1,5p
echo
"$build/venv/bin/python" "$root/scripts/forward_pass.py" \
  --anvil-run "$build/bin/anvil-run" --artifact "$artifact" \
  --tokenizer "$root/models/default/tokenizer.json" --seq $seq
