#!/usr/bin/python3
"""Build the two-stage package models/ctglip-ref-v2 (issue 12) from this package and a crop-encoder
checkpoint of train_crops.py, and calibrate it.

Stage 1 (coarse) is this package as it is: image_encoder.onnx (organ segmentation and the organ
embeddings that score the findings not listed below), text_encoder.onnx, vocabulary.txt, preprocessing.
Stage 2 (organ crops) is the checkpoint exported per organ by experiments/export_crops.py; the findings
of the organs it encodes are scored on the crops' embeddings against text_encoder_crops.onnx, and their
location is the strongest voxel of the finding's logit map (manifest "organCrops", read by the engine's
CropStage).

  package_v2.py build --checkpoint target/crops-encoder.pt --val target/crops/val-random
                      [--out models/ctglip-ref-v2] [--organs ...] [--train-command "..."]
      writes the package with the crop findings uncalibrated (temperature 1, bias 0, threshold 0.5,
      not reportable).
  package_v2.py calibrate --margins margins.json [--out models/ctglip-ref-v2]
      fits each crop finding's Platt temperature/bias and Youden threshold on the margins that
      `ct-triage evaluate --model OUT --margins FILE` wrote through the Java serving path (coarse boxes,
      full-resolution crops), the same rule train.py applies to the coarse findings; reportable when
      the AUC there is >= train.REPORTABLE_MIN_AUC; rewrites dictionary.json and manifest.json's SHA-256s.
  package_v2.py detectors --detector kidney=lesion-kidney/detector.pt [--detector ORGAN=PATH ...] --command "..."
                          [--out models/ctglip-ref-v2]
      adds the third stage: each organ's lesion detector (experiments/lesion_detector.py, run L) exported to
      lesion_detector_<organ>.onnx and described in manifest organCrops.lesionDetectors (read by the engine's
      LesionDetector); run before calibrate, which decides per finding whether the detector scores it.
  package_v2.py dot-filter [--organ lung --findings pulmonary_nodule] [--out models/ctglip-ref-v2]
      adds a Hessian dot filter (experiments/dot_filter.py, run P: no training, its parameters measured there) for
      the organ's findings, on its own 1.5 mm crop of the organ's box (manifest organCrops.dotFilters, read by the
      engine's DotFilters); run before calibrate, which decides per finding whether the filter scores it.
  package_v2.py second-look --checkpoint second-look.pt --command "..." [--organ lung] [--out models/ctglip-ref-v2]
      gives the organ's dot filter a second look (experiments/second_look.py, run Q): the CNN exported to
      second_look_<organ>.onnx scores the patches around the filter's candidates (manifest
      organCrops.dotFilters.<organ>.secondLook); run after dot-filter and before calibrate.
  package_v2.py compare --margins unseen.json [--out models/ctglip-ref-v2]
      per finding, the AUC of ctglip-ref (the coarse stage's margins) and of this package on the same
      unseen cases (evaluate --margins on seeds below 1000000), appended to the package's card.
"""
import argparse
import glob
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from train import REPORTABLE_MIN_AUC, auc, auc_against, auc_interval95, platt, sha256, sig, youden_threshold  # noqa: E402

ABDOMEN = ['liver', 'gallbladder', 'kidney', 'pancreas', 'spleen', 'aorta']
COARSE_FILES = ['image_encoder.onnx', 'text_encoder.onnx', 'vocabulary.txt']


def tensor(name, dtype, shape):
    return {'name': name, 'dtype': dtype, 'shape': shape}


def sensitivity_specificity(pred, y):
    """Of boolean calls against truth labels (0/1)."""
    pos = y > 0.5
    return float((pred & pos).sum() / max(pos.sum(), 1)), float((~pred & ~pos).sum() / max((~pos).sum(), 1))


def shown(out):
    """The package folder as the card names it: relative to the repository when it lies inside it."""
    rel = os.path.relpath(os.path.abspath(out), ROOT)
    return os.path.abspath(out) if rel.startswith('..') else rel


def write_manifest(out, manifest):
    files = {}
    for f in sorted(os.listdir(out)):
        if f != 'manifest.json' and os.path.isfile(os.path.join(out, f)):
            files[f] = sha256(os.path.join(out, f))
    manifest['files'] = files
    with open(os.path.join(out, 'manifest.json'), 'w') as fh:
        json.dump(manifest, fh, indent=2)
        fh.write('\n')


