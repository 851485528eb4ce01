#!/usr/bin/python3
"""Issue 12, run L: a focal-lesion detector on one organ's crops, trained per voxel on patches.

The shipped crop encoders score liver cysts and masses by their finding head's peak (run J); that head was
trained with the encoder's pooled losses on whole crops with the phantom's own organ mask, and served it ranks
liver cysts 0.62 and liver masses 0.65 on unseen cases. This is a different design: a small 3D U-Net
(a full-resolution stem, then 3 levels from half resolution, --width channels there) trained only to segment the lesions (one output channel per
finding in --findings) on random patches of the crops (half of them centred on a lesion voxel), with Dice +
BCE. Its input never carries the lesion through the mask: the mask is not an input, only the organ's median HU
comes from it, and in training that mask is mostly the true mask sampled on the coarse stage's lattice, with
one-voxel errors (train_crops.coarse_mask, run H's model of the served mask).

Input channels (crop arrays of `ct-triage generate --training-crops`): the footprint-mean HU (NAME.hu.npy)
minus the organ's median HU (median over the mask given), clipped to +-150 HU and scaled to [-1.5, 1.5];
the HU in a soft-tissue window ((HU - 40) / 200, clipped to [-1, 1]). The mask itself is not an input.

Score of a crop, per finding: the maximum over the mask (dilated by two voxels) of the sigmoid map (half
resolution) averaged over 3 x 3 x 3 of its voxels, computed window by window (the training patch, stride 3/4 of
it, overlaps averaged: instance normalisation then sees patch statistics, as in training), or with --whole-crop on
the whole crop at once (fully convolutional; the crop's statistics shift the normalisation, run L measured it). Per case
(paired organs: the larger side). Validation on the given validation crops with the true mask and with the
lattice mask with errors, and the AUC by lesion size (largest lesion of the crop, from truth.json) with the latter.

Run M (--norm batch): the same network with batch normalisation instead of instance normalisation. Its running
statistics are frozen when it is scored or served, so its map does not depend on the window: it is scored on the
whole crop in one pass (padded to a multiple of 8), as the engine serves it (manifest wholeCrop). --fit scores an
instance-norm detector with one window along each axis of the crop up to FIT voxels (design A of the card).

Run O (the lungs): --contrast-scale 300 --contrast-clip 3 give the organ-contrast channel a scale at which ground
glass (-600 to -300 HU in lung of -850) does not saturate like vessels and solid nodules; the checkpoint keeps the
scale and package_v2.py detectors writes it as the detector's own channels.

Usage: lesion_detector.py --train D1 D2 .. --val V1 V2 .. --organ liver --findings liver_cyst liver_mass
       --minutes 25 [--patch 48] [--width 16] [--norm instance|batch] [--threads 2] [--checkpoint FILE]
       [--contrast-scale 100] [--contrast-clip 1.5]
       [--scores FILE] [--validate-only] [--whole-crop] [--stride S] [--fit FIT]
       (experiments/lesion-run.sh makes the data and runs it)
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import train_crops as tc  # noqa: E402
from train import auc  # noqa: E402

FINDINGS = [f['id'] for f in json.load(open(os.path.join(os.path.dirname(HERE), 'dictionary.json')))['findings']]


def norm_layer(kind, c):
    """Instance normalisation (run L: statistics of the window, so the crop is scored window by window) or batch
    normalisation (frozen statistics when served: the whole crop in one pass, the same map whatever its size)."""
    return nn.InstanceNorm3d(c, affine=True) if kind == 'instance' else nn.BatchNorm3d(c)


def block(cin, cout, norm='instance'):
    return nn.Sequential(nn.Conv3d(cin, cout, 3, padding=1, bias=False), norm_layer(norm, cout),
                         nn.LeakyReLU(0.1, inplace=True), nn.Conv3d(cout, cout, 3, padding=1, bias=False),
                         norm_layer(norm, cout), nn.LeakyReLU(0.1, inplace=True))


class UNet(nn.Module):
    """A full-resolution stem (one 3x3x3 convolution), a strided convolution to half resolution, a 3-level
    U-Net at 1/2, 1/4 and 1/8 of the crop, logits at half resolution (the cost of a 1.5 mm crop at 1/2 is
    that of a 3 mm crop)."""

    def __init__(self, cin, cout, w, norm='instance'):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv3d(cin, w // 2, 3, padding=1, bias=False), norm_layer(norm, w // 2),
                                  nn.LeakyReLU(0.1, inplace=True), nn.Conv3d(w // 2, w, 3, stride=2, padding=1, bias=False),
                                  norm_layer(norm, w), nn.LeakyReLU(0.1, inplace=True))
        self.e1, self.e2, self.e3 = block(w, w, norm), block(w, 2 * w, norm), block(2 * w, 4 * w, norm)
        self.d2, self.d1 = block(6 * w, 2 * w, norm), block(3 * w, w, norm)
        self.out = nn.Conv3d(w, cout, 1)

    def forward(self, x):
        a = self.e1(self.stem(x))
        b = self.e2(F.max_pool3d(a, 2))
        c = self.e3(F.max_pool3d(b, 2))
        b = self.d2(torch.cat([b, F.interpolate(c, size=b.shape[2:], mode='trilinear', align_corners=False)], 1))
        a = self.d1(torch.cat([a, F.interpolate(b, size=a.shape[2:], mode='trilinear', align_corners=False)], 1))
        return self.out(a)


def organ_median(hu, mask):
    """The organ's median HU over the mask given: all the detector takes from the mask."""
    inside = hu[mask > 0.5]
    return float(np.median(inside)) if inside.size else 40.0


