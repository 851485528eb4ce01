"""How much of a crop encoder's validation AUC survives the coarse stage's organ mask (issue 12).

The crop encoder was trained and validated with the phantom's own organ mask at the crop's fine spacing;
served, the mask is the coarse segmentation (6.25 x 6.25 x 7.5 mm, nearest label) resampled to the crop.
This re-scores the validation crops of a checkpoint with the mask replaced by (a) the true mask sampled on
a 6.25 x 6.25 x 7.5 mm lattice of random phase and resampled back (nearest), (b) the same, eroded or
dilated by one coarse voxel at random and shifted by up to one coarse voxel: a stand-in for the coarse
model's errors. (c) the true mask with the voxels of the focal lesions (LESIONS) taken out (the generator labels a lesion with its organ, so
the true mask's shape and volume can carry a lesion). The contrast channel is recomputed from the replaced mask, as
the serving path does.

Usage: mask_shift.py CHECKPOINT VAL_DIR [--seed 7]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import train_crops as tc  # noqa: E402
from train import auc, build_vocabulary, encode  # noqa: E402

# the focal lesions the generator paints with their organ's label (diffuse findings mark the whole organ)
LESIONS = ['liver_cyst', 'liver_mass', 'renal_cyst', 'pancreatic_mass']


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('checkpoint')
    ap.add_argument('val')
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--organs', nargs='*', default=['liver', 'gallbladder', 'kidney', 'pancreas', 'aorta'])
    a = ap.parse_args()
    torch.set_num_threads(1)
    ck = torch.load(a.checkpoint, map_location='cpu')
    tc.CONTRAST_HU = ck.get('contrast_hu')
    dictionary = json.load(open(os.path.join(os.path.dirname(HERE), 'dictionary.json')))
    findings = dictionary['findings']
    fid_index = {f['id']: i for i, f in enumerate(findings)}
    f_organ = [tc.ORGANS.index(f['organ']) for f in findings]
    enc = tc.OrganEncoder(in_ch=7 if tc.CONTRAST_HU else 6, norm='organ', heads='shared')
    enc.load_state_dict(ck['encoder'])
    txt = tc.TextEncoder(len(ck['vocab']))
    txt.load_state_dict(ck['text'])
    enc.eval()
    txt.eval()
    vidx = {t: i for i, t in enumerate(ck['vocab'])}
    with torch.no_grad():
        tp = [txt(torch.tensor([encode(p, vidx) for p in f['positive']])) for f in findings]
        tn = [txt(torch.tensor([encode(p, vidx) for p in f['negative']])) for f in findings]
    val = [c for c in tc.crop_list([a.val]) if c[1]['organ'] in a.organs]
    rng = np.random.RandomState(a.seed)
    modes = ['true mask', 'coarse lattice', 'coarse lattice + errors', 'true mask without lesions']
    score = {m: {} for m in modes}
    truth = {}
    dice = {m: {} for m in modes[1:]}
    for case, c, seed in val:
        x6 = np.load(os.path.join(case, c['name'] + '.input.npy')).astype(np.float32) / 32767.0
        m = np.load(os.path.join(case, c['name'] + '.organ.npy')).astype(np.float32) / 255.0
        hu = np.load(os.path.join(case, c['name'] + '.hu.npy')).astype(np.float32)
        y = set(f['id'] for f in c['findings'])
        ext = torch.from_numpy(((np.array(c['boxMaxLps']) - np.array(c['boxMinLps'])) / 100.0).astype(np.float32))[None]
        sp = np.array(c['spacingMm'][::-1], dtype=float)
        oi = torch.tensor([tc.ORGANS.index(c['organ'])])
        bits = np.load(os.path.join(case, c['name'] + '.findings.npy')).astype(np.int64)
        organ_bits = sum(1 << fid_index[f] for f in LESIONS)
        for mode in modes:
            if mode == modes[0]:
                mm = m
            elif mode == modes[3]:
                # the generator labels a lesion with its organ: take the lesion's voxels out of the mask, so that
                # neither its shape nor its volume can carry the finding
                mm = np.where((bits & organ_bits) != 0, 0.0, m).astype(np.float32)
            else:
                mm = tc.coarse_mask(m, sp, rng, mode == modes[2])
            if mode != modes[0]:
                t, p = m > 0.5, mm > 0.5
                dice[mode].setdefault(c['organ'], []).append(2 * (t & p).sum() / max(1, t.sum() + p.sum()))
            x = x6
            if tc.CONTRAST_HU:
                x = np.concatenate([x6, tc.contrast_channel(hu, mm, tc.CONTRAST_HU)[None]], 0)
            with torch.no_grad():
                e, _, _ = enc(torch.from_numpy(x)[None], torch.from_numpy(mm)[None, None], oi, ext)
            for fi, f in enumerate(findings):
                if f_organ[fi] != oi.item():
                    continue
                s = ((e @ tp[fi].T).mean() - (e @ tn[fi].T).mean()).item()
                k = (seed, fi)
                score[mode][k] = max(score[mode].get(k, -9), s)
                truth[k] = max(truth.get(k, 0), 1.0 if f['id'] in y else 0.0)
    print('mask Dice against the true mask, mean per organ: ' + '; '.join(
        f'{mode}: ' + ', '.join(f'{o} {np.mean(v):.2f}' for o, v in d.items()) for mode, d in dice.items()))
    print('| finding | pos/neg | ' + ' | '.join(modes) + ' |')
    print('|---|---|' + '---|' * len(modes))
    for fi, f in enumerate(findings):
        keys = [k for k in truth if k[1] == fi]
        if not keys:
            continue
        yy = np.array([truth[k] for k in keys])
        aucs = [auc(np.array([score[m][k] for k in keys]), yy) for m in modes]
        print(f'| {f["id"]} | {int(yy.sum())}/{int(len(yy) - yy.sum())} | ' + ' | '.join(f'{v:.3f}' for v in aucs) + ' |')


if __name__ == '__main__':
    main()