def build(args):
    out = args.out
    tmp = os.path.join(out, '.export')
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(tmp)
    # organs of their own checkpoint (--organ-checkpoint lung=PATH: run I's lung encoder, trained against this
    # checkpoint's frozen text encoder with train_crops.py --text-from, so one text_encoder_crops.onnx serves both)
    own = dict(o.split('=', 1) for o in args.organ_checkpoint)
    if set(own) - set(args.organs):
        sys.exit(f'--organ-checkpoint for organs not in --organs: {sorted(set(own) - set(args.organs))}')
    main_ck = torch.load(args.checkpoint, map_location='cpu') if own else None
    for organ, path in own.items():
        ck = torch.load(path, map_location='cpu')
        same_text = ck['vocab'] == main_ck['vocab'] and all(
            torch.equal(ck['text'][k], main_ck['text'][k]) for k in main_ck['text'])
        if not same_text or ck.get('contrast_hu') != main_ck.get('contrast_hu'):
            sys.exit(f'{path} ({organ}) does not share {args.checkpoint}\'s text encoder and contrast channel '
                     '(train it with train_crops.py --text-from and the same --contrast-channel)')
    export = None
    for i, ck_path in enumerate([args.checkpoint] + sorted(set(own.values()))):
        organs = [o for o in args.organs if own.get(o, args.checkpoint) == ck_path]
        sub = os.path.join(tmp, f'checkpoint-{i}')
        subprocess.run([sys.executable, os.path.join(HERE, 'experiments', 'export_crops.py'), '--checkpoint',
                        ck_path, '--val', args.val, '--out', sub, '--organs'] + organs, check=True)
        e = json.load(open(os.path.join(sub, 'export.json')))
        for organ, meta in e['organs'].items():
            shutil.copy(os.path.join(sub, meta['onnx']), tmp)
        if export is None:
            export = e
            for f in ('text_encoder_crops.onnx', 'vocabulary.txt'):
                shutil.copy(os.path.join(sub, f), tmp)
        else:
            export['organs'].update(e['organs'])
    with open(os.path.join(HERE, 'vocabulary.txt')) as a, open(os.path.join(tmp, 'vocabulary.txt')) as b:
        if [w for w in a.read().split('\n') if w] != [w for w in b.read().split('\n') if w]:
            sys.exit('the checkpoint\'s vocabulary is not vocabulary.txt: the two text encoders must share the tokenizer')
    for f in COARSE_FILES:
        shutil.copy(os.path.join(HERE, f), out)
    spec = json.load(open(os.path.join(HERE, 'experiments', 'organ-crops.json')))
    with open(os.path.join(out, 'organ-crops.json'), 'w') as fh:
        json.dump(spec, fh, indent=2)
        fh.write('\n')
    n_channels = len(spec['channels']) + (1 if export.get('contrastHu') else 0)
    dictionary = json.load(open(os.path.join(HERE, 'dictionary.json')))
    # finding channel = the finding's bit in the generator's masks (export_crops/train_crops index the logits by
    # it), which is its index in dictionary order: checked on the findings of the sample case's truth
    order = [f['id'] for f in dictionary['findings']]
    case = sorted(glob.glob(os.path.join(args.val, 'case-*')))[0]
    for crop in json.load(open(os.path.join(case, 'truth.json')))['crops']:
        for f in crop['findings']:
            assert order.index(f['id']) == f['bit'], f'bit of {f["id"]} is not its dictionary index'
    channels = {}
    for i, f in enumerate(dictionary['findings']):
        if f['organ'] in args.organs:
            channels[f['id']] = i
            f['temperature'], f['bias'], f['threshold'], f['reportable'] = 1.0, 0.0, 0.5, False
    dictionary['reportableRule'] = (dictionary.get('reportableRule', '') + ' Findings of the organ crops (manifest '
                                    'organCrops.findingChannels) are calibrated by package_v2.py calibrate on '
                                    'the Java serving path\'s margins.')
    with open(os.path.join(out, 'dictionary.json'), 'w') as fh:
        json.dump(dictionary, fh, indent=2)
        fh.write('\n')
    encoders = {}
    for organ in args.organs:
        meta = export['organs'][organ]
        z, y, x = meta['gridSize'][2], meta['gridSize'][1], meta['gridSize'][0]
        head = meta['tensors']['finding_logits']['shape']
        shutil.copy(os.path.join(tmp, meta['onnx']), out)
        encoders[organ] = {
            'file': meta['onnx'],
            'inputs': [tensor('crop', 'float32', [1, n_channels, z, y, x]),
                       tensor('organ_mask', 'float32', [1, 1, z, y, x]), tensor('box_extent', 'float32', [1, 3])],
            'outputs': [tensor('organ_embedding', 'float32', [1, 64]), tensor('finding_max', 'float32', [1, 16]),
                        tensor('finding_logits', 'float32', head)]}
    shutil.copy(os.path.join(tmp, 'text_encoder_crops.onnx'), out)
    manifest = json.load(open(os.path.join(HERE, 'manifest.json')))
    manifest['version'] = args.version
    manifest['description'] = ('Two-stage reference model (issue 12): the ctglip-ref coarse model segments the '
                               'organs and scores the findings of the organs without a crop encoder; organ crops of '
                               'the full-resolution volume at each organ\'s own spacing score and locate the '
                               'findings of '
                               + ', '.join(args.organs) + '. Synthetic phantoms only.')
    manifest['organCrops'] = {
        'spec': 'organ-crops.json',
        'findingChannels': channels,
        'textEncoder': {'file': 'text_encoder_crops.onnx',
                        'inputs': [tensor('token_ids', 'int64', [-1, 16])],
                        'outputs': [tensor('text_embedding', 'float32', [-1, 64])]},
        'encoders': encoders,
        **({'contrastChannel': {'windowHu': export['contrastHu'], 'dilateVoxels': 2}} if export.get('contrastHu') else {}),
        # calcified lesions located by CropStage.densest (compact dense structures in or near the organ's mask), not at a
        # logit peak
        **({'densestVoxelFindings': args.densest_voxel_findings} if args.densest_voxel_findings else {}),
        'training': {'checkpoint': os.path.basename(args.checkpoint), 'command': args.train_command,
                     'checkpointSha256': sha256(args.checkpoint),
                     **({'organCheckpoints': {o: {'checkpoint': os.path.basename(p), 'checkpointSha256': sha256(p)}
                                              for o, p in sorted(own.items())}} if own else {})},
    }
    if args.refiner:
        # the segmentation refiner (seg_refiner.py): the labels from the coarse stage's input and
        # organ probabilities; the organ embeddings stay the image encoder's
        manifest['description'] = manifest['description'].replace(
            'segments the organs', 'segments the organs (its labels refined by segmentation_refiner.onnx)')
        grid = manifest['imageEncoder']['outputs'][0]['shape']
        shutil.copy(args.refiner, os.path.join(out, 'segmentation_refiner.onnx'))
        manifest['segmentationRefiner'] = {
            'file': 'segmentation_refiner.onnx',
            'inputs': [tensor('image', 'float32', manifest['imageEncoder']['inputs'][0]['shape']),
                       tensor('organ_probabilities', 'float32', grid)],
            'outputs': [tensor('refined_probabilities', 'float32', grid)],
            'training': {'command': args.refiner_command, 'onnxSha256': sha256(args.refiner)}}
    manifest['evaluation'] = {'note': 'see MODEL_CARD.md'}
    shutil.rmtree(tmp)
    card = os.path.join(out, 'MODEL_CARD.md')
    with open(card, 'w') as fh:
        fh.write(CARD_HEAD.format(organs=', '.join(args.organs), command=args.train_command))
        if args.densest_voxel_findings:
            fh.write('- **Located at the densest compact dense structure** in or within 10 mm of their organ\'s mask on '
                     'the crop that scored them (else the densest voxel of the mask), not at their logit peak '
                     '(manifest organCrops.densestVoxelFindings; `CropStage.densest`): '
                     + ', '.join(args.densest_voxel_findings) + '.\n')
        if args.refiner:
            fh.write('- **Organ labels:** `segmentation_refiner.onnx` (manifest segmentationRefiner; '
                     '`models/ctglip-ref/seg_refiner.py`) turns the coarse stage\'s input and organ probabilities into the '
                     'labels (SEG, crop boxes, organ centres); the organ embeddings stay the image encoder\'s. '
                     f'Training: `{args.refiner_command}`.\n')
    write_manifest(out, manifest)
    print(f'package written to {out}; crop findings uncalibrated: {sorted(channels)}')