# The organ-contrast channel's scale and clip (HU - organ median) / scale clipped to +-clip: 100 HU and 1.5 for
# the abdominal organs (run L); --contrast-scale / --contrast-clip change them (the lungs: 300 and 3, run O), and
# the checkpoint keeps them ('contrast').
DEFAULT_CONTRAST = [100.0, 1.5]
CONTRAST = list(DEFAULT_CONTRAST)


def checkpoint_contrast(ck):
    """The organ-contrast [scale, clip] a checkpoint was trained with (the default before run O)."""
    return list(ck.get('contrast', DEFAULT_CONTRAST))


def inputs(hu, med):
    """The two input channels of ``hu`` (a crop or a patch of it), given the organ's median HU."""
    c = np.clip((hu - med) / CONTRAST[0], -CONTRAST[1], CONTRAST[1])
    s = np.clip((hu - 40.0) / 200.0, -1.0, 1.0)
    return np.stack([c, s]).astype(np.float32)


def load(case, crop, fidx):
    hu = np.load(os.path.join(case, crop['name'] + '.hu.npy')).astype(np.float32)
    m = np.load(os.path.join(case, crop['name'] + '.organ.npy')).astype(np.float32) / 255.0
    bits = np.load(os.path.join(case, crop['name'] + '.findings.npy')).astype(np.int32)
    y = np.stack([((bits >> f) & 1) for f in fidx]).astype(np.float32)
    return hu, m, y


def served_mask(m, crop, rng, errors):
    return tc.coarse_mask(m, np.array(crop['spacingMm'][::-1], dtype=float), rng, errors)


