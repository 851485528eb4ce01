#!/usr/bin/python3
"""Oracle for issue 12: is each finding visible at all in its organ's fine-spacing crop?

For every finding, a cheap classifier on hand-made features of the TRUE organ mask of its organ's
crop (made by `ct-triage generate --training-crops`, see generate-crops.sh): the HU histogram and
quantiles inside the organ and in a 3-voxel shell around it (pleural fluid and exophytic cysts lie
outside the organ label), extreme values and blob counts of the locally averaged HU against the
organ's median (focal lesions: nodules, cysts, masses, stones, calcification), organ volume and box
extents (enlargement). Two classifiers, both with 5-fold cross-validation grouped by case:
L2 logistic regression (standardised features) and gradient-boosted trees (sklearn
HistGradientBoostingClassifier). Also the AUC of the out-of-fold scores by lesion size, against
the crop spacing (the issue's rule: the smallest lesion should span two voxels).

It uses ground truth the model will not have (the true organ mask), so it is an upper-bound-ish
probe of the input, not a model: a finding the oracle cannot see in the crop needs a different
input (finer spacing, other channels), not a different network.

Usage: /usr/bin/python3 oracle.py --data target/crops [--log logs/oracle.log] [--pictures DIR]
"""
import argparse
import glob
import json
import os
import sys
import time

import numpy as np
from scipy import ndimage
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FINDINGS = ["pulmonary_nodule", "emphysema", "pleural_effusion", "consolidation", "liver_cyst", "hepatic_steatosis",
            "liver_mass", "hepatomegaly", "cholelithiasis", "renal_cyst", "nephrolithiasis", "hydronephrosis",
            "pancreatic_mass", "splenomegaly", "aortic_calcification", "aortic_aneurysm"]
ORGAN = {"pulmonary_nodule": "lung", "emphysema": "lung", "pleural_effusion": "lung", "consolidation": "lung",
         "liver_cyst": "liver", "hepatic_steatosis": "liver", "liver_mass": "liver", "hepatomegaly": "liver",
         "cholelithiasis": "gallbladder", "renal_cyst": "kidney", "nephrolithiasis": "kidney",
         "hydronephrosis": "kidney", "pancreatic_mass": "pancreas", "splenomegaly": "spleen",
         "aortic_calcification": "aorta", "aortic_aneurysm": "aorta"}
# Smallest size the generator gives each focal finding (FindingPlanner), mm; None = diffuse.
MIN_SIZE = {"pulmonary_nodule": 3.0, "liver_cyst": 5.0, "liver_mass": 10.0, "cholelithiasis": 3.0,
            "renal_cyst": 5.0, "nephrolithiasis": 2.0, "hydronephrosis": 14.0, "pancreatic_mass": 10.0,
            "aortic_calcification": 2.0}
HIST_EDGES = [-1024, -950, -900, -850, -750, -600, -400, -200, -100, -30, 0, 10, 20, 30, 40, 50, 60, 80, 100, 150,
              250, 400, 700, 1200, 4000]
QUANTILES = [0.001, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 0.999]
THRESHOLDS = [12, 25, 50, 100, 200, 400]


def region_stats(hu, region):
    v = hu[region]
    if v.size == 0:
        return np.zeros(len(HIST_EDGES) - 1 + len(QUANTILES) + 3)
    hist = np.histogram(v, bins=HIST_EDGES)[0] / v.size
    return np.concatenate([hist, np.quantile(v, QUANTILES), [v.mean(), v.std(), np.log1p(v.size)]])


BLOB_THRESHOLDS = [5, 10, 20, 40, 80, 160]


def focal_stats(hu, organ):
    """Focal lesions inside the organ: extremes and blob counts of the local mean against the organ's
    median (averaged over organ voxels only, so that the organ's edge makes no blobs), and the
    strongest bright and dark blobs of a Hessian blob detector (all three eigenvalues of one sign:
    a sphere, not a vessel or a wall), scale-normalised, at two scales."""
    inner = ndimage.binary_erosion(organ, iterations=1)
    if inner.sum() < 10:
        inner = organ
    n_out = 2 * (4 + 2 * len(THRESHOLDS)) + 2 * 2 * (2 + len(BLOB_THRESHOLDS))
    if inner.sum() == 0:
        return np.zeros(n_out)
    med = np.median(hu[organ])
    m = organ.astype(np.float32)
    out = []
    for size in (3, 5):
        w = ndimage.uniform_filter(m, size=size)
        g = ndimage.uniform_filter(hu * m, size=size) / np.maximum(w, 1e-3) - med
        v = g[inner]
        out += [v.min(), v.max(), np.quantile(v, 0.0005), np.quantile(v, 0.9995)]
        out += [np.log1p((v < -t).sum()) for t in THRESHOLDS]
        out += [np.log1p((v > t).sum()) for t in THRESHOLDS]
    idx = np.nonzero(inner)
    for sigma in (1.0, 2.0):
        h = np.empty((len(idx[0]), 3, 3), np.float32)
        for a in range(3):
            for b in range(a, 3):
                order = [0, 0, 0]
                order[a] += 1
                order[b] += 1
                d = ndimage.gaussian_filter(hu, sigma, order=order)[idx] * sigma * sigma
                h[:, a, b] = d
                h[:, b, a] = d
        ev = np.linalg.eigvalsh(h)  # ascending
        bright = np.maximum(0, -ev[:, 2])  # all negative: a bright blob
        dark = np.maximum(0, ev[:, 0])  # all positive: a dark blob
        for v in (bright, dark):
            out += [v.max(), np.quantile(v, 0.999)]
            out += [np.log1p((v > t).sum()) for t in BLOB_THRESHOLDS]
    return np.array(out)


