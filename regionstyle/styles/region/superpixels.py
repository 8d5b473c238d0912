"""Superpixels that snap to the photo's edges: the cells of stained glass and the tesserae of a mosaic.

SLIC (Achanta et al. 2012): cluster centres start on a jittered grid and are refined by k-means on colour
plus position, each pixel choosing only among the 3 x 3 centres around its own grid square, so every pass
is nine vectorised sweeps over the image. The spatial term can be the ordinary Euclidean distance (round,
polygonal cells) or the Chebyshev distance in a frame turned to the local edge direction, which makes
cells squares whose sides run along the nearest edges: tiles laid along the shapes (opus vermiculatum).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

DETAIL_SPREAD = 0.07  # luma standard deviation inside a cell above which it is cut in four
_STRIP = 64  # rows per sweep: nine candidate distances for a 1024-wide strip stay a few MB


def superpixels(features: np.ndarray, *, size: float, compactness: float, rng: np.random.Generator,
                jitter: float = 0.3, iterations: int = 4, angles: np.ndarray | None = None) -> np.ndarray:
    """Cell id of every pixel, int32 (h, w), ids in [0, rows * cols) with about ``size`` px per cell side.

    features: float32 (h, w, C) in units where 0.1 is a clearly visible difference (RGB in [0, 1]).
    compactness: weight of one cell-size of distance against a feature difference of 1; large values
        give regular cells, small ones cells that hug the edges.
    angles: float32 (h, w) edge directions (radians) for square cells turned along them, or None for round.
    Cells of 8 px or more are refined at half resolution and only the last assignment runs at full size.
    """
    height, width = features.shape[:2]
    rows, cols = max(1, math.ceil(height / size)), max(1, math.ceil(width / size))
    grid_y, grid_x = np.meshgrid((np.arange(rows) + 0.5) * size, (np.arange(cols) + 0.5) * size, indexing="ij")
    shake = (rng.random((2, rows, cols)) - 0.5) * jitter * size
    centre_y = np.clip(grid_y + shake[0], 0, height - 1).ravel().astype(np.float32)
    centre_x = np.clip(grid_x + shake[1], 0, width - 1).ravel().astype(np.float32)
    centres = (centre_y, centre_x, features[centre_y.astype(np.int64), centre_x.astype(np.int64)])
    factor = 2 if size >= 8 and min(height, width) >= 16 else 1
    small = features if factor == 1 else cv2.resize(features, ((width + 1) // 2, (height + 1) // 2),
                                                    interpolation=cv2.INTER_AREA)
    small_angles = None if angles is None else angles[::factor, ::factor]
    centres = (centres[0] / factor, centres[1] / factor, centres[2])
    for _ in range(max(1, iterations - 1)):
        ids = _assign_all(small, centres, size=size / factor, grid=(rows, cols), compactness=compactness,
                          angles=small_angles)
        centres = _update(small, ids, rows * cols, centres)
    centres = (centres[0] * factor, centres[1] * factor, centres[2])
    return _assign_all(features, centres, size=size, grid=(rows, cols), compactness=compactness, angles=angles)


def _assign_all(features: np.ndarray, centres: tuple[np.ndarray, np.ndarray, np.ndarray], *, size: float,
                grid: tuple[int, int], compactness: float, angles: np.ndarray | None) -> np.ndarray:
    """Nearest centre of every pixel, strip by strip. A sentinel centre far away stands in for the
    neighbours beyond the grid's edge, so no pixel needs a validity test."""
    centre_y, centre_x, centre_f = centres
    far = np.float32(1e6)
    pos_y, pos_x = np.append(centre_y, far).astype(np.float32), np.append(centre_x, far).astype(np.float32)
    feats = [np.append(centre_f[:, k], 0.0).astype(np.float32) for k in range(centre_f.shape[1])]
    turn = None
    if angles is not None:
        at = angles[np.clip(centre_y.astype(np.int64), 0, angles.shape[0] - 1),
                    np.clip(centre_x.astype(np.int64), 0, angles.shape[1] - 1)]
        turn = (np.append(np.cos(at), 1.0).astype(np.float32), np.append(np.sin(at), 0.0).astype(np.float32))
    ids = np.zeros(features.shape[:2], np.int32)
    for top in range(0, features.shape[0], _STRIP):
        bottom = min(features.shape[0], top + _STRIP)
        ids[top:bottom] = _assign(features[top:bottom], top, size=size, grid=grid, centres=(pos_y, pos_x, feats),
                                  turn=turn, weight=np.float32((compactness / size) ** 2))
    return ids


