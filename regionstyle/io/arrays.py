"""In-memory images for the Python API: PIL images and numpy arrays to and from the pipeline's pixels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from regionstyle.io.pixels import from_pillow, to_uint8, to_uint16
from regionstyle.datatypes import LoadedImage
from regionstyle.errors import BadImage


def from_pil(image: Any) -> LoadedImage:
    """A PIL image (any mode Pillow can convert) as float RGB + alpha; its ICC profile is kept."""
    pixels, alpha, icc = from_pillow(Path("<PIL image>"), image)
    return LoadedImage(pixels=pixels, alpha=alpha, icc_profile=icc)


def from_array(array: np.ndarray) -> LoadedImage:
    """(H, W), (H, W, 3) or (H, W, 4) arrays: uint8, uint16, or float in [0, 1]."""
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4) or min(array.shape[:2]) < 1:
        raise BadImage(f"expected an (H, W), (H, W, 3) or (H, W, 4) array, got shape {array.shape}")
    if array.dtype == np.uint8:
        values = array.astype(np.float32) / 255.0
    elif array.dtype == np.uint16:
        values = array.astype(np.float32) / 65535.0
    elif np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():  # clipping would keep NaN, and the optimiser would meet it
            raise BadImage("the array holds NaN or infinite values: expected pixels in [0, 1]")
        values = np.clip(array.astype(np.float32), 0.0, 1.0)
    else:
        raise BadImage(f"expected uint8, uint16 or float pixels, got {array.dtype}")
    alpha = np.ascontiguousarray(values[..., 3]) if values.shape[2] == 4 else None
    depth = 16 if array.dtype == np.uint16 else 8
    return LoadedImage(pixels=np.ascontiguousarray(values[..., :3]), alpha=alpha, bit_depth=depth)


def to_array_like(pixels: np.ndarray, alpha: np.ndarray | None, *, like: np.ndarray | None) -> np.ndarray:
    """Pixels (and alpha) in the layout and dtype of ``like`` (float32 RGB(A) when None)."""
    values = pixels if alpha is None else np.concatenate([pixels, alpha[..., None]], axis=2)
    if like is None or np.issubdtype(like.dtype, np.floating):
        return values.astype(like.dtype if like is not None else np.float32)
    if like.ndim == 2:
        values = values[..., :3].mean(axis=2)
    return to_uint16(values) if like.dtype == np.uint16 else to_uint8(values)


def to_pil(pixels: np.ndarray, alpha: np.ndarray | None) -> Any:
    """An 8-bit RGB (or RGBA) PIL image."""
    from PIL import Image

    values = pixels if alpha is None else np.concatenate([pixels, alpha[..., None]], axis=2)
    return Image.fromarray(to_uint8(values), "RGB" if alpha is None else "RGBA")
