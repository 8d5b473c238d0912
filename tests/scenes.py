"""A tiny three-region scene (sky, building, tree) with its ADE20K label map, shared by pipeline tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

# ADE20K ids: 3 sky, 2 building, 5 tree.
RULES = """
[segmentation]
classes = "ade20k"
[map]
sky = "watercolor"
building = { builtin = "mosaic", tile = 8 }
tree = "keep"
"""


def three_region_scene(tmp_path: Path, *, scale: int = 1) -> tuple[np.ndarray, np.ndarray, Path]:
    """A (48 x 64) * scale photo: sky on top, a building bottom-left and a tree bottom-right; returns its
    pixels (exactly representable in 8 bits, also saved as photo.png), its labels and the label map's path."""
    height, width, horizon, split = 48 * scale, 64 * scale, 20 * scale, 32 * scale
    rng = np.random.default_rng(0)
    pixels = np.zeros((height, width, 3), np.float32)
    pixels[:horizon] = [0.4, 0.6, 0.9]
    pixels[horizon:, :split] = [0.7, 0.5, 0.4]
    pixels[horizon:, split:] = [0.2, 0.5, 0.2]
    pixels = np.clip(pixels + rng.normal(0, 0.05, pixels.shape), 0, 1).astype(np.float32)
    pixels = np.round(pixels * 255) / 255
    labels = np.full((height, width), 3, np.uint8)
    labels[horizon:, :split] = 2
    labels[horizon:, split:] = 5
    Image.fromarray(labels).save(tmp_path / "labels.png")
    Image.fromarray((pixels * 255).round().astype(np.uint8)).save(tmp_path / "photo.png")
    return pixels.astype(np.float32), labels, tmp_path / "labels.png"