CARD_HEAD = """# ctglip-ref v2: two-stage reference model card

Issue 12's two-stage package. **Synthetic phantoms only; nothing here transfers to patient CT.**

- **Stage 1 (coarse):** `image_encoder.onnx`, `text_encoder.onnx`, `vocabulary.txt` and the preprocessing are
  ctglip-ref's, unchanged (its card: `models/ctglip-ref/MODEL_CARD.md`). It segments the seven organs on a
  6.25 mm grid and scores the findings of the organs that have no crop encoder.
- **Stage 2 (organ crops):** for {organs}, the organ's box in the stage-1 segmentation (per side for the
  lungs and kidneys) is cropped from the full-resolution HU volume at the organ's own spacing (`organ-crops.json`)
  and encoded by `crop_encoder_<organ>.onnx`; the organ's findings are scored on that embedding against
  `text_encoder_crops.onnx` (the larger of the two sides' scores), and located at the strongest voxel of
  the finding's logit map (FindingLocation `model`). Training: `{command}`; the architecture and the
  experiments behind it are in ctglip-ref's card ("v2 groundwork").
- **Calibration** (Platt temperature and bias, Youden threshold, reportable when AUC >= 0.80) of the crop
  findings is fitted on margins computed by the Java serving path (`ct-triage evaluate --margins`), so the
  coarse boxes, the crops of real DICOM series and the ONNX Runtime outputs are what is calibrated.
"""


# How much better (AUC on the calibration cases) the finding head must rank a crop finding than the zero-shot
# embedding to score it instead: about the noise of an AUC on 10-20 positives
HEAD_MIN_GAIN = 0.05
# How much better the lesion detector must rank a crop finding on the calibration cases than the crop scorer it
# would replace: none (it must not rank it worse). Unlike the head, it was validated on its own (run L: 130-160
# validation phantoms, 37-48 positives per finding), which these cases need only not contradict
DETECTOR_MIN_GAIN = 0.0

# The lesion detectors' input (lesion_detector.inputs) as the manifest states it for the engine: per channel,
# clip((footprint-mean HU - centre) / scale, -clip, clip); centre "organMedian" is the median footprint-mean HU of
# the crop voxels more than half in the served organ mask
DETECTOR_CHANNELS = [{'name': 'organ_contrast', 'centreHu': 'organMedian', 'scaleHu': 100.0, 'clip': 1.5},
                     {'name': 'soft_tissue', 'centreHu': 40.0, 'scaleHu': 200.0, 'clip': 1.0}]


def detector_channels(contrast):
    """DETECTOR_CHANNELS with the organ-contrast channel at ``contrast`` = [scale HU, clip]
    (lesion_detector.py --contrast-scale, --contrast-clip)."""
    return [{**DETECTOR_CHANNELS[0], 'scaleHu': float(contrast[0]), 'clip': float(contrast[1])}, DETECTOR_CHANNELS[1]]


def uncalibrated(out, step, scorer):
    """The package's manifest and its organCrops, refused once calibrated: ``step`` adds a scorer that the
    calibration must still choose for."""
    manifest = json.load(open(os.path.join(out, 'manifest.json')))
    stage = manifest['organCrops']
    if 'calibration' in stage:
        sys.exit(f'{out} is calibrated already: {step} runs between build and calibrate, which chooses per '
                 f'finding whether {scorer} scores it')
    return manifest, stage


def detectors(args):
    """The third stage: per organ, run L's lesion detector exported to ONNX (a window of the organ's crop in,
    the per-finding lesion probability at half resolution out) and its contract in manifest
    organCrops.lesionDetectors. The detector's findings stay uncalibrated for it until calibrate chooses it."""
    sys.path.insert(0, os.path.join(HERE, 'experiments'))
    import lesion_detector as ld
    out = args.out
    manifest, stage = uncalibrated(out, 'detectors', 'its detector')
    spec = json.load(open(os.path.join(out, stage['spec'])))
    grids = {o['name']: o for o in spec['organs']}
    found = {}
    for item in args.detector:
        organ, path = item.split('=', 1)
        ck = torch.load(path, map_location='cpu')
        if ck['organ'] != organ:
            sys.exit(f'{path} is a detector for {ck["organ"]}, not {organ}')
        if organ not in stage['encoders']:
            sys.exit(f'{organ} has no crop encoder in {out}: the detector runs on the crops of stage 2')
        for fid in ck['findings']:
            if fid not in stage['findingChannels']:
                sys.exit(f'{fid} is not a crop finding of {out} (organCrops.findingChannels)')
        p = ck.get('patch', 48)
        whole = ck.get('norm', 'instance') == 'batch'  # frozen statistics: the whole crop in one pass
        net = ld.UNet(2, len(ck['findings']), ck['width'], ck.get('norm', 'instance'))
        net.load_state_dict(ck['net'])
        net.eval()

        class Probability(torch.nn.Module):
            def __init__(self, net):
                super().__init__()
                self.net = net

            def forward(self, window):
                return torch.sigmoid(self.net(window))

        name = f'lesion_detector_{organ}.onnx'
        x = torch.zeros(1, 2, p, p, p)
        axes = {'window': {0: 'windows'}, 'lesion_probability': {0: 'windows'}}
        if whole:
            axes = {'window': {0: 'windows', 2: 'z', 3: 'y', 4: 'x'},
                    'lesion_probability': {0: 'windows', 2: 'z2', 3: 'y2', 4: 'x2'}}
        torch.onnx.export(Probability(net), x, os.path.join(out, name), input_names=['window'],
                          output_names=['lesion_probability'], opset_version=17, dynamic_axes=axes)
        import onnx
        onnx.checker.check_model(os.path.join(out, name))
        h = -1 if whole else p // 2
        side = -1 if whole else p
        # whole crop: padded to a multiple of 8 (half resolution, then three poolings); else windows of the patch
        cut = {'wholeCrop': True, 'padToVoxels': 8} if whole else {'windowVoxels': p, 'strideVoxels': args.stride or p}
        contrast = ld.checkpoint_contrast(ck)
        # a detector trained with another organ-contrast scale (the lungs, run O) states its own channels
        own = {} if contrast == ld.DEFAULT_CONTRAST else {'channels': detector_channels(contrast)}
        found[organ] = {
            'file': name,
            'findings': ck['findings'],
            **own,
            **cut,
            'smoothVoxels': 3,
            'regionDilateVoxels': 2,
            'inputs': [tensor('window', 'float32', [-1, 2, side, side, side])],
            'outputs': [tensor('lesion_probability', 'float32', [-1, len(ck['findings']), h, h, h])],
            'training': {'checkpoint': os.path.basename(path), 'checkpointSha256': sha256(path),
                         'spacingMm': grids[organ]['spacingMm'], 'command': args.command},
        }
        print(f'{organ}: {name} ({ck["findings"]}, {"whole crop" if whole else f"window {p}"}, width {ck["width"]})')
    stage['lesionDetectors'] = {'channels': DETECTOR_CHANNELS, 'detectors': found}
    stage.pop('detectorFindings', None)
    card_bullet(out, detector_bullet(found, args.command))
    write_manifest(out, manifest)



