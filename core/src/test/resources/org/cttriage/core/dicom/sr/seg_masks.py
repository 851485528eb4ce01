"""Decodes a DICOM SEG with pydicom and compares it, voxel for voxel, with the expected label map.

usage: seg_masks.py SEG CT_FOLDER EXPECTED_LABELS ORGAN_LABELS_JSON
  EXPECTED_LABELS: one uint8 label per voxel of the source grid (x fastest, then y, then slice along the normal)
  ORGAN_LABELS_JSON: {"<SNOMED code value>": label}
Each frame is placed by its Derivation Image Sequence's source image (and frame), never by its index, and its
Image Position (Patient) must be the source slice's. Prints "voxels equal N" and exits 0 when every voxel agrees.
"""
import json
import os
import sys

import numpy as np
import pydicom

seg_path, ct_folder, expected_path, organs_path = sys.argv[1:5]
organ_labels = json.load(open(organs_path))

# The source slices, in order along the normal: (SOP Instance UID, frame number or 0) -> (index, position)
slices = []
for name in sorted(os.listdir(ct_folder)):
    ds = pydicom.dcmread(os.path.join(ct_folder, name), stop_before_pixels=True)
    if "PerFrameFunctionalGroupsSequence" in ds:
        orientation = ds.SharedFunctionalGroupsSequence[0].PlaneOrientationSequence[0].ImageOrientationPatient
        for f, item in enumerate(ds.PerFrameFunctionalGroupsSequence, start=1):
            slices.append((ds.SOPInstanceUID, f, [float(v) for v in item.PlanePositionSequence[0].ImagePositionPatient],
                           [float(v) for v in orientation]))
    else:
        slices.append((ds.SOPInstanceUID, 0, [float(v) for v in ds.ImagePositionPatient],
                       [float(v) for v in ds.ImageOrientationPatient]))
normal = np.cross(slices[0][3][:3], slices[0][3][3:])
slices.sort(key=lambda s: float(np.dot(normal, s[2])))
index = {(s[0], s[1]): (k, s[2]) for k, s in enumerate(slices)}

seg = pydicom.dcmread(seg_path)
assert seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4", seg.SOPClassUID
assert seg.SegmentationType == "BINARY"
frames = seg.pixel_array
if frames.ndim == 2:
    frames = frames[np.newaxis]
rows, cols = int(seg.Rows), int(seg.Columns)
label_of_segment = {}
for s in seg.SegmentSequence:
    code = s.SegmentedPropertyTypeCodeSequence[0].CodeValue
    assert s.SegmentAlgorithmType == "AUTOMATIC"
    label_of_segment[int(s.SegmentNumber)] = organ_labels[code]

expected = np.fromfile(expected_path, dtype=np.uint8).reshape(len(slices), rows, cols)
decoded = np.zeros_like(expected)
for i, item in enumerate(seg.PerFrameFunctionalGroupsSequence):
    number = int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
    source = item.DerivationImageSequence[0].SourceImageSequence[0]
    frame = int(source.ReferencedFrameNumber) if "ReferencedFrameNumber" in source else 0
    k, position = index[(source.ReferencedSOPInstanceUID, frame)]
    seg_position = [float(v) for v in item.PlanePositionSequence[0].ImagePositionPatient]
    assert np.allclose(seg_position, position, atol=1e-3), (i, seg_position, position)
    mask = frames[i].astype(bool)
    assert mask.any(), "frame %d carries no voxel of segment %d" % (i + 1, number)
    assert not (decoded[k][mask] != 0).any(), "segments overlap in slice %d" % k
    decoded[k][mask] = label_of_segment[number]

wanted = np.where(np.isin(expected, list(label_of_segment.values())), expected, 0)
differ = int((decoded != wanted).sum())
if differ:
    print("voxels differ %d of %d" % (differ, decoded.size))
    sys.exit(1)
print("voxels equal %d segments %d frames %d" % (decoded.size, len(label_of_segment), len(seg.PerFrameFunctionalGroupsSequence)))
