"""Images -> network input tensors: validate, resize to the working size, normalise, lay out.

Pure functions of arrays; the backends call them so every model sees its input prepared the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

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


def prepare_batch(images: Sequence[np.ndarray], conventions: InputConventions, *,
                  device: str | torch.device = "cpu") -> torch.Tensor:
    """Stack same-sized images into the network's input.

    images: float (H, W, 3) RGB in [0, 1], all the same size.
    Returns float32 (N, 3, h, w) or (N, h, w, 3) per ``conventions.layout``, (h, w) = ``working_size``.
    Downscaling is antialiased (bilinear with a widened support, like Pillow's resize), so thin
    structures are averaged rather than aliased.
    """
    for index, image in enumerate(images):
        check_image(image, index=index)
    batch = torch.from_numpy(np.stack([np.asarray(im, dtype=np.float32) for im in images]))
    batch = batch.to(device).permute(0, 3, 1, 2).clamp_(0.0, 1.0)
    target = working_size(tuple(batch.shape[2:]), conventions)
    if target != tuple(batch.shape[2:]):
        batch = F.interpolate(batch, size=target, mode="bilinear", align_corners=False, antialias=True)
    batch = _normalise(batch, conventions)
    if conventions.channel_order == "BGR":
        batch = batch.flip(1)
    if conventions.layout == "NHWC":
        batch = batch.permute(0, 2, 3, 1)
    return batch.contiguous()


def _normalise(batch: torch.Tensor, conventions: InputConventions) -> torch.Tensor:
    mean_std = conventions.scaled_mean_std()
    if mean_std is not None:
        mean, std = (torch.tensor(v, dtype=batch.dtype, device=batch.device).view(1, 3, 1, 1) for v in mean_std)
        return (batch - mean) / std
    low, high = conventions.input_range
    return batch * (high - low) + low


def group_by_size(images: Sequence[np.ndarray]) -> dict[tuple[int, int], list[int]]:
    """Indices of ``images`` grouped by (height, width), so each group can run as one batch."""
    groups: dict[tuple[int, int], list[int]] = {}
    for index, image in enumerate(images):
        groups.setdefault((int(image.shape[0]), int(image.shape[1])), []).append(index)
    return groups
