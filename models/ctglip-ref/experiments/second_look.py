#!/usr/bin/python3
"""Run Q (issue 12, the nodules): a second look at the dot filter's candidates (manifest organCrops.dotFilters
<organ>.secondLook, the engine's DotFilters).

The dot filter (dot_filter.py, run P) tells a blob from a tube, but its largest value over a lung is as often a
vessels' crossing or branching as a nodule. Here the filter only proposes: its K largest local maxima per lung crop
(dot_filter.candidates), and a small 3D CNN looks at the 16^3 patch of the 1.5 mm crop around each
(dot_filter.patch, dot_filter.normalise). A case's score is the largest logit over its candidates, what serving has.

  second_look.py candidates --crops DIR... --out CANDS [--k 64] [--workers 2]
      per case of generate --training-crops experiments/organ-crops-lung-1.5mm.json, the candidates with their
      patches and labels, one .npz each: a candidate is a nodule's when it lies within max(size / 2 + 1.5 mm, 3 mm)
      of a nodule centre of its side; also the patch at each nodule's centre (a positive that does not depend on
      the filter).
      With --hu/--organ, other files of the crops (evaluate --crop-dump's served crops and the training path's
      rendering of the same grids); with --coarse-mask-mm, the true mask made blocky as a coarse stage's.
      With --propose-factor m, the candidates of the filter on the crop m times coarser (the engine's 3 mm lung
      grid for m = 2: the crop's m^3 block means), each moved within --refine-voxels onto its blob by the 1.5 mm
      filter's --refine-sigmas-mm (DotFilters.finePatches), the patches still cut from this crop.
  second_look.py train --train CANDS... --val CANDS... [--k 32] [--minutes 10] --checkpoint OUT.pt
      trains the CNN (negatives: candidates farther than 10 mm from every nodule; positives: candidates on a nodule
      and the centres' patches, a quarter of each batch; flips and axis permutations, the crop being isotropic) and
      prints the validation case AUC of the filter alone and of the second look, per nodule kind and size, with the
      location rate (within 10 mm of a nodule centre).
  second_look.py validate --checkpoint OUT.pt --val CANDS... [--k 32]
      the same validation figures for a trained checkpoint (e.g. on candidates of the evaluation's unseen seeds, to
      tell the CNN's generalisation from the serving path's differences).
"""
import argparse
import glob
import json
import os
import sys
import time
from multiprocessing import Pool

import numpy as np
import scipy.ndimage as ndi
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import dot_filter as df  # noqa: E402
from train import auc  # noqa: E402

PATCH = 16


def case_candidates(job):
    """One case's candidates (see the module's doc): writes OUT/<parent>-<case>.npz, patches int16 [n, P, P, P] and
    meta (json: seed, truth, nodules, per candidate side, source, rank, dot, zyx, lps, label, dist, size; proposal:
    --propose-factor and its refinement, or null)."""
    case, out, k, coarse_mm, hu_file, organ_file, propose = job
    dst = os.path.join(out, os.path.basename(os.path.dirname(case)) + '-' + os.path.basename(case) + '.npz')
    if os.path.exists(dst):
        return dst
    t = json.load(open(os.path.join(case, 'truth.json')))
    nods = [f for f in t['findings'] if f['id'] == 'pulmonary_nodule']
    patches, meta = [], []
    for c in t['crops']:
        if c['organ'] != 'lung':
            continue
        hu = np.load(os.path.join(case, c['name'] + f'.{hu_file}.npy')).astype(np.float32)
        fraction = np.load(os.path.join(case, c['name'] + f'.{organ_file}.npy')).astype(np.float32) / 255.0
        s = c['spacingMm'][0]
        if coarse_mm:
            fraction = coarse_mask(fraction, s / coarse_mm)
        d = None  # this crop's own filter: not run when the candidates are proposed on a coarser crop
        if propose:
            ks, vals = proposed(hu, fraction, s, k, *propose)
        else:
            sel = df.region(hu, fraction)
            d = df.dot(hu, sel, [x / s for x in df.SIGMAS_MM])
            ks, vals = df.candidates(d, sel, k)
        origin = np.array(c['originLps'])
        mine = [f for f in nods if f['side'] == c['side']]
        for rank, (v, value) in enumerate(zip(ks, vals)):
            lps = origin + v[::-1] * s
            dist = [np.linalg.norm(np.subtract(f['centreLpsMm'], lps)) for f in mine]
            near = [f for f, r in zip(mine, dist) if r <= max(f['sizeMm'] / 2 + 1.5, 3.0)]
            patches.append(df.patch(hu, v, PATCH).astype(np.int16))
            meta.append({'side': c['side'], 'source': 'candidate', 'rank': rank, 'dot': float(value),
                         'zyx': v.tolist(), 'lps': lps.tolist(), 'label': 1 if near else 0,
                         'dist': float(min(dist, default=1e9)), 'size': max([f['sizeMm'] for f in near], default=0.0)})
        for f in mine:
            v = np.round((np.array(f['centreLpsMm']) - origin) / s).astype(int)[::-1]
            if np.all(v >= 0) and np.all(v < np.array(hu.shape)):
                patches.append(df.patch(hu, v, PATCH).astype(np.int16))
                meta.append({'side': c['side'], 'source': 'nodule', 'rank': -1,
                             'dot': 0.0 if d is None else float(d[tuple(v)]),
                             'zyx': v.tolist(), 'lps': f['centreLpsMm'], 'label': 1, 'dist': 0.0, 'size': f['sizeMm']})
    np.savez(dst, patches=np.array(patches, np.int16).reshape(-1, PATCH, PATCH, PATCH),
             meta=json.dumps({'seed': t['seed'], 'truth': 1 if nods else 0, 'nodules': nods, 'candidates': meta,
                              'proposal': dict(zip(('factor', 'peakWindowVoxels', 'refineVoxels', 'refineSigmasMm'),
                                                   propose)) if propose else None}))
    return dst


