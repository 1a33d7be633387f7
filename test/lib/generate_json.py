"""`anvil-run generate --json` on one thread, as the generation checks run it.

  generate_json(anvil_run, artifact, *flags)  the parsed JSON object
                                              (token_ids, text,
                                              finish_reason, ...); raises
                                              RuntimeError with stderr if
                                              anvil-run fails
"""
import json
import subprocess


def generate_json(anvil_run, artifact, *flags):
    run = subprocess.run([anvil_run, "generate", artifact, "--json",
                          "--threads", "1", *flags],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"anvil-run generate failed: {run.stderr.strip()}")
    return json.loads(run.stdout)
