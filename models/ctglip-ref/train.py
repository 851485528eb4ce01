#!/usr/bin/python3
"""Train, export (ONNX opset 17), calibrate and package the ct-triage reference model "ctglip-ref".

A small CT-GLIP-style grounded vision-language model, sized to train on a 2-core CPU:

* Image encoder (3D CNN): input ``image`` float32 [1,2,48,64,64] ([channel, z, y, x], the output of
  preprocessing.json).  Strided stem to half resolution, residual blocks down to quarter resolution,
  a light decoder back to half resolution, trilinear upsampling to full resolution plus a per-voxel
  (1x1x1) refinement head that also sees the full-resolution input.  Outputs

  - ``organ_probabilities`` [1,8,48,64,64]: softmax over background + 7 organs (labels 0..7);
  - ``organ_embeddings`` [1,7,64]: for organ labels 1..7, the soft organ mask (organ probabilities,
    average-pooled to half resolution, detached from the embedding losses during training) pools an
    embedding feature map by (a) masked average, (b) masked maximum (max over voxels of mask*feature,
    so that small focal lesions are not averaged away) and (c) log of the soft organ volume (so that
    organ enlargement is visible); a separate 2-layer MLP per organ projects this to 64-d, then L2
    normalisation.

* Text encoder: token embedding (vocabulary.txt) -> mean over non-pad tokens -> 2-layer MLP -> L2
  normalised ``text_embedding`` [N,64]; input ``token_ids`` int64 [N,16].

* Tokenizer (reimplemented in Java, keep identical): lowercase; every run of characters not in
  [a-z0-9] becomes one space; split on spaces, drop empty tokens; id = line index in vocabulary.txt
  (0 <pad>, 1 <unk>, then the sorted distinct tokens of all organ descriptions and all finding prompts,
  held-out ones included); unknown -> 1; truncate / pad with 0 to 16 ids.

* Losses: segmentation (cross-entropy + soft Dice vs labels.npy); anatomy contrastive (InfoNCE between
  each organ embedding and a randomly sampled description of each of the 7 organs); diagnosis (for
  finding f of organ o: s = (cos(e_o, t_pos) - cos(e_o, t_neg)) * scale + b_f with one positive and
  one negative TRAINING prompt sampled per case and step, BCE with pos_weight against truth.json).
  heldOutPositive / heldOutNegative prompts are never used in training (token dropout is used on
  the text side so that the encoder does not rely on single tokens).

* Zero-shot scoring (Java reproduces it): pos = mean_p cos(e_o, t(p)) over the positive prompts,
  neg = mean over the negative prompts, probability = sigmoid((pos - neg) / temperature_f + bias_f).
  temperature_f and bias_f are fitted by Platt scaling (logistic regression of pos-neg) on the
  validation set; threshold_f maximises Youden's J there.  The calibrated values are written into
  the package's dictionary.json (all other fields kept).

Data: case folders DIR/case-NNNNN/ with input.npy (float32 [2,48,64,64]), labels.npy (uint8
[48,64,64]) and truth.json (``findings``: list of {id,...} present), as written by
``bin/ct-triage generate --training-arrays --preprocessing preprocessing.json ...``.

Typical use (see retrain.sh):
  /usr/bin/python3 train.py --train DIR1 DIR2 ... --val VALDIR --epochs 3 --out .
"""
import argparse
import glob
import hashlib
import json
import math
import os
import re
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_TOKENS = 16
EMB = 64
N_ORGANS = 7
N_CLASSES = 8
# The model's input is what preprocessing.json describes (one implementation, in Java's Preprocessor):
# channels = its channel list, grid = its gridSize read as [z, y, x].
PREPROCESSING = json.load(open(os.path.join(HERE, 'preprocessing.json')))
IN_CH = len(PREPROCESSING['channels'])
CHANNELS = list(range(IN_CH))   # --channels (experiments only) trains on a subset
GRID = tuple(reversed(PREPROCESSING['gridSize']))
OPSET = 17


# ----------------------------------------------------------------------------------- tokenizer
REPORTABLE_MIN_AUC = 0.80