def patch_from(hu, m, y, crop, rng, p, p_lesion):
    """One training patch: the mask replaced (true 0.2, lattice 0.3, lattice + errors 0.5), centred on a lesion
    voxel with probability p_lesion when the crop has one, else on a random voxel of the dilated mask."""
    u = rng.uniform()
    mm = m if u < 0.2 else served_mask(m, crop, rng, u >= 0.5)
    les = np.argwhere(y.max(0) > 0)
    if len(les) and rng.uniform() < p_lesion:
        c = les[rng.randint(len(les))] + rng.randint(-p // 4, p // 4 + 1, 3)
    else:
        org = np.argwhere(mm > 0.5)
        c = org[rng.randint(len(org))] if len(org) else np.array(m.shape) // 2
    lo = [int(np.clip(c[a] - p // 2, 0, max(0, m.shape[a] - p))) for a in range(3)]
    sl = tuple(slice(lo[a], lo[a] + p) for a in range(3))
    x = inputs(hu[sl], organ_median(hu, mm))  # the median over the whole mask, as served; channels of the patch only
    t = y[(slice(None),) + sl]
    pad = [(0, 0)] + [(0, p - x.shape[1 + a]) for a in range(3)]
    return np.pad(x, pad), np.pad(t, pad)


def score(net, hu, mask, regions, window=None, stride=None, fit=None):
    """Per region (a mask), per finding: the peak of the smoothed map inside the region dilated by two voxels.
    With ``window`` (the training patch size) the map is computed window by window (stride 3/4 of a window,
    overlaps averaged), so that instance normalisation sees what it saw in training; else on the whole crop.
    With ``fit``, an axis whose crop, rounded up to 8 voxels, is at most ``fit`` long gets one window that spans it
    (fewer, larger windows: the statistics of a window a little longer than the patch)."""
    x = torch.from_numpy(inputs(hu, organ_median(hu, mask)))[None]
    shape = x.shape[2:]
    if window:
        p = [n + (-n) % 8 if fit and n + (-n) % 8 <= fit else window for n in shape]
        full = [max(n + n % 2, pa) for n, pa in zip(shape, p)]
    else:
        full = [n + (-n) % 8 for n in shape]
    pad = []
    for a in (2, 1, 0):
        pad += [0, full[a] - shape[a]]
    x = F.pad(x, pad)
    with torch.no_grad():
        half = [(n + 1) // 2 for n in shape]
        if window:
            stride = stride or (3 * window // 4) // 2 * 2
            starts = [sorted(set(list(range(0, n - pa, stride)) + [n - pa])) for n, pa in zip(full, p)]
            acc = torch.zeros((1, len(net.out.weight)) + tuple(n // 2 for n in full))
            cnt = torch.zeros_like(acc[:, :1])
            for z in starts[0]:
                for y in starts[1]:
                    for xx in starts[2]:
                        o = torch.sigmoid(net(x[:, :, z:z + p[0], y:y + p[1], xx:xx + p[2]]))
                        sl = (slice(None), slice(None), slice(z // 2, (z + p[0]) // 2), slice(y // 2, (y + p[1]) // 2),
                              slice(xx // 2, (xx + p[2]) // 2))
                        acc[sl] += o
                        cnt[sl] += 1
            prob = (acc / cnt)[:, :, :half[0], :half[1], :half[2]]
        else:
            prob = torch.sigmoid(net(x))[:, :, :half[0], :half[1], :half[2]]
        prob = F.avg_pool3d(prob, 3, 1, 1)
        out = []
        for r in regions:
            m = F.max_pool3d(torch.from_numpy(r)[None, None], 5, 1, 2)          # dilated by two crop voxels
            region = F.max_pool3d(F.pad(m, [0, shape[2] % 2, 0, shape[1] % 2, 0, shape[0] % 2]), 2)[0, 0] > 0.5
            if not region.any():
                region = torch.ones_like(region)
            out.append([float(prob[0, k][region].max()) for k in range(prob.shape[1])])
        return out


def largest_lesion(crop, fid):
    sizes = [f['sizeMm'] for f in crop['findings'] if f['id'] == fid]
    return max(sizes) if sizes else 0.0


def validate(net, val, fidx, names, seed, window=None, stride=None, fit=None):
    net.eval()
    rng = np.random.RandomState(seed)
    modes = ['true mask', 'coarse lattice + errors']
    per_case = {m: {} for m in modes}
    truth, size = {}, {}
    for case, crop, s in val:
        hu, m, y = load(case, crop, fidx)
        masks = [m, served_mask(m, crop, rng, True)]
        for mode, sc in zip(modes, score(net, hu, masks[1], masks, window, stride, fit)):
            prev = per_case[mode].get(s)
            per_case[mode][s] = sc if prev is None else [max(a, b) for a, b in zip(prev, sc)]
        pos = [1.0 if any(f['id'] == n for f in crop['findings']) else 0.0 for n in names]
        sz = [largest_lesion(crop, n) for n in names]
        truth[s] = pos if s not in truth else [max(a, b) for a, b in zip(truth[s], pos)]
        size[s] = sz if s not in size else [max(a, b) for a, b in zip(size[s], sz)]
    seeds = sorted(truth)
    out = {'_cases': [{'seed': int(s), 'positive': truth[s], 'sizeMm': size[s],
                       **{mode: per_case[mode][s] for mode in modes}} for s in seeds]}
    for k, n in enumerate(names):
        lab = np.array([truth[s][k] for s in seeds])
        row = {'positives': int(lab.sum()), 'negatives': int(len(lab) - lab.sum())}
        for mode in modes:
            sc = np.array([per_case[mode][s][k] for s in seeds])
            row[mode] = auc(sc, lab)
            if mode == 'coarse lattice + errors':
                sz = np.array([size[s][k] for s in seeds])
                spacing = val[0][1]['spacingMm'][0]
                small = (lab > 0) & (sz < 2 * spacing)
                big = (lab > 0) & (sz >= 2 * spacing)
                row['under 2 voxels'] = (int(small.sum()), auc(np.r_[sc[small], sc[lab == 0]],
                                                                np.r_[np.ones(small.sum()), np.zeros((lab == 0).sum())]))
                row['2 voxels and over'] = (int(big.sum()), auc(np.r_[sc[big], sc[lab == 0]],
                                                                 np.r_[np.ones(big.sum()), np.zeros((lab == 0).sum())]))
        out[n] = row
    net.train()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--train', nargs='+', required=True)
    ap.add_argument('--val', nargs='+', required=True)
    ap.add_argument('--organ', required=True)
    ap.add_argument('--findings', nargs='+', required=True)
    ap.add_argument('--minutes', type=float, default=25)
    ap.add_argument('--patch', type=int, default=48)
    ap.add_argument('--batch', type=int, default=4)
    ap.add_argument('--width', type=int, default=16)
    ap.add_argument('--p-lesion', type=float, default=0.5)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--checkpoint')
    ap.add_argument('--validate-only', action='store_true', help='load --checkpoint and validate, no training')
    ap.add_argument('--whole-crop', action='store_true',
                    help='validate on the whole crop at once (default: window by window, as trained)')
    ap.add_argument('--scores', help='write the per-case validation scores (JSON) here')
    ap.add_argument('--stride', type=int, default=None,
                    help='window stride for scoring (even; default 3/4 of the patch, rounded down to even)')
    ap.add_argument('--fit', type=int, default=None,
                    help='window scoring: an axis of the crop up to FIT voxels (rounded up to 8) is one window long')
    ap.add_argument('--norm', choices=['instance', 'batch'], default='instance',
                    help='normalisation layers (batch: frozen statistics served, scored on the whole crop)')
    ap.add_argument('--contrast-scale', type=float, default=DEFAULT_CONTRAST[0],
                    help='HU per unit of the organ-contrast channel (the lungs: 300, so that ground glass and '
                         'vessels differ)')
    ap.add_argument('--contrast-clip', type=float, default=DEFAULT_CONTRAST[1], help='clip of the organ-contrast channel')
    a = ap.parse_args()
    CONTRAST[:] = [a.contrast_scale, a.contrast_clip]
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.RandomState(a.seed)
    fidx = [FINDINGS.index(f) for f in a.findings]
    train = [c for c in tc.crop_list(a.train) if c[1]['organ'] == a.organ]
    val = [c for c in tc.crop_list(a.val) if c[1]['organ'] == a.organ]
    print(f'lesion_detector: {a.organ} {a.findings}, {len(train)} training crops '
          f'({sum(any(f["id"] in a.findings for f in c[1]["findings"]) for c in train)} with a lesion), '
          f'{len(val)} validation crops, spacing {train[0][1]["spacingMm"]} mm, patch {a.patch}, width {a.width}',
          flush=True)
    if a.validate_only:
        ck = torch.load(a.checkpoint, map_location='cpu')
        a.norm = ck.get('norm', 'instance')
        CONTRAST[:] = checkpoint_contrast(ck)
        net = UNet(2, len(fidx), ck['width'], a.norm)
        net.load_state_dict(ck['net'])
        a.minutes = 0
    else:
        net = UNet(2, len(fidx), a.width, a.norm)
    if a.norm == 'batch':
        a.whole_crop = True  # frozen statistics: a window's map is the whole crop's
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    t0, step, cache = time.time(), 0, {}
    budget = a.minutes * 60
    losses = []
    while time.time() - t0 < budget:
        xs, ts = [], []
        for _ in range(a.batch):
            case, crop, _ = train[rng.randint(len(train))]
            key = (case, crop['name'])
            if key not in cache:
                if len(cache) > 400:
                    cache.pop(next(iter(cache)))
                cache[key] = load(case, crop, fidx)
            hu, m, y = cache[key]
            x, t = patch_from(hu, m, y, crop, rng, a.patch, a.p_lesion)
            xs.append(x)
            ts.append(t)
        x, t = torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ts))
        for g in opt.param_groups:
            g['lr'] = 2e-3 * 0.5 * (1 + np.cos(np.pi * min(1.0, (time.time() - t0) / budget)))
        logit = net(x)
        t = F.max_pool3d(t, 2)  # a half-resolution voxel is positive where any crop voxel under it is
        p = torch.sigmoid(logit)
        bce = F.binary_cross_entropy_with_logits(logit, t, pos_weight=torch.tensor(10.0))
        inter = (p * t).sum((0, 2, 3, 4))
        dice = 1 - (2 * inter + 1) / (p.sum((0, 2, 3, 4)) + t.sum((0, 2, 3, 4)) + 1)
        loss = bce + dice.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
        step += 1
        if step % 200 == 0:
            print(f'  step {step}, {time.time() - t0:.0f} s, loss {np.mean(losses[-200:]):.4f}', flush=True)
    print(f'trained {step} steps of {a.batch} patches in {time.time() - t0:.0f} s '
          f'({(time.time() - t0) / max(step, 1):.2f} s/step)', flush=True)
    if a.checkpoint and not a.validate_only:
        torch.save({'net': net.state_dict(), 'findings': a.findings, 'organ': a.organ, 'width': a.width,
                    'patch': a.patch, 'norm': a.norm, 'contrast': list(CONTRAST)},
                   a.checkpoint)
    t1 = time.time()
    res = validate(net, val, fidx, a.findings, a.seed + 1, None if a.whole_crop else a.patch, a.stride,
                   a.fit)
    print(f'validation ({time.time() - t1:.0f} s), case-level AUC of the detector peak:')
    print('| finding | pos/neg | true mask | lattice + errors | under 2 voxels (n) | 2 voxels and over (n) |')
    print('|---|---|---|---|---|---|')
    cases = res.pop('_cases')
    if a.scores:
        json.dump({'findings': a.findings, 'cases': cases}, open(a.scores, 'w'), indent=1)
    for n, r in res.items():
        print(f"| {n} | {r['positives']}/{r['negatives']} | {r['true mask']:.3f} | "
              f"{r['coarse lattice + errors']:.3f} | {r['under 2 voxels'][1]:.3f} ({r['under 2 voxels'][0]}) | "
              f"{r['2 voxels and over'][1]:.3f} ({r['2 voxels and over'][0]}) |")


if __name__ == '__main__':
    main()
