"""Pencil from the photo: hatching that runs along the edges and thickens where the photo is dark.

Hatch lines are laid along the local edge direction (the structure tensor of the photo, blended over four
directions so they curve gently with the shapes); each line is as wide as the photo is dark there, a second
layer crosses it in the darker half and a third in the darkest parts. Dark is judged by perceived lightness
(``tones.value``), not luma: a clear blue sky is a mid tone to a draughtsman. Lines break into strokes,
catch on the paper's tooth, and the main contours are drawn over them.
"""

from __future__ import annotations

import numpy as np

from regionstyle.styles import texture
from regionstyle.styles.region import fields, tones
from regionstyle.styles.region.frame import RegionView

_DIRECTIONS = 6
# (angle offset from the edge direction, darkness where the layer starts): cross-hatching builds up.
_LAYERS = ((0.0, 0.12), (np.pi / 2, 0.5), (np.pi / 4, 0.75))


def darkness(luma: np.ndarray, support: np.ndarray) -> np.ndarray:
    """How dark (h, w) in [0, 1]: the region's range (2nd to 98th percentile) stretched, but only so far
    that its lightest part is never darker than 0.8 luma and its range never under 0.35. A pale flat sky
    stays lightly drawn and dark water stays dark, while a mid-grey facade still gets its full range."""
    inside = luma[support] if support.any() else luma.ravel()
    low, high = np.quantile(inside, [0.02, 0.98])
    high = max(float(high), 0.8)
    low = min(float(low), high - 0.35)
    return np.clip((high - luma) / (high - low), 0.0, 1.0).astype(np.float32)


def hatch(ys: np.ndarray, xs: np.ndarray, angle: float, *, spacing: float, width: np.ndarray,
          phase: np.ndarray) -> np.ndarray:
    """Coverage (h, w) in [0, 1] of parallel lines along ``angle``, ``spacing`` px apart, each ``width``
    (h, w) of the spacing wide (antialiased over a pixel)."""
    across = (ys * np.cos(angle) - xs * np.sin(angle)) / spacing + phase
    from_centre = np.abs(across - np.floor(across) - 0.5) * spacing  # px from the line's middle
    # A line thinner than a pixel is drawn fainter, not a pixel wide: zero width draws nothing.
    return np.clip(width * spacing / 2 - from_centre + 0.5, 0.0, 1.0) * np.clip(width * spacing, 0.0, 1.0)


def render(view: RegionView, *, seed: int, palette: str, scale: float, spacing: float) -> np.ndarray:
    """float32 (h, w, 3): hatch lines ``spacing * scale`` px apart."""
    gap = max(2.0, spacing * scale)
    rng = texture.stream(seed, "pencil-region")
    height, width = view.support.shape
    ink, paper = tones.ink_paper(palette)
    # Shaded by perceived lightness, not luma: a clear blue sky (luma 0.44) is a mid tone, not a dark one.
    dark = darkness(fields.smooth(tones.value(view.pixels), 0.5 * gap), view.support) ** 1.3  # stays light
    angles, _ = fields.tangent_angles(view.luma, view.support, sigma=3 * gap)
    ys, xs = texture.pixel_grid(height, width)
    wobble = 0.25 * texture.fractal_noise(rng, height, width, cell=6 * gap, octaves=2)
    graphite = np.zeros((height, width), np.float32)
    for k in range(_DIRECTIONS):
        base = k * np.pi / _DIRECTIONS
        weight = np.clip(np.cos(angles - base), 0, 1) ** 8  # this direction, where the edges run so
        weight = np.maximum(weight, np.clip(np.cos(angles - base - np.pi), 0, 1) ** 8)
        for offset, start in _LAYERS:
            amount = np.clip((dark - start) / (1.0 - start), 0, 1)
            lines = hatch(ys, xs, base + offset, spacing=gap, width=0.5 * amount, phase=wobble)
            strokes = texture.smoothstep(-1.0, 0.2, texture.streaks(rng, height, width, angle=base + offset,
                                                                    length=8 * gap) + 1.5 * amount)
            graphite = np.maximum(graphite, weight * lines * strokes)
    total = _normalised(graphite, angles)
    contours = fields.edge_map(view.luma, view.support, sigma=1.0 * scale, keep=0.1)
    outline = fields.smooth(contours.astype(np.float32), 0.5 * scale) * 0.8
    tooth = texture.paper(rng, height, width, scale=scale)
    # Graphite is grey and catches on the paper's tooth: never the full ink colour.
    lead = np.clip(np.maximum(0.8 * total, outline) * (0.8 + 0.15 * tooth), 0, 0.85)[..., None]
    return np.clip(paper * (1 - lead) + ink * lead, 0, 1).astype(np.float32)


def _normalised(graphite: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Graphite divided by the summed direction weights' peak, so blends between directions stay as dark."""
    peak = np.zeros_like(angles)
    for k in range(_DIRECTIONS):
        base = k * np.pi / _DIRECTIONS
        peak = np.maximum(peak, np.clip(np.cos(angles - base), 0, 1) ** 8)
        peak = np.maximum(peak, np.clip(np.cos(angles - base - np.pi), 0, 1) ** 8)
    return np.clip(graphite / np.maximum(peak, 1e-3), 0, 1)