def proposed(hu, fraction, s, k, m, window, r, sigmas_mm):
    """The candidates of a filter on a crop m times coarser than this one (the engine's DotFilters with
    secondLook.patchSpacingMm, manifest spacingMm m s): the filter on the crop's m^3 block means (HU and mask fraction:
    close to the coarse crop of the same box, whose voxel i covers this crop's voxels m i .. m i + m - 1, which the
    engine samples on its own footprint and masks from its coarse stage), its k largest maxima
    of a ``window`` cube, each moved within r voxels of its block (m i - r .. m i + m - 1 + r) onto the largest dot
    value of this crop at ``sigmas_mm`` or, where none is above 0 or without them, onto the largest patch-clipped HU
    smoothed by one voxel (DotFilters.finePatches). ([n, 3] voxels of this crop, [n] the coarse dot values)."""
    n = np.array(hu.shape) // m

    def blocks(a):
        a = a[:n[0] * m, :n[1] * m, :n[2] * m]
        return a.reshape(n[0], m, n[1], m, n[2], m).mean((1, 3, 5))
    hc = blocks(hu)
    sel = df.region(hc, blocks(fraction))
    ks, vals = df.candidates(df.dot(hc, sel, [x / (s * m) for x in df.SIGMAS_MM]), sel, k, window)
    lo = np.clip(ks * m - r, 0, None)
    hi = np.minimum(ks * m + m - 1 + r, np.array(hu.shape) - 1)
    near = np.zeros(hu.shape, bool)
    for a, b in zip(lo, hi):
        near[a[0]:b[0] + 1, a[1]:b[1] + 1, a[2]:b[2] + 1] = True
    fine = df.dot(hu, near, [x / s for x in sigmas_mm]) if sigmas_mm else None
    bright = None  # smoothed only when some window has no dot value above 0
    out = []
    for a, b in zip(lo, hi):
        box = tuple(slice(a[i], b[i] + 1) for i in range(3))
        if fine is not None and fine[box].max() > 0:
            w = fine[box]
        else:
            if bright is None:
                bright = ndi.gaussian_filter(np.clip(hu, *df.PATCH_CLIP_HU), 1.0, mode='reflect', truncate=4.0)
            w = bright[box]
        out.append(a + np.array(np.unravel_index(np.argmax(w), w.shape)))
    return np.array(out, int).reshape(-1, 3), vals


def coarse_mask(fraction, f):
    """The organ mask as a coarse stage of 1 / f times the crop's spacing would give it: the fraction averaged over the
    coarse lattice's cells (fine voxel i in cell floor(i * f)), thresholded at 0.5 and read back on the crop's
    voxels, 0 or 1."""
    idx = [np.floor(np.arange(n) * f).astype(int) for n in fraction.shape]
    m = fraction
    for ax, i in enumerate(idx):
        starts = np.r_[0, np.nonzero(np.diff(i))[0] + 1]
        m = np.add.reduceat(m, starts, axis=ax) / np.diff(np.r_[starts, len(i)]).reshape(
            [-1 if a == ax else 1 for a in range(3)])
    return (m >= 0.5)[np.ix_(*idx)].astype(np.float32)


