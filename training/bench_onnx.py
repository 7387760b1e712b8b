#!/usr/bin/env python3
"""Benchmark ONNX CPU throughput (onnxruntime, intra_op threads = 2, batch 32) of candidate nets or a
given model.onnx.  Usage: PYTHONPATH=<onnxruntime> python3 training/bench_onnx.py [--onnx model.onnx --size 112]"""
import argparse
import os
import tempfile
import time

import numpy as np


def bench(path, size, threads=2, batch=32, seconds=4.0):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    x = np.random.RandomState(0).rand(batch, 3, size, size).astype(np.float32)
    for _ in range(3):
        s.run(None, {"input": x})
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        s.run(None, {"input": x})
        n += batch
    return n / (time.perf_counter() - t0)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx")
    ap.add_argument("--size", type=int, default=112)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    if a.onnx:
        print("%s: %.0f cells/s (onnxruntime, %d threads, batch 32)" % (a.onnx, bench(a.onnx, a.size, a.threads), a.threads))
    else:
        import torch
        import models
        for name in ["s-tiny", "s-small", "s-med", "s-wide"]:
            for size in (96, 112, 128):
                m = models.build(name, 13).eval()
                p = os.path.join(tempfile.gettempdir(), "bench_%s_%d.onnx" % (name, size))
                torch.onnx.export(m, torch.zeros(1, 3, size, size), p, input_names=["input"], output_names=["logits"],
                                  dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
                print(name, size, "%.0f MMACs" % (models.count_macs(m, size) / 1e6),
                      "%.0f cells/s" % bench(p, size, a.threads), flush=True)
