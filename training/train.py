#!/usr/bin/env python3
"""Train the MarrowCount reference CNN (teacher -> distilled compact student), export ONNX.

Works with torch 1.13 (CPU) and torch 2.x (CUDA). All data live in device memory as uint8; augmentation
is done on the device with batched torch ops (affine: any rotation, flips, scale/shift jitter; colour:
brightness/contrast/saturation/hue/gamma/per-channel stain gain; blur/sharpen; noise), so there is no
data-loader bottleneck. Time-budgeted: the LR schedule is a function of elapsed/budget seconds.

Real run (GPU):  python3 training/train.py --pack .train_pack --out OUT --teacher-seconds 190 --student-seconds 250
Ensemble run (GPU, training/gpu_run_ensemble.sh): several teacher-only runs side by side (--student-seconds 0
--save-teacher T.pt), then students distilled from their averaged predictions (--teachers T1.pt,T2.pt,...).
CPU dry run:     /usr/bin/python3 training/train.py --pack .train_pack --out /tmp/t --limit 64 --teacher-seconds 10 --student-seconds 10
Smoke (CI, <60 s on CPU, no ../shared needed):
                 /usr/bin/python3 training/train.py --smoke --out /tmp/smoke-model
"""
import argparse
import csv
import inspect
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import models  # noqa: E402

LOG = None
# The classes this run trains: common.CLASSES less --exclude (a variant that never sees a class, to measure how the
# app's open-set flag and lab model cope with a cell type the network does not know).
ACTIVE = list(common.CLASSES)


def log(*a):
    s = " ".join(str(x) for x in a)
    print(s, flush=True)
    if LOG:
        LOG.write(s + "\n")
        LOG.flush()


# ---------------------------------------------------------------- data
def load_pack(pack, limit=0):
    rows = list(csv.DictReader(open(os.path.join(pack, "index.csv"))))
    if limit:
        keep, seen = [], {}
        for r in rows:
            k = (r["label"], r["split"])
            if seen.get(k, 0) < limit:
                seen[k] = seen.get(k, 0) + 1
                keep.append(r)
        rows = keep
    X = np.stack([np.asarray(Image.open(os.path.join(pack, r["file"])).convert("RGB")) for r in rows])
    return torch.from_numpy(X).permute(0, 3, 1, 2).contiguous(), rows


def load_smoke(size):
    d = os.path.join(common.REPO, "resources", "demo", "case-001")
    rows = list(csv.DictReader(open(os.path.join(d, "labels.csv"))))
    rows = [r for r in rows if r["label"] in common.CLASSES][:96]
    X = np.stack([np.asarray(Image.open(os.path.join(d, r["file"])).convert("RGB").resize((size, size), Image.LANCZOS))
                  for r in rows])
    out = []
    for i, r in enumerate(rows):
        out.append({"file": r["file"], "path": r["source_path"], "label": r["label"], "domain": r["domain"],
                    "split": "val" if i % 4 == 0 else "train", "variant": "orig"})
    return torch.from_numpy(X).permute(0, 3, 1, 2).contiguous(), out


# ---------------------------------------------------------------- augmentation (batched, on device)
def augment(x, strong=True):
    """x: uint8 [B,3,S,S] on device -> float [B,3,S,S] in ~[0,1]."""
    B, dev = x.shape[0], x.device
    x = x.float() / 255.0
    r = lambda lo, hi: torch.rand(B, device=dev) * (hi - lo) + lo
    # geometry: rotation (any angle), flip, scale, shift; reflection padding
    ang = r(0, 2 * math.pi)
    sc = r(0.9, 1.12) if strong else torch.ones(B, device=dev)
    flip = torch.where(torch.rand(B, device=dev) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    theta = torch.stack([torch.stack([cos * flip, -sin, r(-0.06, 0.06)], 1),
                         torch.stack([sin * flip, cos, r(-0.06, 0.06)], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    # colour / stain
    v = lambda t: t.view(B, 1, 1, 1)
    gain = torch.rand(B, 3, device=dev) * 0.16 + 0.92
    x = x * gain.view(B, 3, 1, 1)
    x = x * v(r(0.8, 1.2))                                             # brightness
    m = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - m) * v(r(0.75, 1.3)) + m                                  # contrast
    g = (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])
    x = (x - g) * v(r(0.65, 1.4)) + g                                  # saturation
    # hue rotation in YIQ space
    h = r(-0.25, 0.25)
    c, s = torch.cos(h), torch.sin(h)
    T = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], device=dev)
    Ti = torch.linalg.inv(T)
    R = torch.zeros(B, 3, 3, device=dev)
    R[:, 0, 0] = 1
    R[:, 1, 1], R[:, 1, 2], R[:, 2, 1], R[:, 2, 2] = c, -s, s, c
    M = Ti.unsqueeze(0) @ R @ T.unsqueeze(0)
    x = torch.einsum("bij,bjhw->bihw", M, x)
    x = x.clamp(0, 1) ** v(r(0.8, 1.25))                               # gamma
    # blur or sharpen (simulates focus / resampling / JPEG smoothing)
    k = torch.tensor([1.0, 2.0, 1.0], device=dev)
    k = (k[:, None] * k[None, :]) / 16.0
    blurred = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), k.expand(3, 1, 3, 3), groups=3)
    amt = r(-0.6, 0.8) * (torch.rand(B, device=dev) < 0.5).float()   # >0 blur, <0 sharpen
    x = x + v(amt) * (blurred - x)
    x = x + torch.randn_like(x) * v(r(0, 0.02))
    return x.clamp(0, 1)


