"""Mosaic from the photo: square tesserae laid along the edges, each the colour of the photo beneath it.

Tiles are superpixels with a square metric turned to the local edge direction (so rows of tiles run along
cornices, window frames and the roofline) that snap to strong colour edges; each tile takes the mean colour
of its pixels with a little per-stone variation, is slightly domed, and sits in grout.
"""

from __future__ import annotations

import cv2
import numpy as np

from regionstyle.styles import texture
from regionstyle.styles.region import fields, tones
from regionstyle.styles.region.frame import RegionView
from regionstyle.styles.region.superpixels import adaptive_cells

_GROUT = np.asarray([0.36, 0.35, 0.33], np.float32)


def grout_lines(ids: np.ndarray, width: np.ndarray | float) -> np.ndarray:
    """bool (h, w): the borders between cells of ``ids``, about ``width`` px wide (a number, or per pixel
    (h, w) for tiles of several sizes; widths are whole pixels, at least one)."""
    border = np.zeros(ids.shape, bool)
    border[:, 1:] |= ids[:, 1:] != ids[:, :-1]
    border[1:, :] |= ids[1:, :] != ids[:-1, :]
    reach = np.broadcast_to(np.maximum(1, np.rint(width)).astype(np.int64), ids.shape)
    grout = border.copy()
    for size in range(2, int(reach.max()) + 1):
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        wider = cv2.dilate(border.astype(np.uint8), kernel, anchor=(size // 2, size // 2)).astype(bool)
        grout |= wider & (reach >= size)
    return grout


def render(view: RegionView, *, seed: int, palette: str, scale: float, tile: int) -> np.ndarray:
    """float32 (h, w, 3): tesserae about ``tile * scale`` px across."""
    size = max(4.0, tile * scale)
    rng = texture.stream(seed, "mosaic-region")
    angles, _ = fields.tangent_angles(view.luma, view.support, sigma=1.2 * size, symmetry=4)
    smoothed = cv2.bilateralFilter(view.pixels, 5, 0.1, 2.0)
    ids = adaptive_cells(smoothed, view.luma, size=size, compactness=0.8, jitter=0.15, rng=rng, angles=angles)
    count = int(ids.max()) + 1
    tile_side = np.sqrt(np.bincount(ids.ravel(), minlength=count))
    colours = fields.region_mean(view.pixels, ids, view.support.astype(np.float32), count)
    area = np.bincount(ids.ravel(), weights=view.support.ravel(), minlength=count)
    colours = tones.saturate(tones.toward_palette(colours, palette, weights=area), 1.15)
    # Every stone is a little lighter or darker and warmer or cooler than its neighbour.
    colours = np.clip(colours * rng.uniform(0.9, 1.1, (count, 1)) + rng.uniform(-0.025, 0.025, (count, 3)), 0, 1)
    grout = grout_lines(ids, 0.12 * tile_side[ids])
    inset = cv2.distanceTransform((~grout).astype(np.uint8), cv2.DIST_L2, 3)
    dome = 0.82 + 0.18 * np.clip(inset / (0.25 * size), 0, 1) ** 0.5
    stone = colours[ids] * dome[..., None]
    noise = 0.85 + 0.3 * texture.value_noise(rng, *ids.shape, cell=2.0)
    image = np.where(grout[..., None], _GROUT * noise[..., None], stone)
    return image.astype(np.float32)
