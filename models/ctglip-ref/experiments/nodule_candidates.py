#!/usr/bin/python3
"""Run P, design C (issue 12, nodules): how often a true nodule is among the top-K local maxima of run O's 3 mm lung
detector's map, the candidates a second look at 1 mm would classify (MODEL_CARD.md, run P). A candidate hits when it
lies within --radius mm of the nodule's centre. --points writes the top --k per crop as generate --patch-points JSON.

Usage: nodule_candidates.py --checkpoint WORK/lesion-lung-3mm/detector-c300.pt --crops WORK/lesion-lung-3mm/val-*
       [--k 16] [--points POINTS.json] [--out ROWS.json]   (log: logs/run-p-candidates-3mm.log)
"""
import argparse, collections, glob, json, os, sys
import numpy as np, torch, torch.nn.functional as F
HERE = os.path.dirname(os.path.abspath(__file__)); sys.path.insert(0, HERE); sys.path.insert(0, os.path.dirname(HERE))
import lesion_detector as ld
import train_crops as tc

ap = argparse.ArgumentParser()
ap.add_argument('--checkpoint', required=True); ap.add_argument('--crops', nargs='+', required=True)
ap.add_argument('--radius', type=float, default=10.0); ap.add_argument('--out')
ap.add_argument('--points', help='write the top --k candidates per crop as generate --patch-points JSON'); ap.add_argument('--k', type=int, default=16)
a = ap.parse_args()
torch.set_num_threads(2)
ck = torch.load(a.checkpoint, map_location='cpu')
ld.CONTRAST[:] = ld.checkpoint_contrast(ck)
net = ld.UNet(2, 1, ck['width'], ck.get('norm', 'instance')); net.load_state_dict(ck['net']); net.eval()
fidx = [ld.FINDINGS.index('pulmonary_nodule')]
rng = np.random.RandomState(1)
rows = []; checked = 0; points = {}; cand = {}
for case, crop, seed in tc.crop_list(a.crops):
    if crop['organ'] != 'lung': continue
    hu, m, y = ld.load(case, crop, fidx)
    mm = ld.served_mask(m, crop, rng, True)
    x = torch.from_numpy(ld.inputs(hu, ld.organ_median(hu, mm)))[None]
    shape = x.shape[2:]; full = [n + (-n) % 8 for n in shape]
    x = F.pad(x, [0, full[2]-shape[2], 0, full[1]-shape[1], 0, full[0]-shape[0]])
    with torch.no_grad():
        half = [(n + 1) // 2 for n in shape]
        p = torch.sigmoid(net(x))[:, :, :half[0], :half[1], :half[2]]
        p = F.avg_pool3d(p, 3, 1, 1)[0, 0]
        r = F.max_pool3d(torch.from_numpy(mm)[None, None], 5, 1, 2)
        r = F.max_pool3d(F.pad(r, [0, shape[2] % 2, 0, shape[1] % 2, 0, shape[0] % 2]), 2)[0, 0] > 0.5
        peaks = (p == F.max_pool3d(p[None, None], 3, 1, 1)[0, 0]) & r
    idx = torch.nonzero(peaks).numpy(); val = p[peaks].numpy()
    order = np.argsort(-val); idx, val = idx[order], val[order]
    s = np.array(crop['spacingMm']); o = np.array(crop['originLps'])
    lps = o + (2 * idx[:, ::-1] + 0.5) * s  # map voxel (z,y,x) -> LPS centre of its 2x2x2 crop voxels
    t = json.load(open(os.path.join(case, 'truth.json')))
    points.setdefault(str(seed), []).extend({'side': crop['side'], 'lps': [round(float(v), 2) for v in q]} for q in lps[:a.k])
    cand.setdefault(str(seed), {})[crop['side']] = {'lps': lps[:a.k].round(2).tolist(), 'value': val[:a.k].tolist()}
    nods = [f for f in t['findings'] if f['id'] == 'pulmonary_nodule' and f['side'] == crop['side']]
    if nods and checked < 5:  # coordinate convention: findings-mask centroid vs the generator's centre
        b = np.argwhere(y[0] > 0)
        if len(b): print('check', seed, crop['side'], np.round(o + b.mean(0)[::-1] * s, 1), np.round(nods[0]['centreLpsMm'], 1)); checked += 1
    for f in nods:
        d = np.linalg.norm(lps - np.array(f['centreLpsMm']), axis=1)
        hit = np.nonzero(d <= a.radius)[0]
        rows.append({'seed': seed, 'side': crop['side'], 'size': f['sizeMm'], 'desc': f['description'],
                     'rank': int(hit[0]) + 1 if len(hit) else None, 'npeaks': len(val), 'top': float(val[0]),
                     'value': float(val[hit[0]]) if len(hit) else None})
    if not nods:
        rows.append({'seed': seed, 'side': crop['side'], 'negative': True, 'npeaks': len(val), 'top': float(val[0])})
pos = [r for r in rows if 'negative' not in r]
print(f'{len(pos)} nodules, {len(rows) - len(pos)} nodule-free lung crops; peaks per crop median {np.median([r["npeaks"] for r in rows]):.0f}')
kind = lambda r: 'faint gg' if 'faint' in r['desc'] else ('gg' if 'ground-glass' in r['desc'] else 'solid')
groups = collections.defaultdict(list)
for r in pos:
    groups['all'].append(r); groups[kind(r)].append(r); groups['<6 mm' if r['size'] < 6 else ('6-8 mm' if r['size'] < 8 else '>=8 mm')].append(r)
print('| group | n | top1 | top4 | top8 | top16 | top32 | any peak within R |')
print('|---|---|---|---|---|---|---|---|')
for g, v in groups.items():
    f = lambda k: sum(1 for r in v if r['rank'] and r['rank'] <= k) / len(v)
    print(f'| {g} | {len(v)} | {f(1):.2f} | {f(4):.2f} | {f(8):.2f} | {f(16):.2f} | {f(32):.2f} | {f(10**6):.2f} |')
if a.out: json.dump(rows, open(a.out, 'w'), indent=1)
if a.points:
    json.dump(points, open(a.points, 'w'))
    json.dump(cand, open(a.points.replace('.json', '-values.json'), 'w'))
