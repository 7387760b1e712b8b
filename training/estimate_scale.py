#!/usr/bin/env python3
"""Estimate the physical-scale factor between PBC (CellaVision, 360x363) and Matek marrow crops.

Method: in classes present in both domains (NGS EOS LYT MON) segment the nucleus of the central
cell by stain colour (dark purple: low green channel, Otsu threshold per image), merge lobes with a
small dilation, keep the connected component nearest the crop centre, and take its
equivalent-circle diameter. The factor is median(matek diameter) / median(pbc diameter), per class,
and the final factor is the median over the four classes. Uses only training-split files.

Usage: /usr/bin/python3 training/estimate_scale.py [--data ../shared/data] [--out training/scale.json]
"""
import argparse
import json
import os

import numpy as np
from PIL import Image

import common

WORK = 128  # segmentation resolution (longest side)


def otsu(x):
    hist = np.bincount(x.ravel(), minlength=256).astype(np.float64)
    p = hist / hist.sum()
    omega = np.cumsum(p)
    mu = np.cumsum(p * np.arange(256))
    mu_t = mu[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        sb = (mu_t * omega - mu) ** 2 / (omega * (1 - omega))
    sb = np.nan_to_num(sb)
    return int(np.argmax(sb))


def dilate(m, it=1):
    for _ in range(it):
        n = m.copy()
        n[1:] |= m[:-1]; n[:-1] |= m[1:]; n[:, 1:] |= m[:, :-1]; n[:, :-1] |= m[:, 1:]
        m = n
    return m


def component_at(mask, seed):
    comp = np.zeros_like(mask)
    comp[seed] = True
    while True:
        n = dilate(comp) & mask
        if (n == comp).all():
            return comp
        comp = n


def _central(mask):
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return None
    cy, cx = (mask.shape[0] - 1) / 2, (mask.shape[1] - 1) / 2
    k = np.argmin((ys - cy) ** 2 + (xs - cx) ** 2)
    if (ys[k] - cy) ** 2 + (xs[k] - cx) ** 2 > (0.25 * WORK) ** 2:
        return None
    return component_at(mask, (ys[k], xs[k]))


def diameters(path):
    """Returns (cell_diameter, nucleus_diameter) in original pixels, or None.
    Cell: green-channel Otsu (stained cell vs background), central connected component.
    Nucleus: second Otsu on the green values inside that cell (chromatin is the darkest),
    lobes merged by a 1-px dilation, central component."""
    im = common.load_rgb(path)
    w, h = im.size
    f = WORK / max(w, h)
    small = np.asarray(im.resize((int(round(w * f)), int(round(h * f))), Image.BILINEAR)).astype(np.int32)
    g, b = small[..., 1], small[..., 2]
    t = otsu(g.astype(np.uint8))
    cell = _central(dilate((g < t) & (b > g), 1))
    if cell is None or cell.sum() < 20:
        return None
    t2 = otsu(np.clip(g[cell], 0, 255).astype(np.uint8)[None, :])
    nuc = _central(dilate(cell & (g < t2), 1))
    if nuc is None:
        return None
    d = lambda m: float(2 * np.sqrt(m.sum() / (f * f) / np.pi))
    return d(cell), d(nuc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=common.DEFAULT_DATA)
    ap.add_argument("--out", default=os.path.join(common.HERE, "scale.json"))
    ap.add_argument("--per-class", type=int, default=100)
    args = ap.parse_args()
    rows = common.read_manifest(args.data)
    split = common.make_split(rows)
    res = {}
    for cls in ["NGS", "EOS", "LYT", "MON"]:
        res[cls] = {}
        for dom in ["matek-bm", "pbc"]:
            paths = sorted([r["path"] for r in rows if r["label"] == cls and r["domain"] == dom
                            and split[r["path"]] == "train"], key=common.path_hash)[: args.per_class]
            d = [diameters(os.path.join(args.data, p)) for p in paths]
            d = np.array([x for x in d if x is not None])
            res[cls][dom] = {"n": len(d),
                             "median_cell_diameter_px": float(np.median(d[:, 0])),
                             "median_nucleus_diameter_px": float(np.median(d[:, 1])),
                             "nucleus_iqr": [float(np.percentile(d[:, 1], 25)), float(np.percentile(d[:, 1], 75))]}
        res[cls]["factor_nucleus"] = res[cls]["matek-bm"]["median_nucleus_diameter_px"] / res[cls]["pbc"]["median_nucleus_diameter_px"]
        res[cls]["factor_cell"] = res[cls]["matek-bm"]["median_cell_diameter_px"] / res[cls]["pbc"]["median_cell_diameter_px"]
        print(cls, res[cls], flush=True)
    factor = float(np.median([res[c]["factor_nucleus"] for c in res]))
    print("cell-based factor (for comparison):", float(np.median([res[c]["factor_cell"] for c in res])))
    out = {"pbc_to_marrow_scale": round(factor, 4), "per_class": res,
           "method": "median equivalent-circle diameter of the central nucleus (cell = green-channel Otsu "
                     "vs background, purple, central component; nucleus = second green Otsu inside the cell, lobes "
                     "merged by 1-px dilation; 128-px working size), training split, classes NGS EOS LYT MON; "
                     "factor = median over classes of matek/pbc nucleus diameter"}
    with open(args.out, "w") as f:
        json.dump(out, f, indent=2)
    print("pbc_to_marrow_scale =", factor)


if __name__ == "__main__":
    main()
