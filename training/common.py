"""Shared helpers for the MarrowCount training recipe (no torch import here)."""
import csv
import hashlib
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_DATA = os.path.abspath(os.path.join(REPO, "..", "shared", "data"))

MATEK21 = ["ABE", "ART", "BAS", "BLA", "EBO", "EOS", "FGC", "HAC", "KSC", "LYI", "LYT",
           "MMZ", "MON", "MYB", "NGB", "NGS", "NIF", "OTH", "PEB", "PLM", "PMO"]
MARROW8 = ["ART", "BLA", "EOS", "LYT", "MON", "NGS", "NIF", "PMO"]
# classes the model outputs, in logit order: the 8 marrow classes + 5 classes seen only in PBC
CLASSES = MARROW8 + ["BAS", "EBO", "MMZ", "MYB", "NGB"]
MARROW_SIZE = 250          # Matek crops are 250x250
VAL_FRACTION = 0.20


def read_manifest(data_dir=DEFAULT_DATA):
    with open(os.path.join(data_dir, "manifest.csv"), newline="") as f:
        return list(csv.DictReader(f))


def path_hash(path):
    return hashlib.sha1(path.encode("utf-8")).hexdigest()


def make_split(rows, val_fraction=VAL_FRACTION):
    """Deterministic stratified split by file: within each (domain, label) group, files sorted by
    sha1(path); the first round(val_fraction*n) are validation. Returns {path: 'train'|'val'}."""
    groups = {}
    for r in rows:
        groups.setdefault((r["domain"], r["label"]), []).append(r["path"])
    split = {}
    for key, paths in sorted(groups.items()):
        paths = sorted(paths, key=path_hash)
        nval = int(round(val_fraction * len(paths)))
        for i, p in enumerate(paths):
            split[p] = "val" if i < nval else "train"
    return split


def write_split(rows, split, out_csv):
    with open(out_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "domain", "split"])
        for r in sorted(rows, key=lambda r: r["path"]):
            w.writerow([r["path"], r["label"], r["domain"], split[r["path"]]])


def read_split(csv_path):
    with open(csv_path, newline="") as f:
        return list(csv.DictReader(f))


def load_rgb(path):
    im = Image.open(path)
    im.load()
    if im.mode != "RGB":
        im = im.convert("RGB")
    return im


def frame(im, size=MARROW_SIZE):
    """Centre-crop, or pad by repeating the edge pixels, to size x size without resampling: the framing of the
    marrow crops. The app does the same to crops of another size (model.json input.frameSide; preprocess.ts)."""
    a = np.asarray(im)
    h, w = a.shape[:2]
    ph, pw = max(0, size - h), max(0, size - w)
    if ph or pw:
        a = np.pad(a, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)), mode="edge")
    H, W = a.shape[:2]
    y0, x0 = (H - size) // 2, (W - size) // 2
    return Image.fromarray(np.ascontiguousarray(a[y0:y0 + size, x0:x0 + size]))


def pbc_to_marrow(im, scale, size=MARROW_SIZE):
    """Rescale a PBC crop by `scale` (PBC px -> marrow px) with Lanczos, then frame it like a marrow crop."""
    w, h = im.size
    nw, nh = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    return frame(im.resize((nw, nh), Image.LANCZOS), size)


def to_marrow_framing(path, domain, scale):
    im = load_rgb(path)
    if domain == "pbc":
        im = pbc_to_marrow(im, scale)
    return im


def app_preprocess(im, size, scale=255.0, mean=(0, 0, 0), std=(1, 1, 1), frame_side=None):
    """Exactly what the app does: RGB, framed to frame_side x frame_side when given (model.json input.frameSide),
    resized to size x size ('fill', Lanczos), float32 NCHW, /scale, -mean, /std.  Returns float32 [3,size,size]."""
    if im.mode != "RGB":
        im = im.convert("RGB")
    if frame_side is not None and im.size != (frame_side, frame_side):
        im = frame(im, frame_side)
    im = im.resize((size, size), Image.LANCZOS)
    a = np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / scale
    a = (a - np.asarray(mean, np.float32)[:, None, None]) / np.asarray(std, np.float32)[:, None, None]
    return a


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def ece(probs, labels, n_bins=15):
    conf = probs.max(1)
    pred = probs.argmax(1)
    acc = (pred == labels).astype(np.float64)
    bins = np.linspace(0, 1, n_bins + 1)
    e = 0.0
    for lo, hi in zip(bins[:-1], bins[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            e += m.mean() * abs(acc[m].mean() - conf[m].mean())
    return float(e)


def flag_mask(probs, classes, min_conf, min_margin, always_review):
    s = np.sort(probs, axis=1)
    top, second = s[:, -1], s[:, -2]
    pred = probs.argmax(1)
    review = np.array([classes[p] in always_review for p in pred])
    return (top < min_conf) | ((top - second) < min_margin) | review
