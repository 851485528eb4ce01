#!/usr/bin/python3
"""Export a crop-encoder checkpoint of train_crops.py to ONNX (an experiment: NOT part of the package).

One graph per organ kind, because the encoder's BatchNorm statistics are per organ (--norm organ) and a
crop's size is fixed per organ (experiments/organ-crops.json); the convolutions are shared in training
and folded with each organ's BatchNorm at export. Plus the text encoder trained with it (its embedding
space is the crop encoder's, not the committed text_encoder.onnx's).

  crop_encoder_<organ>.onnx
    inputs   crop          float32 [1, 6, z, y, x]   the OrganCrops channels of the crop ([-1, 1])
             organ_mask    float32 [1, 1, z, y, x]   fraction of each crop voxel in the organ (0..1),
                                                     from the coarse stage's segmentation at inference
             box_extent    float32 [1, 3]            the organ box's extent along x, y, z in mm / 100
    outputs  organ_embedding  float32 [1, 64]        L2-normalised, aligned with text_encoder_crops.onnx
             finding_max      float32 [1, 16]        max of each finding's voxel logit inside the organ
             finding_logits   float32 [1, 16, z/2, y/2, x/2]   per-voxel finding logits (location)
  text_encoder_crops.onnx   token_ids int64 [N, 16] -> text_embedding float32 [N, 64]

Also writes, per organ, one validation crop and PyTorch's outputs for it (raw little-endian float32,
shapes in export.json) so that CropEncoderBench.java can check ONNX Runtime (the engine's runtime, Java)
against PyTorch and time it: python's onnxruntime is not installed on the development machine.

Usage: export_crops.py --checkpoint target/crops-encoder-abdomen.pt --val target/crops/val-random
                       --out target/crops-onnx [--organs liver gallbladder kidney pancreas spleen aorta]
"""
import argparse
import glob
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from train import OPSET, TextEncoder  # noqa: E402
from train_crops import ORGANS, OrganEncoder, load_crop  # noqa: E402


class OneOrgan(nn.Module):
    """The encoder fixed to one organ kind (its BatchNorm statistics, its organ vector)."""
    def __init__(self, enc, organ):
        super().__init__()
        self.enc = enc
        self.register_buffer('organ_index', torch.tensor([ORGANS.index(organ)]))

    def forward(self, crop, organ_mask, box_extent):
        e, voxel_logits, lmax = self.enc(crop, organ_mask, self.organ_index, box_extent)
        return e, lmax, voxel_logits


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for b in iter(lambda: f.read(1 << 20), b''):
            h.update(b)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--checkpoint', required=True)
    ap.add_argument('--val', required=True, help='a folder of generate --training-crops cases (one case is used)')
    ap.add_argument('--out', required=True)
    ap.add_argument('--organs', nargs='+', default=['liver', 'gallbladder', 'kidney', 'pancreas', 'spleen', 'aorta'])
    ap.add_argument('--norm', default='organ')
    ap.add_argument('--heads', default='shared')
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    ck = torch.load(args.checkpoint, map_location='cpu')
    # a run-G checkpoint (train_crops.py --contrast-channel) has a 7th input channel, the lesion contrast
    import train_crops
    train_crops.CONTRAST_HU = ck.get('contrast_hu')
    enc = OrganEncoder(norm=args.norm, heads=args.heads) if 'contrast_hu' not in ck \
        else OrganEncoder(in_ch=7, norm=args.norm, heads=args.heads)
    enc.load_state_dict(ck['encoder'])
    enc.eval()
    txt = TextEncoder(len(ck['vocab']))
    txt.load_state_dict(ck['text'])
    txt.eval()
    import onnx
    case = sorted(glob.glob(os.path.join(args.val, 'case-*')))[0]
    truth = json.load(open(os.path.join(case, 'truth.json')))
    fid_index = {}
    meta = {'opset': OPSET, 'checkpoint': os.path.abspath(args.checkpoint), 'case': case, 'organs': {},
            'contrastHu': ck.get('contrast_hu')}
    for organ in args.organs:
        crop = next(c for c in truth['crops'] if c['organ'] == organ)
        for f in crop['findings']:
            fid_index.setdefault(f['id'], f['bit'])
        x, m, _, _, ext = load_crop(case, crop, {f['id']: f['bit'] for f in crop['findings']})
        x = torch.from_numpy(x)[None]
        m = torch.from_numpy(m)[None, None]
        ext = torch.from_numpy(ext)[None]
        model = OneOrgan(enc, organ).eval()
        path = os.path.join(args.out, f'crop_encoder_{organ}.onnx')
        t0 = time.time()
        torch.onnx.export(model, (x, m, ext), path, opset_version=OPSET,
                          input_names=['crop', 'organ_mask', 'box_extent'],
                          output_names=['organ_embedding', 'finding_max', 'finding_logits'], do_constant_folding=True)
        mo = onnx.load(path)
        onnx.checker.check_model(mo, full_check=True)
        with torch.no_grad():
            outs = model(x, m, ext)
        files = {}
        for name, t in (('crop', x), ('organ_mask', m), ('box_extent', ext), ('organ_embedding', outs[0]),
                        ('finding_max', outs[1]), ('finding_logits', outs[2])):
            p = os.path.join(args.out, f'{organ}.{name}.f32')
            t.detach().numpy().astype('<f4').tofile(p)
            files[name] = {'file': os.path.basename(p), 'shape': list(t.shape)}
        meta['organs'][organ] = {'onnx': os.path.basename(path), 'sha256': sha256(path),
                                 'bytes': os.path.getsize(path), 'crop': crop['name'], 'gridSize': crop['gridSize'],
                                 'spacingMm': crop['spacingMm'], 'tensors': files,
                                 'ops': sorted({n.op_type for n in mo.graph.node})}
        print(f'{os.path.basename(path)}: checker OK, opset {mo.opset_import[0].version}, '
              f'{os.path.getsize(path) / 1e6:.2f} MB, export {time.time() - t0:.1f} s, crop {crop["name"]} '
              f'{crop["gridSize"]} at {crop["spacingMm"]} mm', flush=True)
    ids = torch.tensor([[5, 7, 0] + [0] * 13, [3] + [0] * 15], dtype=torch.long)
    pt = os.path.join(args.out, 'text_encoder_crops.onnx')
    torch.onnx.export(txt, (ids,), pt, opset_version=OPSET, input_names=['token_ids'], output_names=['text_embedding'],
                      do_constant_folding=True, dynamic_axes={'token_ids': {0: 'N'}, 'text_embedding': {0: 'N'}})
    onnx.checker.check_model(onnx.load(pt), full_check=True)
    meta['text'] = {'onnx': os.path.basename(pt), 'sha256': sha256(pt), 'bytes': os.path.getsize(pt)}
    with open(os.path.join(args.out, 'vocabulary.txt'), 'w') as f:
        f.write('\n'.join(ck['vocab']) + '\n')
    json.dump(meta, open(os.path.join(args.out, 'export.json'), 'w'), indent=1)
    print(f'{os.path.basename(pt)}: checker OK; export.json written', flush=True)


if __name__ == '__main__':
    main()
