"""Network output -> :class:`Segmentation`: argmax of bilinearly upsampled logits, softmax at work size.

Upsampling K class maps to a multi-megapixel photo costs K x H x W floats (1.5 GB for ADE20K at 1920x1314)
and seconds of CPU. On the CPU it is not needed: bilinear interpolation is a convex combination of the
four source pixels around an output pixel, so when one class is the argmax at all four, it is the argmax
of every interpolated vector in between. Only output pixels in "mixed" cells (a few percent, along class
borders) need the full K-vector interpolation. On CUDA the dense interpolation runs in row bands.
Both give ``F.interpolate(..., "bilinear", align_corners=False).argmax`` exactly.

The CPU path is numpy on purpose: many small torch ops each open an OpenMP region, and on a shared
2-core machine their barriers made the same work 5-10x slower.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import numpy as np

from regionstyle.datatypes import Segmentation

if TYPE_CHECKING:  # a model-file backend's numpy output never needs torch loaded
    import torch

_CHUNK = 16384  # mixed pixels interpolated at once: 16k x K floats x 4 corners, ~40 MB for K=151
_ROWS = 16  # rows per block for the softmax: keeps each block in cache while it is transposed
_BAND = 128  # output rows per dense band on CUDA


def source_index(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bilinear source indices and weights of ``F.interpolate(align_corners=False)`` along one axis.

    Returns (i0, i1, frac): int64 (n_out,), int64 (n_out,), float64 (n_out,); out = in[i0]*(1-f) + in[i1]*f.
    """
    pos = np.maximum((np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5, 0.0)
    i0 = np.minimum(np.floor(pos).astype(np.int64), n_in - 1)
    return i0, np.minimum(i0 + 1, n_in - 1), pos - i0


def upsampled_argmax(scores: np.ndarray, size: tuple[int, int], *, channel_axis: int = 2) -> np.ndarray:
    """Argmax over classes of ``scores`` bilinearly upsampled to ``size``, without materialising it.

    scores: float (h, w, K) with ``channel_axis=2`` or (K, h, w) with ``channel_axis=0``.
    Returns int64 (H, W) class ids.
    """
    k = scores.shape[channel_axis]
    h, w = (scores.shape[:2] if channel_axis == 2 else scores.shape[1:])
    best = scores.argmax(axis=channel_axis)
    (y0, y1, fy), (x0, x1, fx) = source_index(size[0], h), source_index(size[1], w)
    labels = best.take(y0, axis=0).take(x0, axis=1)
    rows, cols = np.nonzero(~_uniform_cells(best).take(y0, axis=0).take(x0, axis=1))
    flat = scores.reshape(h * w, k) if channel_axis == 2 else scores.reshape(k, h * w)

    def corner(index: np.ndarray) -> np.ndarray:  # (n, K) score vectors at flat pixel indices
        return flat.take(index, axis=0) if channel_axis == 2 else flat.take(index, axis=1).T

    for start in range(0, rows.size, _CHUNK):
        r, c = rows[start:start + _CHUNK], cols[start:start + _CHUNK]
        a, b, wy = y0[r] * w, y1[r] * w, fy[r, None]
        d, e, wx = x0[c], x1[c], fx[c, None]
        top = corner(a + d) * (1 - wx) + corner(a + e) * wx
        bottom = corner(b + d) * (1 - wx) + corner(b + e) * wx
        labels[r, c] = (top * (1 - wy) + bottom * wy).argmax(axis=1)
    return labels


def _uniform_cells(best: np.ndarray) -> np.ndarray:
    """True where the cell spanned by (i, j) .. (i+1, j+1) has one argmax at all four corners (edges clamp)."""
    same = np.ones(best.shape, dtype=bool)
    same[:, :-1] &= best[:, :-1] == best[:, 1:]
    same[:-1, :] &= best[:-1, :] == best[1:, :]
    same[:-1, :-1] &= best[:-1, :-1] == best[1:, 1:]
    return same


def dense_argmax(scores: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The same argmax by plain separable interpolation in bands of rows (for GPUs); (K, h, w) -> (H, W)."""
    import torch

    (y0, y1, fy) = source_index(size[0], scores.shape[1])
    (x0, x1, fx) = source_index(size[1], scores.shape[2])
    as_tensor = lambda a: torch.as_tensor(a, device=scores.device)  # noqa: E731
    x0, x1, fx = as_tensor(x0), as_tensor(x1), as_tensor(fx).to(scores.dtype)
    bands = []
    for start in range(0, size[0], _BAND):
        rows = slice(start, start + _BAND)
        wy = as_tensor(fy[rows]).to(scores.dtype)[None, :, None]
        tmp = scores[:, as_tensor(y0[rows])] * (1 - wy) + scores[:, as_tensor(y1[rows])] * wy
        bands.append((tmp[:, :, x0] * (1 - fx) + tmp[:, :, x1] * fx).argmax(0))
    return torch.cat(bands)


def softmax_channels_first(scores: np.ndarray, *, channel_axis: int = 2,
                           already_probs: bool = False) -> np.ndarray:
    """Softmax over classes (or renormalised probabilities) as float32 (K, h, w), in cache-sized blocks."""
    k = scores.shape[channel_axis]
    h, w = (scores.shape[:2] if channel_axis == 2 else scores.shape[1:])
    out = np.empty((k, h, w), dtype=np.float32)
    for row in range(0, h, _ROWS):
        rows = scores[row:row + _ROWS] if channel_axis == 2 else scores[:, row:row + _ROWS]
        block = rows.astype(np.float32)
        if not already_probs:
            block = np.exp(block - block.max(axis=channel_axis, keepdims=True))
        block /= np.maximum(block.sum(axis=channel_axis, keepdims=True), 1e-12)
        out[:, row:row + _ROWS] = block.transpose(2, 0, 1) if channel_axis == 2 else block
    return out


# Soft masks need class probabilities no finer than this (short side, pixels). Segmentation networks predict at
# 1/8-1/16 of their input and upsample inside (the bundled DeepLabV3: 65x65 -> 513x513), so every other pixel
# of a 513 px map keeps all they know, at a quarter of the softmax (0.45 s of a 2 s preview).
PROBS_SIDE = 256


def _thinned(scores: np.ndarray, channel_axis: int) -> np.ndarray:
    """Every ``step``-th pixel of the score map, the step keeping its short side at least PROBS_SIDE."""
    h, w = scores.shape[:2] if channel_axis == 2 else scores.shape[1:]
    step = max(1, min(h, w) // PROBS_SIDE)
    if step == 1:
        return scores
    return scores[::step, ::step] if channel_axis == 2 else scores[:, ::step, ::step]


def scores_to_segmentation(scores: np.ndarray | torch.Tensor, *, size: tuple[int, int], output: str,
                           channel_axis: int, class_names: tuple[str, ...], vocabulary: str,
                           source: str) -> Segmentation:
    """One image's network output -> Segmentation at full ``size`` (height, width).

    scores: logits or probabilities with classes on ``channel_axis`` (0 or 2), or (h, w) integer ids when
        ``output == "ids"``; numpy, or a torch tensor (CUDA tensors are post-processed on the GPU).
    """
    if _is_tensor(scores) and scores.device.type != "cpu" and output != "ids":
        return _on_device(scores, size=size, output=output, channel_axis=channel_axis,
                          class_names=class_names, vocabulary=vocabulary, source=source)
    scores = scores.numpy() if _is_tensor(scores) else np.asarray(scores)
    if output == "ids":
        return Segmentation(labels=nearest(scores, size).astype(np.int32), class_names=class_names,
                            vocabulary=vocabulary, source=source, probs=None)
    labels = upsampled_argmax(scores, size, channel_axis=channel_axis).astype(np.int32)
    probs = softmax_channels_first(_thinned(scores, channel_axis), channel_axis=channel_axis,
                                   already_probs=output == "probs")
    return Segmentation(labels=labels, class_names=class_names, vocabulary=vocabulary, source=source,
                        probs=probs)


def _is_tensor(scores: object) -> bool:
    """Whether ``scores`` is a torch tensor (one can only exist once torch is loaded)."""
    torch_module = sys.modules.get("torch")
    return torch_module is not None and isinstance(scores, torch_module.Tensor)


def _on_device(scores: torch.Tensor, *, size: tuple[int, int], output: str, channel_axis: int,
               class_names: tuple[str, ...], vocabulary: str, source: str) -> Segmentation:
    khw = (scores.permute(2, 0, 1) if channel_axis == 2 else scores).float()
    probs = khw / khw.sum(0, keepdim=True).clamp(min=1e-12) if output == "probs" else khw.softmax(0)
    labels = dense_argmax(khw, size)
    return Segmentation(labels=labels.cpu().numpy().astype(np.int32), class_names=class_names,
                        vocabulary=vocabulary, source=source, probs=probs.contiguous().cpu().numpy())


def nearest(ids: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of an id map, sampling at pixel centres (Pillow's NEAREST convention)."""
    h, w = ids.shape
    rows = np.minimum(((np.arange(size[0]) + 0.5) * (h / size[0])).astype(np.int64), h - 1)
    cols = np.minimum(((np.arange(size[1]) + 0.5) * (w / size[1])).astype(np.int64), w - 1)
    return ids.take(rows, axis=0).take(cols, axis=1)