def candidates(a):
    os.makedirs(a.out, exist_ok=True)
    propose = (a.propose_factor, a.peak_window, a.refine_voxels, a.refine_sigmas_mm) if a.propose_factor else None
    jobs = [(c, a.out, a.k, a.coarse_mask_mm, a.hu, a.organ, propose)
            for d in a.crops for c in sorted(glob.glob(os.path.join(d, 'case-*')))
            if os.path.exists(os.path.join(c, 'truth.json'))]
    t0 = time.time()
    with Pool(a.workers) as p:
        for i, _ in enumerate(p.imap_unordered(case_candidates, jobs)):
            if i % 50 == 0:
                print(f'{i + 1}/{len(jobs)} {time.time() - t0:.0f} s', flush=True)
    print(f'{len(jobs)} cases in {time.time() - t0:.0f} s')


def load(files, k):
    """The patches of the candidates ranked below k and of the nodule centres, their meta and the cases."""
    X, meta, cases = [], [], []
    for f in files:
        z = np.load(f)
        m = json.loads(str(z['meta']))
        keep = [i for i, c in enumerate(m['candidates']) if c['rank'] < k]
        X.append(z['patches'][keep])
        for i in keep:
            c = dict(m['candidates'][i])
            c['case'] = len(cases)
            meta.append(c)
        cases.append(m)
    return np.concatenate(X), meta, cases


class Net(nn.Module):
    """Five 3^3 convolutions (batch normalisation, ReLU; two of stride 2: 16^3 -> 4^3), the mean and the maximum of
    the last map, one linear logit."""

    def __init__(self, width=8):
        super().__init__()

        def block(i, o, s):
            return [nn.Conv3d(i, o, 3, s, 1, bias=False), nn.BatchNorm3d(o), nn.ReLU(inplace=True)]
        w = width
        self.f = nn.Sequential(*block(1, w, 1), *block(w, 2 * w, 2), *block(2 * w, 4 * w, 1), *block(4 * w, 4 * w, 2),
                               *block(4 * w, 8 * w, 1))
        self.head = nn.Linear(16 * w, 1)

    def forward(self, patch):
        h = self.f(patch)
        return self.head(torch.cat([h.mean((2, 3, 4)), h.amax((2, 3, 4))], 1))[:, 0]


def augment(x, rng):
    """Random flips of the three axes and a random order of them ([n, 1, z, y, x]; the crop is isotropic)."""
    for a in (2, 3, 4):
        if rng.rand() < 0.5:
            x = torch.flip(x, (a,))
    return x.permute(0, 1, *(rng.permutation(3) + 2))


def per_case(meta, cases, values):
    """Each case's largest value over its candidates and that candidate's point (LPS mm)."""
    score = [-1e9] * len(cases)
    where = [None] * len(cases)
    for c, v in zip(meta, values):
        if c['source'] == 'candidate' and v > score[c['case']]:
            score[c['case']] = float(v)
            where[c['case']] = c['lps']
    return score, where


def report(name, cases, score, where):
    df.report(name, [{'score': s, 'where': w, 'truth': c['truth'], 'nodules': c['nodules']}
                     for c, s, w in zip(cases, score, where)])


