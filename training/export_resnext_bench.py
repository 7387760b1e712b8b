#!/usr/bin/env python3
"""Export a ResNeXt-50 32x4d with random weights as a MarrowCount model package, for speed benchmarks only.

Usage:  /usr/bin/python3 training/export_resnext_bench.py [--out .cache/bench/resnext50] [--size 224]

It answers "how fast would a production-sized classifier run here", not "how accurate": the weights are random
(torch.manual_seed(0)), so the package is marked researchOnly and must never be used on patient data.
Writes model.onnx (input "input" [N,3,size,size], output "logits" [N,21]) and model.json (all 21 Matek classes,
ImageNet mean/std, temperature 1). The output folder is git-ignored (.cache/).
"""
import argparse
import hashlib
import json
import os

import torch
import torchvision

MATEK21 = ["ABE", "ART", "BAS", "BLA", "EBO", "EOS", "FGC", "HAC", "KSC", "LYI", "LYT",
           "MMZ", "MON", "MYB", "NGB", "NGS", "NIF", "OTH", "PEB", "PLM", "PMO"]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(here, "..", ".cache", "bench", "resnext50"))
    ap.add_argument("--size", type=int, default=224)
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)

    torch.manual_seed(0)
    net = torchvision.models.resnext50_32x4d(weights=None, num_classes=len(MATEK21)).eval()
    onnx_path = os.path.join(out, "model.onnx")
    with torch.no_grad():
        torch.onnx.export(
            net, torch.zeros(1, 3, args.size, args.size), onnx_path,
            input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=13, do_constant_folding=True,
        )
    package = {
        "formatVersion": 1,
        "id": "bench-resnext50-32x4d",
        "version": "0.0.0",
        "name": "ResNeXt-50 32x4d, random weights (benchmark only)",
        "sha256": sha256(onnx_path),
        "classes": MATEK21,
        "input": {
            "name": "input", "width": args.size, "height": args.size, "layout": "NCHW", "colorOrder": "RGB",
            "resize": "fill", "kernel": "lanczos3", "scale": 255,
            "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
        },
        "output": {"name": "logits", "type": "logits"},
        "calibration": {"temperature": 1.0, "fittedOn": "none (random weights)"},
        "flagging": {"minConfidence": 0.6, "minMargin": 0.15,
                     "alwaysReview": ["BLA", "FGC", "ABE", "HAC", "LYI", "OTH"]},
        "training": {"summary": "Not trained: random weights, torch.manual_seed(0). Speed benchmark only.",
                     "command": "/usr/bin/python3 training/export_resnext_bench.py",
                     "environment": "torch %s, torchvision %s" % (torch.__version__, torchvision.__version__)},
        "license": "Benchmark artefact, not for any clinical or research use.",
        "attribution": ["Xie S. et al., Aggregated Residual Transformations for Deep Neural Networks, CVPR 2017 (architecture)."],
        "researchOnly": True,
    }
    with open(os.path.join(out, "model.json"), "w") as f:
        json.dump(package, f, indent=2)
        f.write("\n")
    print(onnx_path, os.path.getsize(onnx_path), "bytes", package["sha256"])


if __name__ == "__main__":
    main()
