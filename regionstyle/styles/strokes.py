"""Straight brush strokes laid along a flow field, and each pixel's position inside the stroke on top.

Strokes are capsules drawn by OpenCV into an id map (a Python loop over strokes, never over pixels); what
a stroke looks like inside (bristle grooves, ridges, a blob where the brush lifted) is then computed for all
pixels at once from their coordinates in the stroke's own frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from regionstyle.styles import cells, texture


@dataclass(frozen=True)
class StrokeFrame:
    """Where every pixel sits in the topmost stroke covering it.

    ids: int32 (H, W) stroke id, -1 where no stroke covers the pixel.
    along: float32 (H, W) position along the stroke, -1 at the tail to +1 at the head (a little beyond at
        the rounded caps).
    across: float32 (H, W), -1 to +1 from one flank to the other.
    centres: float32 (count, 2) stroke centres (y, x) in px.
    """

    ids: np.ndarray
    along: np.ndarray
    across: np.ndarray
    centres: np.ndarray

    @property
    def count(self) -> int:
        """Number of strokes (ids run from 0 to count - 1)."""
        return len(self.centres)

    @property
    def lookup(self) -> np.ndarray:
        """``ids`` with -1 replaced by 0: safe for indexing per-stroke tables (mask with ``covered``)."""
        return np.maximum(self.ids, 0)

    @property
    def covered(self) -> np.ndarray:
        """bool (H, W): some stroke of this layer covers the pixel."""
        return self.ids >= 0


def flow_angles(rng: np.random.Generator, height: int, width: int, *, size: float) -> np.ndarray:
    """Direction field (radians, float32 (H, W)) that swirls along the level lines of smooth noise."""
    potential = texture.fractal_noise(rng, height, width, cell=size, octaves=2)
    gy = cv2.Sobel(potential, cv2.CV_32F, 0, 1, ksize=5)
    gx = cv2.Sobel(potential, cv2.CV_32F, 1, 0, ksize=5)
    return (np.arctan2(gy, gx) + np.pi / 2).astype(np.float32)


def lay_strokes(
    rng: np.random.Generator,
    angles: np.ndarray,
    *,
    width: float,
    length: float,
    density: float,
    jitter: float,
    where: np.ndarray | None = None,
) -> StrokeFrame:
    """One layer of strokes ``width`` x ``length`` px along ``angles`` (+- ``jitter`` radians), random order.

    density: strokes per stroke area (about 2 leaves no gap; 1 leaves roughly a third of the pixels with
    id -1). Stroke sizes vary by +-25 % around the given ones. where: bool (H, W); only the strokes whose
    centre falls on True are laid (a layer of fine detail is a few of many candidates: drawing them all
    is the Python loop's cost).
    """
    height, size_x = angles.shape
    ids = np.full((height, size_x), -1, np.int32)
    seeds = cells.jittered_seeds(rng, height, size_x, cell=math.sqrt(width * length / density), jitter=1.0)
    points = seeds.points.reshape(-1, 2)[rng.permutation(seeds.count)]
    theta = texture.sample_at(angles, points[:, 0], points[:, 1]) + rng.normal(0, jitter, len(points))
    half_len = length / 2 * rng.uniform(0.75, 1.25, len(points))
    half_wid = width / 2 * rng.uniform(0.8, 1.2, len(points))
    if where is not None:
        laid = texture.sample_at(where.astype(np.float32), points[:, 0], points[:, 1]) > 0.5
        points, theta, half_len, half_wid = points[laid], theta[laid], half_len[laid], half_wid[laid]
    if len(points) == 0:
        zeros = np.zeros((height, size_x), np.float32)
        return StrokeFrame(ids=ids, along=zeros, across=zeros, centres=np.zeros((0, 2), np.float32))
    _draw(ids, points, theta, half_len, half_wid)
    return _frame(ids, points, theta, np.stack([half_len, half_wid], axis=1))


def _draw(ids: np.ndarray, points: np.ndarray, theta: np.ndarray, half_len: np.ndarray,
          half_wid: np.ndarray) -> None:
    reach = half_len - half_wid  # cv2.line's round caps add half a width at each end
    dy, dx = np.sin(theta) * reach, np.cos(theta) * reach
    for k, (y, x) in enumerate(points):
        tail = (int(round(x - dx[k])), int(round(y - dy[k])))
        head = (int(round(x + dx[k])), int(round(y + dy[k])))
        cv2.line(ids, tail, head, k, thickness=max(1, int(round(2 * half_wid[k]))))


def _frame(ids: np.ndarray, centres: np.ndarray, theta: np.ndarray, halves: np.ndarray) -> StrokeFrame:
    ys, xs = texture.pixel_grid(*ids.shape)
    safe = np.maximum(ids, 0)
    dy, dx = ys - centres[safe, 0], xs - centres[safe, 1]
    cos, sin = np.cos(theta)[safe], np.sin(theta)[safe]
    along = (dx * cos + dy * sin) / halves[safe, 0]
    across = (dy * cos - dx * sin) / halves[safe, 1]
    return StrokeFrame(ids=ids, along=along.astype(np.float32),
                       across=np.clip(across, -1, 1).astype(np.float32), centres=centres.astype(np.float32))
