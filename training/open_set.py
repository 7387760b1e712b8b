#!/usr/bin/env python3
"""Open-set statistics for the shipped model, and the measurements behind them (issue 13).

1. --export: re-export the shipped student with a second ONNX output, `embedding` (the pooled features the last
   layer reads), and check that its logits equal those of the package's current model on validation cells.
2. Embeddings of every marrow training and validation file, decoded exactly as the app does (training/common.py
   app_preprocess with the 250-px framing).
3. Two open-set scores, compared on the same cells:
   - class-conditional Mahalanobis distance with one shared (tied) covariance, shrunk towards its diagonal:
     min over the 8 marrow classes of sqrt((z - mu_c)' S^-1 (z - mu_c));
   - k-nearest-neighbour cosine distance to the marrow training embeddings (k = 10).
4. Measurements, written to training/open_set_metrics.json and printed:
   - marrow validation split: share of errors caught vs share of cells flagged, re-weighted to the realistic marrow
     mix of finalize.PREVALENCE, with the confidence/margin flags alone and with the open-set flag added;
   - "unknown type": a variant trained without one marrow class (train.py --exclude, e.g. PMO) - share of that
     class's validation cells flagged, and the flag rate of the realistic mix in all;
   - leave-one-class-out on the shipped model's embeddings (statistics fitted without the class; optimistic,
     since the network itself learned the class - reported as such).
5. open-set.json for the package: method, classes, means, the whitening matrix W (S^-1 = W'W, so the distance is
   |W(z - mu_c)|), and the threshold.

Usage: PYTHONPATH=/tmp/ortlib /usr/bin/python3 training/open_set.py [--export] --variant training/runs/cpu-unseen-pmo
  (the variant: /usr/bin/python3 training/train.py --pack .train_pack_q85 --out training/runs/cpu-unseen-pmo
   --teacher-seconds 0 --student s-tiny --student-size 64 --student-seconds 1800 --exclude PMO --seed 5 --batch 128)
"""
import argparse
import csv
import hashlib
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import finalize  # noqa: E402

PACKAGE = os.path.join(common.REPO, "resources", "models", "marrowcount-ref")
RUN = os.path.join(common.HERE, "runs", "h200-ens", "s4")
SHRINK = 0.1          # weight of the diagonal in the shared covariance: keeps S invertible along rare directions
KNN_K = 10
# The open-set flag may add at most this share of the realistic marrow mix of KNOWN cells to the review list. The
# threshold is the matching quantile of the validation cells' distances (prevalence-weighted).
OPEN_SET_BUDGET = 0.08


def export_with_embedding(run, arch, size, out_path):
    import torch
    import models
    net = models.build(arch, len(common.CLASSES))
    net.load_state_dict(torch.load(os.path.join(run, "student.pt"), map_location="cpu"))
    net.eval()
    torch.onnx.export(models.WithEmbedding(net), torch.zeros(1, 3, size, size), out_path, input_names=["input"],
                      output_names=["logits", "embedding"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}, "embedding": {0: "batch"}},
                      opset_version=13, do_constant_folding=True)


def marrow_rows(split):
    return [r for r in common.read_split(os.path.join(common.HERE, "split.csv"))
            if r["domain"] == "matek-bm" and r["split"] == split]


def onnx_outputs(onnx_path, rows, size, mean, std, bs=64):
    sess = finalize.ort_session(onnx_path)
    logits, emb = [], []
    for i in range(0, len(rows), bs):
        x = np.stack([common.app_preprocess(common.load_rgb(os.path.join(common.DEFAULT_DATA, r["path"])), size, 255.0,
                                            mean, std, common.MARROW_SIZE) for r in rows[i:i + bs]])
        l, z = sess.run(["logits", "embedding"], {"input": x.astype(np.float32)})
        logits.append(l)
        emb.append(z)
    return np.concatenate(logits), np.concatenate(emb)


def torch_outputs(run, rows, bs=64):
    """Logits and embeddings of a train.py run's student.pt (the unknown-type variant), app preprocessing."""
    import torch
    import models
    tr = json.load(open(os.path.join(run, "train_results.json")))
    net = models.build(tr["student"]["arch"], len(tr["classes"]))
    net.load_state_dict(torch.load(os.path.join(run, "student.pt"), map_location="cpu"))
    net.eval()
    logits, emb = [], []
    with torch.no_grad():
        for i in range(0, len(rows), bs):
            x = np.stack([common.app_preprocess(common.load_rgb(os.path.join(common.DEFAULT_DATA, r["path"])),
                                                tr["size"], 255.0, tr["mean"], tr["std"], common.MARROW_SIZE)
                          for r in rows[i:i + bs]])
            z = net.embed(torch.from_numpy(x))
            logits.append(net.fc(z).numpy())
            emb.append(z.numpy())
    return tr, np.concatenate(logits), np.concatenate(emb)


