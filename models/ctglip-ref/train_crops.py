#!/usr/bin/python3
"""Prototype of issue 12's second stage: an organ encoder over fine-spacing organ crops.

Not yet part of the package (retrain.sh does not run it, nothing is exported): it answers whether a
crop model learns the focal findings that the whole-volume 6.25 mm model misses.

* Input: organ crops written by ``ct-triage generate --training-crops experiments/organ-crops.json``
  (experiments/generate-crops.sh): per crop NAME.input.npy (int16 [6, z, y, x] = channel x 32767),
  NAME.organ.npy (uint8 organ fraction x 255), NAME.findings.npy (uint16 finding bits), truth.json.
* Organ encoder, weights shared by all organs (crops differ in size; a batch holds one organ kind):
  BatchNorm with per-organ statistics (--norm group / batch for the comparisons); strided stem (6 -> 16 ch) to 1/2 resolution, strided conv (16 -> 32) to 1/4, two residual blocks
  (one dilated); at 1/2 resolution the upsampled 1/4 features plus a lateral 1x1 of the stem feed a
  per-voxel (1x1x1) finding head (16 logits, one per finding; only the crop organ's findings are trained),
  supervised by the finding masks (dense supervision).  Organ embedding: masked average and masked
  maximum of the 1/4 features over the organ mask (dilated by one voxel so that pleural fluid and
  exophytic lesions count), the maximum of each finding logit inside it, the log organ volume, the box
  extents, and a learned organ vector -> shared 2-layer MLP -> 64-d, L2-normalised.  At inference the
  organ mask would be the coarse stage's, resampled to the crop; here it is the phantom's.
* Text side and losses as train.py: diagnosis BCE on (cos(e, t_pos) - cos(e, t_neg)) * scale + bias with
  one sampled training prompt each, anatomy InfoNCE against the 7 organ descriptions, plus the dense
  finding-mask BCE and a training-only linear probe per finding on the embedding (--w-aux).  Held-out prompts are never trained on.
* Validation: zero-shot AUC per finding as the product scores (mean over positive prompts minus mean
  over negative prompts), per case (paired organs: the larger of the two sides' scores), with the
  training prompts and with the held-out prompts; and the AUC of the finding head's maximum alone.

* Run G options (default off, so runs A-F are unchanged): --contrast-channel adds a 7th input channel,
  the lesion contrast of the crop: HU (NAME.hu.npy, footprint mean) minus the organ's median HU (median
  over the voxels with soft organ mask > 0.5), clipped to +-CONTRAST_HU and scaled to [-1, 1], multiplied by
  the organ mask dilated by 2 voxels (0 = "as the organ" outside it), as the oracle's features are
  organ-median-relative.  --pos-oversample K puts each training crop that holds one of
  --oversample-findings (default the low-contrast focal lesions) K times into every epoch; the diagnosis
  pos_weight is then computed on the oversampled epoch, so oversampling adds exposures of the positives,
  not a larger class weight.
* Run H option (default off): --mask-augment P_TRUE P_LATTICE trains on the organ mask as the coarse stage
  gives it (served, the mask is the coarse segmentation at 6.25 x 6.25 x 7.5 mm, resampled to the crop):
  experiments/mask_shift.py measured run G at 0.958 AUC for pancreatic mass on the true mask, 0.903 on the
  true mask sampled on the coarse lattice and 0.378 with one-voxel errors on top.

Usage: /usr/bin/python3 train_crops.py --train D1 D2 ... --val V --epochs 3 --threads 2 [--log FILE]
"""
import argparse
import glob
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from train import EMB, ConvBN, ResBlock, TextEncoder, auc, build_vocabulary, encode  # noqa: E402,F401

ORGANS = ['lung', 'liver', 'gallbladder', 'kidney', 'pancreas', 'spleen', 'aorta']
N_FINDINGS = 16


