#!/usr/bin/python3
"""How much of a consolidation the served lung mask holds (ctglip-ref card, "Run I").

For each seed: `ct-triage generate --findings consolidation` (512 x 512 x 240 of 1.5 mm, as evaluate's cases)
writes the DICOM series and the phantom's labels.npy/findings.npy; `ct-triage analyze --model ctglip-ref-v2`
writes the SEG of the coarse stage's organs on the series' grid. Prints the fraction of the consolidation's voxels
(finding bit 3, labelled lung by the generator) inside the SEG's lung segment, against the other lung voxels.

Usage: consolidation_mask.py WORK SEED [SEED ...]   (needs plugin/target/ct-triage.jar and python3-pydicom)
"""
import glob
import os
import subprocess
import sys

import numpy as np
import pydicom

HERE = os.path.dirname(os.path.abspath(__file__))
JAR = os.path.join(HERE, '..', '..', '..', 'plugin', 'target', 'ct-triage.jar')
MODEL = os.path.join(HERE, '..', '..', 'ctglip-ref-v2')
CONSOLIDATION_BIT = 3
SPACING = 1.5


def served_lung(seg_path, shape, slice_z):
    """The SEG's lung segment as a boolean volume in the phantom's order (slice 0 most superior)."""
    seg = pydicom.dcmread(seg_path)
    lung = next(s.SegmentNumber for s in seg.SegmentSequence if s.SegmentLabel.lower().startswith('lung'))
    frames = seg.pixel_array
    top = max(slice_z)
    out = np.zeros(shape, bool)
    for i, fg in enumerate(seg.PerFrameFunctionalGroupsSequence):
        if fg.SegmentIdentificationSequence[0].ReferencedSegmentNumber == lung:
            k = int(round((top - float(fg.PlanePositionSequence[0].ImagePositionPatient[2])) / SPACING))
            out[k] |= frames[i].astype(bool)
    return out


def main():
    work, seeds = sys.argv[1], sys.argv[2:]
    for s in seeds:
        g, a = os.path.join(work, f'g{s}'), os.path.join(work, f'a{s}')
        subprocess.run(['java', '-jar', JAR, 'generate', '--out', g, '--seed', s, '--matrix', '512', '--slices', '240',
                        '--slice-spacing', str(SPACING), '--findings', 'consolidation'], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(['java', '-jar', JAR, 'analyze', os.path.join(g, 'dicom'), '--out', a, '--model', MODEL],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        labels, findings = np.load(os.path.join(g, 'labels.npy')), np.load(os.path.join(g, 'findings.npy'))
        zs = [float(pydicom.dcmread(f, stop_before_pixels=True).ImagePositionPatient[2])
              for f in glob.glob(os.path.join(g, 'dicom', '*'))]
        lung = served_lung(os.path.join(a, 'seg.dcm'), labels.shape, zs)
        cons = ((findings >> CONSOLIDATION_BIT) & 1).astype(bool)
        other = (labels == 1) & ~cons
        print(f'seed {s}: consolidation {cons.sum()} voxels, labelled lung by the generator {np.mean(labels[cons] == 1):.3f}, '
              f'in the served lung segment {lung[cons].mean():.3f}; other lung voxels in it {lung[other].mean():.3f}',
              flush=True)


if __name__ == '__main__':
    main()
