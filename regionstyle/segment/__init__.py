"""The segmentation stage: a registry of segmenters, each turning photos into per-pixel classes.

    segmenter = build_segmenter("ade20k", device="cuda")        # registered name
    segmenter = build_segmenter("models/deeplab/model.tflite")  # model file (+ model.toml beside it)
    segmentations = segmenter.segment([image])                  # float32 (H, W, 3) RGB in [0, 1]

``choose_segmenter`` resolves ``model = "auto"``: the backend whose vocabulary covers the rules' classes.
"""

from __future__ import annotations

from regionstyle.segment.base import Segmenter, SegmenterInfo, load_vocabulary
from regionstyle.segment.label_map import LabelMapSegmenter, load_label_map_segmentation
from regionstyle.segment.registry import (
    REGISTRY,
    build_segmenter,
    choose_segmenter,
    get_segmenter_info,
    list_segmenters,
)

__all__ = [
    "REGISTRY",
    "LabelMapSegmenter",
    "Segmenter",
    "SegmenterInfo",
    "build_segmenter",
    "choose_segmenter",
    "get_segmenter_info",
    "list_segmenters",
    "load_label_map_segmentation",
    "load_vocabulary",
]
