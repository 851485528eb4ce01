#!/usr/bin/python3
"""Run P (issue 12, the nodules): the multi-scale Hessian dot filter (Li, Sone and Doi 2003) on 1.5 mm lung crops,
the reference of the engine's DotFilters (manifest organCrops.dotFilters).

Per scale sigma (s = sigma / spacing voxels): the footprint-mean HU clipped to --clip is smoothed by a Gaussian of s
(scipy.ndimage.gaussian_filter: truncated at 4 s, mode reflect), its Hessian taken by central differences (mirrored
faces) and scaled by s^2; with eigenvalues l0 <= l1 <= l2 the dot value is l2^2 / |l0| where l2 < 0 (all three
negative: a bright blob; a vessel, a tube, has one eigenvalue near 0), else 0; a voxel's value is the largest over
the scales. Score of a crop: the largest value over the organ mask (fraction >= 0.5) dilated by two voxels
(6-connected) where the HU exceeds --floor; its point that voxel. Per case the larger lung.

Modes:
  dot_filter.py --crops DIR... [--out SCORES.json]   validation on crops of generate --training-crops with
      experiments/organ-crops-lung-1.5mm.json: case AUC and location per nodule kind and size
  dot_filter.py --fixture FILE   the train/serve parity fixture of core's DotFiltersTest (an analytic crop)
Design variants measured (MODEL_CARD.md of ctglip-ref, run P): --coarse-from 4 runs the scales of 4 mm and more on
the crop averaged 2 x 2 x 2 (cheaper, ranks worse).

The second look (run Q, experiments/second_look.py) takes the filter's candidates instead of its maximum:
candidates() and patches() here are the reference of the engine's DotFilters.peaks and DotFilters.patches.
"""
import argparse
import collections
import glob
import json
import os
import sys
import time

import numpy as np
import scipy.ndimage as ndi

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from train import auc  # noqa: E402

SIGMAS_MM = [1.5, 2.5, 4.0, 6.0]
CLIP_HU = [-1000.0, -400.0]
FLOOR_HU = -750.0
DILATE = 2


def region(hu, fraction, dilate=DILATE, floor=FLOOR_HU):
    """The candidate voxels: the mask (fraction >= 0.5) dilated by ``dilate`` 6-connected steps, above the floor."""
    m = fraction >= 0.5
    if dilate:
        m = ndi.binary_dilation(m, iterations=dilate)
    return m & (hu > floor)


def hessian(g):
    """Central-difference Hessian of ``g`` [z, y, x] with mirrored faces: {(i, j): array}, axes z=0, y=1, x=2."""
    p = np.pad(g, 1, mode='symmetric')

    def sh(o):
        return p[1 + o[0]: p.shape[0] - 1 + o[0], 1 + o[1]: p.shape[1] - 1 + o[1], 1 + o[2]: p.shape[2] - 1 + o[2]]
    c = sh((0, 0, 0))
    out = {}
    for a in range(3):
        e = [0, 0, 0]
        e[a] = 1
        out[(a, a)] = sh(e) - 2 * c + sh([-v for v in e])
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        def off(si, sj):
            o = [0, 0, 0]
            o[i], o[j] = si, sj
            return sh(o)
        out[(i, j)] = (off(1, 1) - off(1, -1) - off(-1, 1) + off(-1, -1)) / 4
    return out


def dot(hu, sel, sigmas_vox, clip=CLIP_HU):
    """The dot value of every voxel of ``sel`` (0 elsewhere), the largest over the scales (in voxels). Only the
    voxels whose Hessian is negative definite (Sylvester: its leading minors alternate in sign, as DotFilters tests)
    go to the eigensolver: the others have an eigenvalue of at least 0, so no dot value."""
    best = np.zeros(hu.shape, np.float64)
    h = np.clip(hu, clip[0], clip[1]).astype(np.float32)
    idx = np.nonzero(sel)
    for sv in sigmas_vox:
        H = {k: v[idx] for k, v in hessian(ndi.gaussian_filter(h, sv, mode='reflect', truncate=4.0)
                                          .astype(np.float64)).items()}
        xx, yy, zz, xy, xz, yz = H[(2, 2)], H[(1, 1)], H[(0, 0)], H[(1, 2)], H[(0, 2)], H[(0, 1)]
        minor2 = xx * yy - xy * xy
        det = xx * (yy * zz - yz * yz) - xy * (xy * zz - yz * xz) + xz * (xy * yz - yy * xz)
        nd = (xx < 0) & (minor2 > 0) & (det < 0)
        M = np.empty((int(nd.sum()), 3, 3), np.float64)
        for (i, j), v in H.items():
            M[:, i, j] = v[nd]
            M[:, j, i] = v[nd]
        lam = np.linalg.eigvalsh(M * sv * sv)
        l0, l2 = lam[:, 0], lam[:, 2]
        d = np.where(l2 < 0, l2 * l2 / np.maximum(-l0, 1e-12), 0)
        sub = tuple(a[nd] for a in idx)
        best[sub] = np.maximum(best[sub], d)
    return best


