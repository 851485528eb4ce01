#!/usr/bin/python3
"""Train/serve parity of the lesion detectors (issue 12's third stage): the score PyTorch gives a synthetic crop
(lesion_detector.score, window by window with the manifest's window and stride) for each detector of a package, written as the fixture
that core's LesionDetectorsTest compares the Java engine's ONNX Runtime path with.

The synthetic crop of an organ (its grid in the package's organ-crops.json, arrays [z, y, x]): HU 35 inside an
ellipsoid of radii 0.3 x the grid size around the grid centre (the mask: 1 there, 0 elsewhere), -80 + 5 (x mod 7)
outside it, and a sphere of radius 0.12 x the smallest size at (centre x + 0.1 size x, centre y, centre z - 0.1
size z) of HU 5; the fixture holds the peaks with the sphere and without it. LesionDetectorsTest builds the same
crops.

Usage: detector_parity.py --package models/ctglip-ref-v2 --detector kidney=CKPT [--detector ...] --out FILE
The checkpoints must be the ones the package's detectors were exported from (checked by SHA-256).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import lesion_detector as ld  # noqa: E402
from train import sha256  # noqa: E402


def synthetic_crop(size, lesion=True):
    """HU and mask ([z, y, x], float32) of the parity crop for a grid of size (x, y, z), with or without the
    sphere."""
    sx, sy, sz = size
    z, y, x = np.meshgrid(np.arange(sz), np.arange(sy), np.arange(sx), indexing='ij')
    cx, cy, cz = (sx - 1) / 2, (sy - 1) / 2, (sz - 1) / 2
    inside = ((x - cx) / (0.3 * sx)) ** 2 + ((y - cy) / (0.3 * sy)) ** 2 + ((z - cz) / (0.3 * sz)) ** 2 <= 1
    hu = np.where(inside, 35.0, -80.0 + 5.0 * (x % 7))
    r = 0.12 * min(size)
    sphere = (x - (cx + 0.1 * sx)) ** 2 + (y - cy) ** 2 + (z - (cz - 0.1 * sz)) ** 2 <= r * r
    hu = np.where(sphere & lesion, 5.0, hu)
    return hu.astype(np.float32), inside.astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--package', required=True)
    ap.add_argument('--detector', action='append', required=True, metavar='ORGAN=PATH')
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    torch.set_num_threads(2)
    manifest = json.load(open(os.path.join(a.package, 'manifest.json')))
    stage = manifest['organCrops']
    spec = json.load(open(os.path.join(a.package, stage['spec'])))
    grids = {o['name']: o for o in spec['organs']}
    out = {'package': manifest['name'] + ' ' + manifest['version'], 'detectors': {}}
    for item in a.detector:
        organ, path = item.split('=', 1)
        entry = stage['lesionDetectors']['detectors'][organ]
        if sha256(path) != entry['training']['checkpointSha256']:
            sys.exit(f'{path} is not the checkpoint {entry["file"]} was exported from')
        ck = torch.load(path, map_location='cpu')
        ld.CONTRAST[:] = ld.checkpoint_contrast(ck)  # its organ-contrast channel (the lungs' differs)
        net = ld.UNet(2, len(ck['findings']), ck['width'], ck.get('norm', 'instance'))
        net.load_state_dict(ck['net'])
        net.eval()
        size = grids[organ]['gridSize']
        hu, mask = synthetic_crop(size)
        peaks = ld.score(net, hu, mask, [mask], window=entry.get('windowVoxels'), stride=entry.get('strideVoxels'))[0]
        # without the sphere the peak is far from 0 and 1 (the sphere's can saturate): the map itself is compared
        plain, _ = synthetic_crop(size, lesion=False)
        background = ld.score(net, plain, mask, [mask], window=entry.get('windowVoxels'),
                              stride=entry.get('strideVoxels'))[0]
        out['detectors'][organ] = {'file': entry['file'], 'onnxSha256': sha256(os.path.join(a.package, entry['file'])),
                                   'gridSize': size, 'strideVoxels': entry.get('strideVoxels'),
                                   'organMedianHu': ld.organ_median(hu, mask),
                                   'peaks': dict(zip(ck['findings'], peaks)),
                                   'peaksWithoutLesion': dict(zip(ck['findings'], background))}
        print(organ, out['detectors'][organ])
    with open(a.out, 'w') as fh:
        json.dump(out, fh, indent=1)
        fh.write('\n')


if __name__ == '__main__':
    main()
