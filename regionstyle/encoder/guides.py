"""Region masks at every tapped layer's resolution.

A feature at a deep layer summarises a window of the image (its receptive field). Which mask value should
weight it? Three answers from the literature, replayed through the encoder's own geometry
(:meth:`FeatureEncoder.spatial_ops`), so mask and feature maps always have identical sizes:

- ``simple``: area-resize the mask to the layer's size (Gatys et al. 2017 "guided" transfer). Cheap and
  seam-free, but a boundary feature that also sees the neighbour region is counted in full.
- ``inside``: a min-pool through every convolution and pool: a position keeps its weight only if its
  whole receptive field lies inside the region, so a region's style statistics never see its neighbour
  (its style gradient cannot reach pixels outside it). Deep layers erode a wide band at every boundary.
- ``soft``: a mean-pool through every convolution and pool (the "3x3 averaging" of Deep Photo Style
  Transfer, Luan et al. 2017): boundary positions get fractional weight, as much as their window overlaps.

Image borders are not region borders: windows are padded with a neutral value (1 for ``inside``, the
edge value for ``soft``) so a region touching the frame keeps its border features.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import torch
import torch.nn.functional as F

from regionstyle.encoder import FeatureEncoder, SpatialOp
from regionstyle.encoder.network import same_padding

MASK_MODES = ("simple", "inside", "soft")


def layer_masks(masks: torch.Tensor, encoder: FeatureEncoder, taps: Iterable[str], *,
                mode: str = "soft") -> dict[str, torch.Tensor]:
    """Propagate region masks to every tap.

    masks: (R, H, W) float in [0, 1] at the encoder's input resolution.
    Returns {tap: (R, h, w)} with (h, w) equal to that tap's feature size.
    """
    if mode not in MASK_MODES:
        raise ValueError(f"mask mode {mode!r}: expected one of {MASK_MODES}")
    return {tap: propagate(masks, encoder.spatial_ops(tap), mode=mode) for tap in taps}


def propagate(masks: torch.Tensor, ops: Sequence[SpatialOp], *, mode: str) -> torch.Tensor:
    """Replay ``ops`` on (R, H, W) masks with the rule of ``mode``; returns (R, h, w)."""
    x = masks.unsqueeze(1).float()
    if mode == "simple":
        return F.interpolate(x, size=output_size(ops, tuple(x.shape[-2:])), mode="area").squeeze(1)
    for op in ops:
        x = _apply(x, op, inside=mode == "inside")
    return x.squeeze(1)


def _apply(x: torch.Tensor, op: SpatialOp, *, inside: bool) -> torch.Tensor:
    if op.kind == "same_pad":
        pad_h = same_padding(x.shape[-2], op.kernel[0], op.stride[0])
        pad_w = same_padding(x.shape[-1], op.kernel[1], op.stride[1])
        return _pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2), inside=inside)
    ph, pw = op.padding
    x = _pad(x, (pw, pw, ph, ph), inside=inside)
    if inside:  # min-pool: zero as soon as any pixel of the window is outside the region
        return -F.max_pool2d(-x, op.kernel, op.stride, dilation=op.dilation, ceil_mode=op.ceil_mode)
    if op.dilation != (1, 1):  # a dilated window averages its sparse taps: same footprint, same weights
        kernel = torch.ones(1, 1, *op.kernel, dtype=x.dtype, device=x.device) / (op.kernel[0] * op.kernel[1])
        return F.conv2d(x, kernel, stride=op.stride, dilation=op.dilation)
    return F.avg_pool2d(x, op.kernel, op.stride, ceil_mode=op.ceil_mode)


def _pad(x: torch.Tensor, pad: tuple[int, int, int, int], *, inside: bool) -> torch.Tensor:
    if not any(pad):
        return x
    if inside:  # 1 is neutral for a min: the frame never counts as "outside the region"
        return F.pad(x, pad, value=1.0)
    return F.pad(x, pad, mode="replicate")


def output_size(ops: Sequence[SpatialOp], size: tuple[int, int]) -> tuple[int, int]:
    """The (h, w) a (H, W) input has after ``ops`` (PyTorch's conv/pool size arithmetic)."""
    h, w = size
    for op in ops:
        if op.kind == "same_pad":
            h += same_padding(h, op.kernel[0], op.stride[0])
            w += same_padding(w, op.kernel[1], op.stride[1])
            continue
        h = _window_count(h, op.kernel[0], op.stride[0], op.padding[0], op.dilation[0], op.ceil_mode)
        w = _window_count(w, op.kernel[1], op.stride[1], op.padding[1], op.dilation[1], op.ceil_mode)
    return h, w


def _window_count(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    count = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (count - 1) * stride >= size + pad:  # PyTorch drops a window starting in the padding
        count -= 1
    return count
