"""The real DeepLabV3-MobileNetV2 (ADE20K) TFLite model from ../shared/data on the shared photos.

The reference label maps were made by the same model: argmax at 513x513, then nearest-neighbour
upsampling. We upsample the logits bilinearly before the argmax, so the two differ only in a band of a
few pixels along class borders; IoU >= 0.9 for sky and building wherever they cover more than 5 %.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.paths import SHARED_DATA

SHARED = SHARED_DATA
MODEL = SHARED / "models" / "deeplabv3_mnv2_ade20k"
CLASSES = {"building": 2, "sky": 3}

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not (MODEL / "model.tflite").is_file(), reason=f"shared model not found at {MODEL}"),
]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


@pytest.fixture(scope="module")
def segmentations():
    pytest.importorskip("ai_edge_litert", reason="the TFLite runtime (ai-edge-litert) is not installed")
    from regionstyle.io import read_image, read_label_map
    from regionstyle.segment import build_segmenter

    photos = sorted((SHARED / "photos").glob("*.jpg"))
    pairs = [(p, SHARED / "labels" / f"{p.stem}.png") for p in photos]
    pairs = [(photo, label) for photo, label in pairs if label.is_file()]
    segmenter = build_segmenter(str(MODEL / "model.tflite"))
    results = []
    for photo, label in pairs:  # one at a time: each Segmentation holds 160 MB of probabilities
        seg = segmenter.segment([read_image(photo).pixels])[0]
        results.append((photo.stem, seg.labels, seg.probs.shape, read_label_map(label)))
    return segmenter, results


def test_descriptor_is_read(segmentations):
    segmenter, _ = segmentations
    assert segmenter.vocabulary.name == "ade20k" and len(segmenter.vocabulary.classes) == 151
    conventions = segmenter.conventions
    assert (conventions.size, conventions.layout, conventions.input_range) == ((513, 513), "NHWC", (-1.0, 1.0))


def test_sky_and_building_agree_with_the_reference_label_maps(segmentations):
    _, results = segmentations
    assert len(results) >= 5
    checked = []
    for stem, labels, probs_shape, reference in results:
        # probabilities on every other pixel of the 513 px output (postprocess.PROBS_SIDE)
        assert labels.shape == reference.shape and probs_shape == (151, 257, 257)
        for name, cid in CLASSES.items():
            if (reference == cid).mean() > 0.05:
                checked.append((stem, name, iou(labels == cid, reference == cid)))
    assert len(checked) >= 8
    low = [(stem, name, round(value, 3)) for stem, name, value in checked if value < 0.9]
    assert not low, f"IoU below 0.9: {low}"
