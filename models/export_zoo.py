#!/usr/bin/env python3
"""Export Anvil's reference model zoo to models/zoo/ and write its manifest.

Every model is instantiated from a config object with seeded random weights
(no downloads, HF_HUB_OFFLINE=1).  Decoders (Llama, Qwen2, Mistral, Phi-3,
GPT-2) are exported with torch.onnx in Optimum's calling convention
(input_ids, attention_mask, position_ids, past_key_values.{i}.key/value ->
logits, present.{i}.key/value), and, where Optimum's exporter works, again
with Optimum (`<arch>-optimum.onnx`).  BERT is an encoder, ResNet-18 and
MobileNetV2 (torchvision, weights=None, reduced width) are CNNs.

Run: models/.venv/bin/python models/export_zoo.py [--only llama,bert]
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import common  # noqa: E402

SEED = 0
VOCAB = 512
CNN_INPUT = (1, 3, 64, 64)


def decoder_configs():
    from transformers import (GPT2Config, LlamaConfig, MistralConfig,
                              Phi3Config, Qwen2Config)
    common_kw = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128,
                     num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=2, max_position_embeddings=128,
                     bos_token_id=1, eos_token_id=2, torch_dtype="float32")
    return {
        "llama": (LlamaConfig(**common_kw, tie_word_embeddings=False),
                  "LlamaForCausalLM"),
        "qwen2": (Qwen2Config(**common_kw, tie_word_embeddings=False,
                              use_sliding_window=False),
                  "Qwen2ForCausalLM"),
        "mistral": (MistralConfig(**common_kw, sliding_window=None,
                                  tie_word_embeddings=False),
                    "MistralForCausalLM"),
        "phi3": (Phi3Config(**common_kw, pad_token_id=0,
                            sliding_window=None, tie_word_embeddings=False),
                 "Phi3ForCausalLM"),
        "gpt2": (GPT2Config(vocab_size=VOCAB, n_embd=64, n_layer=2, n_head=4,
                            n_positions=128, bos_token_id=1, eos_token_id=2,
                            torch_dtype="float32"),
                 "GPT2LMHeadModel"),
    }


def seeded(fn):
    import torch
    torch.manual_seed(SEED)
    return fn()


def make_decoder(arch):
    import transformers
    cfg, cls = decoder_configs()[arch]
    cfg._attn_implementation = "eager" if arch == "gpt2" else "sdpa"
    model = seeded(lambda: getattr(transformers, cls)(cfg))
    return model.eval()


def export_decoder(arch, zoo):
    model = make_decoder(arch)
    path = os.path.join(zoo, f"{arch}.onnx")
    return common.export_and_reference(model, arch, path, zoo)


def export_decoder_optimum(arch, zoo):
    """Save the same seeded model with save_pretrained and run Optimum's
    main_export on the folder (text-generation-with-past)."""
    from optimum.exporters.onnx import main_export
    model = make_decoder(arch)
    tmp = tempfile.mkdtemp(prefix=f"anvil-optimum-{arch}-")
    try:
        src = os.path.join(tmp, "hf")
        model.save_pretrained(src)
        out = os.path.join(tmp, "onnx")
        main_export(src, output=out, task="text-generation-with-past",
                    opset=common.OPSET, device="cpu", no_post_process=False,
                    do_validation=False, local_files_only=True)
        produced = os.path.join(out, "model.onnx")
        if os.path.exists(os.path.join(out, "model.onnx_data")):
            raise RuntimeError("optimum wrote external data for a tiny model")
        path = os.path.join(zoo, f"{arch}-optimum.onnx")
        shutil.copyfile(produced, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return common.export_and_reference(model, arch, path, zoo,
                                       exporter="optimum", export=False)


def export_bert(zoo):
    import numpy as np
    import torch
    from transformers import BertConfig, BertModel
    cfg = BertConfig(vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2,
                     num_attention_heads=4, intermediate_size=128,
                     max_position_embeddings=128, type_vocab_size=2,
                     torch_dtype="float32")
    cfg._attn_implementation = "eager"
    model = seeded(lambda: BertModel(cfg)).eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch_size", 1: "sequence_length"} for n in names}
    axes["last_hidden_state"] = {0: "batch_size", 1: "sequence_length"}
    axes["pooler_output"] = {0: "batch_size"}
    rng = np.random.default_rng(1)
    feeds = {"input_ids": rng.integers(0, VOCAB, (2, 7), dtype=np.int64),
             "attention_mask": np.ones((2, 7), np.int64),
             "token_type_ids": np.zeros((2, 7), np.int64)}
    feeds["attention_mask"][1, 5:] = 0          # right padding in row 1
    feeds["token_type_ids"][:, 4:] = 1

    class W(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            o = self.m(input_ids=input_ids, attention_mask=attention_mask,
                       token_type_ids=token_type_ids, return_dict=True)
            return o.last_hidden_state, o.pooler_output
    path = os.path.join(zoo, "bert.onnx")
    ex = tuple(torch.from_numpy(feeds[n]) for n in names)
    wrapped = W(model).eval()
    with torch.no_grad():
        ref = wrapped(*ex)
        torch.onnx.export(wrapped, ex, path, input_names=names,
                          output_names=["last_hidden_state", "pooler_output"],
                          dynamic_axes=axes, opset_version=common.OPSET,
                          do_constant_folding=True, dynamo=False)
    common.fix_symbolic_dims(path, axes)
    npz, out, _ = common.write_reference(path, feeds, zoo)
    err = float(np.max(np.abs(ref[0].numpy() - out["last_hidden_state"])))
    assert err < 1e-3, err
    v = common.versions()
    return common.entry_for(
        path, zoo, "bert", cfg,
        {"name": "torch.onnx", "version": v["torch"], "torch": v["torch"],
         "transformers": v["transformers"],
         "settings": "TorchScript exporter (dynamo=False), "
                     "do_constant_folding=True"},
        "encoder", npz, {"hf_class": "BertModel",
                         "torch_vs_ort_max_abs_diff": err})


def slim_resnet18(base=8, num_classes=10):
    """torchvision's ResNet-18 (BasicBlock, [2, 2, 2, 2]) with the stage widths
    64/128/256/512 scaled to base*(1, 2, 4, 8).  Same module tree, built with
    torchvision's own BasicBlock and ResNet._make_layer."""
    import torch.nn as nn
    from torchvision.models.resnet import BasicBlock, ResNet

    class SlimResNet(ResNet):
        def __init__(self):
            nn.Module.__init__(self)
            self._norm_layer = nn.BatchNorm2d
            self.inplanes = base
            self.dilation = 1
            self.groups = 1
            self.base_width = 64
            self.conv1 = nn.Conv2d(3, base, kernel_size=7, stride=2, padding=3,
                                   bias=False)
            self.bn1 = nn.BatchNorm2d(base)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = self._make_layer(BasicBlock, base, 2)
            self.layer2 = self._make_layer(BasicBlock, base * 2, 2, stride=2)
            self.layer3 = self._make_layer(BasicBlock, base * 4, 2, stride=2)
            self.layer4 = self._make_layer(BasicBlock, base * 8, 2, stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(base * 8, num_classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out",
                                            nonlinearity="relu")
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
    return SlimResNet()


def randomize_bn(model):
    """Give BatchNorm layers non-trivial running statistics, so the folded
    graph is not an identity normalization."""
    import torch
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)


