"""Oil from the photo: brush strokes laid along the structure of the photo, each the colour beneath it.

Painterly rendering after Hertzmann (1998): a layer of broad strokes from a blurred copy of the photo, then
layers of narrower ones only where the canvas still differs from the photo (detail), down to strokes
narrower than a window at 1024 px. Strokes run along the local edge direction (the structure tensor), stop
where the photo turns another colour, and each is painted in the photo's colour at its centre, with
bristle grooves and an impasto relief lit from the upper left.
"""

from __future__ import annotations

import cv2
import numpy as np

from regionstyle.styles import strokes, texture
from regionstyle.styles.region import fields, tones
from regionstyle.styles.region.frame import RegionView

_LIGHT = np.asarray([-0.55, -0.55, 0.63], np.float32)  # (x, y, z) toward the light, from the upper left
_BRISTLES = 10
# (stroke width in brush widths, strokes per stroke area) per layer, broad to fine.
_LAYERS = ((1.4, 2.2), (0.7, 2.4), (0.35, 2.4), (0.2, 2.4))
# Each layer paints from the photo blurred over this share of its stroke width (0.5 blurred 5 px windows
# into their walls before any stroke was laid).
REFERENCE_BLUR = 0.25
# A stroke leaves the pixels where the photo differs from its colour by more than this (RGB distance).
STROKE_EDGE = 0.25


def _bristles(rng: np.random.Generator, frame: strokes.StrokeFrame) -> np.ndarray:
    """Groove depth (h, w) about N(0, 1): a random profile across each stroke, constant along it."""
    table = rng.standard_normal((frame.count, _BRISTLES + 1)).astype(np.float32)
    position = np.clip((frame.across + 1) / 2 * _BRISTLES, 0, _BRISTLES - 1e-3)
    low = np.floor(position).astype(np.int64)
    blend = position - low
    return table[frame.lookup, low] * (1 - blend) + table[frame.lookup, low + 1] * blend


def _lit(paint: np.ndarray, relief: np.ndarray, *, size: float) -> np.ndarray:
    """``paint`` shaded by the height map ``relief`` (px): diffuse light from the upper left."""
    relief = fields.smooth(relief, max(0.6, 0.06 * size))
    gx = cv2.Sobel(relief, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(relief, cv2.CV_32F, 0, 1, ksize=3) / 8
    diffuse = np.clip((-gx * _LIGHT[0] - gy * _LIGHT[1] + _LIGHT[2]) / np.sqrt(gx * gx + gy * gy + 1), 0, 1)
    return paint * (0.42 + 0.72 * diffuse)[..., None]


def render(view: RegionView, *, seed: int, palette: str, scale: float, stroke: int) -> np.ndarray:
    """float32 (h, w, 3): strokes about ``stroke * scale`` px wide."""
    size = max(3.0, stroke * scale)
    rng = texture.stream(seed, "oil-region")
    angles, _ = fields.tangent_angles(view.luma, view.support, sigma=1.5 * size)
    canvas = fields.smooth(view.pixels, 2 * size)  # the toned ground, seen in gaps between strokes
    relief = np.zeros(view.support.shape, np.float32)
    for grow, density in _LAYERS:
        width = max(2.0, grow * size)
        reference = fields.smooth(view.pixels, REFERENCE_BLUR * width)
        # Finer strokes only where the canvas so far misses the photo by a visible amount.
        error = np.linalg.norm(canvas - reference, axis=-1)
        frame = strokes.lay_strokes(rng, angles, width=width, length=2.5 * width, density=density, jitter=0.12,
                                    where=error > (0.0 if grow > 1 else 0.05))
        if frame.count == 0:
            continue
        sampled = np.stack([texture.sample_at(reference[..., c], frame.centres[:, 0], frame.centres[:, 1])
                            for c in range(3)], 1)
        colour = tones.saturate(tones.toward_palette(sampled, palette), 1.15)
        colour = np.clip(colour * rng.uniform(0.93, 1.07, (frame.count, 1)), 0, 1)
        # A stroke stops where the photo beneath it turns another colour (Hertzmann ends a stroke there):
        # straight strokes of fixed length painted a roof's brown across the wall below it.
        stray = np.linalg.norm(sampled[frame.lookup] - reference, axis=-1) > STROKE_EDGE
        alpha = (frame.covered & ~stray).astype(np.float32)
        grooves = _bristles(rng, frame)
        streak = 1.0 + 0.06 * grooves
        canvas = canvas * (1 - alpha[..., None]) + colour[frame.lookup] * streak[..., None] * alpha[..., None]
        body = np.clip(1 - frame.across**2, 0, 1) ** 0.4 * (1.0 + 0.25 * grooves)
        relief = (relief * (1 - alpha) + alpha * body * (width / 2) * 0.5).astype(np.float32)
    return np.clip(_lit(canvas, relief, size=size), 0, 1).astype(np.float32)