def detector_bullet(found, command):
    """The card's description of the third stage (manifest organCrops.lesionDetectors.detectors ``found``)."""
    whole = all(d.get('wholeCrop') for d in found.values())  # run M (batch norm) rather than run L's windows
    return ('- **Stage 3 (lesion detectors):** for ' + ', '.join(found) + ', a lesion detector '
            '(`lesion_detector_<organ>.onnx`, manifest organCrops.lesionDetectors; '
            '`models/ctglip-ref/experiments/lesion_detector.py`, a small U-Net trained per voxel, run '
            + ('M' if whole else 'L') + ' in '
            'ctglip-ref\'s card) segments the organ\'s focal lesions ('
            + '; '.join(f'{o}: ' + ', '.join(d['findings']) for o, d in found.items()) + ') on the organ\'s crop, '
            + ('in one pass over the whole crop (batch normalisation, frozen statistics; the engine\'s '
               '`LesionDetectors`)' if whole
               else 'window by window (the engine\'s `LesionDetectors`)')
            + '; a finding\'s score is the logit of its peak '
            'probability inside the organ mask dilated by two voxels, its location that peak. The mask is not an '
            'input: only the organ\'s median HU comes from it. The calibration decides per finding whether the '
            f'detector scores it (organCrops.detectorFindings). Training: `{command}`.\n')


def dot_filter(args):
    """A classical detector beside the learned ones (run P): the multi-scale Hessian dot filter of
    experiments/dot_filter.py with its defaults, on its own crop of the organ's box (manifest organCrops.dotFilters).
    Its findings stay uncalibrated for it until calibrate chooses it."""
    sys.path.insert(0, os.path.join(HERE, 'experiments'))
    import dot_filter as df
    out = args.out
    manifest, stage = uncalibrated(out, 'dot-filter', 'the filter')
    if args.organ not in stage['encoders']:
        sys.exit(f'{args.organ} has no crop encoder in {out}: the filter runs on the organ boxes of stage 2')
    organ_of = {f['id']: f['organ'] for f in json.load(open(os.path.join(out, 'dictionary.json')))['findings']}
    for fid in args.findings:
        if fid not in stage['findingChannels'] or organ_of.get(fid) != args.organ:
            sys.exit(f'{fid} is not a crop finding of {args.organ} in {out}')
    stage.setdefault('dotFilters', {})[args.organ] = {
        'findings': args.findings,
        'gridSize': args.grid,
        'spacingMm': [args.spacing] * 3,
        'sigmasMm': args.sigmas_mm or df.SIGMAS_MM,
        'clipHu': df.CLIP_HU,
        'floorHu': df.FLOOR_HU,
        'regionDilateVoxels': df.DILATE,
        'referenceDot': args.reference_dot,
        'reference': 'models/ctglip-ref/experiments/dot_filter.py',
    }
    stage.pop('detectorFindings', None)
    card_bullet(out, dot_bullet(stage['dotFilters']))
    write_manifest(out, manifest)
    print(f'{args.organ}: dot filter for {args.findings} on a {args.grid} crop of {args.spacing} mm')


def second_look(args):
    """Run Q: the organ's dot filter proposes candidates and a small CNN scores their patches (manifest
    organCrops.dotFilters.<organ>.secondLook, the engine's DotFilters)."""
    sys.path.insert(0, os.path.join(HERE, 'experiments'))
    import second_look as sl
    out = args.out
    manifest, stage = uncalibrated(out, 'second-look', 'the filter')
    f = stage.get('dotFilters', {}).get(args.organ)
    if f is None:
        sys.exit(f'{args.organ} has no dot filter in {out}: run dot-filter first')
    net, ck = sl.load_net(args.checkpoint)
    p = ck['patchVoxels']
    name = f'second_look_{args.organ}.onnx'
    torch.onnx.export(net, torch.zeros(2, 1, p, p, p), os.path.join(out, name), input_names=['patch'],
                      output_names=['logit'], dynamic_axes={'patch': {0: 'n'}, 'logit': {0: 'n'}}, opset_version=17)
    import onnx
    onnx.checker.check_model(os.path.join(out, name))
    f['secondLook'] = {
        'file': name,
        'candidates': ck['candidates'],
        'peakWindowVoxels': ck['peakWindowVoxels'],
        'patchVoxels': p,
        'clipHu': ck['clipHu'],
        'inputs': [tensor('patch', 'float32', [-1, 1, p, p, p])],
        'outputs': [tensor('logit', 'float32', [-1])],
        'training': {'checkpoint': os.path.basename(args.checkpoint), 'checkpointSha256': sha256(args.checkpoint),
                     'command': args.command},
        'reference': 'models/ctglip-ref/experiments/second_look.py',
    }
    stage.pop('detectorFindings', None)
    card_bullet(out, dot_bullet(stage['dotFilters']))
    write_manifest(out, manifest)
    print(f'{args.organ}: {name}, the {ck["candidates"]} largest candidates, patches of {p} voxels')