def mix_batch(x, y, p):
    """With probability p, CutMix or mixup (even odds) of the batch with a shuffled copy of itself.
    Returns x, y, the partner labels and the weight of y (1.0 when not mixed). A teacher that sees the same
    mixed image gives a consistent target for distillation."""
    B = x.shape[0]
    if p <= 0 or torch.rand(()).item() >= p:
        return x, y, y, 1.0
    perm = torch.randperm(B, device=x.device)
    lam = float(np.random.beta(1.0, 1.0))
    if torch.rand(()).item() < 0.5:  # CutMix: a box of area 1-lam from the partner
        S = x.shape[-1]
        cut = int(round(S * math.sqrt(1 - lam)))
        cy, cx = np.random.randint(S), np.random.randint(S)
        y0, y1 = max(cy - cut // 2, 0), min(cy + cut // 2, S)
        x0, x1 = max(cx - cut // 2, 0), min(cx + cut // 2, S)
        x = x.clone()
        x[:, :, y0:y1, x0:x1] = x[perm][:, :, y0:y1, x0:x1]
        lam = 1 - (y1 - y0) * (x1 - x0) / float(S * S)
    else:
        x = lam * x + (1 - lam) * x[perm]
    return x, y, y[perm], lam


# ---------------------------------------------------------------- training
def normalise(x, mean, std):
    return (x - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)


def to_size(x, size):
    """The batch at the network's input size. A student smaller than the pack sees the teachers' (augmented,
    mixed) image scaled down with an antialiasing filter, as the app scales the whole crop down (Lanczos)."""
    if not size or x.shape[-1] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


class EMA:
    def __init__(self, model, decay):
        import copy
        self.m = copy.deepcopy(model).eval()
        self.decay = decay
        for p in self.m.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model, step):
        d = min(self.decay, (1 + step) / (10 + step))
        pe = list(self.m.parameters())
        pm = [p.detach() for p in model.parameters()]
        torch._foreach_mul_(pe, d)
        torch._foreach_add_(pe, pm, alpha=1 - d)
        for be, b in zip(self.m.buffers(), model.buffers()):
            be.copy_(b)


@torch.no_grad()
def predict(model, X, mean, std, bs=512, amp=None, size=0):
    model.eval()
    out = []
    for i in range(0, X.shape[0], bs):
        x = to_size(normalise(X[i:i + bs].float() / 255.0, mean, std), size)
        if amp is not None:
            with torch.autocast("cuda", dtype=amp):
                out.append(model(x.contiguous(memory_format=torch.channels_last)).float())
        else:
            out.append(model(x).float())
    return torch.cat(out)


def macro_f1(pred, y, classes):
    f1s, rec = [], {}
    for c in classes:
        tp = ((pred == c) & (y == c)).sum()
        fp = ((pred == c) & (y != c)).sum()
        fn = ((pred != c) & (y == c)).sum()
        p = tp / max(1, tp + fp)
        r_ = tp / max(1, tp + fn)
        f1s.append(0 if p + r_ == 0 else 2 * p * r_ / (p + r_))
        rec[c] = r_
    return float(np.mean(f1s)), rec


def val_report(logits, yv, dv):
    pred = logits.argmax(1).cpu().numpy()
    y = yv.cpu().numpy()
    m = dv.cpu().numpy() == 0
    marrow_ids = [i for i, c in enumerate(ACTIVE) if c in common.MARROW8]
    f1, rec = macro_f1(pred[m], y[m], marrow_ids)
    acc_m = float((pred[m] == y[m]).mean()) if m.any() else float("nan")
    acc_p = float((pred[~m] == y[~m]).mean()) if (~m).any() else float("nan")
    return {"marrow_macroF1": round(f1, 4), "marrow_acc": round(acc_m, 4), "BLA_recall": round(float(rec[ACTIVE.index("BLA")]), 4),
            "pbc_acc": round(acc_p, 4)}


def train_model(name, model, Xtr, ytr, wtr, Xv, yv, dv, mean, std, args, seconds, teacher=None, seed=0, size=0):
    """size: the model's input size when it is not the pack's (a student distilled from teachers that see the
    pack's resolution)."""
    dev = Xtr.device
    amp = torch.bfloat16 if dev.type == "cuda" else None
    torch.manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.wd)
    ema = EMA(model, args.ema)
    step, t0, last = 0, time.time(), time.time()
    bs = args.batch
    while True:
        frac = (time.time() - t0) / seconds
        if frac >= 1 or (args.max_steps and step >= args.max_steps):
            break
        lr = args.lr * (frac / 0.03 if frac < 0.03 else 0.5 * (1 + math.cos(math.pi * (frac - 0.03) / 0.97)))
        for gparam in opt.param_groups:
            gparam["lr"] = lr
        idx = torch.multinomial(wtr, bs, replacement=True)
        x = normalise(augment(Xtr[idx]), mean, std)
        x, y, y2, lam = mix_batch(x, ytr[idx], args.mix)
        xs = to_size(x, size)
        if amp is not None:
            x = x.contiguous(memory_format=torch.channels_last)
            xs = xs.contiguous(memory_format=torch.channels_last)
        model.train()
        with (torch.autocast("cuda", dtype=amp) if amp is not None else _null()):
            logits = model(xs)
            loss = F.cross_entropy(logits.float(), y, label_smoothing=args.label_smoothing)
            if lam < 1.0:
                loss = lam * loss + (1 - lam) * F.cross_entropy(logits.float(), y2, label_smoothing=args.label_smoothing)
            if teacher is not None:
                T = args.kd_temp
                with torch.no_grad():
                    target = teacher_probs(teacher, x, T)
                kd = F.kl_div(F.log_softmax(logits.float() / T, 1), target, reduction="batchmean") * T * T
                loss = (1 - args.kd_alpha) * loss + args.kd_alpha * kd
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ema.update(model, step)
        step += 1
        if time.time() - last > args.log_every or step == 1:
            last = time.time()
            rep = val_report(predict(ema.m, Xv, mean, std, amp=amp, size=size), yv, dv)
            log("[%s] step %d t=%.0fs lr=%.2e loss=%.3f ema-val %s" % (name, step, time.time() - t0, lr, loss.item(), rep))
            if name == "student":  # a run cut short by the machine's time limit still leaves weights
                torch.save({k: v.cpu() for k, v in ema.m.state_dict().items()}, os.path.join(args.out, "student_partial.pt"))
    rep = val_report(predict(ema.m, Xv, mean, std, amp=amp, size=size), yv, dv)
    log("[%s] done: %d steps in %.0fs (%.0f img/s) ema-val %s" % (name, step, time.time() - t0, step * bs / (time.time() - t0), rep))
    return ema.m, step


