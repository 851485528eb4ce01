#!/usr/bin/python3
# Lesion contrast as the run G channel sees it: per positive validation crop, mean of (HU - organ median)
# over the finding's voxels and SD of it over the organ's other voxels (first 20 positives per finding).
# Usage (repository root): /usr/bin/python3 models/ctglip-ref/experiments/contrast_stats.py  (reads target/crops/val-random)
import glob, json, os, sys
import numpy as np
fids = {'liver_cyst': 'liver', 'liver_mass': 'liver', 'renal_cyst': 'kidney', 'pancreatic_mass': 'pancreas'}
for fid, organ in fids.items():
    les, sd, n = [], [], 0
    for case in sorted(glob.glob('target/crops/val-random/case-*')):
        t = json.load(open(os.path.join(case, 'truth.json')))
        for c in t['crops']:
            f = [x for x in c['findings'] if x['id'] == fid]
            if c['organ'] != organ or not f or f[0]['voxelsInCrop'] == 0:
                continue
            hu = np.load(os.path.join(case, c['name'] + '.hu.npy')).astype(np.float32)
            m = np.load(os.path.join(case, c['name'] + '.organ.npy')) / 255.0
            bits = np.load(os.path.join(case, c['name'] + '.findings.npy')).astype(np.int32)
            b = ((bits >> f[0]['bit']) & 1) > 0
            med = np.median(hu[m > 0.5])
            les.append(float(np.mean(hu[b] - med)))
            sd.append(float(np.std(hu[(m > 0.5) & ~b] - med)))
            n += 1
        if n >= 20:
            break
    print(f'{fid}: {n} positive crops, lesion voxels mean {np.median(les):+.1f} HU vs organ median (median over crops; '
          f'range {min(les):+.1f}..{max(les):+.1f}), organ voxel SD {np.median(sd):.1f} HU')
