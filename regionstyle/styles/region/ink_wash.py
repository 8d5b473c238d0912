"""Ink wash (sumi-e) from the photo: graded washes of one ink for the region's tones, brush lines on its edges.

The photo's perceived lightness (``tones.value``: a clear blue sky is pale), simplified, becomes three or
four dilutions of ink that bleed softly into the paper, with the lightest parts left as bare paper (the
empty space of ink painting). Small marks darker than their surroundings (windows, doorways) get a dab of ink.
The strongest edges and the region's outline are drawn as dark brush lines that break up into dry-brush
streaks as ``dryness`` rises.
"""

from __future__ import annotations

import cv2
import numpy as np

from regionstyle.styles import texture
from regionstyle.styles.region import fields, tones
from regionstyle.styles.region.frame import RegionView

_LEVELS = np.asarray([0.0, 0.18, 0.42, 0.75], np.float32)  # ink density of each wash, paper to darkest
# Ink density of a dab on a small dark mark (:func:`_dabs`), between the two darkest washes: a wall of 5x8 px
# windows kept wall-window contrast 0.32-0.34 without dabs, 0.47-0.48 with (0.75: 0.56, the windows black
# holes).
DAB_DENSITY = 0.6


def tone_levels(lightness: np.ndarray, support: np.ndarray, *, softness: float) -> np.ndarray:
    """Ink density (h, w) in [0, 0.75]: the region's lightness (h, w) in [0, 1] cut into the washes of
    ``_LEVELS``."""
    inside = lightness[support] if support.any() else lightness.ravel()
    # Half the region's own quantiles (every region uses every wash), half fixed tones (a pale sky stays
    # pale): the darkest quarter gets the darkest wash ...
    cuts = 0.5 * np.quantile(inside, [0.25, 0.55, 0.85]) + 0.5 * np.asarray([0.25, 0.5, 0.75])
    density = np.zeros_like(lightness)
    for index, cut in enumerate(cuts[::-1]):  # bright cut first: paper -> pale wash -> ...
        step = texture.smoothstep(cut + softness, cut - softness, lightness)
        density = np.maximum(density, step * _LEVELS[index + 1])
    return density


def render(view: RegionView, *, seed: int, palette: str, scale: float, dryness: float) -> np.ndarray:
    """float32 (h, w, 3); ``dryness`` 0 gives wet, solid strokes, 1 broken dry-brush ones."""
    rng = texture.stream(seed, "ink-wash-region")
    height, width = view.support.shape
    ink, paper = tones.ink_paper(palette)
    image8 = np.clip(view.pixels * 255 + 0.5, 0, 255).astype(np.uint8)
    simple = cv2.edgePreservingFilter(image8, flags=cv2.RECURS_FILTER, sigma_s=30 * scale, sigma_r=0.35)
    lightness = tones.value(simple.astype(np.float32) / 255)
    # Ink bleeds into the wet paper: the washes' edges spread softly and raggedly.
    bleed = 2.0 * scale * texture.fractal_noise(rng, height, width, cell=12 * scale, octaves=2)
    density = texture.warp(tone_levels(lightness, view.support, softness=0.03), bleed, bleed[::-1, ::-1].copy())
    density = fields.smooth(density, 2.0 * scale)
    mottle = texture.fractal_noise(rng, height, width, cell=40 * scale, octaves=2)
    density = density * (1.0 + 0.1 * mottle)
    density = np.maximum(density, _dabs(view, scale=scale))
    density = np.maximum(density, _brush_lines(rng, view, scale=scale, dryness=dryness))
    grain = texture.paper(rng, height, width, scale=scale)
    sheet = paper * (1.0 + 0.02 * grain[..., None])
    alpha = np.clip(density * (1.0 + 0.05 * grain), 0, 1)[..., None]
    return np.clip(sheet * (1 - alpha) + ink * alpha, 0, 1).astype(np.float32)


def _dabs(view: RegionView, *, scale: float) -> np.ndarray:
    """Ink density (h, w) of dabs on small dark marks: windows, doorways, the dark of a tree's foliage.

    The washes are cut from a photo simplified over ~30 px, which paints a row of windows over as bare wall;
    a painter puts a dab of ink on each. A dab goes where the photo is darker than its surroundings (within
    ~4 px against ~16 px at scale 1) by more than 0.05-0.15 in perceived lightness.
    """
    value = tones.value(view.pixels)
    darker = fields.smooth(value, 4.0 * scale) - fields.smooth(value, 0.7 * scale)
    dab = (texture.smoothstep(0.05, 0.15, darker) * view.support).astype(np.float32)
    return DAB_DENSITY * fields.smooth(dab, 0.5 * scale)


def _brush_lines(rng: np.random.Generator, view: RegionView, *, scale: float, dryness: float) -> np.ndarray:
    """Ink density (h, w) of the brush lines along the main edges; dry-brush gaps along the stroke."""
    height, width = view.support.shape
    edges = fields.edge_map(view.luma, view.support, sigma=1.5 * scale, keep=0.08)
    reach = fields.distance_to(edges)
    thickness = 1.3 * scale * (0.5 + 1.0 * texture.value_noise(rng, height, width, cell=30 * scale))
    line = np.clip((thickness + 1.0 - reach) / 1.5, 0.0, 1.0)
    angles, _ = fields.tangent_angles(view.luma, view.support, sigma=3 * scale)
    streak = np.zeros((height, width), np.float32)
    for k in range(4):  # streaks along four directions, each used where the edges run that way
        angle = k * np.pi / 4
        weight = np.clip(np.cos(2 * (angles - angle)), 0, 1) ** 2
        streak += weight * texture.streaks(rng, height, width, angle=angle, length=30 * scale)
    dry = texture.smoothstep(-1.2 + 2.0 * dryness, -0.6 + 2.0 * dryness, streak) if dryness > 0 else 1.0
    return (0.95 * line * dry).astype(np.float32)
