#!/usr/bin/env python3
"""Embeddings for the lab-model benchmark (issue 14, scripts/bench-lab-model.ts).

Writes, for every marrow file of training/split.csv (train and val splits), the embedding and logits of
  - the shipped model (resources/models/marrowcount-ref, via ONNX, the app's preprocessing), and
  - the unknown-type variant trained without one marrow class (train.py --exclude, default training/runs/cpu-unseen-pmo),
to .cache/lab-bench/<model>-<split>.{emb,logits}.f32 (float32, row-major) with <model>-<split>.json (files, labels,
dims, logit classes). The benchmark itself (learning curves, the new-class experiment, training time) runs the
app's own TypeScript head on these files. Embeddings are cached by open_set.py's cache (keyed by ONNX sha / run).

Usage: PYTHONPATH=<onnxruntime> /usr/bin/python3 training/lab_model_embeddings.py [--variant training/runs/cpu-unseen-pmo]
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import open_set  # noqa: E402

OUT = os.path.join(common.REPO, ".cache", "lab-bench")


def write(name, rows, classes, logits, emb):
    os.makedirs(OUT, exist_ok=True)
    emb.astype(np.float32).tofile(os.path.join(OUT, name + ".emb.f32"))
    logits.astype(np.float32).tofile(os.path.join(OUT, name + ".logits.f32"))
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({"files": [r["path"] for r in rows], "labels": [r["label"] for r in rows], "dim": int(emb.shape[1]),
                   "logitClasses": classes}, f)
    print(name, emb.shape, logits.shape)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", default=os.path.join(common.HERE, "runs", "cpu-unseen-pmo"))
    args = ap.parse_args()
    manifest = json.load(open(os.path.join(open_set.PACKAGE, "model.json")))
    sha = manifest["sha256"]
    onnx_path = os.path.join(open_set.PACKAGE, "model.onnx")
    size = manifest["input"]["width"]
    mean, std = manifest["input"]["mean"], manifest["input"]["std"]
    for split in ("train", "val"):
        rows = open_set.marrow_rows(split)
        logits, emb = open_set.cached(sha + ":" + split, lambda: open_set.onnx_outputs(onnx_path, rows, size, mean, std))
        write("shipped-" + split, rows, manifest["classes"], logits, emb)
    tr = json.load(open(os.path.join(args.variant, "train_results.json")))
    for split in ("train", "val"):
        rows = open_set.marrow_rows(split)
        logits, emb = open_set.cached(args.variant + ":" + split, lambda: open_set.torch_outputs(args.variant, rows)[1:])
        write("unseen-" + "-".join(tr["excluded"]).lower() + "-" + split, rows, tr["classes"], logits, emb)


if __name__ == "__main__":
    main()