def export_cnn(name, zoo):
    import numpy as np
    import torch
    import torchvision
    if name == "resnet18":
        def build():
            m = slim_resnet18(base=8, num_classes=10)
            randomize_bn(m)
            return m
        cfg = {"torchvision_fn": "resnet18 structure (ResNet + BasicBlock "
               "[2,2,2,2])", "weights": None, "stage_widths": [8, 16, 32, 64],
               "num_classes": 10, "input": list(CNN_INPUT)}
    else:
        def build():
            m = torchvision.models.mobilenet_v2(weights=None, width_mult=0.25,
                                                num_classes=10)
            # The 1x1 head conv keeps 1280 channels for width_mult < 1;
            # narrow it to 320 to keep the file small.
            from torchvision.ops.misc import Conv2dNormActivation
            inp = m.features[-1][0].in_channels
            m.features[-1] = Conv2dNormActivation(
                inp, 320, kernel_size=1, norm_layer=torch.nn.BatchNorm2d,
                activation_layer=torch.nn.ReLU6)
            m.classifier[-1] = torch.nn.Linear(320, 10)
            randomize_bn(m)
            return m
        cfg = {"torchvision_fn": "mobilenet_v2", "weights": None,
               "width_mult": 0.25, "last_channel": 320, "num_classes": 10,
               "input": list(CNN_INPUT)}
    model = seeded(build).eval()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2,) + CNN_INPUT[1:]).astype(np.float32)
    path = os.path.join(zoo, f"{name}.onnx")
    axes = {"input": {0: "batch_size"}, "output": {0: "batch_size"}}
    with torch.no_grad():
        torch.onnx.export(model, (torch.from_numpy(x[:1]),), path,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes=axes, opset_version=common.OPSET,
                          do_constant_folding=True, dynamo=False)
        ref = model(torch.from_numpy(x)).numpy()
    common.fix_symbolic_dims(path, axes)
    npz, out, _ = common.write_reference(path, {"input": x}, zoo)
    err = float(np.max(np.abs(ref - out["output"])))
    assert err < 1e-3, err
    v = common.versions()
    return common.entry_for(
        path, zoo, name, cfg,
        {"name": "torch.onnx", "version": v["torch"], "torch": v["torch"],
         "torchvision": v["torchvision"],
         "settings": "TorchScript exporter (dynamo=False), "
                     "do_constant_folding=True (BatchNorm folded)"},
        "cnn", npz, {"torch_vs_ort_max_abs_diff": err})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--out", default=os.path.join(HERE, "zoo"))
    ap.add_argument("--only", default=None,
                    help="comma-separated subset (manifest keeps the others)")
    ap.add_argument("--no-optimum", action="store_true")
    args = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    zoo = args.out
    os.makedirs(zoo, exist_ok=True)
    jobs = []
    for arch in decoder_configs():
        jobs.append((arch, lambda a=arch: export_decoder(a, zoo)))
    for arch in decoder_configs():
        if not args.no_optimum:
            jobs.append((f"{arch}-optimum",
                         lambda a=arch: export_decoder_optimum(a, zoo)))
    jobs.append(("bert", lambda: export_bert(zoo)))
    jobs.append(("resnet18", lambda: export_cnn("resnet18", zoo)))
    jobs.append(("mobilenetv2", lambda: export_cnn("mobilenetv2", zoo)))
    only = set(args.only.split(",")) if args.only else None

    mpath = os.path.join(zoo, "manifest.json")
    old = {}
    if only and os.path.exists(mpath):
        with open(mpath) as f:
            old = {os.path.splitext(e["file"])[0]: e
                   for e in json.load(f)["models"]}
    entries, failures = [], {}
    for name, fn in jobs:
        if only and name not in only:
            if name in old:
                entries.append(old[name])
            continue
        print(f"== {name}", flush=True)
        try:
            e = fn()
            entries.append(e)
            print(f"   {e['file']}: {e['bytes']} bytes, opset {e['opset']}",
                  flush=True)
        except Exception as ex:
            traceback.print_exc()
            failures[name] = f"{type(ex).__name__}: {ex}"
            for suffix in (".onnx", ".npz"):
                p = os.path.join(zoo, name + suffix)
                if os.path.exists(p):
                    os.remove(p)
    manifest = {
        "description": "Anvil reference model zoo: tiny seeded-random models "
                       "exported to ONNX (see models/README.md)",
        "seed": SEED,
        "regenerate": "models/regenerate.sh",
        "versions": common.versions(),
        "reference_key_scheme": "input:<name> and output:<name> arrays in "
                                "<model>.npz; decoders also "
                                "greedy:prompt_ids and greedy:continuation_ids",
        "models": entries,
    }
    if failures:
        manifest["failed_exports"] = failures
    with open(mpath, "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"wrote {mpath}: {len(entries)} models, {len(failures)} failed")
    if failures:
        print("failed:", ", ".join(failures))


if __name__ == "__main__":
    main()