def features(hu, organ, crop):
    sp = np.prod(crop["spacingMm"])
    shell = ndimage.binary_dilation(organ, iterations=3) & ~organ
    ext = np.array(crop["boxMaxLps"]) - np.array(crop["boxMinLps"])
    return np.concatenate([region_stats(hu, organ), region_stats(hu, shell), focal_stats(hu, organ),
                           [np.log(organ.sum() * sp + 1)], ext])


def load(data, organs):
    """Features per crop: dict organ -> list of (case key, crop truth, feature vector)."""
    rows = {o: [] for o in organs}
    cases = sorted(glob.glob(os.path.join(data, "*", "case-*")))
    t0 = time.time()
    for n, case in enumerate(cases):
        truth = json.load(open(os.path.join(case, "truth.json")))
        key = truth["seed"]
        for crop in truth["crops"]:
            if crop["organ"] not in organs:
                continue
            hu = np.load(os.path.join(case, crop["name"] + ".hu.npy")).astype(np.float32)
            organ = np.load(os.path.join(case, crop["name"] + ".organ.npy")) >= 128
            rows[crop["organ"]].append((key, crop, features(hu, organ, crop)))
        if n % 100 == 0:
            print(f"  features: {n}/{len(cases)} cases, {time.time() - t0:.0f} s", file=sys.stderr)
    return rows


def cv_scores(x, y, groups, model, folds=5):
    """Out-of-fold scores, folds by case (seed mod folds)."""
    s = np.zeros(len(y))
    for f in range(folds):
        test = groups % folds == f
        if y[~test].min() == y[~test].max():
            s[test] = 0.5
            continue
        m = model()
        m.fit(x[~test], y[~test])
        s[test] = m.predict_proba(x[test])[:, 1]
    return s


def logistic():
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))


def trees():
    return HistGradientBoostingClassifier(max_iter=150, learning_rate=0.08, max_leaf_nodes=15, l2_regularization=1.0,
                                          random_state=0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder with train-*/ and val-*/ crop sets (generate-crops.sh)")
    ap.add_argument("--findings", nargs="*", default=FINDINGS)
    args = ap.parse_args()
    t0 = time.time()
    organs = sorted({ORGAN[f] for f in args.findings})
    rows = load(args.data, organs)
    print(f"oracle on {args.data}: {sum(len(r) for r in rows.values())} crops, "
          f"features {time.time() - t0:.0f} s")
    print()
    print("| finding | organ | crop spacing mm | crops pos/neg | AUC logistic | AUC trees |")
    print("|---|---|---|---|---|---|")
    per_size = []
    for f in args.findings:
        o = ORGAN[f]
        r = rows[o]
        x = np.array([z[2] for z in r])
        y = np.array([any(q["id"] == f for q in z[1]["findings"]) for z in r], dtype=int)
        groups = np.array([z[0] for z in r])
        sizes = np.array([next((q["sizeMm"] for q in z[1]["findings"] if q["id"] == f), 0.0) for z in r])
        sp = r[0][1]["spacingMm"]
        s_lr = cv_scores(x, y, groups, logistic)
        s_gb = cv_scores(x, y, groups, trees)
        a_lr = roc_auc_score(y, s_lr)
        a_gb = roc_auc_score(y, s_gb)
        print(f"| {f} | {o} | {sp[0]:g} x {sp[1]:g} x {sp[2]:g} | {y.sum()}/{(1 - y).sum()} | {a_lr:.3f} | {a_gb:.3f} |")
        if f in MIN_SIZE:
            best = s_gb if a_gb >= a_lr else s_lr
            two = 2 * max(sp)
            neg = best[y == 0]
            for lo, hi, label in ((0, two, f"< {two:g} mm (under 2 voxels)"), (two, 1e9, f">= {two:g} mm")):
                pos = best[(y == 1) & (sizes >= lo) & (sizes < hi)]
                if len(pos) == 0:
                    per_size.append((f, label, 0, float("nan")))
                    continue
                auc = roc_auc_score(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg])
                per_size.append((f, label, len(pos), auc))
        sys.stdout.flush()
    print()
    print("Out-of-fold AUC of the better classifier by lesion size (largest lesion of the crop) vs all negatives:")
    print()
    print("| finding | lesion size | positives | AUC |")
    print("|---|---|---|---|")
    for f, label, n, auc in per_size:
        print(f"| {f} | {label} | {n} | {auc:.3f} |")
    print()
    print(f"oracle: {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
