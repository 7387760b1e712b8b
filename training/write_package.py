#!/usr/bin/env python3
"""Write model.json, MODEL_CARD.md, metrics.json and reference-predictions.csv for the shipped model
(resources/models/marrowcount-ref/), from training/final_metrics.json (finalize.py) and the demo case.

Reference predictions: every demo image file is decoded exactly as the app does (RGB, resize to the input
size with PIL LANCZOS "fill", /255, -mean, /std), run through the shipped model.onnx with onnxruntime (CPU),
logits / temperature, softmax.

Usage: PYTHONPATH=/tmp/ortlib /usr/bin/python3 training/write_package.py --run training/runs/h200-ens/s4
"""
import argparse
import csv
import json
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import finalize  # noqa: E402
import open_set  # noqa: E402

UNKNOWN = [c for c in common.MATEK21 if c not in common.CLASSES]
# 1.1.0: same weights as 1.0.0; crops of another size than 250 px are framed to 250 px (input.frameSide) before
# the resize, as the training data were, instead of being resized whole. 1.2.0: new weights (runs/h200-ens/s4),
# distilled from a three-teacher ensemble; same network, input and framing. 1.3.0: the same weights as 1.2.0 with a
# second output, the embedding (training/open_set.py), open-set statistics (open-set.json) and the classes learned
# from peripheral blood only declared provisional.
VERSION = "1.3.0"
PROVISIONAL = {"classes": ["BAS", "EBO", "MMZ", "MYB", "NGB"],
               "reason": "learned from peripheral-blood images only, not from marrow"}


def model_json(mid, version, name, onnx_path, classes, size, mean, std, calib, flag, training, license_, attribution,
               open_set=None):
    js = {
        "formatVersion": 1, "id": mid, "version": version, "name": name, "sha256": finalize.sha256(onnx_path),
        "classes": classes,
        "input": {"name": "input", "width": size, "height": size, "layout": "NCHW", "colorOrder": "RGB",
                  "resize": "fill", "kernel": "lanczos3", "scale": 255, "mean": mean, "std": std,
                  "frameSide": common.MARROW_SIZE},
        "output": {"name": "logits", "type": "logits"},
        "calibration": {k: calib[k] for k in ("temperature", "eceBefore", "eceAfter", "fittedOn")},
        "flagging": flag, "training": training, "license": license_, "attribution": attribution,
    }
    if open_set is not None:  # the shipped model: embedding output, open-set statistics, provisional classes
        js["embedding"] = {"name": "embedding", "dim": open_set["dim"]}
        js["openSet"] = {"file": os.path.basename(open_set["path"]), "sha256": finalize.sha256(open_set["path"])}
        js["provisionalClasses"] = PROVISIONAL
    return js


def demo_predictions(onnx_path, size, mean, std, T, classes, flag, demo_dir, stats):
    """The app's whole flag rule on the demo case: confidence/margin/always-review, provisional classes, open-set."""
    rows = list(csv.DictReader(open(os.path.join(demo_dir, "labels.csv"))))
    sess = finalize.ort_session(onnx_path)
    arrs = [common.app_preprocess(Image.open(os.path.join(demo_dir, r["file"])).convert("RGB"), size, 255.0, mean, std,
                                  common.MARROW_SIZE) for r in rows]
    logits, emb = [], []
    for i in range(0, len(arrs), 64):
        l, z = sess.run(["logits", "embedding"], {"input": np.stack(arrs[i:i + 64]).astype(np.float32)})
        logits.append(l)
        emb.append(z)
    logits, emb = np.concatenate(logits), np.concatenate(emb)
    probs = common.softmax(logits / T)
    distance = open_set.distance_from_stats(stats, emb)
    provisional = np.array([classes[k] in PROVISIONAL["classes"] for k in probs.argmax(1)])
    flagged = (common.flag_mask(probs, classes, flag["minConfidence"], flag["minMargin"], flag["alwaysReview"])
               | provisional | (distance > stats["threshold"]))
    return rows, logits, probs, flagged, distance