PEAK_WINDOW = 5
PATCH_CLIP_HU = [-1000.0, 200.0]


def candidates(d, sel, k, window=PEAK_WINDOW):
    """The second look's candidates: voxels of ``sel`` whose dot value is above 0 and the largest of the ``window``
    cube around them (maximum_filter, mode reflect: the cube clamped to the crop), the ``k`` largest (ties: the
    lower [z, y, x] index first). ([n, 3] voxels, [n] values)."""
    peak = (d > 0) & sel & (d == ndi.maximum_filter(d, size=window, mode='reflect'))
    ks = np.argwhere(peak)
    vals = d[peak]
    order = np.argsort(-vals, kind='stable')[:k]
    return ks[order], vals[order]


def patch(hu, k, p):
    """The p^3 patch of ``hu`` [z, y, x] whose voxel p / 2 is ``k``, indices clamped to the crop."""
    r = [np.clip(np.arange(k[a] - p // 2, k[a] + p // 2), 0, hu.shape[a] - 1) for a in range(3)]
    return hu[np.ix_(r[0], r[1], r[2])]


def normalise(hu, clip=PATCH_CLIP_HU):
    """A patch's HU clipped to ``clip`` and mapped onto [-1, 1] (the second look's input)."""
    return ((np.clip(hu, clip[0], clip[1]) - 0.5 * (clip[0] + clip[1])) / (0.5 * (clip[1] - clip[0]))).astype(
        np.float32)


def score(hu, fraction, spacing, sigmas_mm=SIGMAS_MM, clip=CLIP_HU, floor=FLOOR_HU, dilate=DILATE, coarse_from=None):
    """(largest dot value, its voxel [z, y, x] or None; with coarse_from the coarse scales' voxel is on the 2x grid
    and reported as the fine voxel at its centre's lower corner)."""
    sel = region(hu, fraction, dilate, floor)
    if not sel.any():
        return 0.0, None
    fine = [x / spacing for x in sigmas_mm if coarse_from is None or x < coarse_from]
    coarse = [x / (2 * spacing) for x in sigmas_mm if coarse_from is not None and x >= coarse_from]
    best, where = 0.0, None
    if fine:
        d = dot(hu, sel, fine, clip)
        k = np.unravel_index(np.argmax(d), d.shape)
        best, where = float(d[k]), np.array(k, float)
    if coarse:
        zz, yy, xx = [(v // 2) * 2 for v in hu.shape]
        hc = hu[:zz, :yy, :xx].reshape(zz // 2, 2, yy // 2, 2, xx // 2, 2).mean((1, 3, 5))
        sc = sel[:zz, :yy, :xx].reshape(zz // 2, 2, yy // 2, 2, xx // 2, 2).any((1, 3, 5))
        d = dot(hc, sc, coarse, clip)
        k = np.unravel_index(np.argmax(d), d.shape)
        if d[k] > best:
            best, where = float(d[k]), 2 * np.array(k, float) + 0.5
    return best, where


def analytic_crop():
    """The fixture's crop, [z, y, x] of x 24, y 20, z 28 at 1.5 mm: lung at -850 HU with a ripple, a sphere (a
    nodule) and a tube along z (a vessel); the organ mask covers x 2..21 (DotFiltersTest builds the same)."""
    z, y, x = np.meshgrid(np.arange(28), np.arange(20), np.arange(24), indexing='ij')
    hu = -850 + 30 * np.sin(0.7 * x + 0.3 * y + 0.5 * z)
    sphere = (x - 12.3) ** 2 + (y - 9.6) ** 2 + (z - 14.2) ** 2 <= 2.6 ** 2
    tube = (x - 5.0) ** 2 + (y - 5.0) ** 2 <= 1.3 ** 2
    hu = np.where(sphere, 0.0, np.where(tube, 40.0, hu)).astype(np.float32)
    fraction = ((x >= 2) & (x <= 21)).astype(np.float32)
    return hu, fraction


def fixture(path):
    hu, fraction = analytic_crop()
    spacing = 1.5
    sel = region(hu, fraction)
    out = {'spacingMm': spacing, 'sigmasMm': SIGMAS_MM, 'clipHu': CLIP_HU, 'floorHu': FLOOR_HU, 'dilate': DILATE,
           'regionVoxels': int(sel.sum()), 'perScale': []}
    probes = [[14, 10, 12], [14, 5, 5], [3, 17, 20]]  # [z, y, x]: the sphere, the tube, lung
    for s in SIGMAS_MM:
        sv = s / spacing
        g = ndi.gaussian_filter(np.clip(hu, *CLIP_HU).astype(np.float32), sv, mode='reflect', truncate=4.0)
        d = dot(hu, sel, [sv])
        k = np.unravel_index(np.argmax(d), d.shape)
        out['perScale'].append({'sigmaMm': s, 'smoothedAt': {str(p): float(g[tuple(p)]) for p in probes},
                                'dotAt': {str(p): float(d[tuple(p)]) for p in probes},
                                'max': float(d[k]), 'argmaxZyx': [int(v) for v in k]})
    best, where = score(hu, fraction, spacing)
    out['score'] = best
    out['argmaxZyx'] = [int(v) for v in where]
    d = dot(hu, sel, [s / spacing for s in SIGMAS_MM])
    ks, vals = candidates(d, sel, 8)
    first = normalise(patch(hu, ks[0], 16))
    out['secondLook'] = {'peakWindowVoxels': PEAK_WINDOW, 'k': 8, 'patchVoxels': 16, 'clipHu': PATCH_CLIP_HU,
                         'candidatesZyx': ks.tolist(), 'values': vals.tolist(),
                         'firstPatchAt': {str(p): float(first[tuple(p)]) for p in [[0, 0, 0], [8, 8, 8], [3, 9, 14],
                                                                                  [15, 15, 15], [8, 2, 11]]}}
    json.dump(out, open(path, 'w'), indent=1)
    print(json.dumps(out, indent=1))


def crops(dirs):
    for d in dirs:
        for case in sorted(glob.glob(os.path.join(d, 'case-*'))):
            if os.path.exists(os.path.join(case, 'truth.json')):
                t = json.load(open(os.path.join(case, 'truth.json')))
                for c in t['crops']:
                    yield case, c, t


def describe(f):
    """A nodule's kind and size group (the model card's tables): its description's density and its diameter."""
    kind = 'faint gg' if 'faint' in f['description'] else ('gg' if 'ground-glass' in f['description'] else 'solid')
    size = '< 6 mm' if f['sizeMm'] < 6 else ('6-8 mm' if f['sizeMm'] < 8 else '>= 8 mm')
    return kind, size


def report(name, cases):
    """Prints the case AUC of cases (dicts: score, where: the LPS mm point or None, truth: 0 or 1, nodules: the truth's
    nodule findings) and, per kind and size of a positive case's largest nodule, the AUC against all negatives and
    how many were located (the point within 10 mm of a nodule centre)."""
    sc = np.array([c['score'] for c in cases])
    lab = np.array([c['truth'] for c in cases])
    neg = sc[lab == 0]
    groups, hits = collections.defaultdict(list), collections.defaultdict(int)
    for c in cases:
        if not c['truth']:
            continue
        hit = c['where'] is not None and min(np.linalg.norm(np.subtract(g['centreLpsMm'], c['where']))
                                             for g in c['nodules']) <= 10.0
        for g in ('all',) + describe(max(c['nodules'], key=lambda f: f['sizeMm'])):
            groups[g].append(c['score'])
            hits[g] += hit
    print(f'## {name}: case AUC {auc(sc, lab):.3f} ({lab.sum()} with a nodule / {len(lab) - lab.sum()} without)')
    print('| group | positives | AUC against all negatives | located within 10 mm |')
    print('|---|---|---|---|')
    for g, v in sorted(groups.items()):
        print(f'| {g} | {len(v)} | {auc(np.r_[v, neg], np.r_[np.ones(len(v)), np.zeros(len(neg))]):.3f} | '
              f'{hits[g]}/{len(v)} |')


def validate(a):
    t0, per, n = time.time(), {}, 0
    for case, crop, t in crops(a.crops):
        if crop['organ'] != 'lung':
            continue
        n += 1
        hu = np.load(os.path.join(case, crop['name'] + '.hu.npy')).astype(np.float32)
        fraction = np.load(os.path.join(case, crop['name'] + '.organ.npy')).astype(np.float32) / 255.0
        s = crop['spacingMm'][0]
        best, k = score(hu, fraction, s, a.sigmas, a.clip, a.floor, DILATE, a.coarse_from)
        where = None if k is None else (np.array(crop['originLps']) + k[::-1] * s).tolist()
        nods = [f for f in t['findings'] if f['id'] == 'pulmonary_nodule']
        prev = per.get(t['seed'])
        if prev is None or best > prev['score']:
            per[t['seed']] = {'score': best, 'where': where, 'truth': 1 if nods else 0, 'nodules': nods}
    print(f'{n} lung crops in {time.time() - t0:.0f} s; sigmas {a.sigmas} mm (coarse from {a.coarse_from}), '
          f'floor {a.floor}, clip {a.clip}')
    report('the dot filter (its largest value over the lungs)', [per[x] for x in sorted(per)])
    if a.out:
        json.dump({str(k): v for k, v in per.items()}, open(a.out, 'w'))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--crops', nargs='+')
    ap.add_argument('--fixture')
    ap.add_argument('--sigmas', type=float, nargs='+', default=SIGMAS_MM, help='mm')
    ap.add_argument('--coarse-from', type=float, default=None)
    ap.add_argument('--floor', type=float, default=FLOOR_HU)
    ap.add_argument('--clip', type=float, nargs=2, default=CLIP_HU)
    ap.add_argument('--out')
    a = ap.parse_args()
    if a.fixture:
        fixture(a.fixture)
    elif a.crops:
        validate(a)
    else:
        ap.error('--crops or --fixture')


if __name__ == '__main__':
    main()