def finite_or_null(v):
    """The same structure with every NaN/inf float replaced by None, for strict JSON."""
    if isinstance(v, dict):
        return {k: finite_or_null(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [finite_or_null(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def tokenize_words(text):
    return [t for t in re.sub(r'[^a-z0-9]+', ' ', text.lower()).split(' ') if t]


def build_vocabulary(dictionary):
    texts = []
    for o in dictionary['organs']:
        texts += o['descriptions']
    for f in dictionary['findings']:
        for k in ('positive', 'negative', 'heldOutPositive', 'heldOutNegative'):
            texts += f.get(k, [])
    tokens = sorted({t for s in texts for t in tokenize_words(s)})
    return ['<pad>', '<unk>'] + tokens


def encode(text, vocab_index):
    ids = [vocab_index.get(t, 1) for t in tokenize_words(text)][:MAX_TOKENS]
    return ids + [0] * (MAX_TOKENS - len(ids))


# ------------------------------------------------------------------------------------- models
class ConvBN(nn.Sequential):
    def __init__(self, cin, cout, k=3, s=1, d=1, relu=True):
        layers = [nn.Conv3d(cin, cout, k, stride=s, padding=d * (k // 2), dilation=d, bias=False),
                  nn.BatchNorm3d(cout)]
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class ResBlock(nn.Module):
    def __init__(self, c, d=1):
        super().__init__()
        self.a = ConvBN(c, c, d=d)
        self.b = ConvBN(c, c, d=d, relu=False)

    def forward(self, x):
        return F.relu(x + self.b(self.a(x)))


class ImageEncoder(nn.Module):
    def __init__(self, c1=16, c2=32, cd=24, cf=32, hidden=128, lesion_branch=0):
        super().__init__()
        # --lesion-branch (experiments only): a small conv stack straight from the input into the
        # embedding features, apart from the trunk the segmentation loss trains to ignore lesions.
        self.lesion = nn.Sequential(ConvBN(IN_CH, lesion_branch, s=2), ConvBN(lesion_branch, lesion_branch),
                                    ConvBN(lesion_branch, lesion_branch)) if lesion_branch else None
        self.stem = ConvBN(IN_CH, c1, s=2)                 # 24x32x32
        self.enc1 = ResBlock(c1)
        self.down = ConvBN(c1, c2, s=2)                # 12x16x16
        self.enc2 = nn.Sequential(ResBlock(c2), ResBlock(c2, d=2), ResBlock(c2, d=2))
        self.lat2 = nn.Conv3d(c2, cd, 1)
        self.lat1 = nn.Conv3d(c1, cd, 1)
        self.dec = nn.Sequential(nn.BatchNorm3d(cd), nn.ReLU(inplace=True), ConvBN(cd, cd))
        self.seg_half = nn.Conv3d(cd, N_CLASSES, 1)
        self.refine = nn.Sequential(nn.Conv3d(cd + IN_CH + N_CLASSES, 16, 1), nn.ReLU(inplace=True),
                                    nn.Conv3d(16, N_CLASSES, 1))
        self.feat = nn.Sequential(ConvBN(cd + c2 + lesion_branch, cf, k=1))
        nin = 2 * cf + 1
        # BatchNorm1d over cases keeps the embeddings varying from case to case (without it the organ
        # embeddings collapse to one vector per organ under the anatomy loss and diagnosis cannot start)
        self.proj = nn.ModuleList([nn.Sequential(nn.Linear(nin, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
                                                 nn.Linear(hidden, EMB)) for _ in range(N_ORGANS)])
        self.detach_masks = True

    def forward(self, image):
        h1 = self.enc1(self.stem(image))                              # [B,c1,24,32,32]
        h2 = self.enc2(self.down(h1))                                  # [B,c2,12,16,16]
        up2 = F.interpolate(h2, size=h1.shape[2:], mode='trilinear', align_corners=False)
        d = self.dec(self.lat1(h1) + self.lat2(up2))                   # [B,cd,24,32,32]
        lh = self.seg_half(d)
        upd = F.interpolate(torch.cat([d, lh], 1), size=GRID, mode='trilinear', align_corners=False)
        logits = upd[:, -N_CLASSES:] + self.refine(torch.cat([upd, image], 1))  # [B,8,48,64,64]
        probs = torch.softmax(logits, 1)
        masks = F.avg_pool3d(probs[:, 1:], 2)                          # [B,7,24,32,32]
        if self.training and self.detach_masks:
            masks = masks.detach()
        branches = [d, up2] if self.lesion is None else [d, up2, self.lesion(image)]
        fm = self.feat(torch.cat(branches, 1))                        # [B,cf,24,32,32], >= 0
        b = fm.shape[0]
        m = masks.reshape(b, N_ORGANS, -1)                             # [B,7,V]
        f = fm.reshape(b, fm.shape[1], -1)                             # [B,C,V]
        vol = m.sum(-1, keepdim=True)                                  # [B,7,1]
        avg = torch.matmul(m, f.transpose(1, 2)) / (vol + 1e-3)        # [B,7,C]
        mx = (m.unsqueeze(2) * f.unsqueeze(1)).amax(-1)                # [B,7,C]
        pooled = torch.cat([avg, mx, torch.log(vol + 1.0) * 0.25], -1)  # [B,7,2C+1]
        emb = torch.stack([self.proj[i](pooled[:, i]) for i in range(N_ORGANS)], 1)
        emb = emb / torch.sqrt((emb * emb).sum(-1, keepdim=True) + 1e-12)
        return logits, probs, emb


class ImageEncoderExport(nn.Module):
    def __init__(self, enc):
        super().__init__()
        self.enc = enc

    def forward(self, image):
        _, probs, emb = self.enc(image)
        return probs, emb


class TextEncoder(nn.Module):
    def __init__(self, vocab_size, dim=EMB, hidden=128):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, dim, padding_idx=0)
        nn.init.normal_(self.emb.weight, std=0.02)   # small: tokens never trained stay near zero
        with torch.no_grad():
            self.emb.weight[0].zero_()
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, EMB))

    def forward(self, token_ids):
        mask = (token_ids != 0).to(torch.float32).unsqueeze(-1)           # [N,16,1]
        e = self.emb(token_ids) * mask
        pooled = e.sum(1) / torch.clamp(mask.sum(1), min=1.0)
        out = self.mlp(pooled * 10.0)
        return out / torch.sqrt((out * out).sum(-1, keepdim=True) + 1e-12)


# --------------------------------------------------------------------------------------- data
def load_cases(dirs, finding_ids, log, limit=0):
    """Arrays of the case folders: inputs, organ labels, finding truth per case, seeds."""
    cases = []
    for d in dirs:
        cases += sorted(glob.glob(os.path.join(d, 'case-*')))
    if limit:
        cases = cases[:limit]
    n = len(cases)
    x = torch.empty((n, IN_CH) + GRID, dtype=torch.float16)
    y = torch.empty((n,) + GRID, dtype=torch.uint8)
    t = torch.zeros((n, len(finding_ids)), dtype=torch.float32)
    seeds = []
    fidx = {f: i for i, f in enumerate(finding_ids)}
    for i, c in enumerate(cases):
        a = np.load(os.path.join(c, 'input.npy'))
        assert a.shape == (len(PREPROCESSING['channels']),) + GRID and a.dtype == np.float32, (c, a.shape, a.dtype)
        a = a[CHANNELS]
        x[i] = torch.from_numpy(a.astype(np.float16))
        y[i] = torch.from_numpy(np.load(os.path.join(c, 'labels.npy')).astype(np.uint8))
        tr = json.load(open(os.path.join(c, 'truth.json')))
        for fd in tr.get('findings', []):
            t[i, fidx[fd['id']]] = 1.0
        seeds.append(tr.get('seed'))
    log(f'loaded {n} cases from {len(dirs)} folder(s)')
    return x, y, t, seeds


# ------------------------------------------------------------------------------------ helpers
def dice_loss(logits, labels):
    p = torch.softmax(logits, 1)
    oh = F.one_hot(labels.long(), N_CLASSES).permute(0, 4, 1, 2, 3).to(p.dtype)
    dims = (0, 2, 3, 4)
    inter = (p * oh).sum(dims)
    den = p.sum(dims) + oh.sum(dims)
    d = (2 * inter + 1.0) / (den + 1.0)
    return 1.0 - d[1:].mean()


def auc(scores, labels):
    scores = np.asarray(scores, np.float64)
    labels = np.asarray(labels) > 0.5
    npos, nneg = labels.sum(), (~labels).sum()
    if npos == 0 or nneg == 0:
        return float('nan')
    order = np.argsort(scores, kind='mergesort')
    s = scores[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):        # average ranks for ties
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i:j + 1] = (i + j) / 2.0 + 1
        i = j + 1
    r = np.empty(len(s))
    r[order] = ranks
    return float((r[labels].sum() - npos * (npos + 1) / 2.0) / (npos * nneg))


def auc_interval95(scores, labels):
    """DeLong's 95 % interval of the AUC (the AUC +- 1.96 standard errors from the per-case components of the
    Mann-Whitney statistic, clipped to [0, 1]), as the Java evaluation (BinaryMetrics.aucInterval95); (nan, nan)
    with fewer than two positives or two negatives."""
    scores = np.asarray(scores, np.float64)
    labels = np.asarray(labels) > 0.5
    p, n = scores[labels], scores[~labels]
    if len(p) < 2 or len(n) < 2:
        return float('nan'), float('nan')
    psi = (p[:, None] > n[None, :]) + 0.5 * (p[:, None] == n[None, :])
    a = psi.mean()
    var = psi.mean(1).var(ddof=1) / len(p) + psi.mean(0).var(ddof=1) / len(n)
    half = 1.96 * math.sqrt(var)
    return max(0.0, a - half), min(1.0, a + half)


def auc_against(pos, neg):
    """(AUC, low, high) of scores ``pos`` (positives) against ``neg`` (negatives), with DeLong's 95 % interval: how
    an enriched set's positives rank against another evaluation's negatives."""
    x = np.r_[np.asarray(pos, np.float64), np.asarray(neg, np.float64)]
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    return (auc(x, y),) + tuple(auc_interval95(x, y))


def platt(x, y, iters=200, l2=1e-6):
    """Platt scaling: logistic regression p = sigmoid(a*x + b), fitted by damped Newton steps (backtracking on
    the log-loss) with Platt's (1999) smoothed targets (N+ + 1)/(N+ + 2) and 1/(N- + 2), so that separable
    data still give a finite slope.  x is standardised internally; returns (a, b) for the raw x."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    npos, nneg = (y > 0.5).sum(), (y <= 0.5).sum()
    t = np.where(y > 0.5, (npos + 1.0) / (npos + 2.0), 1.0 / (nneg + 2.0))
    mu, sd = x.mean(), max(x.std(), 1e-12)
    z = (x - mu) / sd

    def loss(a, b):
        u = a * z + b
        return np.sum(np.logaddexp(0, u) - t * u) + 0.5 * l2 * a * a
    a, b = 0.0, math.log((npos + 1.0) / (nneg + 1.0))
    cur = loss(a, b)
    for _ in range(iters):
        p = 1 / (1 + np.exp(-np.clip(a * z + b, -500, 500)))
        w = p * (1 - p) + 1e-12
        ga, gb = np.sum((p - t) * z) + l2 * a, np.sum(p - t)
        haa, hab, hbb = np.sum(w * z * z) + l2, np.sum(w * z), np.sum(w)
        det = haa * hbb - hab * hab
        da, db = (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det
        step = 1.0
        while step > 1e-8:
            na, nb = a - step * da, b - step * db
            nl = loss(na, nb)
            if nl <= cur:
                break
            step /= 2
        if step <= 1e-8:
            break
        done = cur - nl < 1e-12
        a, b, cur = na, nb, nl
        if done:
            break
    return a / sd, b - a * mu / sd


def youden_threshold(prob, y):
    prob = np.asarray(prob, np.float64)
    y = np.asarray(y) > 0.5
    best, thr = -1.0, 0.5
    for c in np.unique(prob):
        pred = prob >= c
        sens = (pred & y).sum() / max(y.sum(), 1)
        spec = (~pred & ~y).sum() / max((~y).sum(), 1)
        if sens + spec - 1 > best:
            best, thr = sens + spec - 1, float(c)
    return thr


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def sig(v, n=7):
    return float(f'{v:.{n}g}')


# ----------------------------------------------------------------------------------- training
def train(args, dictionary, vocab, log):
    organs = [o['id'] for o in sorted(dictionary['organs'], key=lambda o: o['label'])]
    findings = dictionary['findings']
    fids = [f['id'] for f in findings]
    vidx = {t: i for i, t in enumerate(vocab)}
    x, y, t, _ = load_cases(args.train, fids, log)
    n = x.shape[0]
    prev = t.mean(0)
    log('training prevalence: ' + ', '.join(f'{f}={p:.3f}' for f, p in zip(fids, prev.tolist())))
    pos_weight = torch.clamp(torch.sqrt((1 - prev) / torch.clamp(prev, min=1e-3)), 1.0, 5.0)

    # prompt tables (training prompts only)
    desc_texts, desc_owner = [], []
    for oi, o in enumerate(sorted(dictionary['organs'], key=lambda o: o['label'])):
        for d in o['descriptions']:
            desc_texts.append(d)
            desc_owner.append(oi)
    pos_texts, pos_owner, neg_texts, neg_owner = [], [], [], []
    for fi, f in enumerate(findings):
        for p in f['positive']:
            pos_texts.append(p); pos_owner.append(fi)
        for p in f['negative']:
            neg_texts.append(p); neg_owner.append(fi)
    all_texts = desc_texts + pos_texts + neg_texts
    all_ids = torch.tensor([encode(s, vidx) for s in all_texts], dtype=torch.long)
    nd, npz = len(desc_texts), len(pos_texts)
    desc_lists = [[i for i, o in enumerate(desc_owner) if o == k] for k in range(N_ORGANS)]
    pos_lists = [[nd + i for i, o in enumerate(pos_owner) if o == k] for k in range(len(fids))]
    neg_lists = [[nd + npz + i for i, o in enumerate(neg_owner) if o == k] for k in range(len(fids))]
    dev = torch.device(args.device)
    f_organ = torch.tensor([organs.index(f['organ']) for f in findings]).to(dev)
    all_ids = all_ids.to(dev)
    pos_weight = pos_weight.to(dev)

    img = ImageEncoder(lesion_branch=args.lesion_branch).to(dev)
    txt = TextEncoder(len(vocab)).to(dev)
    log_scale = nn.Parameter(torch.tensor(math.log(20.0), device=dev))
    f_bias = nn.Parameter(torch.zeros(len(fids), device=dev))
    # training-only auxiliary linear probe on the organ embedding (not exported): makes e_o carry the
    # finding information early, before the text side has separated positive from negative prompts
    aux_w = nn.Parameter(torch.zeros(len(fids), EMB, device=dev))
    aux_b = nn.Parameter(torch.zeros(len(fids), device=dev))
    params = list(img.parameters()) + list(txt.parameters()) + [log_scale, f_bias, aux_w, aux_b]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    steps_per_epoch = n // args.batch_size
    total = steps_per_epoch * args.epochs if args.max_steps <= 0 else min(args.max_steps, steps_per_epoch * args.epochs)
    warm = min(40, total // 10)
    t0 = time.time()

    def progress(s):
        """Fraction of training done: by steps, or (with --time-budget-min) by wall time if larger."""
        p = (s - warm) / max(1, total - warm)
        if args.time_budget_min > 0:
            p = max(p, (time.time() - t0) / (args.time_budget_min * 60))
        return min(1.0, p)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * progress(s))) * 0.97 + 0.03)
    g = torch.Generator().manual_seed(args.seed)
    rng = np.random.RandomState(args.seed)
    img.train(); txt.train()
    step = 0
    hist = []
    stop = False
    for ep in range(args.epochs):
        perm = torch.randperm(n, generator=g)
        for bi in range(steps_per_epoch):
            if step >= total:
                stop = True
                break
            idx = perm[bi * args.batch_size:(bi + 1) * args.batch_size]
            xb = x[idx].to(dev).float()
            yb = y[idx].to(dev).long()
            tb = t[idx].to(dev)
            B = xb.shape[0]
            # light augmentation: random intensity jitter (keeps geometry, anatomy is lateralised)
            if args.augment:
                xb = xb * (1 + 0.05 * (torch.rand(B, IN_CH, 1, 1, 1, generator=g) - 0.5).to(dev)) \
                     + 0.05 * (torch.rand(B, IN_CH, 1, 1, 1, generator=g) - 0.5).to(dev)
            logits, probs, emb = img(xb)
            l_seg = F.cross_entropy(logits, yb) + dice_loss(logits, yb)

            # text embeddings of every training prompt, with token dropout
            ids = all_ids.clone()
            if args.token_dropout > 0:
                drop = (torch.rand(ids.shape, generator=g) < args.token_dropout).to(dev) & (ids != 0)
                keep_any = ((ids != 0) & ~drop).any(1, keepdim=True)
                ids = torch.where(drop & keep_any, torch.zeros_like(ids), ids)
            te = txt(ids)                                              # [T,64]

            # anatomy contrastive: each organ embedding vs one sampled description per organ
            dsel = torch.tensor([rng.choice(desc_lists[k]) for k in range(N_ORGANS)]).to(dev)
            de = te[dsel]                                              # [7,64]
            la = torch.einsum('bod,kd->bok', emb, de) * 10.0
            l_anat = F.cross_entropy(la.reshape(-1, N_ORGANS), torch.arange(N_ORGANS, device=dev).repeat(B))

            # diagnosis: per case and finding, one sampled positive and one negative prompt
            psel = torch.tensor([[rng.choice(pos_lists[k]) for k in range(len(fids))] for _ in range(B)]).to(dev)
            nsel = torch.tensor([[rng.choice(neg_lists[k]) for k in range(len(fids))] for _ in range(B)]).to(dev)
            eo = emb[:, f_organ]                                       # [B,F,64]
            s = ((eo * te[psel]).sum(-1) - (eo * te[nsel]).sum(-1)) * log_scale.exp() + f_bias
            l_diag = F.binary_cross_entropy_with_logits(s, tb, pos_weight=pos_weight)
            l_aux = F.binary_cross_entropy_with_logits((eo * aux_w).sum(-1) * 10.0 + aux_b, tb, pos_weight=pos_weight)

            loss = args.w_seg * l_seg + args.w_anat * l_anat + args.w_diag * l_diag + args.w_aux * l_aux
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()
            sched.step()
            hist.append([l_seg.item(), l_anat.item(), l_diag.item(), l_aux.item()])
            step += 1
            if step % args.log_every == 0 or step == 1:
                h = np.mean(hist[-args.log_every:], 0)
                el = time.time() - t0
                log(f'ep {ep} step {step}/{total} seg {h[0]:.4f} anat {h[1]:.4f} diag {h[2]:.4f} aux {h[3]:.4f} '
                    f'scale {log_scale.exp().item():.2f} lr {sched.get_last_lr()[0]:.2e} '
                    f'{el / step:.2f} s/step, elapsed {el / 60:.1f} min')
            if args.checkpoint and args.save_every > 0 and step % args.save_every == 0:
                torch.save({'image': img.state_dict(), 'text': txt.state_dict(), 'vocab': vocab,
                            'info': {'steps': step, 'trainingCases': n, 'batchSize': args.batch_size,
                                     'epochsCompleted': round(step / steps_per_epoch, 3),
                                     'trainWallSeconds': round(time.time() - t0, 1)}}, args.checkpoint)
            if args.time_budget_min > 0 and step > warm and progress(step) >= 1.0:
                log('time budget used up: cosine schedule completed by wall time, stopping '
                    '(run length then depends on machine speed)')
                stop = True
                break
            if args.time_limit_min > 0 and (time.time() - t0) > args.time_limit_min * 60:
                log('time limit reached, stopping early (run is then NOT deterministic in length)')
                stop = True
                break
        if stop:
            break
    wall = time.time() - t0
    img.cpu(); txt.cpu()   # calibration, evaluation and export run on the CPU
    info = {'device': args.device, 'steps': step, 'epochsCompleted': round(step / max(1, steps_per_epoch), 3),
            'trainingCases': n, 'batchSize': args.batch_size, 'trainWallSeconds': round(wall, 1),
            'secondsPerStep': round(wall / max(1, step), 3),
            'trainingPrevalence': {f: round(p, 4) for f, p in zip(fids, prev.tolist())},
            'finalLosses': dict(zip(['segmentation', 'anatomy', 'diagnosis', 'auxiliaryProbe'],
                                    [round(v, 4) for v in np.mean(hist[-50:], 0).tolist()])),
            'learnedScale': round(log_scale.exp().item(), 3)}
    return img, txt, info


# ---------------------------------------------------------------------------- evaluation/calib
@torch.no_grad()
def run_images(img, x, bs=4):
    img.eval()
    embs, preds = [], []
    for i in range(0, x.shape[0], bs):
        _, probs, emb = img(x[i:i + bs].float())
        embs.append(emb)
        preds.append(probs.argmax(1).to(torch.uint8))
    return torch.cat(embs), torch.cat(preds)


@torch.no_grad()
def text_embed(txt, texts, vidx):
    txt.eval()
    return txt(torch.tensor([encode(s, vidx) for s in texts], dtype=torch.long))


def calibrate_and_evaluate(img, txt, dictionary, vocab, val_dirs, log):
    organs = [o['id'] for o in sorted(dictionary['organs'], key=lambda o: o['label'])]
    findings = dictionary['findings']
    fids = [f['id'] for f in findings]
    vidx = {t: i for i, t in enumerate(vocab)}
    x, y, t, seeds = load_cases(val_dirs, fids, log)
    emb, pred = run_images(img, x)
    # Dice per organ (argmax of organ_probabilities)
    dice = {}
    for k in range(1, N_CLASSES):
        p = pred == k
        g = y == k
        inter = (p & g).flatten(1).sum(1).float()
        den = (p.flatten(1).sum(1) + g.flatten(1).sum(1)).float()
        dice[organs[k - 1]] = float(torch.where(den > 0, 2 * inter / den.clamp(min=1), torch.ones_like(den)).mean())
    res = {}
    for fi, f in enumerate(findings):
        o = organs.index(f['organ'])
        e = emb[:, o]
        lab = t[:, fi].numpy()

        def margin(pos, neg):
            tp = text_embed(txt, pos, vidx)
            tn = text_embed(txt, neg, vidx)
            return ((e @ tp.T).mean(1) - (e @ tn.T).mean(1)).numpy().astype(np.float64)
        xm = margin(f['positive'], f['negative'])
        a, b = platt(xm, lab)
        if not (a > 0):
            log(f'WARNING {f["id"]}: Platt slope {a} <= 0; using temperature 1, bias from prevalence')
            a, b = 1.0, math.log(max(lab.mean(), 1e-3) / max(1 - lab.mean(), 1e-3))
        temperature, bias = 1.0 / a, b
        prob = 1 / (1 + np.exp(-(xm / temperature + bias)))
        thr = youden_threshold(prob, lab)
        predp = prob >= thr
        pos = lab > 0.5
        sens = float((predp & pos).sum() / max(pos.sum(), 1))
        spec = float((~predp & ~pos).sum() / max((~pos).sum(), 1))
        xh = margin(f['heldOutPositive'], f['heldOutNegative'])
        # mixed: held-out positives vs training negatives and vice versa are not used; pure held-out set
        res[f['id']] = {'organ': f['organ'], 'positives': int(pos.sum()), 'negatives': int((~pos).sum()),
                        'auc': auc(xm, lab), 'sensitivity': sens, 'specificity': spec,
                        'aucHeldOutPrompts': auc(xh, lab),
                        'temperature': sig(temperature), 'bias': sig(b), 'threshold': sig(thr)}
    # anatomy: organ embedding nearest to its own mean description embedding
    de = torch.stack([text_embed(txt, o['descriptions'], vidx).mean(0) for o in
                      sorted(dictionary['organs'], key=lambda o: o['label'])])
    de = de / de.norm(dim=-1, keepdim=True)
    anat_acc = float((torch.einsum('bod,kd->bok', emb, de).argmax(-1) == torch.arange(N_ORGANS)).float().mean())
    return res, dice, anat_acc, len(seeds), (min(seeds), max(seeds))


# -------------------------------------------------------------------------------------- export
def export(img, txt, out, log, example=None):
    img.eval(); txt.eval()
    torch.manual_seed(0)
    dummy = torch.rand(1, IN_CH, *GRID) * 2 - 1
    ie = ImageEncoderExport(img).eval()
    p_img = os.path.join(out, 'image_encoder.onnx')
    p_txt = os.path.join(out, 'text_encoder.onnx')
    torch.onnx.export(ie, (dummy,), p_img, opset_version=OPSET, input_names=['image'],
                      output_names=['organ_probabilities', 'organ_embeddings'], do_constant_folding=True)
    ids = torch.tensor([[5, 7, 0] + [0] * 13, [3] + [0] * 15], dtype=torch.long)
    torch.onnx.export(txt, (ids,), p_txt, opset_version=OPSET, input_names=['token_ids'],
                      output_names=['text_embedding'], do_constant_folding=True,
                      dynamic_axes={'token_ids': {0: 'N'}, 'text_embedding': {0: 'N'}})
    import onnx
    for p in (p_img, p_txt):
        m = onnx.load(p)
        onnx.checker.check_model(m, full_check=True)
        log(f'{os.path.basename(p)}: checker OK, opset {m.opset_import[0].version}, '
            f'{os.path.getsize(p) / 1e6:.2f} MB, ops {sorted({n.op_type for n in m.graph.node})}')
    # consistency: traced (TorchScript) graph vs eager, as onnx 1.12 has no reference runtime
    with torch.no_grad():
        tr = torch.jit.trace(ie, (dummy,))
        a, b = ie(dummy), tr(dummy)
        d1 = max(float((u - v).abs().max()) for u, v in zip(a, b))
        ids2 = torch.randint(0, 50, (5, MAX_TOKENS))
        d2 = float((txt(ids2) - torch.jit.trace(txt, (ids,))(ids2)).abs().max())
    log(f'trace-vs-eager max abs diff: image {d1:.2e}, text (other batch size) {d2:.2e}')
    # run the exported ONNX files with the NumPy interpreter of verify_onnx.py (ONNX operator semantics)
    chk = {'traceVsEagerMaxAbsDiffImage': d1, 'traceVsEagerMaxAbsDiffText': d2, 'onnxChecker': 'full_check passed'}
    try:
        sys.path.insert(0, HERE)
        import verify_onnx
        xin = (example if example is not None else dummy).float()
        with torch.no_grad():
            p_t, e_t = ie(xin)
            ids3 = torch.tensor([[2, 3, 4, 5] + [0] * 12, [0] * 16, list(range(2, 18)), [1, 9] + [0] * 14])
            t_t = txt(ids3)
        p_o, e_o = verify_onnx.run(p_img, {'image': xin.numpy()})
        (t_o,) = verify_onnx.run(p_txt, {'token_ids': ids3.numpy()})
        chk.update({'numpyOnnxInterpreterMaxAbsDiff': {
            'organ_probabilities': float(np.abs(p_o - p_t.numpy()).max()),
            'organ_embeddings': float(np.abs(e_o - e_t.numpy()).max()),
            'text_embedding': float(np.abs(t_o - t_t.numpy()).max())},
            'numpyOnnxInterpreter': 'verify_onnx.py (ONNX opset-17 semantics in NumPy) vs PyTorch, one validation case and 4 token rows'})
        log(f'ONNX (NumPy interpreter) vs torch: {chk["numpyOnnxInterpreterMaxAbsDiff"]}')
    except Exception as ex:  # keep the package even if the optional check fails
        log(f'WARNING: NumPy ONNX check failed: {ex!r}')
        chk['numpyOnnxInterpreter'] = f'failed: {ex!r}'
    return chk


# ---------------------------------------------------------------------------------------- card
def write_card(path, manifest, res, dice, anat_acc):
    tr, ev = manifest['training'], manifest['evaluation']
    L = []
    L.append('# ctglip-ref: reference model card\n')
    L.append('**What it is.** A small CT-GLIP-style grounded vision-language model that demonstrates the '
             'ct-triage model pipeline end to end (preprocessing -> ONNX image encoder -> organ-grounded '
             'embeddings -> zero-shot prompt scoring -> calibrated probabilities). It was trained ONLY on '
             'synthetic phantoms produced by `bin/ct-triage generate`. **It is NOT a clinical model** and '
             'says nothing about real CT.\n')
    L.append('## Architecture\n')
    sp = PREPROCESSING
    chans = ', '.join(f"{c['name']} ({c.get('reduce', 'mean')}, {c['lowerHu']:g}..{c['upperHu']:g} HU)"
                      for c in sp['channels'])
    L.append(f"- Input `image` float32 [1,{IN_CH},{','.join(map(str, GRID))}] = [channel, z, y, x] at "
             f"{' x '.join(f'{v:g}' for v in sp['spacingMm'])} mm. Each grid voxel reduces "
             f"{'x'.join(map(str, sp.get('footprintSamples', [1, 1, 1])))} trilinear HU samples spread over its "
             f"footprint; channels: {chans}; each clipped to its window and scaled to [-1,1] "
             '(`preprocessing.json`). The mean is anti-aliased; min and max keep sub-voxel cysts, fluid, '
             'emphysema, stones and calcification visible at this resolution.')
    L.append(f'- Image encoder: 3D CNN with BatchNorm: strided stem ({IN_CH}->16 ch) to half resolution, residual '
             'block, strided conv (16->32 ch) to quarter resolution, three residual blocks (two dilated), '
             'trilinear upsampling + lateral 1x1 convs into a 24-ch half-resolution decoder, 8-class '
             'segmentation logits upsampled trilinearly to the full grid plus a per-voxel refinement head '
             'that sees the full-resolution input; softmax -> `organ_probabilities` [1,8,48,64,64].')
    L.append('- Organ pooling: the soft organ masks (probabilities of labels 1..7, average-pooled to half '
             'resolution) pool a 32-ch feature map by **masked average AND masked maximum** (max over voxels '
             'of mask x feature, so that small focal lesions are not averaged away), plus the log soft organ '
             'volume (so that enlargement is visible); one 2-layer MLP per organ -> 64-d, L2-normalised '
             '`organ_embeddings` [1,7,64] (order = labels 1..7: ' + ', '.join(o['id'] for o in manifest['organs']) + ').')
    L.append('- Text encoder: token embedding over `vocabulary.txt` -> mean over non-pad tokens -> 2-layer MLP '
             '-> L2-normalised `text_embedding` [N,64]; input `token_ids` int64 [N,16]. Tokenizer: lowercase, '
             'runs of characters outside [a-z0-9] -> one space, split, ids by line of vocabulary.txt '
             '(0 `<pad>`, 1 `<unk>`), truncate/pad to 16.')
    L.append('- ONNX opset %d; checked with `onnx.checker` (full check).\n' % OPSET)
    L.append('## Scoring\n')
    L.append('For finding f of organ o: pos = mean cos(e_o, text_embedding(p)) over the finding\'s `positive` '
             'prompts, neg = the same over its `negative` prompts, probability = sigmoid((pos - neg) / '
             'temperature_f + bias_f). temperature_f and bias_f come from Platt scaling on the validation '
             'set, threshold_f maximises Youden\'s J there (all in `dictionary.json`).\n')
    L.append('## Training\n')
    L.append('- Losses: segmentation (cross-entropy + soft Dice vs the phantom label map), anatomy contrastive '
             '(InfoNCE between each organ embedding and a sampled description of each organ), diagnosis (BCE '
             'with pos_weight on s = (cos(e_o,t_pos) - cos(e_o,t_neg)) * learned scale + per-finding bias, '
             'one positive and one negative training prompt sampled per case and step; text token dropout), '
             'and a training-only auxiliary linear probe per finding on its organ embedding (BCE; not exported, '
             'not used for scoring) that makes the embeddings carry finding information early in training. '
             'Held-out prompts are never used in training.')
    L.append(f'- Data: {tr["trainingCases"]} synthetic training cases ({tr["dataDescription"]}); '
             f'{ev["validationCases"]} validation/calibration cases (seeds {ev["validationSeeds"][0]}..{ev["validationSeeds"][1]}). '
             'Seeds below 1000000 are reserved for evaluation and were not used.')
    L.append(f'- {tr["steps"]} steps of batch {tr["batchSize"]} ({tr["epochsCompleted"]} epochs), AdamW, '
             f'cosine schedule; training wall time {tr["trainWallSeconds"] / 60:.1f} min on {tr["cpuThreads"]} CPU threads; '
             f'torch {tr["versions"]["torch"]}, onnx {tr["versions"]["onnx"]}, numpy {tr["versions"]["numpy"]}.')
    L.append(f'- Retrain from scratch: `{tr["command"]}`' + ('' if not tr.get('buildNote') else
             f'\n- This build: {tr["buildNote"]}') + '\n')
    L.append('## Validation (seeds 2000000+, used for calibration too, so calibrated figures are optimistic)\n')
    L.append('| finding | organ | pos/neg | AUC | sens @thr | spec @thr | AUC held-out prompts | temperature | bias | threshold |')
    L.append('|---|---|---|---|---|---|---|---|---|---|')
    for fid, r in res.items():
        L.append(f'| {fid} | {r["organ"]} | {r["positives"]}/{r["negatives"]} | {r["auc"]:.3f} | {r["sensitivity"]:.3f} | '
                 f'{r["specificity"]:.3f} | {r["aucHeldOutPrompts"]:.3f} | {r["temperature"]:.4g} | {r["bias"]:.4g} | {r["threshold"]:.4g} |')
    L.append(f'| **mean** | | | **{ev["meanAuc"]:.3f}** | | | **{ev["meanAucHeldOutPrompts"]:.3f}** | | | |\n')
    L.append('| organ | mean Dice |')
    L.append('|---|---|')
    for k, v in dice.items():
        L.append(f'| {k} | {v:.3f} |')
    L.append(f'| **mean** | **{ev["meanDice"]:.3f}** |\n')
    L.append(f'Anatomy grounding: {anat_acc * 100:.1f} % of organ embeddings are closest to their own organ '
             'description (mean description embedding).\n')
    L.append('## Evaluation on unseen seeds (bin/ct-triage evaluate)\n')
    L.append('The Java-side figures are filled in by the evaluate command\'s run (seeds < 1000000).\n')
    L.append('## Known limits\n')
    L.append('- Synthetic phantoms only; the findings, their appearance and their prevalence (5-25 %) are those '
             'of the generator. Nothing here transfers to patient CT.')
    L.append('- 6.25 x 6.25 x 7.5 mm voxels: a lesion smaller than a voxel survives only through the footprint '
             'min/max channels, mixed with the noise extremes of normal tissue; detection then relies on the '
             'strongest stones/nodules.')
    L.append('- Validation figures come from the same data used to fit temperature/bias/threshold; use the '
             'Java evaluate run on unseen seeds for unbiased figures.')
    L.append('- The text encoder is a bag of words over a closed vocabulary (the dictionary); words outside it '
             'map to `<unk>`, and word order is ignored ("no" is learned as a token).')
    L.append('- Organ pooling uses predicted soft masks; findings outside the predicted organ (e.g. pleural '
             'fluid) are seen only through the receptive field at the organ boundary.')
    L.append('- A finding whose Platt slope on the validation set is <= 0 (the model ranks it backwards) gets '
             'temperature 1 and bias = log-odds of its validation prevalence, i.e. an almost constant probability.')
    weak = [k for k, r in res.items() if not (r['auc'] >= 0.85)]
    if ev['meanAuc'] < 0.95 or weak or ev['meanDice'] < 0.85:
        L.append(f'- **Status of this build: below the project targets** (mean AUC >= 0.95, every finding >= 0.85, mean '
                 f'Dice >= 0.85, held-out mean AUC >= 0.90): mean AUC {ev["meanAuc"]:.3f}, mean Dice {ev["meanDice"]:.3f}, '
                 f'held-out mean AUC {ev["meanAucHeldOutPrompts"]:.3f}; findings below 0.85: {", ".join(weak) or "none"}. '
                 '(validation figures). The focal findings stay near chance at the 5 epochs that 2 CPU cores allow '
                 'in an hour; see the GPU experiments in this card for what more training and other inputs did.')
    open(path, 'w').write('\n'.join(L) + '\n')


# ---------------------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--train', nargs='+', default=[], help='training case folders (DIR containing case-NNNNN/)')
    ap.add_argument('--val', nargs='+', required=True, help='validation/calibration case folders (seeds 2000000+)')
    ap.add_argument('--out', default=HERE, help='package folder (default: this folder)')
    ap.add_argument('--dictionary', default=None, help='dictionary.json to read (default: OUT/dictionary.json)')
    ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--max-steps', type=int, default=0, help='stop after this many steps (0 = all epochs)')
    ap.add_argument('--time-limit-min', type=float, default=0, help='safety stop (0 = off; makes run length time-dependent)')
    ap.add_argument('--time-budget-min', type=float, default=0,
                    help='anneal the LR schedule over this wall time and stop when it is used up, if that comes '
                         'before the last step (0 = off, fully deterministic)')
    ap.add_argument('--batch-size', type=int, default=4)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--w-seg', type=float, default=1.0)
    ap.add_argument('--w-anat', type=float, default=0.05)
    ap.add_argument('--w-diag', type=float, default=2.0)
    ap.add_argument('--w-aux', type=float, default=1.0, help='weight of the training-only linear probe on organ embeddings')
    ap.add_argument('--token-dropout', type=float, default=0.15)
    ap.add_argument('--augment', type=int, default=1)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--device', default='cpu', help='cpu (the documented build) or cuda (experiments only: '
                                                   'not deterministic, not what the package is built with)')
    ap.add_argument('--checkpoint', default=None, help='save trained weights here (torch .pt)')
    ap.add_argument('--save-every', type=int, default=100, help='also save the checkpoint every N steps')
    ap.add_argument('--from-checkpoint', default=None, help='skip training, load weights from this .pt')
    ap.add_argument('--command', default=None, help='retrain command to record in the manifest')
    ap.add_argument('--data-description', default='', help='free text about the data sets, for the manifest')
    ap.add_argument('--generation-seconds', type=float, default=None, help='data generation wall time, for the manifest')
    ap.add_argument('--build-note', default='', help='free text about how this particular build was run')
    ap.add_argument('--log-every', type=int, default=25)
    ap.add_argument('--channels', default=None,
                    help='experiments only: comma-separated input channels to train on (the package it writes '
                         'then does not match preprocessing.json)')
    ap.add_argument('--skip-export', action='store_true', help='experiments only: stop after calibration')
    ap.add_argument('--lesion-branch', type=int, default=0,
                    help='experiments only: channels of a conv branch from the input into the embedding features '
                         '(0 = none, the package architecture)')
    args = ap.parse_args()
    if args.channels:
        global IN_CH, CHANNELS
        CHANNELS = [int(c) for c in args.channels.split(',')]
        IN_CH = len(CHANNELS)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    try:
        # CUDA has no deterministic kernels for some backward passes (trilinear upsampling)
        torch.use_deterministic_algorithms(args.device == 'cpu')
        deterministic = args.device == 'cpu'
    except Exception:
        deterministic = False
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    logf = open(os.path.join('/tmp' if out == HERE else out, 'ctglip-train.log'), 'a')

    def log(msg):
        line = time.strftime('%H:%M:%S ') + msg
        print(line, flush=True)
        logf.write(line + '\n'); logf.flush()

    t_start = time.time()
    dict_path = args.dictionary or os.path.join(out, 'dictionary.json')
    dictionary = json.load(open(dict_path))
    preprocessing = PREPROCESSING
    vocab = build_vocabulary(dictionary)
    log(f'vocabulary: {len(vocab)} entries; deterministic algorithms: {deterministic}')

    if args.from_checkpoint:
        ck = torch.load(args.from_checkpoint)
        img, txt = ImageEncoder(lesion_branch=args.lesion_branch), TextEncoder(len(vocab))
        img.load_state_dict(ck['image']); txt.load_state_dict(ck['text'])
        info = ck['info']
    else:
        img, txt, info = train(args, dictionary, vocab, log)
        if args.checkpoint:
            torch.save({'image': img.state_dict(), 'text': txt.state_dict(), 'info': info, 'vocab': vocab}, args.checkpoint)
    img.eval(); txt.eval()

    res, dice, anat_acc, nval, vseeds = calibrate_and_evaluate(img, txt, dictionary, vocab, args.val, log)
    for fid, r in res.items():
        log(f'{fid:22s} AUC {r["auc"]:.3f} heldout {r["aucHeldOutPrompts"]:.3f} sens {r["sensitivity"]:.3f} '
            f'spec {r["specificity"]:.3f} T {r["temperature"]:.4g} b {r["bias"]:.4g} thr {r["threshold"]:.4g} '
            f'(+{r["positives"]}/-{r["negatives"]})')
    log('dice: ' + ', '.join(f'{k} {v:.3f}' for k, v in dice.items()))

    if args.skip_export:
        log('--skip-export: stopping after calibration')
        return
    example = load_cases(args.val, [f['id'] for f in dictionary['findings']], log, limit=1)[0]
    export_check = export(img, txt, out, log, example=example)

    # vocabulary + calibrated dictionary
    with open(os.path.join(out, 'vocabulary.txt'), 'w') as f:
        f.write('\n'.join(vocab) + '\n')
    for fd in dictionary['findings']:
        r = res[fd['id']]
        fd['temperature'], fd['bias'], fd['threshold'] = r['temperature'], r['bias'], r['threshold']
        # Only findings the model demonstrably learned may be called present by the engine (see MODEL_CARD.md).
        fd['reportable'] = bool(r['auc'] >= REPORTABLE_MIN_AUC)
    dictionary['reportableRule'] = (f'a finding is reportable when its AUC on the validation/calibration seeds '
                                    f'(2000000+) is at least {REPORTABLE_MIN_AUC:.2f}; others report a probability but '
                                    'are never called present, so an unlearned finding cannot escalate the worklist')
    with open(os.path.join(out, 'dictionary.json'), 'w') as f:
        json.dump(dictionary, f, indent=2, ensure_ascii=False)
        f.write('\n')

    mean = lambda v: float(np.nanmean(list(v)))
    ev = {'validationCases': nval, 'validationSeeds': list(vseeds),
          'note': 'validation set is also the calibration set (Platt scaling, Youden threshold)',
          'meanAuc': round(mean(r['auc'] for r in res.values()), 4),
          'minAuc': round(min(r['auc'] for r in res.values()), 4),
          'meanAucHeldOutPrompts': round(mean(r['aucHeldOutPrompts'] for r in res.values()), 4),
          'meanDice': round(mean(dice.values()), 4),
          'dice': {k: round(v, 4) for k, v in dice.items()},
          'anatomyTop1': round(anat_acc, 4),
          'findings': {k: {kk: (round(vv, 4) if isinstance(vv, float) else vv) for kk, vv in r.items()
                           if kk not in ('temperature', 'bias', 'threshold', 'organ')} for k, r in res.items()},
          'exportCheck': export_check}
    import onnx
    info.update({'command': args.command or ' '.join([sys.executable] + sys.argv),
                 'trainFolders': args.train, 'validationFolders': args.val,
                 'dataDescription': args.data_description, 'buildNote': args.build_note, 'epochs': args.epochs, 'seed': args.seed,
                 'learningRate': args.lr, 'lossWeights': {'segmentation': args.w_seg, 'anatomy': args.w_anat,
                                                          'diagnosis': args.w_diag, 'auxiliaryProbe': args.w_aux},
                 'tokenDropout': args.token_dropout, 'deterministicAlgorithms': deterministic,
                 'cpuThreads': args.threads, 'opset': OPSET,
                 'versions': {'torch': torch.__version__, 'onnx': onnx.__version__, 'numpy': np.__version__,
                              'python': sys.version.split()[0]},
                 'timeBudgetMinutes': args.time_budget_min,
                 'dataGenerationWallSeconds': args.generation_seconds,
                 'totalWallSecondsTrainPy': None})
    organs_sorted = sorted(dictionary['organs'], key=lambda o: o['label'])
    manifest = {
        'name': 'ctglip-ref', 'version': '1.0.0',
        'description': 'Reference CT-GLIP-style grounded vision-language model for ct-triage: organ '
                       'segmentation + organ-grounded embeddings scored zero-shot against text prompts. '
                       'Trained only on synthetic phantoms; a pipeline demonstration, NOT a clinical model.',
        'preprocessing': preprocessing,
        'tokenizer': {'lowercase': True, 'split': '[^a-z0-9]+', 'maxTokens': MAX_TOKENS, 'padId': 0, 'unknownId': 1},
        'imageEncoder': {'file': 'image_encoder.onnx',
                         'inputs': [{'name': 'image', 'dtype': 'float32', 'shape': [1, IN_CH, *GRID]}],
                         'outputs': [{'name': 'organ_probabilities', 'dtype': 'float32', 'shape': [1, N_CLASSES, *GRID]},
                                     {'name': 'organ_embeddings', 'dtype': 'float32', 'shape': [1, 7, 64]}]},
        'textEncoder': {'file': 'text_encoder.onnx',
                        'inputs': [{'name': 'token_ids', 'dtype': 'int64', 'shape': [-1, 16]}],
                        'outputs': [{'name': 'text_embedding', 'dtype': 'float32', 'shape': [-1, 64]}]},
        'organs': [{'label': o['label'], 'id': o['id']} for o in organs_sorted],
        'scoring': 'probability = sigmoid((mean cos(organ embedding, positive prompts) - mean cos(organ '
                   'embedding, negative prompts)) / temperature + bias)',
        'files': {},
        'training': info,
        'evaluation': ev,
    }
    info['totalWallSecondsTrainPy'] = round(time.time() - t_start, 1)
    write_card(os.path.join(out, 'MODEL_CARD.md'), manifest, res, dice, anat_acc)
    for fn in ('image_encoder.onnx', 'text_encoder.onnx', 'vocabulary.txt', 'dictionary.json', 'MODEL_CARD.md'):
        manifest['files'][fn] = sha256(os.path.join(out, fn))
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        # JSON has no NaN (an AUC is undefined when a finding has no positives): write null, strictly.
        json.dump(finite_or_null(manifest), f, indent=2, allow_nan=False)
        f.write('\n')
    log(f'package written to {out}: mean AUC {ev["meanAuc"]}, min AUC {ev["minAuc"]}, held-out mean AUC '
        f'{ev["meanAucHeldOutPrompts"]}, mean Dice {ev["meanDice"]}')


if __name__ == '__main__':
    main()