def dot_bullet(filters):
    """The card's description of the dot filters (manifest organCrops.dotFilters ``filters``). A second look's
    training candidates are the filter's at experiments/dot_filter.py's scales (second_look.py), whichever the
    engine runs."""
    sys.path.insert(0, os.path.join(HERE, 'experiments'))
    import dot_filter as df
    return ('- **Dot filters (no training):** for ' + ', '.join(f'{o} ({", ".join(d["findings"])})'
                                                        for o, d in filters.items())
            + ', the multi-scale Hessian dot filter of Li, Sone and Doi (2003) (manifest organCrops.dotFilters; '
            '`models/ctglip-ref/experiments/dot_filter.py`, run P in ctglip-ref\'s card; the engine\'s `DotFilters`) '
            'runs on its own crop of the organ\'s box (' + '; '.join(
                f'{o}: {d["gridSize"]} voxels of {d["spacingMm"][0]} mm' for o, d in filters.items())
            + '): per scale (' + ', '.join(f'{s:g}' for s in next(iter(filters.values()))['sigmasMm'])
            + ' mm) the Hessian of the smoothed, clipped HU, and where all three eigenvalues are negative (a bright '
            'blob, not a tube) the value l3^2 / |l1|; a finding\'s score is the logit of d / (d + referenceDot) '
            'for the largest value d in the dilated organ mask, its location that voxel. The calibration decides '
            'per finding whether the filter scores it (organCrops.detectorFindings).'
            + ''.join(f' With a second look ({o}: `{d["secondLook"]["file"]}`, runs Q and R; '
                      '`models/ctglip-ref/experiments/second_look.py`) the filter only proposes: a small 3D CNN '
                      f'scores the {d["secondLook"]["patchVoxels"]}^3 patch around each of its '
                      f'{d["secondLook"]["candidates"]} largest local maxima, and the score is the largest logit, '
                      'its location that candidate. Training: `' + d['secondLook']['training']['command'] + '`'
                      + ('' if d['sigmasMm'] == df.SIGMAS_MM else
                         ' (its training candidates are the filter\'s at the scales '
                         + ', '.join(f'{s:g}' for s in df.SIGMAS_MM) + ' mm; served, the filter runs only '
                         + ', '.join(f'{s:g}' for s in d['sigmasMm']) + ' mm)') + '.'
                      for o, d in filters.items() if 'secondLook' in d) + '\n')


def card_bullet(out, bullet):
    """Adds a bullet to the end of the card's head (before its first section), in place of one that starts the
    same way (up to its first colon)."""
    card = os.path.join(out, 'MODEL_CARD.md')
    with open(card) as fh:
        text = fh.read()
    key = '\n' + bullet[:bullet.index(':')]
    old = text.find(key)
    if old >= 0:
        end = text.find('\n', old + 1)
        text = text[:old + 1] + text[end + 1:]
    at = text.find('\n## ')
    text = text + bullet if at < 0 else text[:at] + bullet + text[at:]
    with open(card, 'w') as fh:
        fh.write(text)