def cached(key, fn):
    path = os.path.join(common.REPO, ".cache", "open-set-%s.npz" % hashlib.sha1(key.encode()).hexdigest()[:12])
    if os.path.exists(path):
        d = np.load(path)
        return d["logits"], d["emb"]
    logits, emb = fn()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.savez(path, logits=logits, emb=emb)
    return logits, emb


class Mahalanobis:
    def __init__(self, z, y, classes):
        self.classes = classes
        self.mu = np.stack([z[y == c].mean(0) for c in range(len(classes))])
        r = z - self.mu[y]
        s = r.T @ r / len(z)
        s = (1 - SHRINK) * s + SHRINK * np.diag(np.diag(s))
        # S^-1 = W'W with W = L^-1 for S = LL' (Cholesky): |W(z - mu)| is the Mahalanobis distance.
        self.w = np.linalg.inv(np.linalg.cholesky(s))

    def score(self, z):
        d = np.stack([((z - m) @ self.w.T) ** 2 for m in self.mu]).sum(2)
        return np.sqrt(d.min(0))


class KNN:
    def __init__(self, z, y, classes):
        self.ref = z / np.linalg.norm(z, axis=1, keepdims=True)

    def score(self, z):
        q = z / np.linalg.norm(z, axis=1, keepdims=True)
        sim = q @ self.ref.T
        return 1 - np.sort(sim, axis=1)[:, -KNN_K:].mean(1)


def distance_from_stats(stats, z):
    """The app's score (src/main/inference/open-set.ts) from a parsed open-set.json."""
    w = np.asarray(stats["whitening"], dtype=np.float64)
    mu = np.asarray(stats["means"], dtype=np.float64)
    wz, wm = z.astype(np.float64) @ w.T, mu @ w.T
    return np.sqrt(((wz[:, None, :] - wm[None, :, :]) ** 2).sum(2).min(1))


def weighted_quantile(x, w, q):
    o = np.argsort(x)
    cw = np.cumsum(w[o]) / w.sum()
    return float(x[o][np.searchsorted(cw, q)])


def confidence_flags(logits, T, classes, flag):
    p = common.softmax(logits / T)
    return p, common.flag_mask(p, classes, flag["minConfidence"], flag["minMargin"], flag["alwaysReview"])


def rates(flagged, err, w):
    return {"flagRate": round(float((w * flagged).sum() / w.sum()), 4),
            "errorsCaught": round(float((w * flagged * err).sum() / max(1e-12, (w * err).sum())), 4)}


def auroc(in_scores, out_scores):
    """P(score of an unknown cell > score of a known one), ties half."""
    s = np.concatenate([in_scores, out_scores])
    rank = s.argsort().argsort().astype(float) + 1
    n1, n2 = len(in_scores), len(out_scores)
    return float((rank[n1:].sum() - n2 * (n2 + 1) / 2) / (n1 * n2))


