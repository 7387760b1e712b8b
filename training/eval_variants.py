#!/usr/bin/env python3
"""Measure, on the validation split and through the app's preprocessing, two ways to get more out of weights already
trained, without training: test-time flips/rotations (the 8 symmetries of the square; a cell has no orientation) and
averaging the shipped model's logits with an earlier student's.

Usage: PYTHONPATH=/tmp/ortlib /usr/bin/python3 training/eval_variants.py \
           [--onnx resources/models/marrowcount-ref/model.onnx] [--other-run training/runs/h100-run1]
Prints macro-F1, accuracy and BLA recall on the marrow validation cells for each variant.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import finalize  # noqa: E402

# The 8 symmetries of the square on NCHW arrays (identity first).
VIEWS = {
    "identity": lambda a: a,
    "flip-h": lambda a: a[..., ::-1],
    "flip-v": lambda a: a[..., ::-1, :],
    "rot180": lambda a: a[..., ::-1, ::-1],
    "transpose": lambda a: np.swapaxes(a, -1, -2),
    "rot90": lambda a: np.swapaxes(a, -1, -2)[..., ::-1],
    "rot270": lambda a: np.swapaxes(a, -1, -2)[..., ::-1, :],
    "anti-transpose": lambda a: np.swapaxes(a, -1, -2)[..., ::-1, ::-1],
}


def logits_for(session, arrays):
    return finalize.run_onnx(session, [np.ascontiguousarray(a) for a in arrays])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", default=os.path.join(common.REPO, "resources", "models", "marrowcount-ref", "model.onnx"))
    ap.add_argument("--run", default=os.path.join(common.HERE, "runs", "h200-ens", "s4"), help="the shipped run (input size, mean, std)")
    ap.add_argument("--other-run", default=os.path.join(common.HERE, "runs", "h100-run1"), help="a student to average with")
    ap.add_argument("--data", default=common.DEFAULT_DATA)
    args = ap.parse_args()
    tr = json.load(open(os.path.join(args.run, "train_results.json")))
    scale = json.load(open(os.path.join(common.HERE, "scale.json")))["pbc_to_marrow_scale"]
    rows, ims = finalize.load_val(args.data, scale)
    y = np.array([common.CLASSES.index(r["label"]) for r in rows])
    dom = np.array([r["domain"] for r in rows])

    def report(name, logits):
        m = finalize.evaluate(logits, y, dom, 1.0, common.CLASSES)["marrow"]
        print("%-28s macro-F1 %.4f  accuracy %.4f  BLA recall %.4f" % (name, m["macroF1"], m["accuracy"], m["perClass"]["BLA"]["recall"]))

    arrays = np.stack([common.app_preprocess(im, tr["size"], 255.0, tr["mean"], tr["std"]) for im in ims]).astype(np.float32)
    shipped = finalize.ort_session(args.onnx)
    views = {name: logits_for(shipped, view(arrays)) for name, view in VIEWS.items()}
    report("shipped, 1 view", views["identity"])
    report("2 views (+flip-h)", (views["identity"] + views["flip-h"]) / 2)
    report("4 views (flips, rot180)", sum(views[n] for n in ("identity", "flip-h", "flip-v", "rot180")) / 4)
    report("8 views", sum(views.values()) / 8)

    other = json.load(open(os.path.join(args.other_run, "train_results.json")))
    other_onnx = "/tmp/eval_variants_other.onnx"
    finalize.export_student(args.other_run, other["student"]["arch"], other["size"], other_onnx, {})
    other_arrays = [common.app_preprocess(im, other["size"], 255.0, other["mean"], other["std"]) for im in ims]
    other_logits = logits_for(finalize.ort_session(other_onnx), other_arrays)
    report("other run alone", other_logits)
    report("mean with other run", (views["identity"] + other_logits) / 2)


if __name__ == "__main__":
    main()