def calibrate(args):
    out = args.out
    data = json.load(open(args.margins))
    manifest = json.load(open(os.path.join(out, 'manifest.json')))
    if 'calibration' in manifest['organCrops']:
        # the margins of a calibrated package are its chosen scorers' (a head finding's margin is its head's),
        # and the findings given back to the coarse stage are no longer the crops': calibrating it again would
        # choose on the wrong figures
        sys.exit(f'{out} is calibrated already (manifest organCrops.calibration): calibrate runs once, on the output '
                 'of build (and detectors); rebuild the package first')
    channels = manifest['organCrops']['findingChannels']
    dictionary = json.load(open(os.path.join(out, 'dictionary.json')))
    single = {f['id']: f for f in json.load(open(os.path.join(HERE, 'dictionary.json')))['findings']}
    rows = []
    kept_coarse = []
    heads, by_detectors = [], []
    # a finding a dot filter scores takes its detectorPeak from the filter (the engine's DotFilters)
    dotted = {fid for d in manifest['organCrops'].get('dotFilters', {}).values() for fid in d['findings']}
    for f in dictionary['findings']:
        if f['id'] not in channels:
            continue
        d = data['findings'][f['id']]
        x = np.array(d['margin'], np.float64)
        y = np.array(d['truth'], np.float64)
        a_emb, a_coarse = auc(x, y), auc(np.array(d['coarseMargin'], np.float64), y)
        peak = d.get('headPeak')
        a_head = auc(np.array(peak, np.float64), y) if peak and None not in peak else -1.0
        det = d.get('detectorPeak')
        a_det = auc(np.array(det, np.float64), y) if det and None not in det else -1.0
        # four scorers per finding, chosen on the calibration cases only: the crop embedding against the
        # prompts (zero-shot), the crop's finding head (its largest logit in the crop), the organ's lesion detector
        # (the logit of its peak probability), the coarse stage. The embedding is preferred (the prompts and their
        # held-out paraphrases work through it); the head replaces it only when it ranks the finding clearly
        # better (HEAD_MIN_GAIN); the detector replaces either when it ranks the finding at least as well
        # (DETECTOR_MIN_GAIN: it was validated on its own, on 3-4 times as many positives as these cases have)
        by_head = a_head >= a_emb + HEAD_MIN_GAIN
        a_crop = a_head if by_head else a_emb
        by_det = a_det >= 0 and a_det >= a_crop + DETECTOR_MIN_GAIN
        if by_det:
            by_head, a_crop = False, a_det
        if a_coarse > a_crop:
            # the coarse stage ranks this finding better on the calibration cases: it keeps scoring it, with
            # ctglip-ref's own calibration (a per-finding choice of stage, made on calibration seeds only)
            del channels[f['id']]
            for k in ('temperature', 'bias', 'threshold', 'reportable'):
                f[k] = single[f['id']][k]
            kept_coarse.append((f['id'], a_crop, a_coarse))
            print(f'{f["id"]}: coarse stage kept (AUC {a_coarse:.3f} coarse vs {a_crop:.3f} crops on the calibration cases)')
            continue
        if by_head:
            x = np.array(peak, np.float64)
            heads.append(f['id'])
            print(f'{f["id"]}: finding head (AUC {a_head:.3f} against {a_emb:.3f} zero-shot on the crops, '
                  f'{a_coarse:.3f} coarse)')
        if by_det:
            x = np.array(det, np.float64)
            by_detectors.append(f['id'])
            print(f'{f["id"]}: {"dot filter" if f["id"] in dotted else "lesion detector"} (AUC {a_det:.3f} against '
                  f'{a_emb:.3f} zero-shot on the crops, '
                  f'{a_head:.3f} head, {a_coarse:.3f} coarse)')
        a, b = platt(x, y)
        if not (a > 0):
            a, b = 1.0, math.log(max(y.mean(), 1e-3) / max(1 - y.mean(), 1e-3))
        temperature, bias = 1.0 / a, b
        prob = 1 / (1 + np.exp(-(x / temperature + bias)))
        thr = youden_threshold(prob, y)
        a_uc = auc(x, y)
        # the head's and the detector's scores do not depend on prompts: held-out prompts give them the same score
        hx = x if by_head or by_det else np.array([math.nan if v is None else v for v in d['heldOutMargin']], np.float64)
        f['temperature'], f['bias'], f['threshold'] = sig(temperature), sig(bias), sig(thr)
        f['reportable'] = bool(a_uc >= REPORTABLE_MIN_AUC)
        pos = y > 0.5
        kind = ' (finding head)' if by_head else ' (dot filter)' if by_det and f['id'] in dotted \
            else ' (lesion detector)' if by_det else ''
        rows.append((f['id'] + kind, int(pos.sum()), int((~pos).sum()), a_uc,
                     auc(hx, y) if not np.isnan(hx).any() else math.nan,
                     *sensitivity_specificity(prob >= thr, y), f['temperature'], f['bias'], f['threshold'],
                     f['reportable']))
    with open(os.path.join(out, 'dictionary.json'), 'w') as fh:
        json.dump(dictionary, fh, indent=2)
        fh.write('\n')
    if heads:
        manifest['organCrops']['headFindings'] = heads
    else:
        manifest['organCrops'].pop('headFindings', None)
    lesion = manifest['organCrops'].get('lesionDetectors')
    if lesion:
        for organ in list(lesion['detectors']):
            if not any(fid in by_detectors for fid in lesion['detectors'][organ]['findings']):
                # the detector scores none of its findings: the engine need not run it
                os.remove(os.path.join(out, lesion['detectors'].pop(organ)['file']))
                print(f'{organ}: its lesion detector scores no finding; dropped from the package')
        if not lesion['detectors']:
            manifest['organCrops'].pop('lesionDetectors')
    dots = manifest['organCrops'].get('dotFilters')
    if dots:
        for organ in list(dots):
            if not any(fid in by_detectors for fid in dots[organ]['findings']):
                dots.pop(organ)  # it scores none of its findings: the engine need not run it
                print(f'{organ}: its dot filter scores no finding; dropped from the package')
        if not dots:
            manifest['organCrops'].pop('dotFilters')
    if by_detectors:
        manifest['organCrops']['detectorFindings'] = by_detectors
    else:
        manifest['organCrops'].pop('detectorFindings', None)
    manifest['organCrops']['calibration'] = {'seed': data['seed'], 'cases': data['cases'], 'matrix': data['matrix'],
                                             'slices': data['slices'], 'sliceSpacingMm': data['sliceSpacingMm']}
    densest = [d for d in manifest['organCrops'].get('densestVoxelFindings', []) if d in channels]
    if densest:
        manifest['organCrops']['densestVoxelFindings'] = densest
    else:
        manifest['organCrops'].pop('densestVoxelFindings', None)
    organ_of = {f['id']: f['organ'] for f in dictionary['findings']}
    built = list(manifest['organCrops']['encoders'])
    for organ in built:
        if not any(organ_of[fid] == organ for fid in channels):
            # no finding of this organ is scored on its crops any more: the engine need not run its encoder
            os.remove(os.path.join(out, manifest['organCrops']['encoders'].pop(organ)['file']))
            print(f'{organ}: no crop finding left; its encoder is dropped from the package')
    kept = list(manifest['organCrops']['encoders'])
    card_path = os.path.join(out, 'MODEL_CARD.md')
    if kept != built:
        # the description and the card's head (written by build) name the organs that have a crop encoder
        manifest['description'] = manifest['description'].replace(', '.join(built), ', '.join(kept))
        with open(card_path) as fh:
            card = fh.read()
        with open(card_path, 'w') as fh:
            fh.write(card.replace('for ' + ', '.join(built) + ',', 'for ' + ', '.join(kept) + ','))
    lines = ['', f'## Calibration of the crop findings ({data["cases"]} cases from seed {data["seed"]}, '
             f'{data["matrix"]} x {data["matrix"]} x {data["slices"]} slices of {data["sliceSpacingMm"]} mm, '
             'through the Java serving path)', '',
             f'`bin/ct-triage evaluate --model {shown(out)} --seed {data["seed"]} --cases {data["cases"]} --matrix '
             f'{data["matrix"]} --slices {data["slices"]} --slice-spacing {data["sliceSpacingMm"]} --margins FILE`, then '
             '`models/ctglip-ref/package_v2.py calibrate --margins FILE`. These figures are on the calibration '
             'set itself (optimistic); the evaluation on unseen seeds is below. Each crop finding is scored by '
             'whichever ranks it best on these cases: the crop embedding against its prompts (zero-shot), the '
             'crop\'s finding head (its largest logit in the crop; manifest organCrops.headFindings; only when it '
             f'ranks the finding at least {HEAD_MIN_GAIN} better than the embedding; its prompts do not change the '
             'score, so its held-out AUC is its AUC), the organ\'s lesion detector (the logit of its peak '
             'probability; manifest organCrops.detectorFindings; when it ranks the finding at least as well as the '
             'other crop scorers: it was validated on its own, run L) or its dot filter (the same, with the logit '
             'of d / (d + referenceDot); run P), or the coarse stage (manifest '
             'organCrops.findingChannels lists the findings the crops score).', '',
             '| finding | pos/neg | AUC | AUC held-out prompts | sens @thr | spec @thr | temperature | bias | threshold | reportable |',
             '|---|---|---|---|---|---|---|---|---|---|']
    for fid, a_crop, a_coarse in kept_coarse:
        lines.append(f'| {fid} | scored by the coarse stage: AUC {a_coarse:.3f} there against {a_crop:.3f} on the crops, '
                     'so it keeps ctglip-ref\'s calibration | | | | | | | | |')
    for r in rows:
        lines.append(f'| {r[0]} | {r[1]}/{r[2]} | {r[3]:.3f} | {r[4]:.3f} | {r[5]:.3f} | {r[6]:.3f} | {r[7]} | {r[8]} | '
                     f'{r[9]} | {"yes" if r[10] else "no"} |')
        print(' '.join(str(v) for v in r))
    card_section(out, '## Calibration of the crop findings', lines)
    write_manifest(out, manifest)


