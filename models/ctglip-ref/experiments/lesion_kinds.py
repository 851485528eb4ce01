#!/usr/bin/python3
"""Run O (issue 12): a lesion detector's validation AUC per kind of lesion. lesion_detector.py --scores gives
per-case peaks; this splits the positive cases by the kind the generator wrote in truth.json's description of
their largest lesion (for nodules: solid, ground-glass, faint ground-glass) and by size (under / at least
--split-mm), each against all negative cases.

Usage: lesion_kinds.py --crops WORK/lesion-SPEC --scores SCORES.json --finding pulmonary_nodule [--split-mm 8]
"""
import argparse
import collections
import glob
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from train import auc  # noqa: E402

KINDS = [('faint ground-glass', 'faint ground-glass'), ('ground-glass', 'ground-glass'), ('', 'solid')]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--crops', required=True, help='the lesion-run.sh folder (its val-* cases have truth.json)')
    ap.add_argument('--scores', required=True)
    ap.add_argument('--finding', required=True)
    ap.add_argument('--split-mm', type=float, default=8.0)
    a = ap.parse_args()
    s = json.load(open(a.scores))
    k = s['findings'].index(a.finding)
    truth = {}
    for p in glob.glob(os.path.join(a.crops, 'val-*', 'case-*', 'truth.json')):
        t = json.load(open(p))
        truth[t['seed']] = t
    mode = 'coarse lattice + errors'
    neg = [c[mode][k] for c in s['cases'] if c['positive'][k] == 0]
    groups = collections.defaultdict(list)
    for c in s['cases']:
        if c['positive'][k] != 1:
            continue
        f = max((f for f in truth[c['seed']]['findings'] if f['id'] == a.finding), key=lambda f: f['sizeMm'])
        kind = next(name for key, name in KINDS if key in f['description'])
        size = f'>= {a.split_mm:g} mm' if f['sizeMm'] >= a.split_mm else f'< {a.split_mm:g} mm'
        for g in ('all', kind, f'all {size}', f'{kind} {size}'):
            groups[g].append(c[mode][k])
    print(f'| {a.finding} | positives | AUC against {len(neg)} negatives | median peak |')
    print('|---|---|---|---|')
    for g, v in sorted(groups.items()):
        print(f'| {g} | {len(v)} | {auc(np.r_[v, neg], np.r_[np.ones(len(v)), np.zeros(len(neg))]):.3f} | '
              f'{np.median(v):.4f} |')
    print(f'| negatives | {len(neg)} | | {np.median(neg):.4f} |')


if __name__ == '__main__':
    main()
