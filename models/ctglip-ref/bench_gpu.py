#!/usr/bin/env python3
"""Image-encoder latency of ctglip-ref on a GPU machine, beside CPU, for the model card.

The product runs the ONNX files through ONNX Runtime's Java API; its CUDA build (onnxruntime_gpu
1.23.2, a 445 MB jar needing CUDA 12 + cuDNN 9) could not be carried to the lent GPU machine
(CUDA 13, no JDK, 64 MiB transfer limit). This script measures the same network and weights on
that machine with what it has: PyTorch on CUDA and on its CPU, and ONNX Runtime (Python, CPU) on
image_encoder.onnx. The encoder's input is always [1, 2, 48, 64, 64] (preprocessing resamples any
volume to that grid), so its cost does not depend on the series' size.

Usage: bench_gpu.py CHECKPOINT.pt INPUT.npy [--runs 20]
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train  # noqa: E402  (the model definition the package was exported from)


def timed(fn, runs, sync=lambda: None):
    for _ in range(3):
        fn()
    sync()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        sync()
        out.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('checkpoint')
    ap.add_argument('input')
    ap.add_argument('--runs', type=int, default=20)
    a = ap.parse_args()
    try:
        ck = torch.load(a.checkpoint, map_location='cpu', weights_only=False)
    except TypeError:  # torch < 1.13 has no weights_only
        ck = torch.load(a.checkpoint, map_location='cpu')
    enc = train.ImageEncoder()
    enc.load_state_dict(ck['image'])
    enc.eval()
    x = torch.from_numpy(np.load(a.input)).unsqueeze(0).float()
    print(f'torch {torch.__version__}, CPU threads {torch.get_num_threads()}')
    with torch.no_grad():
        cpu = timed(lambda: enc(x), a.runs)
        print(f'image encoder, PyTorch CPU: median {cpu:.1f} ms over {a.runs} runs')
        if torch.cuda.is_available():
            dev = torch.device('cuda')
            g = enc.to(dev)
            xg = x.to(dev)
            gpu = timed(lambda: g(xg), a.runs, torch.cuda.synchronize)
            print(f'image encoder, PyTorch CUDA ({torch.cuda.get_device_name(0)}): median {gpu:.2f} ms over {a.runs} runs')
            probs_cpu = enc.cpu()(x)[1]
            probs_gpu = g.to(dev)(xg)[1].cpu()
            print(f'max |probabilities CUDA - CPU| = {float((probs_cpu - probs_gpu).abs().max()):.2e}')
        else:
            print('CUDA: not available on this machine')
    onnx_file = os.path.join(HERE, 'image_encoder.onnx')
    if not os.path.exists(onnx_file):
        print('image_encoder.onnx not in this package copy: ONNX Runtime not measured')
        return
    try:
        import onnxruntime as ort
        s = ort.InferenceSession(onnx_file, providers=['CPUExecutionProvider'])
        xi = x.numpy()
        ortms = timed(lambda: s.run(None, {'image': xi}), a.runs)
        print(f'image encoder, ONNX Runtime {ort.__version__} CPU (Python): median {ortms:.1f} ms over {a.runs} runs;'
              f' providers available: {ort.get_available_providers()}')
    except ImportError:
        print('onnxruntime (Python) not installed here')


if __name__ == '__main__':
    main()
