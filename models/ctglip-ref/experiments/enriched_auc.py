"""A rare finding's AUC on an enriched set (issue 12): among 200 random phantoms a finding of 5 % prevalence has about
ten positives, too few to rank it (one case moves the AUC by 0.01-0.02, a 95 % interval spans about 0.3). So rank
the margins of an enriched evaluation, where the finding was inserted in every phantom
(`ct-triage evaluate --findings ID --margins ENRICHED.json`, seeds never trained on), against the negatives of a
random evaluation (`evaluate --margins RANDOM.json`), with DeLong's 95 % interval (as `evaluate --json` reports
it). Also prints the random evaluation's own AUC with its interval. `package_v2.py compare --enriched` puts the same
figures in the package's card.

Usage: enriched_auc.py --finding pancreatic_mass --random RANDOM.json --enriched ENRICHED.json [--key margin]
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from train import auc_against  # noqa: E402


def split(path, finding, key):
    f = json.load(open(path))['findings'][finding]
    v = np.array([np.nan if x is None else x for x in f[key]], dtype=float)
    t = np.array(f['truth'], dtype=bool)
    return v[t], v[~t]


def line(name, pos, neg):
    a, lo, hi = auc_against(pos, neg)
    print(f'{name}: AUC {a:.3f} (95 % interval {lo:.3f}-{hi:.3f}), {len(pos)} positives, {len(neg)} negatives')
    return a


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--finding', required=True)
    ap.add_argument('--random', required=True, help='margins of a random evaluation (its negatives, its own AUC)')
    ap.add_argument('--enriched', required=True, nargs='+', help='margins of evaluations with the finding inserted')
    ap.add_argument('--key', default='margin', help='the margin to rank (margin, detectorPeak, headPeak, ...)')
    a = ap.parse_args()
    pos_r, neg = split(a.random, a.finding, a.key)
    line('random evaluation alone', pos_r, neg)
    pos_e = []
    for path in a.enriched:
        p, n = split(path, a.finding, a.key)
        if len(n):
            sys.exit(f'{path}: {len(n)} cases without {a.finding}: not an enriched evaluation of it')
        pos_e.append(p)
    pos_e = np.concatenate(pos_e)
    line('enriched positives against the random negatives', pos_e, neg)
    line('both sets of positives against the random negatives', np.r_[pos_r, pos_e], neg)


if __name__ == '__main__':
    main()
