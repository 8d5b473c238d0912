"""Cells and discs around jittered grid points: Voronoi glass panes, tesserae borders, paint dots.

One seed point sits in each ``cell`` x ``cell`` square, shifted by up to ``jitter`` of a cell. Every pixel
only needs the 3 x 3 seeds around its own square, so the work is nine vectorised passes over the image
whatever the number of cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Seeds:
    """Jittered grid points. points: float32 (rows, cols, 2) as (y, x) in px; cell: grid pitch in px."""

    points: np.ndarray
    cell: float

    @property
    def count(self) -> int:
        """Number of seeds (seed ids run from 0 to count - 1)."""
        return self.points.shape[0] * self.points.shape[1]


@dataclass(frozen=True)
class Voronoi:
    """Nearest-seed partition of an image.

    ids: int32 (H, W) id of the nearest seed. offset: float32 (2, H, W) pixel minus its seed, (dy, dx) px.
    border: float32 (H, W) distance in px to the nearest cell border (0 on the border).
    """

    ids: np.ndarray
    offset: np.ndarray
    border: np.ndarray


def jittered_seeds(rng: np.random.Generator, height: int, width: int, *, cell: float, jitter: float) -> Seeds:
    """One seed per ``cell`` px square over the image plus a one-square margin; ``jitter`` in [0, 1]."""
    rows, cols = math.ceil(height / cell) + 2, math.ceil(width / cell) + 2
    centre_y = (np.arange(rows, dtype=np.float32) - 0.5) * cell
    centre_x = (np.arange(cols, dtype=np.float32) - 0.5) * cell
    grid = np.stack(np.meshgrid(centre_y, centre_x, indexing="ij"), axis=-1)
    shake = (rng.random((rows, cols, 2), dtype=np.float32) - 0.5) * (jitter * cell)
    return Seeds(points=(grid + shake).astype(np.float32), cell=float(cell))


_STRIP = 128  # rows handled at once: nine candidate seeds per pixel would not fit for a 8k x 8k image


def _neighbours(seeds: Seeds, top: int, bottom: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For rows [top, bottom) and the 9 seeds around each pixel: ids int (9, h, W) and the pixel minus the
    seed, dy and dx float32 (9, h, W)."""
    cols = seeds.points.shape[1]
    ys = np.arange(top, bottom, dtype=np.float32)[:, None]
    xs = np.arange(width, dtype=np.float32)[None, :]
    row = (ys // seeds.cell).astype(np.int64) + 1
    col = (xs // seeds.cell).astype(np.int64) + 1
    flat = seeds.points.reshape(-1, 2)
    ids, dys, dxs = [], [], []
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            idx = (row + di) * cols + (col + dj)  # broadcasts (h, 1) + (1, W) -> (h, W)
            ids.append(idx)
            dys.append(ys - flat[idx, 0])
            dxs.append(xs - flat[idx, 1])
    return np.stack(ids), np.stack(dys), np.stack(dxs)


def voronoi(seeds: Seeds, height: int, width: int) -> Voronoi:
    """Voronoi cells of ``seeds`` with each pixel's exact distance to its cell's border."""
    ids = np.empty((height, width), np.int32)
    offset = np.empty((2, height, width), np.float32)
    border = np.empty((height, width), np.float32)
    for top in range(0, height, _STRIP):
        bottom = min(height, top + _STRIP)
        ids[top:bottom], offset[:, top:bottom], border[top:bottom] = _voronoi_strip(seeds, top, bottom, width)
    return Voronoi(ids=ids, offset=offset, border=border)


def _voronoi_strip(
    seeds: Seeds, top: int, bottom: int, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ids, dys, dxs = _neighbours(seeds, top, bottom, width)
    dist2 = dys * dys + dxs * dxs
    best = np.argmin(dist2, axis=0)[None]
    take = lambda a: np.take_along_axis(a, best, axis=0)  # noqa: E731 - a local shorthand
    best_d2, best_dy, best_dx = take(dist2), take(dys), take(dxs)
    # Border with seed k: the bisector plane, at (d_k^2 - d_best^2) / (2 |s_k - s_best|) from the pixel.
    gap = np.hypot(dys - best_dy, dxs - best_dx)
    with np.errstate(divide="ignore", invalid="ignore"):
        bisector = np.where(gap > 1e-6, (dist2 - best_d2) / (2.0 * gap), np.inf)
    return take(ids)[0], np.concatenate([best_dy, best_dx]), bisector.min(axis=0)


def discs(
    seeds: Seeds, height: int, width: int, *, radii: np.ndarray, priority: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Round dots of radius ``radii[id]`` px at the seeds; where dots overlap the higher ``priority`` wins.

    radii, priority: float32 (seeds.count,). Returns ids int32 (H, W) (-1 where no dot covers the pixel)
    and the distance to the dot's centre as a fraction of its radius, float32 (H, W) in [0, 1) (1 outside).
    """
    dot_ids = np.empty((height, width), np.int32)
    radial = np.empty((height, width), np.float32)
    for top in range(0, height, _STRIP):
        bottom = min(height, top + _STRIP)
        ids, dys, dxs = _neighbours(seeds, top, bottom, width)
        reach = np.hypot(dys, dxs) / radii[ids]
        rank = np.where(reach < 1.0, priority[ids], -np.inf)
        best = np.argmax(rank, axis=0)[None]
        covered = np.isfinite(np.take_along_axis(rank, best, axis=0))[0]
        dot_ids[top:bottom] = np.where(covered, np.take_along_axis(ids, best, axis=0)[0], -1)
        radial[top:bottom] = np.where(covered, np.take_along_axis(reach, best, axis=0)[0], 1.0)
    return dot_ids, radial
