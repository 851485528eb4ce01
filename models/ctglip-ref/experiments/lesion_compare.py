#!/usr/bin/python3
"""Run L's figures from lesion_detector.py's per-case scores (--scores S): the AUC against negatives without any
lesion of the organ, by lesion size, and, with --served M (the --margins file of `ct-triage evaluate` on seeds
that the validation shares), the detector against the served package's scorers on the same phantoms.

Usage: lesion_compare.py S [--served M]
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from train import auc  # noqa: E402

MODE = 'coarse lattice + errors'
BANDS = ((0, 10), (10, 20), (20, 35), (35, 1000))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('scores')
    ap.add_argument('--served')
    a = ap.parse_args()
    d = json.load(open(a.scores))
    cs = d['cases']
    pos = np.array([c['positive'] for c in cs])
    sc = np.array([c[MODE] for c in cs])
    sz = np.array([c['sizeMm'] for c in cs])
    free = pos.max(1) == 0
    for k, f in enumerate(d['findings']):
        keep = (pos[:, k] > 0) | free
        line = f'{f}: {auc(sc[keep, k], pos[keep, k]):.3f} against {int(free.sum())} lesion-free cases; by size:'
        for lo, hi in BANDS:
            sel = (pos[:, k] > 0) & (sz[:, k] >= lo) & (sz[:, k] < hi)
            if sel.sum():
                s = auc(np.r_[sc[sel, k], sc[free, k]], np.r_[np.ones(sel.sum()), np.zeros(free.sum())])
                line += f' {lo}-{hi} mm {s:.3f} ({int(sel.sum())});'
        print(line)
    if a.served:
        served = json.load(open(a.served))
        cases = {c['seed']: c for c in cs}
        seeds = [served['seed'] + i for i in range(served['cases'])]
        for k, f in enumerate(d['findings']):
            s = served['findings'][f]
            y = np.array(s['truth'], float)
            det = np.array([cases[x][MODE][k] for x in seeds])
            assert (y == np.array([cases[x]['positive'][k] for x in seeds])).all(), f
            print(f"{f}, the same {len(seeds)} phantoms ({int(y.sum())} positive): served head peak "
                  f"{auc(np.array(s['headPeak'], float), y):.3f}, served embedding {auc(np.array(s['margin'], float), y):.3f}, "
                  f"coarse stage {auc(np.array(s['coarseMargin'], float), y):.3f}, detector {auc(det, y):.3f}")


if __name__ == '__main__':
    main()
