#!/usr/bin/env bash
# The main job: builds Anvil, compiles the bundled default model
# (models/default/model.onnx, a small Llama trained on Python source, with
# its tokenizer.json) into the paged step function the engine runs, and
# generates Python code from a prompt, streaming it to the terminal; the
# timings go to stderr.
#   scripts/main.sh [--prompt TEXT] [more anvil-run generate flags...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ANVIL_BUILD_DIR:-$root/build}

"$root/scripts/build.sh" anvilc anvil-opt anvil-run anvil-serve

model="$root/models/default/model.onnx"
artifact="$build/default-model.anvil"
# The default model was trained on 1024 positions; its end-of-text token
# (id 0) ends generation.
"$build/bin/anvilc" "$model" -O2 --max-context=1024 --eos-token-id=0 \
  -o "$artifact"
echo
"$build/bin/anvil-run" info "$artifact" | sed -n 1,2p
echo
prompt='def fibonacci(n):
    """Return the n-th Fibonacci number."""
'
args=("$@")
if [[ " ${args[*]-} " != *" --prompt "* && " ${args[*]-} " != *" --prompt-file "* &&
      " ${args[*]-} " != *" --prompt-ids "* ]]; then
  args=(--prompt "$prompt" "${args[@]}")
  printf '%s' "$prompt"
fi
"$build/bin/anvil-run" generate "$artifact" --max-new-tokens 160 \
  --repetition-penalty 1.1 "${args[@]}"
