#!/usr/bin/env python3
"""Pack the training data into .train_pack/ (small JPEGs at the model's input size) so it can travel
to the GPU machine (< 60 MiB).

For every manifest row: decode, PBC crops are rescaled to the marrow physical scale (training/scale.json)
and centre-cropped to the 250x250 marrow framing, then the whole crop is resized to SIZE x SIZE with
PIL LANCZOS (what the app does with sharp lanczos3) and stored as JPEG 4:4:4, q90 unless --quality and --subsampling
say otherwise (size budget: a bigger --size needs a lower quality or 4:2:0 chroma to travel).
20% of the training images (chosen by path hash) additionally get one JPEG-degraded copy: the 250-px crop is re-encoded at a random
quality in [40, 95] (seeded by path) before resizing - JPEG-quality augmentation, since the stored
data are q90 while real input is q100.
Writes .train_pack/index.csv (file,path,label,domain,split,variant) and training/split.csv.

Usage: /usr/bin/python3 training/pack.py [--data ../shared/data] [--size 112] [--out .train_pack]
"""
import argparse
import csv
import io
import json
import os
import random
from multiprocessing import Pool

from PIL import Image

import common

ARGS = None


def work(item):
    i, r, split = item
    src = os.path.join(ARGS.data, r["path"])
    im = common.to_marrow_framing(src, r["domain"], ARGS.scale)
    out = []
    variants = [("orig", im)]
    rng = random.Random(common.path_hash(r["path"]))
    if split == "train" and rng.random() < ARGS.degraded_fraction:
        q = rng.randint(40, 95)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=q)
        buf.seek(0)
        variants.append(("q%d" % q, Image.open(buf).convert("RGB")))
    for k, (name, v) in enumerate(variants):
        small = v.resize((ARGS.size, ARGS.size), Image.LANCZOS)
        fn = "img/%05d_%d.jpg" % (i, k)
        small.save(os.path.join(ARGS.out, fn), "JPEG", quality=ARGS.quality, subsampling=ARGS.subsampling)
        out.append([fn, r["path"], r["label"], r["domain"], split, name])
    return out


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=common.DEFAULT_DATA)
    ap.add_argument("--size", type=int, default=112)
    ap.add_argument("--out", default=os.path.join(common.REPO, ".train_pack"))
    ap.add_argument("--limit", type=int, default=0, help="debug: only the first N rows per (domain,label)")
    ap.add_argument("--degraded-fraction", type=float, default=0.2)
    ap.add_argument("--quality", type=int, default=90, help="JPEG quality of the packed images (the pack and the "
                    "tracked tree travel to the GPU machine together, 64 MiB in all)")
    ap.add_argument("--subsampling", type=int, default=0, choices=(0, 1, 2),
                    help="JPEG chroma subsampling of the packed images: 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0")
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ARGS = ap.parse_args()
    ARGS.scale = json.load(open(os.path.join(common.HERE, "scale.json")))["pbc_to_marrow_scale"]
    rows = common.read_manifest(ARGS.data)
    rows = [r for r in rows if r["label"] in common.CLASSES]
    split = common.make_split(rows)
    common.write_split(rows, split, os.path.join(common.HERE, "split.csv"))
    if ARGS.limit:
        seen = {}
        keep = []
        for r in sorted(rows, key=lambda r: common.path_hash(r["path"])):
            k = (r["domain"], r["label"], split[r["path"]])
            if seen.get(k, 0) < ARGS.limit:
                seen[k] = seen.get(k, 0) + 1
                keep.append(r)
        rows = keep
    os.makedirs(os.path.join(ARGS.out, "img"), exist_ok=True)
    items = [(i, r, split[r["path"]]) for i, r in enumerate(sorted(rows, key=lambda r: r["path"]))]
    with Pool(ARGS.workers) as pool:
        res = pool.map(work, items, chunksize=32)
    with open(os.path.join(ARGS.out, "index.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "path", "label", "domain", "split", "variant"])
        for rr in res:
            w.writerows(rr)
    json.dump({"size": ARGS.size, "scale": ARGS.scale, "classes": common.CLASSES, "quality": ARGS.quality,
               "subsampling": ARGS.subsampling, "degradedFraction": ARGS.degraded_fraction},
              open(os.path.join(ARGS.out, "meta.json"), "w"))
    tot = sum(os.path.getsize(os.path.join(ARGS.out, "img", f)) for f in os.listdir(os.path.join(ARGS.out, "img")))
    print("packed", sum(len(r) for r in res), "images,", round(tot / 2**20, 1), "MiB")


if __name__ == "__main__":
    main()