def smoke_package(out, results, logits, y, dom, command):
    """Used by train.py --smoke: write model.json + MODEL_CARD.md for the smoke model in `out`."""
    classes = results["classes"]
    T = finalize.fit_temperature(logits, y)
    calib = {"temperature": T, "eceBefore": round(common.ece(common.softmax(logits), y), 4),
             "eceAfter": round(common.ece(common.softmax(logits / T), y), 4),
             "fittedOn": "smoke validation, %d demo cells (not meaningful)" % len(y)}
    flag = {"minConfidence": 0.6, "minMargin": 0.15, "alwaysReview": finalize.ALWAYS_REVIEW}
    training = {"summary": "SMOKE TEST MODEL: a few steps on resources/demo images; not a usable classifier.",
                "data": ["resources/demo/case-001 (validation-split cells of the Matek and PBC datasets)"],
                "seed": results["seed"], "command": command,
                "environment": "torch %s, %s" % (results["torch"], results["device"])}
    js = model_json("marrowcount-smoke", "0.0.0", "MarrowCount smoke-test CNN", os.path.join(out, "model.onnx"),
                    classes, results["size"], [round(v, 4) for v in results["mean"]],
                    [round(v, 4) for v in results["std"]], calib, flag, training,
                    "Weights: CC BY 4.0 (derived from CC BY 4.0 data, see attribution).", finalize.ATTRIBUTION)
    json.dump(js, open(os.path.join(out, "model.json"), "w"), indent=2)
    open(os.path.join(out, "MODEL_CARD.md"), "w").write(
        "# MarrowCount smoke-test model\n\nTrained for a few steps on the demo case by `%s`.\n"
        "Not for any use other than testing the pipeline. Not for diagnostic use.\n" % command)


# Classes outside the nucleated differential count (ICSH 2008), as in src/shared/cell-classes.ts.
NOT_IN_NDC = {"ART", "NIF", "KSC"}
BLAST_CLASSES = {"BLA", "FGC"}


def blast_percent(labels, classes, w):
    """Blast % of the NDC for class indices `labels`, each cell weighted by `w`."""
    names = [classes[k] for k in labels]
    ndc = np.array([n not in NOT_IN_NDC for n in names])
    blasts = np.array([n in BLAST_CLASSES for n in names])
    return float(100 * (w * blasts).sum() / max(1e-12, (w * ndc).sum()))


def blast_review_effect(y, probs, flagged, classes, w):
    """What the blast % reads with the model's labels alone, and after a reviewer has put every flagged cell right
    (the best a review of flagged cells can do): missed blasts that are not flagged stay missed."""
    pred = probs.argmax(1)
    bla = classes.index("BLA")
    missed = (y == bla) & (pred != bla)
    false_blasts = (pred == bla) & (y != bla)
    return {"truePercent": round(blast_percent(y, classes, w), 2),
            "modelPercent": round(blast_percent(pred, classes, w), 2),
            "afterReviewOfFlaggedPercent": round(blast_percent(np.where(flagged, y, pred), classes, w), 2),
            "missedBlasts": int(missed.sum()), "missedBlastsFlagged": int((missed & flagged).sum()),
            "falseBlasts": int(false_blasts.sum()), "falseBlastsFlagged": int((false_blasts & flagged).sum())}


def validation_blast_effect(classes, T, flag):
    rows = [r for r in csv.DictReader(open(os.path.join(common.HERE, "val_predictions_onnx.csv")))
            if r["domain"] == "matek-bm"]
    logits = np.array([[float(r["logit_" + c]) for c in classes] for r in rows])
    y = np.array([classes.index(r["label"]) for r in rows])
    probs = common.softmax(logits / T)
    # The app's whole rule: confidence/margin/always-review, provisional classes, open-set distance.
    distance = {r["path"]: float(r["open_set_distance"])
                for r in csv.DictReader(open(os.path.join(common.HERE, "val_open_set_distances.csv")))}
    threshold = json.load(open(os.path.join(common.REPO, "resources", "models", "marrowcount-ref", "open-set.json")))["threshold"]
    flagged = (common.flag_mask(probs, classes, flag["minConfidence"], flag["minMargin"], flag["alwaysReview"])
               | np.array([classes[k] in PROVISIONAL["classes"] for k in probs.argmax(1)])
               | np.array([distance[r["path"]] > threshold for r in rows]))
    return blast_review_effect(y, probs, flagged, classes, finalize.prevalence_weights(y, classes))