def _assign(strip: np.ndarray, top: int, *, size: float, grid: tuple[int, int],
            centres: tuple[np.ndarray, np.ndarray, list[np.ndarray]],
            turn: tuple[np.ndarray, np.ndarray] | None, weight: np.float32) -> np.ndarray:
    rows, cols = grid
    pos_y, pos_x, feats = centres
    height, width = strip.shape[:2]
    ys = np.arange(top, top + height, dtype=np.float32)[:, None]
    xs = np.arange(width, dtype=np.float32)[None, :]
    row, col = (ys // size).astype(np.int64), (xs // size).astype(np.int64)
    channels = [strip[..., k] for k in range(strip.shape[2])]
    best = np.full((height, width), np.inf, np.float32)
    chosen = np.zeros((height, width), np.int32)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            r, c = row + di, col + dj
            idx = np.where((r >= 0) & (r < rows) & (c >= 0) & (c < cols), r * cols + c, rows * cols)
            dy, dx = ys - pos_y[idx], xs - pos_x[idx]
            if turn is None:
                distance = (dy * dy + dx * dx) * weight
            else:
                cos, sin = turn[0][idx], turn[1][idx]
                side = np.maximum(np.abs(dx * cos + dy * sin), np.abs(dy * cos - dx * sin))
                distance = side * side * weight
            for channel, feat in zip(channels, feats):
                diff = channel - feat[idx]
                distance += diff * diff
            closer = distance < best
            np.copyto(best, distance, where=closer)
            np.copyto(chosen, idx.astype(np.int32), where=closer)
    return chosen


def _update(features: np.ndarray, ids: np.ndarray, count: int,
            old: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres moved to the mean position and feature of their pixels; empty cells stay where they were."""
    flat = ids.ravel()
    hits = np.bincount(flat, minlength=count)
    alive = hits > 0
    ys, xs = np.mgrid[0:ids.shape[0], 0:ids.shape[1]]
    centre_y, centre_x, centre_f = (a.astype(np.float64).copy() for a in old)
    safe = np.maximum(hits, 1)
    centre_y[alive] = (np.bincount(flat, weights=ys.ravel(), minlength=count) / safe)[alive]
    centre_x[alive] = (np.bincount(flat, weights=xs.ravel(), minlength=count) / safe)[alive]
    channels = features.reshape(flat.size, -1)
    for k in range(channels.shape[1]):
        centre_f[alive, k] = (np.bincount(flat, weights=channels[:, k], minlength=count) / safe)[alive]
    return centre_y.astype(np.float32), centre_x.astype(np.float32), centre_f.astype(np.float32)


def connected_cells(ids: np.ndarray, *, min_area: float) -> np.ndarray:
    """``ids`` split into 4-connected pieces, pieces under ``min_area`` px absorbed by the nearest large
    piece; int32 (h, w) with ids 0 .. n - 1. SLIC leaves slivers and strays that read as noise."""
    border = np.zeros(ids.shape, bool)
    border[:, :-1] |= ids[:, :-1] != ids[:, 1:]
    border[:-1, :] |= ids[:-1, :] != ids[1:, :]
    count, pieces = cv2.connectedComponents((~border).astype(np.uint8), connectivity=4)
    area = np.bincount(pieces.ravel(), minlength=count)
    big = (area >= min_area) & (np.arange(count) > 0)  # label 0 is the border itself
    if not big.any():
        big[np.argmax(np.where(np.arange(count) > 0, area, -1))] = True
    keep = big[pieces]
    # Every other pixel takes the piece of the nearest kept pixel (labels count kept pixels in raster order).
    _, nearest = cv2.distanceTransformWithLabels((~keep).astype(np.uint8), cv2.DIST_L2, 3,
                                                 labelType=cv2.DIST_LABEL_PIXEL)
    kept_pieces = pieces.ravel()[np.flatnonzero(keep.ravel())]
    merged = kept_pieces[nearest.ravel() - 1].reshape(ids.shape)
    _, compact = np.unique(merged, return_inverse=True)
    return compact.reshape(ids.shape).astype(np.int32)


def adaptive_cells(features: np.ndarray, luma: np.ndarray, *, size: float, compactness: float, jitter: float,
                   rng: np.random.Generator, angles: np.ndarray | None = None, levels: int = 2) -> np.ndarray:
    """Connected cells of ``size`` px, cut to half size where ``luma`` (h, w) varies inside a cell, and
    again, up to ``levels`` sizes in all: a mosaicist cuts small tesserae for faces and lettering and lays
    large ones on plain wall. int32 (h, w), ids 0 .. n - 1."""
    ids = superpixels(features, size=size, compactness=compactness, rng=rng, jitter=jitter, angles=angles)
    for _ in range(levels - 1):
        size /= 2
        fine = superpixels(features, size=size, compactness=compactness, rng=rng, jitter=jitter, angles=angles)
        count = int(ids.max()) + 1
        ids = np.where(_detailed(ids, luma, count)[ids], fine + count, ids)
    return connected_cells(ids, min_area=0.2 * size ** 2)


def _detailed(ids: np.ndarray, luma: np.ndarray, count: int) -> np.ndarray:
    """bool (count,): cells whose luma standard deviation is over DETAIL_SPREAD."""
    flat, values = ids.ravel(), luma.ravel().astype(np.float64)
    hits = np.maximum(np.bincount(flat, minlength=count), 1)
    mean = np.bincount(flat, weights=values, minlength=count) / hits
    square = np.bincount(flat, weights=values**2, minlength=count) / hits
    return np.sqrt(np.maximum(square - mean**2, 0)) > DETAIL_SPREAD
