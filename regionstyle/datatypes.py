"""Plain frozen dataclasses that the pipeline stages hand each other.

Arrays are numpy unless a field says otherwise; images are float32 RGB in [0, 1], shape (H, W, 3).
Nothing here does work: a stage that needs a computation imports the stage that owns it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class LoadedImage:
    """A decoded image, oriented upright, with what is needed to write the result back faithfully.

    pixels: float32 (H, W, 3) RGB in [0, 1] (EXIF orientation already applied).
    alpha: float32 (H, W) in [0, 1], or None when the file has no transparency.
    exif: the EXIF block with the orientation tag reset to 1 (upright), or None.
    icc_profile: the embedded ICC profile bytes, or None.
    bit_depth: 8 or 16 bits per channel in the source file.
    """

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    exif: bytes | None = None
    icc_profile: bytes | None = None
    bit_depth: int = 8
    path: Path | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) in pixels."""
        return int(self.pixels.shape[0]), int(self.pixels.shape[1])


@dataclass(frozen=True)
class Segmentation:
    """Per-pixel classes of one image, in one vocabulary.

    labels: int32 (H, W) class ids at the image's full size (argmax of upsampled logits, or a user's map).
    probs: float32 (K, h, w) class probabilities at the model's working resolution (K = len(class_names)),
        or None for hard label maps. Kept small on purpose: region masks sum member classes here first and
        upsample only the few region maps (bilinear, so masks still sum to one per pixel).
    class_names: name of every id, index = class id ("" for an id with no name).
    vocabulary: the vocabulary's name ("ade20k", "cityscapes", "voc", or "custom").
    source: what produced it, for logs and manifests ("tflite:/path/model.tflite", "labels:/path/map.png").
    """

    labels: np.ndarray
    class_names: tuple[str, ...]
    vocabulary: str
    source: str
    probs: np.ndarray | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the labelled image."""
        return int(self.labels.shape[0]), int(self.labels.shape[1])


@dataclass(frozen=True)
class RegionMasks:
    """Soft masks of the style regions of one image; at every pixel the masks sum to 1.

    names: one per region, in the order of ``masks`` (e.g. "sky", "building", "keep", "unstyled").
    masks: float32 (R, H, W) in [0, 1], feathered: they guide the optimisation.
    styled: False for regions that must come out untouched (``keep`` rules and pixels no rule covers).
    rule_index: index of the resolved region in the rule resolution, or -1 for the unstyled remainder.
    owner: int (H, W) index of the region each pixel belongs to before feathering (the hard partition:
        every pixel of a keep region stays bit-identical, and seams are measured along its borders).
    """

    names: tuple[str, ...]
    masks: np.ndarray
    styled: tuple[bool, ...]
    rule_index: tuple[int, ...] = field(default=())
    owner: np.ndarray | None = None

    @property
    def areas(self) -> tuple[float, ...]:
        """Each region's share of the image, in [0, 1]."""
        total = float(self.masks.shape[1] * self.masks.shape[2])
        return tuple(float(m.sum()) / total for m in self.masks)


@dataclass(frozen=True)
class Progress:
    """One report from the optimiser: where it is, the loss terms, and the time left (seconds)."""

    scale: int
    scales: int
    size: tuple[int, int]
    iteration: int
    iterations: int
    losses: dict[str, float]
    elapsed: float
    eta: float


@dataclass(frozen=True)
class StylizeResult:
    """One stylised photo. image: float32 (H, W, 3) in [0, 1] at the working size; alpha as read (resized
    with the image) or None; masks and segmentation at the working size; report: JSON-able facts for the
    manifest (settings, versions, what ran, regions, losses, seam, timings)."""

    image: np.ndarray
    alpha: np.ndarray | None
    photo: np.ndarray
    masks: RegionMasks
    segmentation: Segmentation
    report: dict