def shipped_measurements(classes, flag, T, ztr, ytr, lv, zv, yv):
    mar = len(common.MARROW8)
    w = finalize.prevalence_weights(yv, classes)
    p, conf_flag = confidence_flags(lv, T, classes, flag)
    pred = p.argmax(1)
    provisional = pred >= mar          # predicted as a class learned from peripheral blood only
    err = pred != yv
    before = conf_flag | provisional
    out = {"validationCells": int(len(yv)), "before": rates(before, err, w), "methods": {}}
    for name, cls in (("mahalanobis", Mahalanobis), ("knn", KNN)):
        m = cls(ztr, ytr, common.MARROW8)
        s = m.score(zv)
        t = weighted_quantile(s, w, 1 - OPEN_SET_BUDGET)
        after = before | (s > t)
        loco = {}
        for k, c in enumerate(common.MARROW8):
            keep = ytr != k
            remap = np.array([i - (i > k) for i in range(mar)])
            mk = cls(ztr[keep], remap[ytr[keep]], [x for x in common.MARROW8 if x != c])
            sk = mk.score(zv)
            inn = yv != k
            tk = weighted_quantile(sk[inn], w[inn], 1 - OPEN_SET_BUDGET)
            # The head without the class: its logit dropped, the softmax over the others (the other rows of the last
            # layer are the shipped ones, not retrained). Then the app's whole rule on every cell.
            keep_cols = [i for i in range(len(classes)) if i != k]
            pk, ck = confidence_flags(lv[:, keep_cols], T, [classes[i] for i in keep_cols], flag)
            predk = np.array(keep_cols)[pk.argmax(1)]
            after_k = ck | (predk >= mar) | (sk > tk)
            loco[c] = {"auroc": round(auroc(sk[inn], sk[~inn]), 4), "heldOutFlagged": round(float((sk[~inn] > tk).mean()), 4),
                       "heldOutFlaggedByAnyRule": round(float(after_k[~inn].mean()), 4),
                       "heldOutFlaggedByAnyRuleBeforeOpenSet": round(float((ck | (predk >= mar))[~inn].mean()), 4),
                       "mixFlagged": round(float((w * after_k).sum() / w.sum()), 4)}
        out["methods"][name] = {"threshold": round(t, 4), "after": rates(after, err, w),
                                "errorsOfUnflaggedBeforeCaught": round(float((s > t)[err & ~before].mean()), 4)
                                if (err & ~before).any() else None,
                                "leaveOneClassOut": loco,
                                "leaveOneClassOutMeanAuroc": round(float(np.mean([v["auroc"] for v in loco.values()])), 4),
                                "leaveOneClassOutMeanFlaggedByAnyRule": round(float(np.mean([v["heldOutFlaggedByAnyRule"] for v in loco.values()])), 4),
                                "leaveOneClassOutMeanMixFlagged": round(float(np.mean([v["mixFlagged"] for v in loco.values()])), 4)}
        out["methods"][name]["_model"] = m
    return out


