#!/usr/bin/python3
"""Baseline for the volume-assembly benchmark: pydicom + numpy doing what ct-triage does.

Reads every file of a folder, sorts the slices by their position along the slice normal,
applies each slice's rescale slope/intercept and stores HU as int16 in one array — the same
read, sort and rescale as ct-triage's VolumeAssembler. Prints MB/s of pixel data (median of
the measured runs) and the peak Python heap (tracemalloc, numpy buffers included), taken in
one extra run because tracemalloc slows allocation-heavy code several-fold.
Uses Debian's python3-pydicom / python3-numpy (run with /usr/bin/python3).
"""
import argparse
import os
import statistics
import sys
import time
import tracemalloc

import numpy as np
import pydicom


def build(folder):
    datasets = [pydicom.dcmread(os.path.join(folder, name))
                for name in sorted(os.listdir(folder)) if not name.startswith(".")]
    iop = np.array(datasets[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    datasets.sort(key=lambda ds: float(np.dot(normal, np.array(ds.ImagePositionPatient, dtype=float))))
    rows, cols = int(datasets[0].Rows), int(datasets[0].Columns)
    volume = np.empty((len(datasets), rows, cols), dtype=np.int16)
    for k, ds in enumerate(datasets):
        stored = ds.pixel_array
        slope = float(getattr(ds, "RescaleSlope", 1))
        intercept = float(getattr(ds, "RescaleIntercept", 0))
        if slope == 1 and intercept.is_integer():
            volume[k] = stored.astype(np.int32) + int(intercept)
        else:
            volume[k] = np.rint(stored * slope + intercept)
    return volume


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    rates = []
    raw = 0
    for r in range(-args.warmup, args.runs):
        t0 = time.perf_counter()
        volume = build(args.folder)
        t1 = time.perf_counter()
        raw = volume.nbytes
        del volume
        if r >= 0:
            rates.append(raw / 1e6 / (t1 - t0))
            print(f"run {r + 1}: {(t1 - t0) * 1e3:.1f} ms, {rates[-1]:.0f} MB/s")
    tracemalloc.start()
    volume = build(args.folder)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del volume
    median = statistics.median(rates)
    print(f"raw pixel data {raw / 1e6:.1f} MB, median {median:.0f} MB/s, peak heap {peak / 1e6:.0f} MB "
          f"({peak / raw:.2f} x raw)")
    print(f"RESULT mb_per_s={median:.1f} peak_heap_mb={peak / 1e6:.1f} raw_mb={raw / 1e6:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
