"""The zoo's manifests and reference inputs, as the model checks read them.

  entries(folders)        (folder, entry) for every model of every manifest
  input_shape_flags(refs) anvilc --input-shape flags binding each graph input
                          to the shape of its reference value in the .npz
"""
import json
import os


def entries(folders):
    for folder in folders:
        with open(os.path.join(folder, "manifest.json")) as f:
            models = json.load(f)["models"]
        for entry in (models.values() if isinstance(models, dict) else models):
            yield folder, entry


def input_shape_flags(refs):
    flags = []
    for key in refs.files:
        if key.startswith("input:"):
            shape = refs[key].shape
            text = "x".join(str(d) for d in shape) if shape else "scalar"
            flags.append(f"--input-shape={key[len('input:'):]}:{text}")
    return flags