OFF_SIZE_FIXTURE = os.path.join(common.REPO, "test", "fixtures", "crops", "off-size")


def raw_pbc_effect(sess, size, mean, std, T, classes):
    """Accuracy on the PBC validation files as stored (360x363), resized whole vs framed like the training data."""
    rows = [r for r in common.read_split(os.path.join(common.HERE, "split.csv"))
            if r["split"] == "val" and r["domain"] == "pbc"]
    y = np.array([classes.index(r["label"]) for r in rows])
    ims = [common.load_rgb(os.path.join(common.DEFAULT_DATA, r["path"])) for r in rows]
    out = {"files": len(rows)}
    for key, side in (("resizedWholeAccuracy", None), ("framedAccuracy", common.MARROW_SIZE)):
        logits = finalize.run_onnx(sess, [common.app_preprocess(im, size, 255.0, mean, std, side) for im in ims])
        out[key] = round(float((common.softmax(logits / T).argmax(1) == y).mean()), 4)
    return out


def write_off_size_fixture(sess, size, mean, std, T, classes):
    """A few crops that are not 250x250, with the probabilities the Python pipeline gives them, so that a test can
    check the app frames them the same way: raw PBC validation crops (360x363) and a 200x200 centre of a marrow
    validation crop (padded, not cropped)."""
    split = common.read_split(os.path.join(common.HERE, "split.csv"))
    picks = []
    for label in ("BAS", "EBO", "MMZ", "MYB", "NGB", "PMO"):
        r = sorted((r for r in split if r["split"] == "val" and r["domain"] == "pbc" and r["label"] == label),
                   key=lambda r: r["path"])[0]
        picks.append(("pbc-%s.jpg" % label, r, None))
    bla = sorted((r for r in split if r["split"] == "val" and r["domain"] == "matek-bm" and r["label"] == "BLA"),
                 key=lambda r: r["path"])[0]
    picks.append(("marrow-BLA-200px.png", bla, 200))
    os.makedirs(OFF_SIZE_FIXTURE, exist_ok=True)
    with open(os.path.join(OFF_SIZE_FIXTURE, "expected.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "source", "label", "width", "height"] + ["p_" + c for c in classes])
        for name, r, centre in picks:
            src = os.path.join(common.DEFAULT_DATA, r["path"])
            dst = os.path.join(OFF_SIZE_FIXTURE, name)
            if centre is None:
                with open(src, "rb") as a, open(dst, "wb") as b:
                    b.write(a.read())
            else:
                im = common.load_rgb(src)
                x0 = (im.size[0] - centre) // 2
                im.crop((x0, x0, x0 + centre, x0 + centre)).save(dst)
            im = common.load_rgb(dst)
            logits = finalize.run_onnx(sess, [common.app_preprocess(im, size, 255.0, mean, std, common.MARROW_SIZE)])
            p = common.softmax(logits / T)[0]
            w.writerow([name, r["path"], r["label"], im.size[0], im.size[1]] + ["%.6f" % v for v in p])


def open_set_section():
    """The model card's open-set section, from training/open_set_metrics.json (training/open_set.py)."""
    path = os.path.join(common.HERE, "open_set_metrics.json")
    m = json.load(open(path))
    sh = m["shipped"]
    ch = sh["methods"][m["chosen"]]
    pct = lambda v: "%.1f%%" % (100 * v)  # noqa: E731
    s = ("Measured by `training/open_set.py` (figures in `training/open_set_metrics.json`), on the %d marrow validation "
         "cells, through the exact app preprocessing. Re-weighted to the realistic marrow mix of the flagging section "
         "(%s). \"Before\" is the flag rule without the open-set score (confidence, margin, always-review classes, and "
         "every prediction of a provisional class).\n\n" % (sh["validationCells"], json.dumps(m["prevalence"])))
    s += "| marrow validation, realistic mix | flagged | share of errors caught |\n|---|---|---|\n"
    s += "| before | %s | %s |\n" % (pct(sh["before"]["flagRate"]), pct(sh["before"]["errorsCaught"]))
    for name, v in sh["methods"].items():
        s += "| with open-set flag, %s (threshold %.3g) | %s | %s |\n" % (name, v["threshold"], pct(v["after"]["flagRate"]),
                                                                       pct(v["after"]["errorsCaught"]))
    s += ("\nThe threshold is the distance above which the %.0f%% most distant validation cells lie (prevalence-weighted): "
          "a budget, chosen before the unknown-type experiment below was run, not fitted to it.\n\n" % (100 * m["openSetBudget"]))
    s += ("**Leave one class out** (shipped network; the class statistics fitted without one class; the network itself "
          "learned that class, so these figures are optimistic): AUROC of the distance for the held-out class against the "
          "others, and the share of the held-out class's validation cells above that run's threshold.\n\n")
    names = list(sh["methods"])
    s += "| held-out class | " + " | ".join("%s AUROC | %s: flagged by distance" % (n, n) for n in names) + " |\n"
    s += "|---|" + "---|---|" * len(names) + "\n"
    for c in common.MARROW8:
        s += "| %s | " % c + " | ".join("%.3f | %s" % (sh["methods"][n]["leaveOneClassOut"][c]["auroc"],
                                                      pct(sh["methods"][n]["leaveOneClassOut"][c]["heldOutFlagged"])) for n in names) + " |\n"
    s += "| mean | " + " | ".join("%.3f | " % sh["methods"][n]["leaveOneClassOutMeanAuroc"] for n in names) + " |\n"
    ma, kn = sh["methods"]["mahalanobis"], sh["methods"]["knn"]
    s += ("\n**Choice: %s.** kNN measured slightly better on every held-out class (mean AUROC %.3f vs %.3f; with the "
          "whole rule it adds fewer flags, %s vs %s of the mix, for the same share of errors caught, %s vs %s). It also "
          "costs 15 times more JavaScript time per cell (`scripts/bench-open-set.ts`, 2 cores, under load: 0.89 vs 0.06 "
          "CPU-ms per cell, about a tenth of the whole per-cell cost) and ships the 4,897 training embeddings with the "
          "model. On a network that never saw the held-out type (below) neither score tells that type apart. The "
          "difference did not justify the cost; scoring kNN inside the ONNX graph (one matrix product) would remove it "
          "and is the next step if lab data show kNN's advantage holds.\n"
          % (m["chosen"], kn["leaveOneClassOutMeanAuroc"], ma["leaveOneClassOutMeanAuroc"], pct(kn["after"]["flagRate"]),
             pct(ma["after"]["flagRate"]), pct(kn["after"]["errorsCaught"]), pct(ma["after"]["errorsCaught"])))
    s += ("\n**Unknown type with the shipped network's features** (optimistic: the class's logit dropped from the head "
          "and its statistics left out, but the network learned the class): share of the held-out class's validation "
          "cells that any rule flags, and the realistic mix flagged in all (%s).\n\n| held-out class | flagged before "
          "open-set | flagged, whole rule | mix flagged in all |\n|---|---|---|---|\n" % m["chosen"])
    for c in common.MARROW8:
        x = ch["leaveOneClassOut"][c]
        s += "| %s | %s | %s | %s |\n" % (c, pct(x["heldOutFlaggedByAnyRuleBeforeOpenSet"]), pct(x["heldOutFlaggedByAnyRule"]),
                                        pct(x["mixFlagged"]))
    for v in m["unknownTypeVariants"]:
        s += ("\n**Unknown type, honestly** (a network that never saw %s): `%s`, %s at %d px, trained from scratch on CPU "
              "(%s, %.0f s) with `train.py --exclude %s`; marrow macro-F1 on its %d known classes %.3f (packed "
              "validation). Its class statistics and threshold were fitted exactly like the shipped model's (same "
              "budget). %d %s validation cells, %d cells of the other classes; realistic mix over all 8 classes.\n\n"
              % (", ".join(v["excluded"]), v["run"], v["arch"], v["inputSize"], v["device"], v["trainSeconds"],
                 ",".join(v["excluded"]), len(common.MARROW8) - len(v["excluded"]), v["knownMacroF1"],
                 v["unseenValidationCells"], "/".join(v["excluded"]), v["knownValidationCells"]))
        s += ("| | unseen type flagged (or right) | AUROC of the distance | other classes flagged | realistic mix flagged in all |\n"
              "|---|---|---|---|---|\n")
        s += "| before (no open-set flag) | %s | – | %s | %s |\n" % (pct(v["before"]["unseenFlagged"]),
                                                                    pct(list(v["methods"].values())[0]["knownFlaggedBefore"]),
                                                                    pct(v["before"]["mixFlagged"]))
        for name, r in v["methods"].items():
            s += "| with open-set flag, %s | %s | %.3f | %s | %s |\n" % (name, pct(r["unseenFlaggedOrRight"]), r["auroc"],
                                                                       pct(r["knownFlagged"]), pct(r["mixFlagged"]))
        r = v["methods"][m["chosen"]]
        met = r["unseenFlaggedOrRight"] >= 0.9 and r["mixFlagged"] <= 0.25
        s += ("\nTarget (>= 90%% of an unseen type's cells flagged or right, <= 25%% of the realistic mix flagged in all): "
              "**%s** for %s (%s, %s).\n" % ("met" if met else "not met", "/".join(v["excluded"]),
                                              pct(r["unseenFlaggedOrRight"]), pct(r["mixFlagged"])))
    return s


def fmt_table(per, classes):
    s = "| class | precision | recall | F1 | support |\n|---|---|---|---|---|\n"
    for c in classes:
        if c in per:
            p = per[c]
            s += "| %s | %.3f | %.3f | %.3f | %d |\n" % (c, p["precision"], p["recall"], p["f1"], p["support"])
    return s


def fmt_conf(conf):
    cols = conf["cols_pred"]
    s = "| true \\ pred | " + " | ".join(cols) + " |\n|---|" + "---|" * len(cols) + "\n"
    for r, row in zip(conf["rows_true"], conf["matrix"]):
        s += "| **%s** | " % r + " | ".join(str(v) for v in row) + " |\n"
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default=os.path.join(common.HERE, "runs", "h200-ens", "s4"))
    ap.add_argument("--out", default=os.path.join(common.REPO, "resources", "models", "marrowcount-ref"))
    ap.add_argument("--demo", default=os.path.join(common.REPO, "resources", "demo", "case-001"))
    ap.add_argument("--cells-per-s", default="")
    args = ap.parse_args()
    fm = json.load(open(os.path.join(common.HERE, "final_metrics.json")))
    tr = json.load(open(os.path.join(args.run, "train_results.json")))
    env = open(os.path.join(args.run, "env.txt")).read()
    classes, size = tr["classes"], fm["inputSize"]
    mean, std = [round(v, 4) for v in fm["mean"]], [round(v, 4) for v in fm["std"]]
    calib, flag, met = fm["calibration"], fm["flagging"], fm["metrics"]
    onnx_path = os.path.join(args.out, "model.onnx")
    assert finalize.sha256(onnx_path) == fm["onnxSha256"]
    T = calib["temperature"]

    stats = json.load(open(os.path.join(args.out, "open-set.json")))
    rows, logits, probs, flagged, distance = demo_predictions(onnx_path, size, mean, std, T, classes, flag, args.demo, stats)
    y = np.array([classes.index(r["label"]) for r in rows])
    pred = probs.argmax(1)
    present = sorted(set(y.tolist()))
    per = finalize.prf(pred, y, present)
    demo_acc = float((pred == y).mean())
    demo_f1 = float(np.mean([per[c]["f1"] for c in present]))
    with open(os.path.join(args.out, "reference-predictions.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "label", "pred", "flagged", "open_set_distance"] + ["p_" + c for c in classes])
        for r, p, fl, d in zip(rows, probs, flagged, distance):
            w.writerow([r["file"], r["label"], classes[int(p.argmax())], int(fl), "%.4f" % d] + ["%.6f" % v for v in p])
    demo = {"cells": len(rows), "accuracy": round(demo_acc, 4), "macroF1_over_present_classes": round(demo_f1, 4),
            "present_classes": [classes[c] for c in present], "flagRate": round(float(flagged.mean()), 4),
            "errorsCaught": round(float(flagged[pred != y].mean()), 4) if (pred != y).any() else 1.0,
            "perClass": {classes[c]: per[c] for c in present}}
    print("demo", json.dumps({k: v for k, v in demo.items() if k != "perClass"}))
    sess = finalize.ort_session(onnx_path)
    raw_pbc = raw_pbc_effect(sess, size, mean, std, T, classes)
    print("raw PBC files", json.dumps(raw_pbc))
    write_off_size_fixture(sess, size, mean, std, T, classes)
    blast = {"validationRealisticMix": validation_blast_effect(classes, T, flag),
             "demo": blast_review_effect(y, probs, flagged, classes, np.ones(len(y)))}
    print("blast %", json.dumps(blast))

    stu = tr["student"]
    teach = teacher_record(args.run, tr)
    train_cmd = ("/usr/bin/python3 training/estimate_scale.py --per-class 150 && " + teach["pack"] +
                 " && [GPU] " + " && [GPU, same machine] ".join(teach["commands"]) +
                 " && PYTHONPATH=<onnxruntime> /usr/bin/python3 training/finalize.py --run " + os.path.relpath(args.run, common.REPO) +
                 " && /usr/bin/python3 training/make_demo.py && PYTHONPATH=<onnxruntime> /usr/bin/python3 "
                 "training/write_package.py --run " + os.path.relpath(args.run, common.REPO))
    training = {
        "summary": ("Compact ResNet-style CNN (%s, %.1f M multiply-adds at %dpx, %d k parameters) trained from scratch, "
                    "distilled from %s; %d student steps of batch 256 in %.0f s on one %s; AdamW, cosine LR, EMA, label "
                    "smoothing 0.05, CutMix/mixup on %.0f%% of batches (the teachers see the same mixed images), on-GPU "
                    "augmentation (any rotation, flips, scale/shift, brightness/contrast/saturation/hue/gamma, "
                    "per-channel stain gain, blur/sharpen, noise) and JPEG-quality copies (q40-95) of 20%% of training "
                    "images. PBC crops rescaled by %.4f to the marrow scale (median nucleus diameter) and centre-cropped "
                    "to 250x250. Validation: deterministic 20%% per (domain, class) by SHA-1 of the file path "
                    "(training/split.csv). %s")
                   % (stu["arch"], stu["macs"] / 1e6, size, 0, teach["description"], stu["steps"],
                      tr["args"]["student_seconds"], tr["device"], 100 * tr["args"].get("mix", 0.0),
                      json.load(open(os.path.join(common.HERE, "scale.json")))["pbc_to_marrow_scale"],
                      teach["selection"]),
        "data": ["Matek et al. 2021 bone-marrow crops (public subset, 8 classes, %d training files)"
                 % sum(1 for r in common.read_split(os.path.join(common.HERE, "split.csv"))
                       if r["split"] == "train" and r["domain"] == "matek-bm"),
                 "Acevedo et al. 2020 PBC peripheral-blood crops (10 classes, %d training files)"
                 % sum(1 for r in common.read_split(os.path.join(common.HERE, "split.csv"))
                       if r["split"] == "train" and r["domain"] == "pbc")],
        "seed": tr["seed"], "command": train_cmd,
        "environment": "training: torch %s on %s (GPU-box CPU: %s); export + evaluation: torch %s (CPU) + onnxruntime %s"
                       % (tr["torch"], tr["device"], "Intel Xeon", fm["exportTorch"], _ort_version()),
    }
    import torch  # noqa: F401  (only for parameter count)
    import models
    nparams = sum(p.numel() for p in models.build(stu["arch"], len(classes)).parameters())
    training["summary"] = training["summary"].replace(", 0 k parameters", ", %d k parameters" % (nparams // 1000))
    open_set_path = os.path.join(args.out, "open-set.json")
    open_set = {"path": open_set_path, "dim": json.load(open(open_set_path))["dim"]}
    js = model_json("marrowcount-ref", VERSION, "MarrowCount reference CNN", onnx_path, classes, size, mean, std,
                    calib, flag, training,
                    "Model weights: CC BY 4.0 (trained on CC BY 4.0 data; attribution below must be kept). "
                    "Not for diagnostic use.", finalize.ATTRIBUTION, open_set)
    json.dump(js, open(os.path.join(args.out, "model.json"), "w"), indent=2, ensure_ascii=False)
    json.dump({"validation": met, "calibration": calib, "flagging": flag, "flaggingSearch": fm["flaggingSearch"],
               "demo": demo, "blastPercentage": blast, "pbcFilesAsStored": raw_pbc, "teachersValidationPacked": teach["validation"], "studentValidationPacked": stu.get("val_packed")},
              open(os.path.join(args.out, "metrics.json"), "w"), indent=2)
    card = CARD.format(
        version=VERSION, sha=js["sha256"], size=size, classes=", ".join(classes), nclasses=len(classes),
        unknown=", ".join(UNKNOWN), nunknown=len(UNKNOWN),
        macs=stu["macs"] / 1e6, gflops=2 * stu["macs"] / 1e9, nparams=nparams / 1e3,
        onnx_kb=os.path.getsize(onnx_path) / 1024,
        m_acc=met["marrow"]["accuracy"], m_f1=met["marrow"]["macroF1"], m_n=met["marrow"]["n"],
        bla_r=met["marrow"]["perClass"]["BLA"]["recall"], bla_p=met["marrow"]["perClass"]["BLA"]["precision"],
        m_table=fmt_table(met["marrow"]["perClass"], common.MARROW8), m_conf=fmt_conf(met["marrow"]["confusion"]),
        p_acc=met["pbc"]["accuracy"], p_f1=met["pbc"]["macroF1"], p_n=met["pbc"]["n"],
        p_table=fmt_table(met["pbc"]["perClass"], classes), p_conf=fmt_conf(met["pbc"]["confusion"]),
        m_wacc=met["marrow"]["accuracyPrevalenceWeighted"],
        T=T, eb=calib["eceBefore"], ea=calib["eceAfter"], emb=calib["eceMarrowBefore"], ema=calib["eceMarrowAfter"],
        fitted=calib["fittedOn"], mc=flag["minConfidence"], mm=flag["minMargin"], ar=", ".join(flag["alwaysReview"]),
        fr=met["marrow"]["flagRate"], fc=met["marrow"]["errorsCaught"],
        fwr=met["marrow"]["flagRatePrevalenceWeighted"], fwc=met["marrow"]["errorsCaughtPrevalenceWeighted"],
        accu=met["marrow"]["accuracyUnflagged"], prev=json.dumps(finalize.PREVALENCE),
        d_n=demo["cells"], d_acc=demo["accuracy"], d_f1=demo["macroF1_over_present_classes"],
        d_fr=demo["flagRate"], d_fc=demo["errorsCaught"], d_table=fmt_table(demo["perClass"], classes),
        teachers=teach["description"], t_val=teach["validation_text"], s_val=json.dumps(stu.get("val_packed")),
        t_f1=teach["ensemble_f1"], selection=teach["selection"], record=teach["record"],
        steps=stu["steps"], secs=tr["args"]["student_seconds"], device=tr["device"], torch=tr["torch"], seed=tr["seed"],
        env=env.strip().replace("\n", "\n    "), cmd=train_cmd, ort=_ort_version(), export_torch=fm["exportTorch"],
        scale=json.load(open(os.path.join(common.HERE, "scale.json")))["pbc_to_marrow_scale"],
        speed=args.cells_per_s, mean=mean, std=std, wall=tr.get("wall_seconds"),
        attr="\n".join("- " + a for a in finalize.ATTRIBUTION), open_set=open_set_section(),
        os_method=json.load(open(open_set_path))["method"], os_threshold=json.load(open(open_set_path))["threshold"],
        raw_whole=raw_pbc["resizedWholeAccuracy"], raw_framed=raw_pbc["framedAccuracy"],
        **{"bv_" + k: v for k, v in blast["validationRealisticMix"].items()},
        **{"bd_" + k: v for k, v in blast["demo"].items()})
    open(os.path.join(args.out, "MODEL_CARD.md"), "w").write(card)
    print("wrote", args.out)


def teacher_record(run, tr):
    """What the student was distilled from, for the model card: the run's run.json (ensemble runs, written by
    hand from the device calls' output) beside the student's folder, else the single teacher of train.py."""
    import models
    rj = os.path.join(os.path.dirname(run), "run.json")
    if os.path.exists(rj):
        r = json.load(open(rj))
        ts = r["call1"]["teachers"]
        n = len(common.CLASSES)
        desc = "the averaged predictions of %d larger CNNs trained side by side in the same GPU session (%s)" % (
            len(ts), "; ".join("%s, %.0f M multiply-adds, seed %d, %s, %d steps in %d s"
                              % (t["arch"], models.count_macs(models.build(t["arch"], n), tr["size"]) / 1e6, t["seed"],
                                 "CutMix/mixup on %.0f%% of batches" % (100 * t["mix"]) if t["mix"] else "no CutMix/mixup",
                                 t["steps"], t["seconds"]) for t in ts))
        students = r["call1"]["students"] + r["call2"]["students"]
        name = os.path.basename(run.rstrip("/"))
        return {
            "description": desc,
            "validation": {"each": {t["name"]: t["val_packed"] for t in ts}, "ensemble": r["call1"]["ensemble_val_packed"]},
            "validation_text": "; ".join("%s %s" % (t["name"], json.dumps(t["val_packed"])) for t in ts)
                               + "; their average %s" % json.dumps(r["call1"]["ensemble_val_packed"]),
            "ensemble_f1": r["call1"]["ensemble_val_packed"]["marrow_macroF1"],
            "selection": ("The shipped student (%s) is the best of %d students distilled from the same teachers, by "
                          "packed-validation macro-F1 (%s): chosen on the validation split, so its validation figures "
                          "are slightly optimistic." % (name, len(students), ", ".join(
                              "%s %.3f" % (s["name"], s["val_packed"]["marrow_macroF1"]) for s in students))),
            "record": ("teachers %d s each, side by side; students %s; the shipped one %d steps of batch 256 in %.0f s"
                       % (ts[0]["seconds"], ", ".join("%s %d s" % (s["name"], s["seconds"]) for s in students),
                          tr["student"]["steps"], tr["args"]["student_seconds"])),
            "pack": "/usr/bin/python3 training/pack.py --quality 85 --out .train_pack_q85",
            "commands": [r["call1"]["command"], r["call2"]["command"]],
        }
    tea = tr.get("teacher", {})
    return {"description": "a larger CNN (%s, %.0f M multiply-adds) trained in the same run" % (tea.get("arch"), tea.get("macs", 0) / 1e6),
            "validation": {"teacher": tea.get("val")}, "validation_text": "teacher %s" % json.dumps(tea.get("val")),
            "ensemble_f1": (tea.get("val") or {}).get("marrow_macroF1"), "selection": "",
            "record": "teacher %.0f s, student %.0f s (%d steps, batch 256)" % (
                tr["args"]["teacher_seconds"], tr["args"]["student_seconds"], tr["student"]["steps"]),
            "pack": "/usr/bin/python3 training/pack.py", "commands": ["bash training/gpu_run.sh"]}


def _ort_version():
    try:
        import onnxruntime
        return onnxruntime.__version__
    except Exception:
        return "n/a"


CARD = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "MODEL_CARD.template.md")).read() \
    if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "MODEL_CARD.template.md")) else ""

if __name__ == "__main__":
    main()
