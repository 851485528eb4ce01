#!/usr/bin/python3
"""The segmentation refiner of ctglip-ref-v2 (issue 12, "improve its Dice where cheap, pancreas and gallbladder
first"): a small network on top of the coarse stage that raises the organ Dice without touching the image
encoder.

It refines the coarse stage's organ probabilities: input = the image encoder's input (6 channels) and the
log of its organ probabilities (8), on the 64 x 64 x 48 grid; output = 8 logits added to those
log-probabilities (a residual, so an untrained refiner is the coarse stage). A small 3-level U-Net,
cross-entropy + soft Dice against the phantom's labels on the same grid. The organ embeddings, and so every
finding score of the coarse stage, are not changed by it; only the labels (served SEG, crop boxes, organ
centres, Dice). The engine runs it when the manifest names it (segmentationRefiner).

Data: `ct-triage evaluate --model models/ctglip-ref --segmentation-dump DIR` on training seeds (--train) and,
optionally, on unseen seeds (--test: prints the coarse and refined Dice there).

  seg_refiner.py --train DIR [--test DIR] [--minutes 25] [--out refiner.pt] [--export-onnx segmentation_refiner.onnx]
"""
import argparse
import glob
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load(folder):
    grid = json.load(open(os.path.join(folder, 'grid.json')))
    z, y, x = grid['zyx']
    classes = grid['classes']
    xs, ys = [], []
    for f in sorted(glob.glob(os.path.join(folder, 'case-*.labels'))):
        stem = f[:-len('.labels')]
        inp = np.fromfile(stem + '.input', '<f4').reshape(-1, z, y, x)
        p = np.fromfile(stem + '.probabilities', '<f4').reshape(classes, z, y, x)
        xs.append(np.concatenate([inp, np.log(np.maximum(p, 1e-6))], 0).astype(np.float32))
        ys.append(np.fromfile(f, np.uint8).reshape(z, y, x).astype(np.int64))
    return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys)), classes


def block(cin, cout):
    return nn.Sequential(nn.Conv3d(cin, cout, 3, padding=1), nn.GroupNorm(4, cout), nn.ReLU(inplace=True),
                         nn.Conv3d(cout, cout, 3, padding=1), nn.GroupNorm(4, cout), nn.ReLU(inplace=True))


class Refiner(nn.Module):
    def __init__(self, cin, classes, c=(12, 24, 48)):
        super().__init__()
        self.classes = classes
        self.e1, self.e2, self.e3 = block(cin, c[0]), block(c[0], c[1]), block(c[1], c[2])
        self.d2, self.d1 = block(c[2] + c[1], c[1]), block(c[1] + c[0], c[0])
        self.out = nn.Conv3d(c[0], classes, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x):
        h1 = self.e1(x)
        h2 = self.e2(F.max_pool3d(h1, 2))
        h3 = self.e3(F.max_pool3d(h2, 2))
        u2 = self.d2(torch.cat([F.interpolate(h3, size=h2.shape[2:], mode='trilinear', align_corners=False), h2], 1))
        u1 = self.d1(torch.cat([F.interpolate(u2, size=h1.shape[2:], mode='trilinear', align_corners=False), h1], 1))
        return x[:, -self.classes:] + self.out(u1)  # residual on the coarse log-probabilities


class RefinerExport(nn.Module):
    """The served contract: image [1,6,z,y,x] and organ_probabilities [1,8,z,y,x] -> refined_probabilities."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, image, organ_probabilities):
        x = torch.cat([image, torch.log(torch.clamp(organ_probabilities, min=1e-6))], 1)
        return torch.softmax(self.model(x), 1)


def export(model, shape, classes, path):
    model.eval()
    image = torch.zeros(1, *shape)
    probs = torch.full((1, classes, *shape[1:]), 1.0 / classes)
    torch.onnx.export(RefinerExport(model), (image, probs), path, input_names=['image', 'organ_probabilities'],
                      output_names=['refined_probabilities'], opset_version=17)
    import onnx
    onnx.checker.check_model(onnx.load(path))
    print(f'{path}: checker OK')


def dice_per_organ(pred, ref, classes):
    """Mean over cases of each organ's Dice (NaN-skipping, as BinaryMetrics.dice and evaluate)."""
    out = []
    for c in range(1, classes):
        d = []
        for p, r in zip(pred, ref):
            a, b = p == c, r == c
            s = int(a.sum() + b.sum())
            if s:
                d.append(2.0 * int((a & b).sum()) / s)
        out.append(float(np.mean(d)))
    return np.array(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--train', required=True)
    ap.add_argument('--test', default=None, help='dump of unseen seeds: the Dice before and after')
    ap.add_argument('--minutes', type=float, default=20)
    ap.add_argument('--batch', type=int, default=2)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--out', default=None)
    ap.add_argument('--from-checkpoint', default=None, help='skip training: load the refiner from this .pt')
    ap.add_argument('--export-onnx', default=None, help='also export the refiner as the engine serves it')
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    xtr, ytr, classes = load(args.train)
    names = ['lung', 'liver', 'gallbladder', 'kidney', 'pancreas', 'spleen', 'aorta']
    print(f'{len(xtr)} training cases, input {tuple(xtr.shape[1:])}', flush=True)
    if args.test:
        xte, yte, _ = load(args.test)
        base = dice_per_organ(xte[:, -classes:].argmax(1).numpy(), yte.numpy(), classes)
        print(f'{len(xte)} test cases; coarse stage  ' + ' '.join(f'{n} {d:.3f}' for n, d in zip(names, base))
              + f'  mean {base.mean():.3f}', flush=True)
    model = Refiner(xtr.shape[1], classes)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    t0, step, epoch = time.time(), 0, 0
    budget = args.minutes * 60
    if args.from_checkpoint:
        model.load_state_dict(torch.load(args.from_checkpoint))
        budget = 0
    while time.time() - t0 < budget:
        model.train()
        order = torch.randperm(len(xtr))
        for i in range(0, len(order) - args.batch + 1, args.batch):
            idx = order[i:i + args.batch]
            logits = model(xtr[idx])
            y = ytr[idx]
            ce = F.cross_entropy(logits, y)
            prob = torch.softmax(logits, 1)
            onehot = F.one_hot(y, classes).permute(0, 4, 1, 2, 3).float()
            inter = (prob * onehot).sum((0, 2, 3, 4))
            soft_dice = 1 - (2 * inter[1:] + 1) / (prob.sum((0, 2, 3, 4))[1:] + onehot.sum((0, 2, 3, 4))[1:] + 1)
            loss = ce + soft_dice.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 40 == 0:
                print(f'step {step} epoch {epoch} loss {loss.item():.4f} ({time.time() - t0:.0f} s)', flush=True)
            if time.time() - t0 >= budget:
                break
        epoch += 1
    model.eval()
    print(f'{step} steps, {step * args.batch / len(xtr):.2f} epochs in {(time.time() - t0) / 60:.1f} min')
    if args.test:
        with torch.no_grad():
            pred = torch.cat([model(xte[i:i + 4]).argmax(1) for i in range(0, len(xte), 4)]).numpy()
        ref = dice_per_organ(pred, yte.numpy(), classes)
        print('refined       ' + ' '.join(f'{n} {d:.3f}' for n, d in zip(names, ref)) + f'  mean {ref.mean():.3f}')
    if args.out:
        torch.save(model.state_dict(), args.out)
    if args.export_onnx:
        export(model, (xtr.shape[1] - classes,) + tuple(xtr.shape[2:]), classes, args.export_onnx)


if __name__ == '__main__':
    main()