def variant_measurements(run, flag):
    tr_rows, va_rows = marrow_rows("train"), marrow_rows("val")
    res = {}
    tr_info = json.load(open(os.path.join(run, "train_results.json")))
    lt, zt = cached(run + ":train", lambda: torch_outputs(run, tr_rows)[1:])
    lv, zv = cached(run + ":val", lambda: torch_outputs(run, va_rows)[1:])
    classes, excluded = tr_info["classes"], tr_info["excluded"]
    known = [c for c in common.MARROW8 if c not in excluded]
    ytr_all = np.array([r["label"] for r in tr_rows])
    yv_all = np.array([r["label"] for r in va_rows])
    ktr = np.isin(ytr_all, known)
    ytr = np.array([known.index(v) for v in ytr_all[ktr]])
    unseen = ~np.isin(yv_all, known)
    # realistic mix over all 8 marrow classes, the unseen one included
    y8 = np.array([common.MARROW8.index(v) for v in yv_all])
    w = finalize.prevalence_weights(y8, common.MARROW8)
    T = finalize.fit_temperature(lv[~unseen], np.array([classes.index(v) for v in yv_all[~unseen]]))
    p, conf_flag = confidence_flags(lv, T, classes, flag)
    pred = np.array([classes[i] for i in p.argmax(1)])
    provisional = ~np.isin(pred, common.MARROW8)
    before = conf_flag | provisional
    right = pred == yv_all
    res = {"run": os.path.relpath(os.path.abspath(run), common.REPO),
           "arch": tr_info["student"]["arch"], "inputSize": tr_info["size"], "excluded": excluded,
           "trainSeconds": tr_info["args"]["student_seconds"], "device": tr_info["device"],
           "knownMacroF1": tr_info["student"]["val_packed"]["marrow_macroF1"], "temperature": T,
           "unseenValidationCells": int(unseen.sum()), "knownValidationCells": int((~unseen).sum()),
           "before": {"unseenFlagged": round(float(before[unseen].mean()), 4),
                      "mixFlagged": round(float((w * before).sum() / w.sum()), 4)}, "methods": {}}
    for name, cls in (("mahalanobis", Mahalanobis), ("knn", KNN)):
        m = cls(zt[ktr], ytr, known)
        s = m.score(zv)
        t = weighted_quantile(s[~unseen], w[~unseen], 1 - OPEN_SET_BUDGET)
        after = before | (s > t)
        res["methods"][name] = {
            "threshold": round(t, 4), "auroc": round(auroc(s[~unseen], s[unseen]), 4),
            "unseenFlaggedOrRight": round(float((after | right)[unseen].mean()), 4),
            "unseenFlaggedByOpenSetAlone": round(float((s > t)[unseen].mean()), 4),
            "knownFlagged": round(float((w * after)[~unseen].sum() / w[~unseen].sum()), 4),
            "knownFlaggedBefore": round(float((w * before)[~unseen].sum() / w[~unseen].sum()), 4),
            "mixFlagged": round(float((w * after).sum() / w.sum()), 4)}
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--export", action="store_true", help="re-export the package's model.onnx with the embedding output")
    ap.add_argument("--variant", action="append", default=[], help="train.py run dirs trained with --exclude")
    args = ap.parse_args()
    fm_path = os.path.join(common.HERE, "final_metrics.json")
    fm = json.load(open(fm_path))
    tr = json.load(open(os.path.join(RUN, "train_results.json")))
    size, mean, std = fm["inputSize"], [round(v, 4) for v in fm["mean"]], [round(v, 4) for v in fm["std"]]
    onnx_path = os.path.join(PACKAGE, "model.onnx")
    classes, T, flag = tr["classes"], fm["calibration"]["temperature"], fm["flagging"]
    va_rows = marrow_rows("val")
    if args.export:
        old = {r["path"]: np.array([float(r["logit_" + c]) for c in classes])
               for r in csv.DictReader(open(os.path.join(common.HERE, "val_predictions_onnx.csv")))}
        tmp = onnx_path + ".new"
        export_with_embedding(RUN, tr["student"]["arch"], size, tmp)
        probe = va_rows[:128]
        lnew, _ = onnx_outputs(tmp, probe, size, mean, std)
        diff = float(np.abs(lnew - np.stack([old[r["path"]] for r in probe])).max())
        print("re-exported logits vs the previous model on %d validation cells: max |diff| %.2g" % (len(probe), diff))
        if diff > 1e-3:
            raise SystemExit("the re-exported model does not reproduce the previous logits; %s left beside it" % tmp)
        os.replace(tmp, onnx_path)
        fm["onnxSha256"] = finalize.sha256(onnx_path)
        json.dump(fm, open(fm_path, "w"), indent=2)
    sha = finalize.sha256(onnx_path)
    t0 = time.time()
    ltr, ztr = cached(sha + ":train", lambda: onnx_outputs(onnx_path, marrow_rows("train"), size, mean, std))
    lv, zv = cached(sha + ":val", lambda: onnx_outputs(onnx_path, va_rows, size, mean, std))
    print("embeddings: %d training, %d validation marrow cells (%.0f s)" % (len(ztr), len(zv), time.time() - t0))
    ytr = np.array([common.MARROW8.index(r["label"]) for r in marrow_rows("train")])
    yv = np.array([common.MARROW8.index(r["label"]) for r in va_rows])
    shipped = shipped_measurements(classes, flag, T, ztr, ytr, lv, zv, yv)
    variants = [variant_measurements(v, flag) for v in args.variant]
    chosen = "mahalanobis"
    m = shipped["methods"][chosen].pop("_model")
    for k in shipped["methods"].values():
        k.pop("_model", None)
    report = {"openSetBudget": OPEN_SET_BUDGET, "shrinkage": SHRINK, "knnK": KNN_K, "prevalence": finalize.PREVALENCE,
              "chosen": chosen, "shipped": shipped, "unknownTypeVariants": variants}
    with open(os.path.join(common.HERE, "val_open_set_distances.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "open_set_distance"])
        for r, d in zip(va_rows, m.score(zv)):
            w.writerow([r["path"], "%.4f" % d])
    print(json.dumps(report, indent=1))
    json.dump(report, open(os.path.join(common.HERE, "open_set_metrics.json"), "w"), indent=2)
    stats = {"formatVersion": 1, "method": "mahalanobis-tied",
             "description": "min over classes of |W (z - mean_c)|, S^-1 = W'W (shared covariance of the marrow "
                            "training embeddings, shrunk %.2f towards its diagonal)" % SHRINK,
             "classes": common.MARROW8, "dim": int(ztr.shape[1]),
             "threshold": shipped["methods"][chosen]["threshold"],
             "fittedOn": "%d marrow training cells; threshold: the %.0f%% most distant of %d marrow validation cells, "
                         "prevalence-weighted" % (len(ztr), 100 * OPEN_SET_BUDGET, len(zv)),
             "means": [[round(float(v), 6) for v in row] for row in m.mu],
             "whitening": [[float("%.6g" % v) for v in row] for row in m.w]}
    json.dump(stats, open(os.path.join(PACKAGE, "open-set.json"), "w"), separators=(",", ":"))
    print("wrote", os.path.join(PACKAGE, "open-set.json"), os.path.getsize(os.path.join(PACKAGE, "open-set.json")), "bytes")


if __name__ == "__main__":
    main()
