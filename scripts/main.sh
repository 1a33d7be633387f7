#!/usr/bin/env bash
# The main job: builds Anvil and compiles the bundled default model
# (models/default/model.onnx, a small Llama trained on Python source).
# Today it stops after the graph pipeline: it prints the optimized anvil IR
# (weights elided) and a summary of the model. Code generation and text
# generation arrive with the CPU backend and the engine.
#   scripts/main.sh [extra anvilc flags...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ANVIL_BUILD_DIR:-$root/build}

"$root/scripts/build.sh" anvilc anvil-opt

model="$root/models/default/model.onnx"
out="$build/default-model.mlir"
# One prefill step of 16 tokens for one sequence with an empty KV cache.
"$build/bin/anvilc" "$model" -O2 \
  --dim=batch_size=1,sequence_length=16,past_sequence_length=0 \
  --summary -o "$out" "$@"
echo
echo "== optimized IR of $model (weights elided), first 40 lines of $out:"
head -n 40 "$out"
echo "... ($(wc -l <"$out") lines in all)"
