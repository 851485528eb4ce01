#!/usr/bin/python3
"""Pictures of organ crops with lesions (issue 12): for each requested finding, the first crops that
hold it, cut axially through the lesion (the plane with most finding-mask voxels), footprint-mean HU
in a window suited to the organ, beside the same plane with the finding mask's outline in red and
the organ mask's in green. Crops from `ct-triage generate --training-crops` (generate-crops.sh).

Usage: /usr/bin/python3 pictures.py --data target/crops/val-random --out DIR --finding renal_cyst [--count 3]
"""
import argparse
import glob
import json
import os

import numpy as np
from PIL import Image

BITS = {"pulmonary_nodule": 0, "emphysema": 1, "pleural_effusion": 2, "consolidation": 3, "liver_cyst": 4,
        "hepatic_steatosis": 5, "liver_mass": 6, "hepatomegaly": 7, "cholelithiasis": 8, "renal_cyst": 9,
        "nephrolithiasis": 10, "hydronephrosis": 11, "pancreatic_mass": 12, "splenomegaly": 13,
        "aortic_calcification": 14, "aortic_aneurysm": 15}
WINDOW = {"lung": (-1200, 200), "aorta": (-200, 600)}  # others: soft tissue (-160, 240)


def outline(mask):
    inner = mask.copy()
    inner[1:-1, 1:-1] = mask[1:-1, 1:-1] & mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    return mask & ~inner


def picture(case, crop, bit, scale):
    hu = np.load(os.path.join(case, crop["name"] + ".hu.npy")).astype(np.float32)
    bits = np.load(os.path.join(case, crop["name"] + ".findings.npy")).astype(np.int64)
    organ = np.load(os.path.join(case, crop["name"] + ".organ.npy")) >= 128
    lesion = (bits >> bit) & 1 == 1
    k = int(np.argmax(lesion.sum(axis=(1, 2))))
    lo, hi = WINDOW.get(crop["organ"], (-160, 240))
    g = np.clip((hu[k] - lo) / (hi - lo), 0, 1) * 255
    # Array rows are +y (posterior) downwards and columns +x (patient left) to the right: the
    # radiological view (patient's left on the viewer's right would be flipped); label it in the name.
    plain = np.stack([g, g, g], axis=-1)
    over = plain.copy()
    over[outline(organ[k])] = [0, 200, 0]
    over[outline(lesion[k])] = [255, 0, 0]
    img = np.concatenate([plain, np.full((g.shape[0], 2, 3), 255.0), over], axis=1).astype(np.uint8)
    im = Image.fromarray(img)
    return im.resize((im.width * scale, im.height * scale), Image.NEAREST), k


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--finding", required=True, choices=sorted(BITS))
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--scale", type=int, default=2)
    ap.add_argument("--max-size", type=float, default=1e9, help="only lesions up to this size (mm)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    made = 0
    for case in sorted(glob.glob(os.path.join(args.data, "case-*"))):
        truth = json.load(open(os.path.join(case, "truth.json")))
        for crop in truth["crops"]:
            hit = [f for f in crop["findings"] if f["id"] == args.finding and f["voxelsInCrop"] > 0]
            if not hit or hit[0]["sizeMm"] > args.max_size:
                continue
            im, k = picture(case, crop, BITS[args.finding], args.scale)
            name = f"{args.finding}-{os.path.basename(case)}-{crop['name']}-z{k}.png"
            im.save(os.path.join(args.out, name), optimize=True)
            desc = [t["description"] for t in truth["findings"] if t["id"] == args.finding]
            print(f"{name}: {hit[0]['sizeMm']} mm, spacing {crop['spacingMm']}, {'; '.join(desc)}")
            made += 1
            break
        if made >= args.count:
            break


if __name__ == "__main__":
    main()
