#!/usr/bin/python3
"""Experiment (not the package build): do the image encoder's organ features carry the findings at all?

The zero-shot scores of the focal findings (nodules, cysts, masses, stones, calcification) stay near
chance. This separates the two possible causes: if a linear probe trained directly on the image
side's organ features cannot find a finding either, the information is not there, and neither the
text encoder nor the calibration can be what loses it.

What it does:

* loads a training checkpoint of train.py (keys 'image', 'text', 'vocab', 'info'; only 'image' is
  used) into ``train.ImageEncoder`` and runs it (eval mode, batches of 4, 2 threads) over a folder
  of validation cases as written by ``bin/ct-triage generate --training-arrays``;
* for each case and organ takes (a) the 64-d organ embedding the package exports and (b, c) the
  32-d masked-average and masked-maximum pooled feature vectors the embedding is projected from,
  recomputed exactly as ``ImageEncoder.forward`` does (a forward hook on ``img.feat``, masks =
  ``F.avg_pool3d(probs[:, 1:], 2)``), and checks that projecting them reproduces the embedding;
* for each finding of dictionary.json fits a logistic-regression linear probe on its organ's
  features: 5-fold cross-validation with folds by case index % 5, features standardised with the
  training folds' mean and standard deviation, L2 1e-2 on the weights, LBFGS in torch; the AUC is
  taken over the pooled out-of-fold scores;
* for each focal finding counts the positive cases whose lesion (the largest, where a case has
  several) is smaller than one (6.25 mm) and two (12.5 mm) in-plane voxels of preprocessing.json's
  grid, from truth.json ``findings[].sizeMm``.

Usage (from the repository root, after models/ctglip-ref/retrain.sh has left its checkpoint and
validation cases under target/training/; about two minutes on 2 cores):

  /usr/bin/python3 models/ctglip-ref/experiments/probe_embeddings.py \\
      [--checkpoint target/training/ctglip-ref.pt] [--val target/training/val-random] [--out-json FILE]

It prints the number of cases, the largest difference between the recomputed and the encoder's own
embeddings, a table "finding | organ | pos/neg | probe AUC on the embedding | on the average pool |
on the maximum pool", then a table "finding | positives | sizeMm median | < 1 voxel | < 2 voxels".
--out-json writes the same figures as JSON. logs/probe-embeddings.log is its output of 2026-11-28.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(MODEL_DIR))
sys.path.insert(0, MODEL_DIR)
import train  # noqa: E402  (models/ctglip-ref/train.py: the encoder, the case loader and the tie-safe AUC)

FOLDS = 5
L2 = 1e-2
BATCH = 4
# Findings that are a lesion inside an organ rather than a change of the whole organ.
FOCAL = ('pulmonary_nodule', 'liver_cyst', 'liver_mass', 'renal_cyst', 'pancreatic_mass',
         'aortic_calcification', 'nephrolithiasis', 'cholelithiasis')


def organ_features(img, x):
    """Per case and organ: the exported embedding [N,7,64] and the average / maximum pools [N,7,32]."""
    captured = {}
    hook = img.feat.register_forward_hook(lambda module, inputs, output: captured.__setitem__('fm', output))
    embs, avgs, maxs, worst = [], [], [], 0.0
    try:
        with torch.no_grad():
            for i in range(0, x.shape[0], BATCH):
                _, probs, emb = img(x[i:i + BATCH].float())
                # the same pooling as ImageEncoder.forward, on the feature map it just computed
                fm = captured['fm']
                masks = F.avg_pool3d(probs[:, 1:], 2)
                b = fm.shape[0]
                m = masks.reshape(b, train.N_ORGANS, -1)
                f = fm.reshape(b, fm.shape[1], -1)
                vol = m.sum(-1, keepdim=True)
                avg = torch.matmul(m, f.transpose(1, 2)) / (vol + 1e-3)
                mx = (m.unsqueeze(2) * f.unsqueeze(1)).amax(-1)
                # projecting the recomputed pools must give the encoder's own embedding back
                pooled = torch.cat([avg, mx, torch.log(vol + 1.0) * 0.25], -1)
                again = torch.stack([img.proj[o](pooled[:, o]) for o in range(train.N_ORGANS)], 1)
                again = again / torch.sqrt((again * again).sum(-1, keepdim=True) + 1e-12)
                worst = max(worst, (again - emb).abs().max().item())
                embs.append(emb.numpy())
                avgs.append(avg.numpy())
                maxs.append(mx.numpy())
    finally:
        hook.remove()
    return np.concatenate(embs), np.concatenate(avgs), np.concatenate(maxs), worst


def probe_auc(features, labels):
    """Cross-validated AUC of an L2-regularised logistic regression on features [N,D] for labels [N]."""
    n = len(labels)
    fold = np.arange(n) % FOLDS
    scores = np.zeros(n)
    for k in range(FOLDS):
        test, fit = fold == k, fold != k
        mean, std = features[fit].mean(0), features[fit].std(0) + 1e-6
        xf = torch.tensor((features[fit] - mean) / std, dtype=torch.float32)
        yf = torch.tensor(labels[fit], dtype=torch.float32)
        w = torch.zeros(features.shape[1], requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], max_iter=200, line_search_fn='strong_wolfe')

        def closure():
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(xf @ w + b, yf) + L2 * (w * w).sum()
            loss.backward()
            return loss

        opt.step(closure)
        with torch.no_grad():
            xt = torch.tensor((features[test] - mean) / std, dtype=torch.float32)
            scores[test] = (xt @ w + b).numpy()
    return float(train.auc(scores, labels))


def lesion_sizes(case_dirs, finding_id):
    """sizeMm of each positive case's largest lesion of this finding."""
    sizes = []
    for c in case_dirs:
        with open(os.path.join(c, 'truth.json')) as fh:
            found = [f['sizeMm'] for f in json.load(fh).get('findings', []) if f['id'] == finding_id]
        if found:
            sizes.append(max(found))
    return np.array(sizes)


