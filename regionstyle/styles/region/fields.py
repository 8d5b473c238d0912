"""What the renderers read off a photo: edges, their directions, and the distance to them.

All functions take float32 arrays and return float32 (or bool) arrays of the same height and width. The
region's own outline counts as an edge everywhere, so strokes, tiles and carved lines follow the shape of
the region as well as the shapes inside it.
"""

from __future__ import annotations

import cv2
import numpy as np


def smooth(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of ``sigma`` px (a no-op below 0.3 px); borders reflect.

    Wide blurs run on a copy shrunk so that sigma is 4 px there, then are enlarged again: a Gaussian that
    wide has nothing left at the shrunk copy's Nyquist frequency, and it is ~10x faster at sigma 24.
    """
    if sigma < 0.3:
        return image
    height, width = image.shape[:2]
    factor = sigma / 4.0
    if factor < 2.0 or min(height, width) < 8 * factor:
        return cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    small = cv2.resize(image, (max(1, round(width / factor)), max(1, round(height / factor))),
                       interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 4.0 * small.shape[1] / width * factor, borderType=cv2.BORDER_REFLECT)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def gradients(luma: np.ndarray, *, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """(gy, gx) of ``luma`` smoothed by ``sigma`` px: central differences in luma units per px."""
    base = smooth(luma, sigma)
    gy = cv2.Sobel(base, cv2.CV_32F, 0, 1, ksize=3) / 8
    gx = cv2.Sobel(base, cv2.CV_32F, 1, 0, ksize=3) / 8
    return gy, gx


def outline(support: np.ndarray) -> np.ndarray:
    """bool (h, w): support pixels with a 4-neighbour outside the support (the frame's edge is no outline)."""
    inside = support.astype(np.uint8)
    eroded = cv2.erode(inside, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    return (inside - eroded).astype(bool)


def tangent_angles(luma: np.ndarray, support: np.ndarray, *, sigma: float, symmetry: int = 2
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Direction along the edges (radians) and how sure it is (coherence in [0, 1]), both (h, w).

    The structure tensor of ``luma`` (plus the region's outline, at full strength) is averaged over
    ``sigma`` px. ``symmetry`` 2 treats directions as lines (0 == 180 degrees); 4 as the sides of a square
    (0 == 90 degrees), for tiles. Flat areas inherit the directions around them.
    """
    gy, gx = gradients(luma, sigma=1.0)
    rim = smooth(support.astype(np.float32), 1.5)
    ry, rx = gradients(rim, sigma=0.0)
    gy, gx = gy + 0.5 * ry, gx + 0.5 * rx
    # Doubled angle of the gradient, weighted by its strength: opposite gradients add up instead of cancel.
    strength = gx * gx + gy * gy
    double = np.arctan2(2 * gx * gy, gx * gx - gy * gy)
    turns = symmetry // 2  # 1 for lines, 2 for squares (the doubled angle doubled again)
    cos_part = smooth(strength * np.cos(turns * double), sigma)
    sin_part = smooth(strength * np.sin(turns * double), sigma)
    total = smooth(strength, sigma) + 1e-9
    coherence = np.clip(np.hypot(cos_part, sin_part) / total, 0.0, 1.0)
    normal = np.arctan2(sin_part, cos_part) / (2 * turns)
    return (normal + np.pi / 2).astype(np.float32), coherence.astype(np.float32)


# The weakest gradient (luma per px) that edge_map's upper threshold may fall to: a luma step of about 0.03.
# A clear sky's strongest gradients (its top 4%) are 0.002-0.004, noise and JPEG ringing; a quantile of
# them alone made every speck an edge, and pencil contours, ink-wash brush lines and woodcut outlines
# scribbled over clear skies. Cloud edges run 0.014, buildings 0.06-0.1, trees 0.013-0.05 (768 px).
MIN_EDGE_GRADIENT = 0.01


def edge_map(luma: np.ndarray, support: np.ndarray, *, sigma: float, keep: float = 0.12) -> np.ndarray:
    """bool (h, w): the strongest ``keep`` share of gradient ridges (Canny on ``luma`` blurred by ``sigma``),
    plus the region's outline. Thresholds are quantiles of the region's own gradients, so a dim region
    finds its edges as well as a bright one, but never under MIN_EDGE_GRADIENT, so a flat one finds none."""
    gy, gx = gradients(luma, sigma=sigma)
    magnitude = np.hypot(gx, gy)[support]
    if magnitude.size == 0:
        return outline(support)
    high = max(float(np.quantile(magnitude, 1.0 - keep / 2)), MIN_EDGE_GRADIENT)
    # Canny takes int16 derivatives and compares their L2 norm with its thresholds: scale `high` to 1000.
    factor = 1000.0 / high
    dx16 = np.clip(gx * factor, -32767, 32767).astype(np.int16)
    dy16 = np.clip(gy * factor, -32767, 32767).astype(np.int16)
    edges = cv2.Canny(dx16, dy16, 500.0, 1000.0, L2gradient=True) > 0
    return (edges & support) | outline(support)


def distance_to(edges: np.ndarray) -> np.ndarray:
    """Euclidean distance (px) of every pixel to the nearest ``True`` of ``edges``, float32 (h, w)."""
    if not edges.any():
        return np.full(edges.shape, float(max(edges.shape)), np.float32)
    return cv2.distanceTransform((~edges).astype(np.uint8), cv2.DIST_L2, 5).astype(np.float32)


def region_mean(values: np.ndarray, ids: np.ndarray, weights: np.ndarray, count: int) -> np.ndarray:
    """Weighted mean of ``values`` (h, w, C) per id of ``ids`` (h, w) in [0, count): float32 (count, C).

    Ids without weight get the unweighted mean of their pixels (or 0 when they have none)."""
    flat_ids = ids.ravel()
    flat = values.reshape(flat_ids.size, -1).astype(np.float64)
    w = weights.ravel().astype(np.float64)
    total = np.bincount(flat_ids, weights=w, minlength=count)
    plain = np.maximum(np.bincount(flat_ids, minlength=count), 1)
    means = []
    for channel in flat.T:
        weighted = np.bincount(flat_ids, weights=channel * w, minlength=count) / np.maximum(total, 1e-9)
        unweighted = np.bincount(flat_ids, weights=channel, minlength=count) / plain
        means.append(np.where(total > 1e-9, weighted, unweighted))
    return np.stack(means, axis=1).astype(np.float32)