def teacher_probs(teachers, x, T):
    """Mean of the teachers' softened class probabilities (one teacher or an ensemble)."""
    ts = teachers if isinstance(teachers, list) else [teachers]
    return torch.stack([F.softmax(t(x).float() / T, 1) for t in ts]).mean(0)


def save_teacher(model, arch, size, path):
    torch.save({"arch": arch, "size": size, "state": {k: v.cpu() for k, v in model.state_dict().items()}}, path)


def load_teachers(paths, nC, dev, amp, size):
    out = []
    for p in paths:
        ck = torch.load(p, map_location=dev)
        if ck.get("size", size) != size:  # teachers see the pack as it is: a pack of another size is an error
            raise SystemExit("teacher %s was trained at %d px, the pack is %d px" % (p, ck["size"], size))
        t = models.build(ck["arch"], nC).to(dev)
        t.load_state_dict(ck["state"])
        t.eval()
        if amp is not None:
            t = t.to(memory_format=torch.channels_last)
        for q in t.parameters():
            q.requires_grad_(False)
        out.append(t)
    return out


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *a):
        return False


def export_onnx(model, size, path):
    import copy
    m = copy.deepcopy(model).float().cpu().eval().to(memory_format=torch.contiguous_format)
    kw = dict(input_names=["input"], output_names=["logits"],
              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13, do_constant_folding=True)
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kw["dynamo"] = False
    torch.onnx.export(m, torch.zeros(1, 3, size, size), path, **kw)