def shown(path):
    """A path as the log shows it: relative to the repository root when inside it, so logs compare across checkouts."""
    rel = os.path.relpath(os.path.abspath(path), REPO)
    return path if rel.startswith('..') else rel


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--checkpoint', default=os.path.join(REPO, 'target', 'training', 'ctglip-ref.pt'),
                    help='train.py checkpoint (default: target/training/ctglip-ref.pt of the repository)')
    ap.add_argument('--val', default=os.path.join(REPO, 'target', 'training', 'val-random'),
                    help='folder of case-* validation folders (default: target/training/val-random)')
    ap.add_argument('--dictionary', default=os.path.join(MODEL_DIR, 'dictionary.json'),
                    help='abnormality dictionary (default: the package\'s)')
    ap.add_argument('--out-json', default=None, help='also write the figures to this JSON file')
    args = ap.parse_args()

    torch.set_num_threads(2)
    with open(args.dictionary) as fh:
        dictionary = json.load(fh)
    organs = [o['id'] for o in sorted(dictionary['organs'], key=lambda o: o['label'])]
    findings = dictionary['findings']
    with open(os.path.join(MODEL_DIR, 'preprocessing.json')) as fh:
        voxel_mm = json.load(fh)['spacingMm'][0]

    ck = torch.load(args.checkpoint, map_location='cpu')
    img = train.ImageEncoder()
    img.load_state_dict(ck['image'])
    img.eval()
    x, _, truth, _ = train.load_cases([args.val], [f['id'] for f in findings], print)
    emb, avg, mx, worst = organ_features(img, x)
    truth = truth.numpy()
    print(f'checkpoint {shown(args.checkpoint)}: {ck["info"].get("steps")} steps, '
          f'{ck["info"].get("epochsCompleted")} epochs; validation {shown(args.val)}: {len(truth)} cases')
    print(f'recomputed pools projected to the embedding: max |difference| {worst:.2e}')

    print()
    print('linear probe, 5-fold CV AUC on the finding\'s organ features')
    print(f'{"finding":<22} {"organ":<12} {"pos/neg":>7}  {"embedding 64-d":>14}  {"avg pool 32-d":>13}  {"max pool 32-d":>13}')
    rows = []
    for i, f in enumerate(findings):
        o = organs.index(f['organ'])
        y = truth[:, i]
        r = {'finding': f['id'], 'organ': f['organ'], 'positives': int(y.sum()), 'negatives': int(len(y) - y.sum()),
             'aucEmbedding': probe_auc(emb[:, o], y), 'aucAveragePool': probe_auc(avg[:, o], y),
             'aucMaximumPool': probe_auc(mx[:, o], y)}
        rows.append(r)
        print(f'{r["finding"]:<22} {r["organ"]:<12} {r["positives"]:>3}/{r["negatives"]:<3}  '
              f'{r["aucEmbedding"]:>14.3f}  {r["aucAveragePool"]:>13.3f}  {r["aucMaximumPool"]:>13.3f}')

    print()
    print(f'focal findings: lesion size of the positive cases (largest lesion per case; grid voxel {voxel_mm} mm in-plane)')
    print(f'{"finding":<22} {"positives":>9}  {"median mm":>9}  {"< 1 voxel":>9}  {"< 2 voxels":>10}')
    case_dirs = sorted(d for d in (os.path.join(args.val, n) for n in os.listdir(args.val))
                       if os.path.basename(d).startswith('case-'))
    sizes = []
    for fid in FOCAL:
        s = lesion_sizes(case_dirs, fid)
        r = {'finding': fid, 'positives': int(len(s)), 'medianSizeMm': float(np.median(s)),
             'belowOneVoxel': float(np.mean(s < voxel_mm)), 'belowTwoVoxels': float(np.mean(s < 2 * voxel_mm))}
        sizes.append(r)
        print(f'{fid:<22} {r["positives"]:>9}  {r["medianSizeMm"]:>9.1f}  {r["belowOneVoxel"]:>9.0%}  {r["belowTwoVoxels"]:>10.0%}')

    if args.out_json:
        with open(args.out_json, 'w') as fh:
            json.dump({'checkpoint': shown(args.checkpoint), 'validation': shown(args.val), 'cases': int(len(truth)),
                       'embeddingReproductionMaxDifference': worst, 'probe': rows, 'lesionSizes': sizes,
                       'voxelMm': voxel_mm}, fh, indent=2)
            fh.write('\n')


if __name__ == '__main__':
    main()
