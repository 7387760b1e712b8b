#!/usr/bin/env python3
"""Build the demo case resources/demo/case-001/ from VALIDATION-split files only (never training).

300 marrow cells (Matek files, bytes copied unchanged, 250x250 q90) of the 8 classes the marrow subset has, in
the proportions of finalize.PREVALENCE: one scanner, one stain, like one patient's smear. Until issue 13 the case
also held peripheral-blood (PBC) crops of the classes the marrow subset lacks; a real case never mixes scanners,
and those cells made the demo show an M:E ratio and provisional classes that rest on another domain's images.
Filenames do not reveal the label (cell_0001.jpg ... in hashed order); labels.csv
(file,label,domain,source_path) lies next to them.

Usage: /usr/bin/python3 training/make_demo.py
"""
import csv
import json
import os
import shutil

import common

COMPOSITION = [  # (domain, label, n): finalize.PREVALENCE scaled to 300 cells
    ("matek-bm", "NGS", 95), ("matek-bm", "LYT", 69), ("matek-bm", "PMO", 35), ("matek-bm", "NIF", 26),
    ("matek-bm", "MON", 21), ("matek-bm", "ART", 21), ("matek-bm", "EOS", 17), ("matek-bm", "BLA", 16),
]


def main(data=common.DEFAULT_DATA, out=os.path.join(common.REPO, "resources", "demo", "case-001")):
    rows = [r for r in common.read_split(os.path.join(common.HERE, "split.csv")) if r["split"] == "val"]
    scale = json.load(open(os.path.join(common.HERE, "scale.json")))["pbc_to_marrow_scale"]
    picked = []
    for dom, lab, n in COMPOSITION:
        pool = sorted([r for r in rows if r["domain"] == dom and r["label"] == lab],
                      key=lambda r: common.path_hash("demo:" + r["path"]))
        assert len(pool) >= n, (dom, lab, len(pool))
        picked += pool[:n]
    picked.sort(key=lambda r: common.path_hash("order:" + r["path"]))
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    with open(os.path.join(out, "labels.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "label", "domain", "source_path"])
        for i, r in enumerate(picked, 1):
            fn = "cell_%04d.jpg" % i
            src = os.path.join(data, r["path"])
            if r["domain"] == "matek-bm":
                shutil.copyfile(src, os.path.join(out, fn))
            else:
                common.to_marrow_framing(src, "pbc", scale).save(os.path.join(out, fn), "JPEG", quality=88,
                                                                  subsampling=0)
            w.writerow([fn, r["label"], r["domain"], r["path"]])
    tot = sum(os.path.getsize(os.path.join(out, x)) for x in os.listdir(out))
    print("demo:", len(picked), "cells,", round(tot / 2**20, 2), "MiB")


if __name__ == "__main__":
    main()
