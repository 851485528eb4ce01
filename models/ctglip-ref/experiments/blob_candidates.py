#!/usr/bin/python3
"""Run P, design D (issue 12, nodules): candidates from a multi-scale Hessian dot filter (Li, Sone and Doi 2003, scipy's
Gaussian derivatives) on 1.5 mm lung crops (generate --training-crops organ-crops-lung-1.5mm.json) instead of the 3 mm
detector's peaks: the recall of the true nodules among the top K local maxima (5 x 5 x 5) per lung, and the case
AUC of the largest value alone. dot_filter.py is the form the engine serves (central differences of the smoothed crop).

Usage: blob_candidates.py --crops WORK/lung15/val-* [--clip-high -400] [--sigmas 1.5 2.5 4 6] [--k 64] [--points P.json]
       (log: logs/run-p-blob-recall.log)
"""
import argparse, collections, glob, json, os, sys, time
import numpy as np, scipy.ndimage as ndi
HERE = os.path.dirname(os.path.abspath(__file__)); sys.path.insert(0, os.path.dirname(HERE))
import train_crops as tc

ap = argparse.ArgumentParser()
ap.add_argument('--crops', nargs='+', required=True); ap.add_argument('--radius', type=float, default=10.0)
ap.add_argument('--sigmas', type=float, nargs='+', default=[1.5, 2.5, 4.0], help='mm')
ap.add_argument('--floor', type=float, default=-750, help='HU below which a voxel is no candidate')
ap.add_argument('--points'); ap.add_argument('--k', type=int, default=32); ap.add_argument('--max-cases', type=int, default=10**6)
ap.add_argument('--clip-high', type=float, default=200, help='HU clip of the filter input (upper)')
a = ap.parse_args()

def dot(hu, mask, s):
    best = np.zeros(hu.shape, np.float32)
    h = np.clip(hu, -1000, a.clip_high).astype(np.float32)
    sel = mask & (hu > a.floor)
    for sig in a.sigmas:
        sv = sig / s
        H = {}
        for (i, j) in [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]:
            order = [0, 0, 0]; order[i] += 1; order[j] += 1
            H[(i, j)] = ndi.gaussian_filter(h, sv, order=order)[sel] * sv * sv
        M = np.empty((sel.sum(), 3, 3), np.float32)
        for (i, j), v in H.items():
            M[:, i, j] = v; M[:, j, i] = v
        lam = np.linalg.eigvalsh(M)          # ascending: l0 <= l1 <= l2
        l0, l2 = lam[:, 0], lam[:, 2]
        d = np.where(l2 < 0, l2 * l2 / np.maximum(-l0, 1e-6), 0).astype(np.float32)
        cur = best[sel]; best[sel] = np.maximum(cur, d)
    return best

t0 = time.time(); rows = []; points = {}; n = 0; top = {}; present = {}
def crops(dirs):
    for d in dirs:
        for case in sorted(glob.glob(os.path.join(d, 'case-*'))):
            if os.path.exists(os.path.join(case, 'truth.json')):
                t = json.load(open(os.path.join(case, 'truth.json')))
                for c in t['crops']: yield case, c, t['seed']
for case, crop, seed in crops(a.crops):
    if crop['organ'] != 'lung': continue
    n += 1
    if n > a.max_cases: break
    hu = np.load(os.path.join(case, crop['name'] + '.hu.npy')).astype(np.float32)
    m = np.load(os.path.join(case, crop['name'] + '.organ.npy')) > 127
    m = ndi.binary_dilation(m, iterations=2)
    s = crop['spacingMm'][0]
    d = dot(hu, m, s)
    peaks = (d == ndi.maximum_filter(d, size=5)) & (d > 0)
    idx = np.argwhere(peaks); val = d[peaks]
    order = np.argsort(-val); idx, val = idx[order], val[order]
    lps = np.array(crop['originLps']) + idx[:, ::-1] * s
    t = json.load(open(os.path.join(case, 'truth.json')))
    points.setdefault(str(seed), []).extend({'side': crop['side'], 'lps': [round(float(v), 2) for v in q]} for q in lps[:a.k])
    nods = [f for f in t['findings'] if f['id'] == 'pulmonary_nodule' and f['side'] == crop['side']]
    top[seed] = max(top.get(seed, 0.0), float(val[0]) if len(val) else 0.0)
    present[seed] = present.get(seed, False) or any(f['id'] == 'pulmonary_nodule' for f in t['findings'])
    for f in nods:
        dist = np.linalg.norm(lps - np.array(f['centreLpsMm']), axis=1) if len(lps) else np.array([])
        hit = np.nonzero(dist <= a.radius)[0]
        rows.append({'seed': seed, 'size': f['sizeMm'], 'desc': f['description'], 'rank': int(hit[0]) + 1 if len(hit) else None})
    if not nods: rows.append({'negative': True, 'npeaks': len(val)})
print(f'{n} lung crops in {time.time() - t0:.0f} s')
pos = [r for r in rows if 'negative' not in r]
kind = lambda r: 'faint gg' if 'faint' in r['desc'] else ('gg' if 'ground-glass' in r['desc'] else 'solid')
groups = collections.defaultdict(list)
for r in pos:
    groups['all'].append(r); groups[kind(r)].append(r); groups['<6 mm' if r['size'] < 6 else ('6-8 mm' if r['size'] < 8 else '>=8 mm')].append(r)
print(f'{len(pos)} nodules; sigmas {a.sigmas} mm, floor {a.floor} HU, clip {a.clip_high} HU')
print('| group | n | top1 | top8 | top16 | top32 | top64 | top128 | any |')
print('|---|---|---|---|---|---|---|---|---|')
for g, v in sorted(groups.items()):
    f = lambda k: sum(1 for r in v if r['rank'] and r['rank'] <= k) / len(v)
    print(f'| {g} | {len(v)} | {f(1):.2f} | {f(8):.2f} | {f(16):.2f} | {f(32):.2f} | {f(64):.2f} | {f(128):.2f} | {f(10**9):.2f} |')
if a.points: json.dump(points, open(a.points, 'w'))
from train import auc
sd = sorted(top)
print(f'case AUC of the top dot value alone: {auc([top[x] for x in sd], [present[x] for x in sd]):.3f} '
      f'({sum(present.values())} with a nodule, {len(sd) - sum(present.values())} without)')