def card_section(out, heading, lines):
    """Puts ``lines`` (starting with an empty line, then the heading) into the package card: in place of the
    section that starts with ``heading`` when the card has one (so calibrate and compare can run again on a
    package), else at the end."""
    path = os.path.join(out, 'MODEL_CARD.md')
    with open(path) as fh:
        card = fh.read()
    block = '\n'.join(lines[1:]) + '\n'
    start = card.find('\n' + heading)
    if start < 0:
        card = card + '\n'.join(lines) + '\n'
    else:
        end = card.find('\n## ', start + 1)
        card = card[:start + 1] + block + (card[end:] if end >= 0 else '')
    with open(path, 'w') as fh:
        fh.write(card)


def enriched_lines(data, dictionary, paths):
    """The card's lines for enriched evaluations (`evaluate --findings ID`: the finding inserted in every phantom):
    per inserted finding, its positives' margins against the negatives of the random evaluation ``data``, with
    DeLong's interval, and the sensitivity at the package's threshold."""
    by_id = {f['id']: f for f in dictionary['findings']}
    lines = ['', '**Enriched evaluations** (a rare finding has too few positives among random phantoms to rank it): '
             'phantoms of unseen seeds with the finding inserted (`bin/ct-triage evaluate --findings ID --margins E`, '
             'then `package_v2.py compare --margins FILE --enriched E`); their margins against the negatives of the '
             'random evaluation above.', '',
             '| finding | enriched evaluation | positives / negatives | **AUC** | 95 % interval | sens @thr |',
             '|---|---|---|---|---|---|']
    for path in paths:
        e = json.load(open(path))
        for fid, d in e['findings'].items():
            t = np.array(d['truth'], bool)
            if not t.all():
                continue
            f = by_id[fid]
            x = np.array(d['margin'], np.float64)
            neg = np.array(data['findings'][fid]['margin'], np.float64)[~np.array(data['findings'][fid]['truth'], bool)]
            a, lo, hi = auc_against(x, neg)
            prob = 1 / (1 + np.exp(-(x / f['temperature'] + f['bias'])))
            sens = float(((prob >= f['threshold']) & bool(f['reportable'])).mean())
            lines.append(f'| {fid} | seeds {e["seed"]}+, {e["cases"]} cases | {len(x)} / {len(neg)} | **{a:.3f}** | '
                         f'{lo:.3f}-{hi:.3f} | {sens:.3f} |')
            print(f'enriched {fid}: {len(x)} positives against {len(neg)} negatives, AUC {a:.3f} ({lo:.3f}-{hi:.3f}), '
                  f'sensitivity {sens:.3f}')
    return lines