def train(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.RandomState(a.seed)
    files = sorted(f for d in a.train for f in glob.glob(os.path.join(d, '*.npz')))
    Xt, mt, ct = load(files, a.k)
    yt = np.array([c['label'] for c in mt], np.float32)
    use = np.array([c['label'] == 1 or c['dist'] > 10.0 for c in mt])
    pos = np.nonzero(use & (yt == 1))[0]
    neg = np.nonzero(use & (yt == 0))[0]
    print(f'train: {len(ct)} cases, {len(pos)} positive patches ({sum(mt[i]["source"] == "nodule" for i in pos)} at '
          f'nodule centres), {len(neg)} negative', flush=True)
    Xt = torch.from_numpy(df.normalise(Xt.astype(np.float32))[:, None])
    net = Net(a.width)
    opt = torch.optim.AdamW(net.parameters(), a.lr, weight_decay=1e-4)
    lossf = nn.BCEWithLogitsLoss()
    t0, step, total = time.time(), 0, a.minutes * 60
    while time.time() - t0 < total:
        for g in opt.param_groups:  # cosine over the wall-clock budget
            g['lr'] = a.lr * 0.5 * (1 + np.cos(np.pi * min((time.time() - t0) / total, 1)))
        idx = np.r_[rng.choice(pos, a.batch // 4), rng.choice(neg, a.batch - a.batch // 4)]
        net.train()
        loss = lossf(net(augment(Xt[idx], rng)), torch.from_numpy(yt[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 200 == 0:
            print(f'step {step} {time.time() - t0:.0f} s loss {loss.item():.3f}', flush=True)
    print(f'{step} steps in {time.time() - t0:.0f} s')
    proposal = ct[0].get('proposal')  # how the candidates were proposed (candidates --propose-factor), or None
    if any(c.get('proposal') != proposal for c in ct):
        sys.exit('the training candidates were proposed in different ways (candidates --propose-factor): the '
                 'checkpoint would describe only some of them')
    torch.save({'state': net.state_dict(), 'width': a.width, 'patchVoxels': PATCH, 'candidates': a.k,
                'clipHu': df.PATCH_CLIP_HU, 'peakWindowVoxels': proposal['peakWindowVoxels'] if proposal
                else df.PEAK_WINDOW, 'proposal': proposal}, a.checkpoint)
    if a.val:
        validate(a, net)


def logits(net, X):
    net.eval()
    with torch.no_grad():
        x = torch.from_numpy(df.normalise(X.astype(np.float32))[:, None])
        return torch.cat([net(x[i:i + 512]) for i in range(0, len(x), 512)]).numpy()


def validate(a, net):
    files = sorted(f for d in a.val for f in glob.glob(os.path.join(d, '*.npz')))
    Xv, mv, cv = load(files, a.k)
    lv = logits(net, Xv)
    dots = np.log(np.maximum([c['dot'] for c in mv], 1e-9) / 60.0)
    report(f'the dot filter alone (its largest value; top {a.k} per lung)', cv, *per_case(mv, cv, dots))
    report('the second look (its largest logit over the candidates)', cv, *per_case(mv, cv, lv))
    cand = [i for i, c in enumerate(mv) if c['source'] == 'candidate' and (c['label'] or c['dist'] > 10)]
    print(f'patch AUC on the validation candidates: {auc(lv[cand], np.array([mv[i]["label"] for i in cand])):.3f}')


def validate_checkpoint(a):
    torch.set_num_threads(a.threads)
    net, _ = load_net(a.checkpoint)
    validate(a, net)


def load_net(path):
    ck = torch.load(path, map_location='cpu')
    net = Net(ck['width'])
    net.load_state_dict(ck['state'])
    return net.eval(), ck


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    c = sub.add_parser('candidates')
    c.add_argument('--crops', nargs='+', required=True)
    c.add_argument('--out', required=True)
    c.add_argument('--k', type=int, default=64)
    c.add_argument('--workers', type=int, default=2)
    c.add_argument('--hu', default='hu', help='the crops\' HU files, NAME.<this>.npy (evaluate --crop-dump also writes'
                   ' render-hu: the training path on the served grid)')
    c.add_argument('--organ', default='organ', help='the crops\' organ fraction files, NAME.<this>.npy (render-organ:'
                   ' the true mask on the served grid)')
    c.add_argument('--coarse-mask-mm', type=float, default=None,
                   help='the lung mask as a coarse stage of this spacing would give it (serving\'s 6.25 mm), not the'
                        ' true one')
    c.add_argument('--propose-factor', type=int, default=None,
                   help='the candidates of the filter on a crop this many times coarser, moved onto their blob'
                        ' (the engine\'s secondLook.patchSpacingMm; 2: the 3 mm lung grid of 1.5 mm crops)')
    c.add_argument('--peak-window', type=int, default=3, help='with --propose-factor: peakWindowVoxels')
    c.add_argument('--refine-voxels', type=int, default=2, help='with --propose-factor: refineVoxels')
    c.add_argument('--refine-sigmas-mm', type=float, nargs='*', default=[1.5, 2.5],
                   help='with --propose-factor: refineSigmasMm')
    t = sub.add_parser('train')
    t.add_argument('--train', nargs='+', required=True)
    t.add_argument('--val', nargs='*', default=[])
    t.add_argument('--k', type=int, default=32, help='candidates per lung crop')
    t.add_argument('--minutes', type=float, default=10)
    t.add_argument('--width', type=int, default=8)
    t.add_argument('--batch', type=int, default=128)
    t.add_argument('--lr', type=float, default=2e-3)
    t.add_argument('--seed', type=int, default=0)
    t.add_argument('--threads', type=int, default=2)
    t.add_argument('--checkpoint', required=True)
    v = sub.add_parser('validate')
    v.add_argument('--checkpoint', required=True)
    v.add_argument('--val', nargs='+', required=True)
    v.add_argument('--k', type=int, default=32, help='candidates per lung crop')
    v.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    {'candidates': candidates, 'train': train, 'validate': validate_checkpoint}[a.cmd](a)


if __name__ == '__main__':
    main()