class ConvGN(nn.Sequential):
    """Conv + GroupNorm (+ ReLU). GroupNorm, not BatchNorm: a batch holds crops of one organ, and
    BatchNorm's running statistics, averaged over all organs, do not fit any one of them at inference
    (measured with --norm batch: lung crops sat 0.44 running SDs off the stem's running mean, abdominal
    crops 0.08, and the lung findings fell to chance at validation)."""
    def __init__(self, cin, cout, k=3, s=1, d=1, relu=True):
        layers = [nn.Conv3d(cin, cout, k, stride=s, padding=d * (k // 2), dilation=d, bias=False),
                  nn.GroupNorm(min(8, cout // 2), cout)]
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class ResGN(nn.Module):
    def __init__(self, c, d=1):
        super().__init__()
        self.a = ConvGN(c, c, d=d)
        self.b = ConvGN(c, c, d=d, relu=False)

    def forward(self, x):
        return F.relu(x + self.b(self.a(x)))


class OrganBN(nn.Module):
    """BatchNorm with one set of statistics and affine parameters per organ (the convolutions stay
    shared): keeps absolute attenuation, which GroupNorm normalises away (steatosis fell to chance
    with --norm group), without the mixed-organ running statistics of plain BatchNorm. A batch holds
    crops of one organ; ``organ`` is a one-element list the encoder sets before each forward."""
    def __init__(self, c, organ):
        super().__init__()
        self.bns = nn.ModuleList([nn.BatchNorm3d(c) for _ in ORGANS])
        self.organ = organ

    def forward(self, x):
        return self.bns[self.organ[0]](x)


def conv_obn(organ):
    def make(cin, cout, k=3, s=1, d=1, relu=True):
        layers = [nn.Conv3d(cin, cout, k, stride=s, padding=d * (k // 2), dilation=d, bias=False), OrganBN(cout, organ)]
        if relu:
            layers.append(nn.ReLU(inplace=True))
        return nn.Sequential(*layers)
    return make


class ResOBN(nn.Module):
    def __init__(self, conv, c, d=1):
        super().__init__()
        self.a = conv(c, c, d=d)
        self.b = conv(c, c, d=d, relu=False)

    def forward(self, x):
        return F.relu(x + self.b(self.a(x)))


class OrganEncoder(nn.Module):
    def __init__(self, in_ch=6, c1=16, c2=32, cd=24, hidden=128, organ_dim=8, norm='group', heads='shared'):
        super().__init__()
        self.current = [0]
        if norm == 'organ':
            conv = conv_obn(self.current)

            def res(c, d=1):
                return ResOBN(conv, c, d)
        else:
            conv, res = (ConvGN, ResGN) if norm == 'group' else (ConvBN, ResBlock)
        self.stem = conv(in_ch, c1, s=2)
        self.down = conv(c1, c2, s=2)
        self.res = nn.Sequential(res(c2), res(c2, d=2))
        self.lat = conv(c1, cd, k=1)
        self.top = conv(c2, cd, k=1)
        self.head = nn.Conv3d(cd, N_FINDINGS, 1)
        self.organ_vec = nn.Embedding(len(ORGANS), organ_dim)
        def mlp():
            return nn.Sequential(nn.Linear(2 * c2 + N_FINDINGS + 1 + 3 + organ_dim, hidden), nn.ReLU(inplace=True),
                                 nn.Linear(hidden, EMB))
        # 'shared': one projection for all organs (with the organ vector); 'organ': one per organ
        self.mlps = nn.ModuleList([mlp() for _ in (ORGANS if heads == 'organ' else [0])])

    def forward(self, x, organ_mask, organ_index, extent):
        """x [B,6,z,y,x]; organ_mask [B,1,z,y,x] in 0..1; organ_index [B] (one organ per batch); extent [B,3]
        (box, mm / 100)."""
        if not bool((organ_index == organ_index[0]).all()):
            raise ValueError('a batch must hold crops of one organ')
        self.current[0] = int(organ_index[0])
        h2 = self.stem(x)
        h4 = self.res(self.down(h2))
        up = F.interpolate(self.top(h4), size=h2.shape[2:], mode='trilinear', align_corners=False)
        d2 = F.relu(up + self.lat(h2))
        voxel_logits = self.head(d2)                                        # [B,16,z/2,y/2,x/2]
        m4 = F.adaptive_avg_pool3d(organ_mask, h4.shape[2:])
        m4 = F.max_pool3d(m4, 3, 1, 1)                                      # one voxel of dilation
        m2 = F.max_pool3d(F.adaptive_avg_pool3d(organ_mask, h2.shape[2:]), 3, 1, 1)
        w = m4.sum((2, 3, 4)).clamp(min=1e-3)
        avg = (h4 * m4).sum((2, 3, 4)) / w
        mx = (h4 * m4).amax((2, 3, 4))
        # finding logits inside the (dilated) organ; outside pushed far down
        lmax = (voxel_logits + (m2 - 1) * 20).amax((2, 3, 4))
        vol = torch.log(organ_mask.sum((2, 3, 4)) + 1)
        proj = self.mlps[self.current[0] if len(self.mlps) > 1 else 0]
        e = proj(torch.cat([avg, mx, lmax, vol, extent, self.organ_vec(organ_index)], 1))
        e = e / torch.sqrt((e * e).sum(-1, keepdim=True) + 1e-12)
        return e, voxel_logits, lmax


def crop_list(dirs):
    """Every crop: (case dir, crop truth, seed)."""
    out = []
    for d in dirs:
        for case in sorted(glob.glob(os.path.join(d, 'case-*'))):
            t = json.load(open(os.path.join(case, 'truth.json')))
            for c in t['crops']:
                out.append((case, c, t['seed']))
    return out


# run G: lesion-contrast channel (None = off, the six channels of runs A-F)
CONTRAST_HU = None
CONTRAST_DILATE = 2


def contrast_channel(hu, m, window):
    """HU minus the organ's median HU (voxels with organ fraction > 0.5), clipped to +-window, scaled to
    [-1, 1], times the organ mask dilated by CONTRAST_DILATE voxels (max filter of the soft mask)."""
    inside = hu[m > 0.5]
    med = float(np.median(inside)) if inside.size else 0.0
    c = np.clip((hu - med) / window, -1.0, 1.0)
    k = 2 * CONTRAST_DILATE + 1
    d = F.max_pool3d(torch.from_numpy(m)[None, None], k, 1, CONTRAST_DILATE)[0, 0].numpy()
    return (c * d).astype(np.float32)


# run H: the organ mask as the coarse stage gives it (--mask-augment). The coarse grid's spacing, z y x.
COARSE_MM = np.array(json.load(open(os.path.join(HERE, 'preprocessing.json')))['spacingMm'][::-1], dtype=float)
MASK_AUGMENT = None  # None = off; else (p_true, p_lattice): the rest of the crops get lattice + errors


def coarse_mask(m, spacing_zyx, rng, errors):
    """The organ mask as the coarse stage would give it: the true mask sampled on the coarse lattice (random
    phase), with ``errors`` eroded or dilated by one coarse voxel (or neither) and shifted by up to one coarse
    voxel per axis, then resampled to the crop by nearest coarse point (as OrganCrops.labelFraction samples
    the coarse labels; its 2 x 2 footprint fractions are not modelled)."""
    shape = np.array(m.shape)
    f = COARSE_MM / spacing_zyx                         # crop voxels per coarse voxel, per axis
    phase = rng.uniform(0, 1, 3) * f
    n = np.ceil((shape + f) / f).astype(int) + 1
    axes = [np.clip(np.round(-phase[a] + f[a] * np.arange(n[a])).astype(int), 0, shape[a] - 1) for a in range(3)]
    c = m[np.ix_(axes[0], axes[1], axes[2])] > 0.5
    if errors:
        t = torch.from_numpy(c.astype(np.float32))[None, None]
        op = rng.randint(3)
        if op == 1:
            t = F.max_pool3d(t, 3, 1, 1)
        elif op == 2:
            t = -F.max_pool3d(-t, 3, 1, 1)
        c = np.roll(t[0, 0].numpy() > 0.5, tuple(rng.randint(-1, 2, 3)), (0, 1, 2))
    idx = [np.clip(np.round((np.arange(shape[a]) + phase[a]) / f[a]).astype(int), 0, n[a] - 1) for a in range(3)]
    return c[np.ix_(idx[0], idx[1], idx[2])].astype(np.float32)


def load_crop(case, crop, fid_index, rng=None):
    """A crop's arrays; with ``rng`` (training under --mask-augment) the organ mask is replaced as
    MASK_AUGMENT says, and the contrast channel is computed from the replaced mask, as served."""
    x = np.load(os.path.join(case, crop['name'] + '.input.npy')).astype(np.float32) / 32767.0
    m = np.load(os.path.join(case, crop['name'] + '.organ.npy')).astype(np.float32) / 255.0
    if MASK_AUGMENT and rng is not None:
        u = rng.uniform()
        if u >= MASK_AUGMENT[0]:
            m = coarse_mask(m, np.array(crop['spacingMm'][::-1], dtype=float), rng,
                            u >= MASK_AUGMENT[0] + MASK_AUGMENT[1])
    if CONTRAST_HU:
        hu = np.load(os.path.join(case, crop['name'] + '.hu.npy')).astype(np.float32)
        x = np.concatenate([x, contrast_channel(hu, m, CONTRAST_HU)[None]], 0)
    bits = np.load(os.path.join(case, crop['name'] + '.findings.npy')).astype(np.int32)
    y = np.zeros(N_FINDINGS, np.float32)
    for f in crop['findings']:
        y[fid_index[f['id']]] = 1
    ext = (np.array(crop['boxMaxLps']) - np.array(crop['boxMinLps'])) / 100.0
    return x, m, bits, y, ext.astype(np.float32)


def batch(items, fid_index, rng=None):
    xs, ms, bs, ys, es = zip(*[load_crop(c, t, fid_index, rng) for c, t, _ in items])
    return (torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ms))[:, None], np.stack(bs),
            torch.from_numpy(np.stack(ys)), torch.from_numpy(np.stack(es)))


def bit_targets(bits, shape, wanted):
    """Per-finding voxel targets at the head's resolution for the findings in ``wanted`` (others 0): a
    head voxel is positive where any crop voxel under it is."""
    out = torch.zeros((bits.shape[0], N_FINDINGS) + tuple(shape))
    b = torch.from_numpy(bits)
    for f in wanted:
        t = ((b >> f) & 1).to(torch.float32)[:, None]
        out[:, f] = F.adaptive_max_pool3d(t, shape)[:, 0]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--train', nargs='+', required=True)
    ap.add_argument('--val', nargs='+', required=True)
    ap.add_argument('--dictionary', default=os.path.join(HERE, 'dictionary.json'))
    ap.add_argument('--epochs', type=float, default=2)
    ap.add_argument('--batch-size', type=int, default=4)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--w-voxel', type=float, default=1.0)
    ap.add_argument('--w-anat', type=float, default=0.5)
    ap.add_argument('--heads', choices=['shared', 'organ'], default='shared',
                    help='organ embedding projection: one shared MLP or one per organ (encoder shared either way)')
    ap.add_argument('--time-budget-min', type=float, default=0, help='stop (cosine schedule by wall time) after this')
    ap.add_argument('--organs', nargs='*', default=ORGANS)
    ap.add_argument('--checkpoint', default='')
    ap.add_argument('--norm', choices=['organ', 'group', 'batch'], default='organ')
    ap.add_argument('--w-aux', type=float, default=1.0, help='training-only linear probe per finding on the embedding')
    ap.add_argument('--contrast-channel', action='store_true',
                    help='7th input channel: HU minus the organ median HU, +-CONTRAST_HU, times the dilated organ mask')
    ap.add_argument('--contrast-hu', type=float, default=80.0, help='window of --contrast-channel, HU (default 80)')
    ap.add_argument('--pos-oversample', type=int, default=1,
                    help='each training crop holding one of --oversample-findings appears K times per epoch (1 = off)')
    ap.add_argument('--oversample-findings', nargs='*',
                    default=['liver_cyst', 'liver_mass', 'renal_cyst', 'pancreatic_mass'])
    ap.add_argument('--mask-augment', nargs=2, type=float, metavar=('P_TRUE', 'P_LATTICE'),
                    help='train on the organ mask as the coarse stage gives it: a crop keeps the true mask with '
                         'P_TRUE, gets it on the coarse lattice with P_LATTICE, else on the lattice with one-voxel '
                         'errors (erosion or dilation, shift); run H: 0.25 0.25')
    ap.add_argument('--text-from', default='',
                    help='checkpoint whose text encoder is used, frozen: the organ encoders of two checkpoints then '
                         'share one text_encoder_crops.onnx in a package (run I: the lung encoder against run G\'s)')
    args = ap.parse_args()
    global CONTRAST_HU, MASK_AUGMENT
    CONTRAST_HU = args.contrast_hu if args.contrast_channel else None
    MASK_AUGMENT = tuple(args.mask_augment) if args.mask_augment else None
    print('options: ' + ' '.join(f'{k}={v}' for k, v in sorted(vars(args).items()) if k not in ('train', 'val')),
          flush=True)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.RandomState(args.seed)
    dictionary = json.load(open(args.dictionary))
    findings = dictionary['findings']
    fids = [f['id'] for f in findings]
    fid_index = {f: i for i, f in enumerate(fids)}
    f_organ = [ORGANS.index(f['organ']) for f in findings]
    vocab = build_vocabulary(dictionary)
    vidx = {t: i for i, t in enumerate(vocab)}
    t0 = time.time()
    train = [c for c in crop_list(args.train) if c[1]['organ'] in args.organs]
    val = [c for c in crop_list(args.val) if c[1]['organ'] in args.organs]
    print(f'{len(train)} training crops, {len(val)} validation crops; organs {args.organs}', flush=True)
    if args.pos_oversample > 1:
        wanted = set(args.oversample_findings)
        unknown = wanted - set(fids)
        if unknown:
            raise SystemExit(f'--oversample-findings: unknown {sorted(unknown)}')
        hit = [c for c in train if any(f['id'] in wanted for f in c[1]['findings'])]
        per = {f: sum(1 for c in hit if any(g['id'] == f for g in c[1]['findings'])) for f in args.oversample_findings}
        train = train + hit * (args.pos_oversample - 1)
        print(f'oversampled x{args.pos_oversample}: {len(hit)} crops with ' + ', '.join(f'{f} {n}' for f, n in per.items())
              + f' -> {len(train)} crops per epoch', flush=True)

    desc = [(ORGANS.index(o['id']), d) for o in dictionary['organs'] for d in o['descriptions']]
    pos = [(fi, p) for fi, f in enumerate(findings) for p in f['positive']]
    neg = [(fi, p) for fi, f in enumerate(findings) for p in f['negative']]
    texts = [d for _, d in desc] + [p for _, p in pos] + [p for _, p in neg]
    ids = torch.tensor([encode(s, vidx) for s in texts], dtype=torch.long)
    nd, npos = len(desc), len(pos)
    desc_lists = [[i for i, (o, _) in enumerate(desc) if o == k] for k in range(len(ORGANS))]
    pos_lists = [[nd + i for i, (f, _) in enumerate(pos) if f == k] for k in range(len(fids))]
    neg_lists = [[nd + npos + i for i, (f, _) in enumerate(neg) if f == k] for k in range(len(fids))]

    # crop-level prevalence per finding among crops of its organ -> pos_weight
    counts = np.zeros(len(fids))
    organ_crops = np.zeros(len(fids))
    for _, c, _ in train:
        for fi in range(len(fids)):
            if ORGANS[f_organ[fi]] == c['organ']:
                organ_crops[fi] += 1
        for f in c['findings']:
            counts[fid_index[f['id']]] += 1
    prev = counts / np.maximum(organ_crops, 1)
    pos_weight = torch.tensor(np.clip(np.sqrt((1 - prev) / np.maximum(prev, 1e-3)), 1, 5), dtype=torch.float32)
    print('crop prevalence: ' + ', '.join(f'{f}={p:.3f}' for f, p in zip(fids, prev)), flush=True)

    enc = OrganEncoder(in_ch=7 if args.contrast_channel else 6, norm=args.norm, heads=args.heads)
    txt = TextEncoder(len(vocab))
    if args.text_from:
        ck = torch.load(args.text_from, map_location='cpu')
        if ck['vocab'] != vocab:
            raise SystemExit(f'--text-from {args.text_from}: its vocabulary is not this dictionary\'s')
        txt.load_state_dict(ck['text'])
        for p in txt.parameters():
            p.requires_grad_(False)
        print(f'text encoder of {args.text_from}, frozen', flush=True)
    log_scale = nn.Parameter(torch.tensor(math.log(20.0)))
    f_bias = nn.Parameter(torch.zeros(len(fids)))
    # training-only auxiliary linear probe per finding on the organ embedding (as train.py): measured
    # without it, every lung embedding collapsed onto one point (mean pairwise cosine 0.997)
    aux_w = nn.Parameter(torch.zeros(len(fids), EMB))
    aux_b = nn.Parameter(torch.zeros(len(fids)))
    params = list(enc.parameters()) + [p for p in txt.parameters() if p.requires_grad] + [log_scale, f_bias, aux_w,
                                                                                          aux_b]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)

    # one step = one batch of crops of one organ kind (crop sizes differ between organs)
    by_kind = {}
    for c in train:
        by_kind.setdefault(c[1]['organ'], []).append(c)
    steps_per_epoch = sum(len(v) // args.batch_size for v in by_kind.values())
    total = int(steps_per_epoch * args.epochs)
    warm = min(30, total // 10)

    def progress(s):
        p = s / max(1, total)
        if args.time_budget_min > 0:
            p = max(p, (time.time() - t_train) / (args.time_budget_min * 60))
        return min(1.0, p)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * progress(s))) * 0.97 + 0.03)
    # organ-kind mask over findings: only the crop organ's findings are trained
    organ_of = torch.tensor(f_organ)
    t_train = time.time()
    step = 0
    hist = []
    enc.train()
    txt.train()
    done = False
    while not done:
        plan = []
        for k, v in by_kind.items():
            perm = rng.permutation(len(v))
            plan += [[v[i] for i in perm[j:j + args.batch_size]] for j in range(0, len(v) - args.batch_size + 1,
                                                                                 args.batch_size)]
        rng.shuffle(plan)
        for items in plan:
            x, m, bits, y, ext = batch(items, fid_index, rng)
            oi = torch.tensor([ORGANS.index(c['organ']) for _, c, _ in items])
            B = x.shape[0]
            x = x * (1 + 0.05 * (torch.rand(B, x.shape[1], 1, 1, 1) - 0.5)) + 0.05 * (torch.rand(B, x.shape[1], 1, 1, 1) - 0.5)
            e, vl, _ = enc(x, m, oi, ext)
            fmask = (organ_of[None, :] == oi[:, None]).float()                   # [B,16]
            # dense supervision: per-voxel BCE on the organ's findings
            tv = bit_targets(bits, vl.shape[2:], [fi for fi in range(len(fids)) if f_organ[fi] == oi[0].item()])
            lv = F.binary_cross_entropy_with_logits(vl, tv, pos_weight=torch.tensor(10.0), reduction='none')
            l_vox = (lv.mean((2, 3, 4)) * fmask).sum() / fmask.sum()
            te = txt(ids)
            dsel = torch.tensor([rng.choice(desc_lists[k]) for k in range(len(ORGANS))])
            l_anat = F.cross_entropy(e @ te[dsel].T * 10.0, oi)
            psel = torch.tensor([rng.choice(pos_lists[k]) for k in range(len(fids))])
            nsel = torch.tensor([rng.choice(neg_lists[k]) for k in range(len(fids))])
            s = ((e @ te[psel].T) - (e @ te[nsel].T)) * log_scale.exp() + f_bias   # [B,16]
            ld = F.binary_cross_entropy_with_logits(s, y, pos_weight=pos_weight, reduction='none')
            l_diag = (ld * fmask).sum() / fmask.sum()
            la = F.binary_cross_entropy_with_logits((e @ aux_w.T) * 10.0 + aux_b, y, pos_weight=pos_weight,
                                                    reduction='none')
            l_aux = (la * fmask).sum() / fmask.sum()
            loss = l_diag + args.w_anat * l_anat + args.w_voxel * l_vox + args.w_aux * l_aux
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()
            sched.step()
            step += 1
            hist.append([l_diag.item(), l_anat.item(), l_vox.item()])
            if step % 25 == 0 or step == 1:
                h = np.mean(hist[-25:], 0)
                el = time.time() - t_train
                print(f'step {step}/{total} diag {h[0]:.4f} anat {h[1]:.4f} voxel {h[2]:.4f} '
                      f'lr {sched.get_last_lr()[0]:.2e} {el / step:.2f} s/step, {el / 60:.1f} min', flush=True)
            if step >= total or (args.time_budget_min > 0 and progress(step) >= 1.0):
                done = True
                break
    wall = time.time() - t_train
    print(f'trained {step} steps ({step / max(1, steps_per_epoch):.2f} epochs of {steps_per_epoch} steps) '
          f'in {wall / 60:.1f} min', flush=True)
    if args.checkpoint:
        ck = {'encoder': enc.state_dict(), 'text': txt.state_dict(), 'vocab': vocab}
        if args.contrast_channel:
            ck['contrast_hu'] = args.contrast_hu          # 7-channel encoder; absent = the six channels of A-F
        torch.save(ck, args.checkpoint)
    evaluate(enc, txt, dictionary, vidx, val, fid_index, f_organ)
    print(f'total {(time.time() - t0) / 60:.1f} min', flush=True)


@torch.no_grad()
def evaluate(enc, txt, dictionary, vidx, val, fid_index, f_organ):
    enc.eval()
    txt.eval()
    findings = dictionary['findings']
    fids = [f['id'] for f in findings]

    def prompt_means(key):
        out = []
        for f in findings:
            te = txt(torch.tensor([encode(p, vidx) for p in f[key]], dtype=torch.long))
            out.append(te)
        return out
    tp, tn = prompt_means('positive'), prompt_means('negative')
    hp, hn = prompt_means('heldOutPositive'), prompt_means('heldOutNegative')
    # per case: finding -> max over crops (sides) of score; truth per case
    score, held, head, truth = {}, {}, {}, {}
    for case, c, seed in val:
        x, m, bits, y, ext = batch([(case, c, seed)], fid_index)
        oi = torch.tensor([ORGANS.index(c['organ'])])
        e, _, lmax = enc(x, m, oi, ext)
        for fi, f in enumerate(findings):
            if f_organ[fi] != oi.item():
                continue
            s = ((e @ tp[fi].T).mean() - (e @ tn[fi].T).mean()).item()
            sh = ((e @ hp[fi].T).mean() - (e @ hn[fi].T).mean()).item()
            k = (seed, fi)
            score[k] = max(score.get(k, -9), s)
            held[k] = max(held.get(k, -9), sh)
            head[k] = max(head.get(k, -99), lmax[0, fi].item())
            truth[k] = max(truth.get(k, 0), y[0, fi].item())
    print()
    print('| finding | organ | pos/neg (cases) | AUC zero-shot | AUC held-out prompts | AUC finding head max |')
    print('|---|---|---|---|---|---|')
    res = []
    for fi, f in enumerate(fids):
        keys = [k for k in score if k[1] == fi]
        y = np.array([truth[k] for k in keys])
        a = [auc(np.array([d[k] for k in keys]), y) for d in (score, held, head)]
        res.append(a)
        print(f'| {f} | {findings[fi]["organ"]} | {int(y.sum())}/{int(len(y) - y.sum())} | {a[0]:.3f} | {a[1]:.3f} | {a[2]:.3f} |')
    r = np.array(res, dtype=float)
    print(f'| **mean** | | | **{np.nanmean(r[:, 0]):.3f}** | **{np.nanmean(r[:, 1]):.3f}** | **{np.nanmean(r[:, 2]):.3f}** |')


if __name__ == '__main__':
    main()
