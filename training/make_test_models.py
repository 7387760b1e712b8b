#!/usr/bin/env python3
"""Write tiny, real ONNX model packages used as fixtures by the TypeScript tests.

Usage:  /usr/bin/python3 training/make_test_models.py [--out test/fixtures/models]

Writes
  tiny/         model.onnx + model.json: 8 Matek classes, 3x64x64 input, random fixed-seed weights.
  wrong-shape/  model.onnx with a *static* 3x32x32 input, but model.json claims 64x64
                (the app must refuse it / report the mismatch).
  tiny-expected.json  logits of the tiny model for a few synthetic input tensors, so a
                test can check onnxruntime-node against the torch reference.
Both graphs: input "input" [N,3,H,W] float32 (batch axis dynamic), output "logits" [N,C] raw logits.
Deterministic: same torch version -> byte-identical weights (seed 0).
"""
import argparse
import hashlib
import json
import os

import torch
import torch.nn as nn

CLASSES8 = ["ART", "BLA", "EOS", "LYT", "MON", "NGS", "NIF", "PMO"]


class TinyNet(nn.Module):
    """conv(3->8,s2) -> relu -> conv(8->16,s2) -> relu -> avgpool(fixed) -> flatten -> linear.
    The flatten+linear makes the spatial size truly static (H=W=size)."""

    def __init__(self, size, n_classes):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.AvgPool2d(4),
        )
        s = size // 16
        self.fc = nn.Linear(16 * s * s, n_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def export(model, size, path):
    model.eval()
    dummy = torch.zeros(1, 3, size, size)
    torch.onnx.export(
        model, dummy, path, input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=13, do_constant_folding=True,
    )


def package_json(mid, name, classes, json_size, onnx_path, mean, std, note):
    return {
        "formatVersion": 1,
        "id": mid,
        "version": "0.0.1",
        "name": name,
        "sha256": sha256(onnx_path),
        "classes": classes,
        "input": {
            "name": "input", "width": json_size, "height": json_size,
            "layout": "NCHW", "colorOrder": "RGB", "resize": "fill", "kernel": "lanczos3",
            "scale": 255, "mean": mean, "std": std,
        },
        "output": {"name": "logits", "type": "logits"},
        "calibration": {"temperature": 1.5, "eceBefore": 0.0, "eceAfter": 0.0,
                        "fittedOn": "none (test fixture, random weights)"},
        "flagging": {"minConfidence": 0.6, "minMargin": 0.15,
                     "alwaysReview": ["BLA", "FGC", "ABE", "HAC", "LYI", "OTH"]},
        "training": {"summary": note, "data": [], "seed": 0,
                     "command": "/usr/bin/python3 training/make_test_models.py",
                     "environment": "torch %s (CPU)" % torch.__version__},
        "license": "Test fixture, no licence restrictions (random weights, no training data).",
        "attribution": [],
    }


def synthetic_inputs(size):
    """Deterministic test tensors, already normalised (what goes into the graph)."""
    zeros = torch.zeros(1, 3, size, size)
    ones = torch.ones(1, 3, size, size)
    ramp = torch.linspace(-1, 1, size).view(1, 1, 1, size).expand(1, 3, size, size).contiguous()
    ramp[:, 1] = ramp[:, 1].transpose(-1, -2).clone()
    ramp[:, 2] = -ramp[:, 2].clone()
    return {"zeros": zeros, "ones": ones, "ramp": ramp}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "models"))
    args = ap.parse_args()
    out = os.path.abspath(args.out)

    # tiny: 8 classes, 64x64, non-trivial normalisation so the app's preprocessing is exercised
    torch.manual_seed(0)
    tiny = TinyNet(64, len(CLASSES8))
    with torch.no_grad():  # spread the logits so the argmax is well separated
        tiny.fc.weight.mul_(25.0)
    d = os.path.join(out, "tiny")
    os.makedirs(d, exist_ok=True)
    export(tiny, 64, os.path.join(d, "model.onnx"))
    mean, std = [0.5, 0.4, 0.3], [0.25, 0.2, 0.3]
    js = package_json("tiny-test", "Tiny test CNN (random weights)", CLASSES8, 64,
                      os.path.join(d, "model.onnx"), mean, std,
                      "Random fixed-seed weights (torch.manual_seed(0)); not trained. Fixture only.")
    with open(os.path.join(d, "model.json"), "w") as f:
        json.dump(js, f, indent=2)
        f.write("\n")
    with torch.no_grad():
        exp = {}
        for k, x in synthetic_inputs(64).items():
            exp[k] = {"description": {
                "zeros": "all elements 0.0 (normalised tensor)",
                "ones": "all elements 1.0 (normalised tensor)",
                "ramp": "channel0[y][x] = -1+2x/63; channel1[y][x] = -1+2y/63; channel2[y][x] = 1-2x/63",
            }[k], "logits": [round(float(v), 6) for v in tiny(x)[0]]}
    with open(os.path.join(out, "tiny-expected.json"), "w") as f:
        json.dump({"model": "tiny/model.onnx", "tolerance": 1e-4, "inputs": exp}, f, indent=2)
        f.write("\n")

    # wrong-shape: graph has static 3x32x32 input, json says 64x64
    torch.manual_seed(1)
    ws = TinyNet(32, len(CLASSES8))
    d = os.path.join(out, "wrong-shape")
    os.makedirs(d, exist_ok=True)
    export(ws, 32, os.path.join(d, "model.onnx"))
    js = package_json("wrong-shape-test", "Wrong-shape test CNN", CLASSES8, 64,
                      os.path.join(d, "model.onnx"), [0.0, 0.0, 0.0], [1.0, 1.0, 1.0],
                      "Fixture: ONNX graph input is static [N,3,32,32] but this JSON declares 64x64.")
    with open(os.path.join(d, "model.json"), "w") as f:
        json.dump(js, f, indent=2)
        f.write("\n")
    for sub in ("tiny", "wrong-shape"):
        p = os.path.join(out, sub, "model.onnx")
        print(sub, os.path.getsize(p), "bytes", sha256(p))


if __name__ == "__main__":
    main()
