"""Images -> network input tensors: validate, resize to the working size, normalise, lay out.

Pure functions of arrays; the backends call them so every model sees its input prepared the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from regionstyle import threads
from regionstyle.errors import BadInput
from regionstyle.segment.conventions import InputConventions


def check_image(image: np.ndarray, *, index: int = 0) -> None:
    """Refuse anything but float (H, W, 3) RGB in [0, 1], saying what was received."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        got = getattr(image, "shape", type(image).__name__)
        raise BadInput(f"image {index}: expected a float32 (H, W, 3) RGB array, got {got}")
    if not np.issubdtype(image.dtype, np.floating):
        raise BadInput(f"image {index}: expected float pixels in [0, 1], got dtype {image.dtype}")
    if min(image.shape[:2]) < 1:
        raise BadInput(f"image {index}: empty image of shape {image.shape}")


def working_size(size: tuple[int, int], conventions: InputConventions) -> tuple[int, int]:
    """(height, width) the network runs at for an image of ``size`` (height, width)."""
    if conventions.size is not None:
        return conventions.size
    if conventions.short_side is None:
        return size
    scale = conventions.short_side / min(size)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def prepare_batch(images: Sequence[np.ndarray], conventions: InputConventions) -> np.ndarray:
    """Stack same-sized images into the network's input (numpy: model files take it as it is, torch
    backends move it to their device).

    images: float (H, W, 3) RGB in [0, 1], all the same size.
    Returns float32 (N, 3, h, w) or (N, h, w, 3) per ``conventions.layout``, (h, w) = ``working_size``.
    Downscaling is antialiased (Pillow's bilinear widens its support when shrinking), so thin structures
    are averaged rather than aliased.
    """
    for index, image in enumerate(images):
        check_image(image, index=index)
    target = working_size(images[0].shape[:2], conventions)
    batch = np.stack([_resized(np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0), target) for image in images])
    batch = _normalised(batch, conventions)
    if conventions.channel_order == "BGR":
        batch = batch[..., ::-1]
    if conventions.layout == "NCHW":
        batch = batch.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(batch, dtype=np.float32)


def _resized(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(H, W, 3) float32 -> (h, w, 3), each channel resized by Pillow as a 32-bit float image.

    Pillow's antialiased bilinear matches ``F.interpolate(..., "bilinear", antialias=True)`` within 3e-5
    and needs no torch; the channels run in the run's threads (Pillow releases the GIL while it resamples).
    """
    if tuple(image.shape[:2]) == tuple(size):
        return image

    def channel(c: int) -> np.ndarray:
        plane = Image.fromarray(np.ascontiguousarray(image[..., c]))  # float32: mode "F"
        return np.asarray(plane.resize((size[1], size[0]), Image.Resampling.BILINEAR))

    with ThreadPoolExecutor(max_workers=min(3, threads.in_use())) as pool:
        return np.stack(list(pool.map(channel, range(3))), axis=-1)


def _normalised(batch: np.ndarray, conventions: InputConventions) -> np.ndarray:
    mean_std = conventions.scaled_mean_std()
    if mean_std is not None:
        mean, std = (np.asarray(v, dtype=np.float32) for v in mean_std)
        return (batch - mean) / std
    low, high = conventions.input_range
    return batch * np.float32(high - low) + np.float32(low)


def group_by_size(images: Sequence[np.ndarray]) -> dict[tuple[int, int], list[int]]:
    """Indices of ``images`` grouped by (height, width), so each group can run as one batch."""
    groups: dict[tuple[int, int], list[int]] = {}
    for index, image in enumerate(images):
        groups.setdefault((int(image.shape[0]), int(image.shape[1])), []).append(index)
    return groups