def compare(args):
    """ctglip-ref (the coarse margins) against the two-stage package on the same unseen cases."""
    out = args.out
    data = json.load(open(args.margins))
    dictionary = json.load(open(os.path.join(out, 'dictionary.json')))
    stage_two = json.load(open(os.path.join(out, 'manifest.json')))['organCrops']
    channels, heads = stage_two['findingChannels'], stage_two.get('headFindings', [])
    detected = stage_two.get('detectorFindings', [])
    lines = ['', f'## Evaluation on unseen seeds: ctglip-ref against this package on the same cases', '',
             f'`bin/ct-triage evaluate --model {shown(out)} --seed {data["seed"]} --cases {data["cases"]} --matrix '
             f'{data["matrix"]} --slices {data["slices"]} --slice-spacing {data["sliceSpacingMm"]} --margins FILE`, then '
             '`models/ctglip-ref/package_v2.py compare --margins FILE`. "ctglip-ref" is the coarse stage\'s margin of '
             'every finding (what the single-stage package scores on these volumes); AUC does not depend on calibration. '
             'Sensitivity and specificity at this package\'s threshold; a finding that is not reportable is never called present. '
             'The interval is DeLong\'s 95 % interval of the v2 AUC (as `evaluate --json` reports it): with ten '
             'positives it spans about 0.3.',
             '', '| finding | stage | pos/neg | AUC ctglip-ref | **AUC v2** | 95 % interval | AUC v2 held-out prompts | sens @thr | spec @thr | reportable |',
             '|---|---|---|---|---|---|---|---|---|---|']
    a1, a2, h2, crop1, crop2 = [], [], [], [], []
    for f in dictionary['findings']:
        d = data['findings'][f['id']]
        y = np.array(d['truth'], np.float64)
        x = np.array(d['margin'], np.float64)
        c = np.array(d['coarseMargin'], np.float64)
        hx = np.array([math.nan if v is None else v for v in d['heldOutMargin']], np.float64)
        prob = 1 / (1 + np.exp(-(x / f['temperature'] + f['bias'])))
        pos = y > 0.5
        sens, spec = sensitivity_specificity((prob >= f['threshold']) & bool(f['reportable']), y)
        r1, r2 = auc(c, y), auc(x, y)
        rh = auc(hx, y) if not np.isnan(hx).any() else math.nan
        stage = ('coarse' if f['id'] not in channels else 'crops, head' if f['id'] in heads
                 else 'crops, detector' if f['id'] in detected else 'crops')
        a1.append(r1), a2.append(r2), h2.append(rh)
        if stage != 'coarse':
            crop1.append(r1), crop2.append(r2)
        lo, hi = auc_interval95(x, y)
        lines.append(f'| {f["id"]} | {stage} | {int(pos.sum())}/{int((~pos).sum())} | {r1:.3f} | **{r2:.3f}** | '
                     f'{lo:.3f}-{hi:.3f} | {rh:.3f} | {sens:.3f} | {spec:.3f} | {"yes" if f["reportable"] else "no"} |')
        print(f'{f["id"]:22s} {stage:6s} {int(pos.sum()):3d}/{int((~pos).sum()):3d} v1 {r1:.3f} v2 {r2:.3f} held-out {rh:.3f} '
              f'sens {sens:.3f} spec {spec:.3f} reportable {f["reportable"]}')
    m = lambda v: float(np.nanmean(v))
    lines.append(f'| **mean of {len(a1)}** | | | {m(a1):.3f} | **{m(a2):.3f}** | | {m(h2):.3f} | | | |')
    lines.append(f'| **mean of the {len(crop1)} crop findings** | | | {m(crop1):.3f} | **{m(crop2):.3f}** | | | | | |')
    print(f'mean AUC ctglip-ref {m(a1):.3f} v2 {m(a2):.3f} held-out v2 {m(h2):.3f}; crop findings {m(crop1):.3f} -> {m(crop2):.3f}')
    if args.enriched:
        lines += enriched_lines(data, dictionary, args.enriched)
    card_section(out, '## Evaluation on unseen seeds', lines)
    write_manifest(out, json.load(open(os.path.join(out, 'manifest.json'))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    b = sub.add_parser('build')
    b.add_argument('--checkpoint', required=True)
    b.add_argument('--val', required=True)
    b.add_argument('--out', default=os.path.join(os.path.dirname(HERE), 'ctglip-ref-v2'))
    b.add_argument('--organs', nargs='+', default=ABDOMEN)
    b.add_argument('--version', default='2.0.0')
    b.add_argument('--train-command', default='')
    b.add_argument('--densest-voxel-findings', nargs='*', default=[], metavar='FINDING',
                   help='crop findings located by the calcified-lesion rule (CropStage.densest: stones)')
    b.add_argument('--refiner', default=None, help='segmentation refiner ONNX (seg_refiner.py --export-onnx)')
    b.add_argument('--refiner-command', default='', help='how the refiner was trained, for the manifest')
    b.add_argument('--organ-checkpoint', action='append', default=[], metavar='ORGAN=PATH',
                   help='export ORGAN from this checkpoint instead of --checkpoint (same frozen text encoder)')
    c = sub.add_parser('calibrate')
    c.add_argument('--margins', required=True)
    c.add_argument('--out', default=os.path.join(os.path.dirname(HERE), 'ctglip-ref-v2'))
    f = sub.add_parser('dot-filter')
    f.add_argument('--organ', default='lung')
    f.add_argument('--findings', nargs='+', default=['pulmonary_nodule'])
    f.add_argument('--grid', type=int, nargs=3, default=[112, 128, 192], help='x y z voxels')
    f.add_argument('--spacing', type=float, default=1.5, help='mm, isotropic')
    f.add_argument('--sigmas-mm', type=float, nargs='+',
                   help='the scales the engine runs (default: dot_filter.py\'s SIGMAS_MM, from whose candidates '
                        'second_look.py trains the second look whatever this says)')
    f.add_argument('--reference-dot', type=float, default=60.0,
                   help='the dot value scored as probability 0.5 (about the median lung of run P)')
    f.add_argument('--out', default=os.path.join(ROOT, 'models', 'ctglip-ref-v2'))
    d = sub.add_parser('detectors')
    d.add_argument('--detector', action='append', required=True, metavar='ORGAN=PATH',
                   help='a lesion_detector.py checkpoint of ORGAN')
    d.add_argument('--command', default='', help='how the detectors were trained, for the manifest')
    d.add_argument('--stride', type=int, default=None,
                   help='voxels between the windows the engine cuts a crop into (even; default: the window, the '
                        'fewest windows that cover the crop: renal cyst 0.776 against 0.779 with 36, 24 %% less time)')
    d.add_argument('--out', default=os.path.join(os.path.dirname(HERE), 'ctglip-ref-v2'))
    s = sub.add_parser('second-look')
    s.add_argument('--checkpoint', required=True, help='experiments/second_look.py train --checkpoint')
    s.add_argument('--organ', default='lung')
    s.add_argument('--command', default='', help='how it was trained, for the manifest')
    s.add_argument('--out', default=os.path.join(os.path.dirname(HERE), 'ctglip-ref-v2'))
    k = sub.add_parser('compare')
    k.add_argument('--margins', required=True)
    k.add_argument('--enriched', nargs='*', default=[], metavar='MARGINS',
                   help='margins of enriched evaluations (evaluate --findings ID): ranked against --margins\' negatives')
    k.add_argument('--out', default=os.path.join(os.path.dirname(HERE), 'ctglip-ref-v2'))
    args = ap.parse_args()
    {'build': build, 'detectors': detectors, 'dot-filter': dot_filter, 'calibrate': calibrate,
     'compare': compare, 'second-look': second_look}[args.cmd](args)


if __name__ == '__main__':
    main()
