"""Pointillism from the photo: dabs of pure colour sampled from the photo beneath them, on a toned ground.

Three passes of round dots on jittered grids (small filler dots, the main near-touching layer, a sparse top
layer), then half-size dots where those miss the photo's form (windows, edges). Each dot takes the photo's
colour at its centre, made purer (more saturated) and nudged in lightness and hue at random, so
neighbouring dots contrast and the eye mixes them back into the photo. The ground between the dots is the
region's own colour, blurred and lightened halfway to a pale canvas: bare cream gaps read as white
squiggles on a dark wall.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from regionstyle.styles import cells, texture
from regionstyle.styles.pointillism import lay_dots, soften_rims, stamp_dots
from regionstyle.styles.region import fields, tones
from regionstyle.styles.region.frame import RegionView

_CANVAS = np.asarray([0.93, 0.91, 0.85], np.float32)
# (grid pitch, jitter, smallest and largest radius) per pass, in dot diameters.
_PASSES = ((0.8, 1.0, 0.32, 0.42), (1.0, 0.55, 0.42, 0.52), (1.7, 1.0, 0.36, 0.46))
# Then half-size dots where the dots so far, mixed as the eye mixes them, miss the photo's luma by more
# than DETAIL_MISS (windows, frames, edges): at 1024 px a 7 px dot is wider than a window, and a facade
# came out as even confetti. A painter puts smaller dabs where the form needs them (as the oil renderer
# adds finer strokes where the canvas misses the photo).
_DETAIL_PASS = (0.5, 0.6, 0.24, 0.3)
DETAIL_MISS = 0.06
# The photo the dots take their colours from, blurred over this share of a dot (0.3 blurred a 5 px window
# into the wall around it before any dot was laid).
SOURCE_BLUR = 0.15
_DOME = (1.04, 0.08, 0.12)
# How much of the ground between the dots is the region's own colour (blurred over two dots), the rest pale canvas.
GROUND_TONE = 0.5


def dot_colours(rng: np.random.Generator, sampled: np.ndarray) -> np.ndarray:
    """Dot colours (N, 3) from photo colours (N, 3): saturated, with a random lightness and tint each."""
    pure = tones.saturate(sampled, 1.5)
    light = rng.uniform(0.88, 1.12, (len(pure), 1))
    tint = rng.normal(0.0, 0.045, (len(pure), 3))
    return np.clip(pure * light + tint, 0.0, 1.0).astype(np.float32)


def render(view: RegionView, *, seed: int, palette: str, scale: float, dot: int) -> np.ndarray:
    """float32 (h, w, 3): dots about ``dot * scale`` px across."""
    diameter = max(2.0, dot * scale)
    rng = texture.stream(seed, "pointillism-region")
    height, width = view.support.shape
    source = fields.smooth(view.pixels, SOURCE_BLUR * diameter)
    weave = 0.04 * texture.paper(rng, height, width, scale=scale)
    ground = (1 - GROUND_TONE) * _CANVAS + GROUND_TONE * fields.smooth(view.pixels, 2 * diameter)
    canvas = ground * (1 + weave[..., None])

    def paint(seeds: cells.Seeds) -> np.ndarray:  # each dot the photo's colour at its centre, made purer
        points = seeds.points.reshape(-1, 2)
        sampled = np.stack([texture.sample_at(source[..., c], points[:, 0], points[:, 1]) for c in range(3)], 1)
        return dot_colours(rng, tones.toward_palette(sampled, palette))

    image = lay_dots(rng, canvas, diameter=diameter, passes=_PASSES, paint=paint, dome=_DOME)
    image = _detail_dots(rng, image, source, covered=np.any(image != canvas, axis=-1), diameter=diameter,
                         paint=paint)
    return soften_rims(image, scale)


def _detail_dots(rng: np.random.Generator, image: np.ndarray, source: np.ndarray, *, covered: np.ndarray,
                 diameter: float, paint: Callable[[cells.Seeds], np.ndarray]) -> np.ndarray:
    """``image`` with a pass of small dots, laid only where its dots (``covered``: not canvas), averaged
    over half a dot, miss ``source``'s luma by more than DETAIL_MISS. The canvas between dots is left out
    of the average: counted, it made every gap a miss and the small dots closed them all."""
    height, width = image.shape[:2]
    pitch, jitter, smallest, largest = _DETAIL_PASS
    seeds = cells.jittered_seeds(rng, height, width, cell=pitch * diameter, jitter=jitter)
    weight = fields.smooth(covered.astype(np.float32), 0.5 * diameter)
    mixed = fields.smooth(tones.luma(image) * covered, 0.5 * diameter) / np.maximum(weight, 1e-3)
    miss = np.abs(mixed - tones.luma(source))
    points = seeds.points.reshape(-1, 2)
    needed = texture.sample_at(miss, points[:, 0], points[:, 1]) > DETAIL_MISS
    radii = rng.uniform(smallest, largest, size=seeds.count).astype(np.float32) * diameter
    radii = np.where(needed, radii, 1e-3).astype(np.float32)  # a dot not needed covers no pixel
    return stamp_dots(rng, image, seeds, radii=radii, paint=paint, dome=_DOME)
