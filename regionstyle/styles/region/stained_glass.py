"""Stained glass from the photo: panes cut along the photo's edges, each one saturated colour, in lead.

Panes are superpixels that hug colour edges (so a window, a cornice or the roofline becomes its own pane
or row of panes); each pane takes its pixels' mean colour pushed to the saturated, luminous tones of
coloured glass, with a faint ripple and a glow toward its middle; dark lead cames run between the panes.
"""

from __future__ import annotations

import cv2
import numpy as np

from regionstyle.styles import texture
from regionstyle.styles.region import fields, tones
from regionstyle.styles.region.frame import RegionView
from regionstyle.styles.region.mosaic import grout_lines
from regionstyle.styles.region.superpixels import adaptive_cells

_LEAD = np.asarray([0.09, 0.085, 0.08], np.float32)
# Pane sizes: the style's cell, then a half and a quarter of it where the photo has detail. With two, a
# wall's 5x8 px windows fell inside 16 px panes and were gone (wall-window luma contrast 0.10 of the photo's
# 0.63, every other built-in 0.32-0.68); a quarter-size pane can hold a window.
LEVELS = 3
# Lead as wide as 9% of its pane (came is thinner around small pieces), at least this many pixels.
LEAD_MIN_PX = 1.0


def glass_tones(colours: np.ndarray) -> np.ndarray:
    """Mean colours (N, 3) turned into glass: deep, saturated hues; greys stay pale (clear glass).

    In HSV: saturation raised steeply for anything with a hue, value lifted (light comes through)."""
    hsv = cv2.cvtColor(np.clip(colours, 0, 1).reshape(-1, 1, 3).astype(np.float32), cv2.COLOR_RGB2HSV)
    saturation, value = hsv[:, 0, 1], hsv[:, 0, 2]
    hsv[:, 0, 1] = np.clip(2.2 * saturation + 0.25 * (saturation > 0.1), 0, 0.95)
    hsv[:, 0, 2] = np.clip(0.18 + 0.95 * value, 0, 1)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).reshape(-1, 3)


def render(view: RegionView, *, seed: int, palette: str, scale: float, cell: int) -> np.ndarray:
    """float32 (h, w, 3): panes about ``cell * scale`` px across."""
    size = max(6.0, cell * scale)
    rng = texture.stream(seed, "stained-glass-region")
    smoothed = cv2.bilateralFilter(view.pixels, 7, 0.12, 3.0)
    ids = adaptive_cells(smoothed, view.luma, size=size, compactness=0.45, jitter=0.7, rng=rng, levels=LEVELS)
    count = int(ids.max()) + 1
    colours = fields.region_mean(view.pixels, ids, view.support.astype(np.float32), count)
    area = np.bincount(ids.ravel(), weights=view.support.ravel(), minlength=count)
    glass = glass_tones(tones.toward_palette(colours, palette, weights=area))
    pane_side = np.sqrt(np.bincount(ids.ravel(), minlength=count))
    lead = grout_lines(ids, np.maximum(LEAD_MIN_PX, 0.09 * np.minimum(pane_side, size))[ids])
    inset = cv2.distanceTransform((~lead).astype(np.uint8), cv2.DIST_L2, 3)
    glow = 0.88 + 0.12 * np.clip(inset / (0.3 * size), 0, 1)  # thicker, darker glass at the cames
    ripple = 1.0 + 0.05 * texture.fractal_noise(rng, *ids.shape, cell=0.5 * size, octaves=2)
    pane = glass[ids] * (glow * ripple)[..., None]
    return np.where(lead[..., None], _LEAD, np.clip(pane, 0, 1)).astype(np.float32)