def main():
    global LOG, ACTIVE
    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", default=os.path.join(common.REPO, ".train_pack"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--student", default="s-student")
    ap.add_argument("--teacher", default="teacher")
    ap.add_argument("--student-size", type=int, default=0, help="the student's input size (default: the pack's); "
                    "the teachers always see the pack's size")
    ap.add_argument("--teacher-seconds", type=float, default=190)
    ap.add_argument("--student-seconds", type=float, default=250)
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--ema", type=float, default=0.998)
    ap.add_argument("--label-smoothing", type=float, default=0.05)
    ap.add_argument("--kd-alpha", type=float, default=0.7)
    ap.add_argument("--kd-temp", type=float, default=2.0)
    ap.add_argument("--log-every", type=float, default=30)
    ap.add_argument("--mix", type=float, default=0.0, help="probability that a batch is CutMix/mixup-ed")
    ap.add_argument("--save-teacher", default="", help="write the trained teacher here (arch + weights)")
    ap.add_argument("--teachers", default="", help="comma-separated --save-teacher files: distil the student "
                    "from their averaged predictions instead of training a teacher here")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", default="", help="fine-tune: start the student from this student.pt (its run's "
                    "train_results.json supplies the normalisation) instead of from scratch")
    ap.add_argument("--exclude", default="", help="comma-separated class codes never shown to the network (their "
                    "images are dropped from training and validation, the head has no output for them)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    if args.smoke:  # CI smoke: a few CPU steps on the in-repo demo images, whole package written
        args.teacher_seconds = 0
        args.student_seconds = min(args.student_seconds, 20)
        args.max_steps = args.max_steps or 15
        args.log_every = 1e9
        args.device = "cpu"
    os.makedirs(args.out, exist_ok=True)
    LOG = open(os.path.join(args.out, "train_log.txt"), "w")
    t_start = time.time()
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    dev = torch.device(args.device)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    log("torch", torch.__version__, "device", dev, torch.cuda.get_device_name(0) if dev.type == "cuda" else "",
        "args", vars(args))

    size = 112
    if args.smoke:
        size = 64
        X, rows = load_smoke(size)
    else:
        size = json.load(open(os.path.join(args.pack, "meta.json")))["size"]
        X, rows = load_pack(args.pack, args.limit)
    excluded = [c for c in args.exclude.split(",") if c]
    unknown = [c for c in excluded if c not in common.CLASSES]
    if unknown:
        raise SystemExit("--exclude: %s not among the trained classes %s" % (unknown, common.CLASSES))
    ACTIVE = [c for c in common.CLASSES if c not in excluded]
    if excluded:
        keep = [i for i, r in enumerate(rows) if r["label"] not in excluded]
        X, rows = X[keep], [rows[i] for i in keep]
        log("excluded", excluded, ": %d images left" % len(rows))
    cls_idx = {c: i for i, c in enumerate(ACTIVE)}
    y = torch.tensor([cls_idx[r["label"]] for r in rows])
    dom = torch.tensor([0 if r["domain"] == "matek-bm" else 1 for r in rows])
    tr = torch.tensor([r["split"] == "train" for r in rows])
    va = torch.tensor([r["split"] == "val" and r["variant"] == "orig" for r in rows])
    log("loaded %d images (%d train incl. degraded copies, %d val) size %d in %.1fs" %
        (len(rows), int(tr.sum()), int(va.sum()), size, time.time() - t_start))
    Xtr, ytr = X[tr].to(dev), y[tr].to(dev)
    Xv, yv, dv = X[va].to(dev), y[va].to(dev), dom[va].to(dev)
    # sampling weights: 1/sqrt(class frequency) (mild balancing)
    cnt = torch.bincount(ytr, minlength=len(ACTIVE)).float().clamp(min=1)
    wtr = (1.0 / cnt.sqrt())[ytr]
    mean = (Xtr.float().mean(dim=(0, 2, 3)) / 255.0)
    std = (Xtr.float().std(dim=(0, 2, 3)) / 255.0)
    mean = torch.tensor([round(float(v), 4) for v in mean], device=dev)
    std = torch.tensor([round(float(v), 4) for v in std], device=dev)
    if args.init:
        # The network learned with its run's normalisation; keep it, or its first layer sees shifted inputs.
        base = json.load(open(os.path.join(os.path.dirname(args.init), "train_results.json")))
        mean = torch.tensor(base["mean"], device=dev)
        std = torch.tensor(base["std"], device=dev)
    log("normalisation mean", mean.tolist(), "std", std.tolist())
    nC = len(ACTIVE)
    amp = torch.bfloat16 if dev.type == "cuda" else None
    ssize = args.student_size or size  # the shipped model's input size; "size" in the results is that one
    results = {"classes": ACTIVE, "excluded": excluded, "size": ssize, "packSize": size, "mean": mean.tolist(), "std": std.tolist(),
               "torch": torch.__version__, "device": str(dev) + (" " + torch.cuda.get_device_name(0) if dev.type == "cuda" else ""),
               "seed": args.seed, "args": vars(args)}
    teacher = None
    if args.teachers and not args.smoke:
        paths = [p for p in args.teachers.split(",") if os.path.exists(p)]
        if paths:
            teacher = load_teachers(paths, nC, dev, amp, size)
            tlogits = [predict(t, Xv, mean, std, amp=amp) for t in teacher]
            per = [val_report(tl, yv, dv) for tl in tlogits]
            ens_logits = torch.log(torch.stack([F.softmax(tl, 1) for tl in tlogits]).mean(0))
            results["teachers"] = {"files": paths, "val_each": per, "val_ensemble": val_report(ens_logits, yv, dv)}
            np.save(os.path.join(args.out, "ensemble_val_logprobs.npy"), ens_logits.cpu().numpy())
            log("teachers", paths, "val each", per, "ensemble", results["teachers"]["val_ensemble"])
        else:
            log("none of the teachers exists:", args.teachers, "- training the student without distillation")
    elif args.teacher_seconds > 0 and not args.smoke:
        t = models.build(args.teacher, nC).to(dev)
        if amp is not None:
            t = t.to(memory_format=torch.channels_last)
        teacher, steps = train_model("teacher", t, Xtr, ytr, wtr, Xv, yv, dv, mean, std, args, args.teacher_seconds, seed=args.seed)
        tlog = predict(teacher, Xv, mean, std, amp=amp)
        results["teacher"] = {"arch": args.teacher, "steps": steps, "val": val_report(tlog, yv, dv),
                              "macs": models.count_macs(models.build(args.teacher, nC), size)}
        np.save(os.path.join(args.out, "teacher_val_logits.npy"), tlog.cpu().numpy())
        if args.save_teacher:
            save_teacher(teacher, args.teacher, size, args.save_teacher)
    if args.student_seconds <= 0 and not args.smoke:  # teacher-only run (ensemble members)
        results["wall_seconds"] = round(time.time() - t_start, 1)
        json.dump(results, open(os.path.join(args.out, "train_results.json"), "w"), indent=2)
        log("teacher-only run done, total wall %.1fs" % (time.time() - t_start))
        return
    s = models.build(args.student, nC).to(dev)
    if args.init:
        s.load_state_dict(torch.load(args.init, map_location=dev))
        log("student initialised from", args.init, "ema-val at size %d:" % ssize,
            val_report(predict(s, Xv, mean, std, amp=amp, size=ssize), yv, dv))
    if amp is not None:
        s = s.to(memory_format=torch.channels_last)
    sargs = args
    if args.smoke:
        sargs = argparse.Namespace(**{**vars(args), "batch": 32})
    student, steps = train_model("student", s, Xtr, ytr, wtr, Xv, yv, dv, mean, std, sargs, args.student_seconds,
                                 teacher=teacher, seed=args.seed + 1, size=ssize)
    torch.save({k: v.cpu() for k, v in student.state_dict().items()}, os.path.join(args.out, "student.pt"))
    slog = predict(student, Xv, mean, std, amp=amp, size=ssize)
    results["student"] = {"arch": args.student, "steps": steps, "val_packed": val_report(slog, yv, dv),
                          "macs": models.count_macs(models.build(args.student, nC), ssize)}
    vidx = torch.nonzero(va).flatten().tolist()
    with open(os.path.join(args.out, "val_predictions.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "domain"] + ["logit_" + c for c in ACTIVE])
        for i, row in zip(vidx, slog.cpu().numpy()):
            w.writerow([rows[i]["path"], rows[i]["label"], rows[i]["domain"]] + ["%.5f" % v for v in row])
    try:
        export_onnx(student, ssize, os.path.join(args.out, "model.onnx"))
    except Exception as e:  # student.pt is saved; export can be redone with training/export.py
        log("ONNX export failed:", repr(e))
    results["wall_seconds"] = round(time.time() - t_start, 1)
    json.dump(results, open(os.path.join(args.out, "train_results.json"), "w"), indent=2)
    log("results", json.dumps(results))
    if args.smoke:
        import write_package
        write_package.smoke_package(args.out, results, slog.cpu().numpy(), yv.cpu().numpy(), dv.cpu().numpy(),
                               " ".join(["/usr/bin/python3"] + sys.argv))
    log("total wall %.1fs" % (time.time() - t_start))


if __name__ == "__main__":
    main()
