"""Pointillism from the photo: dabs of pure colour sampled from the photo beneath them, on pale canvas.

Three passes of round dots on jittered grids (small filler dots, the main near-touching layer, a sparse top
layer). Each dot takes the photo's colour at its centre, made purer (more saturated) and nudged in
lightness and hue at random, so neighbouring dots contrast and the eye mixes them back into the photo.
"""

from __future__ import annotations

import numpy as np

from regionstyle.styles import cells, texture
from regionstyle.styles.pointillism import lay_dots, soften_rims
from regionstyle.styles.region import fields, tones
from regionstyle.styles.region.frame import RegionView

_CANVAS = np.asarray([0.93, 0.91, 0.85], np.float32)
# (grid pitch, jitter, smallest and largest radius) per pass, in dot diameters.
_PASSES = ((0.8, 1.0, 0.32, 0.42), (1.0, 0.55, 0.42, 0.52), (1.7, 1.0, 0.36, 0.46))


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
    source = fields.smooth(view.pixels, 0.3 * diameter)
    weave = 0.04 * texture.paper(rng, height, width, scale=scale)
    canvas = np.broadcast_to(_CANVAS, (height, width, 3)) * (1 + weave[..., None])

    def paint(seeds: cells.Seeds) -> np.ndarray:  # each dot the photo's colour at its centre, made purer
        points = seeds.points.reshape(-1, 2)
        sampled = np.stack([texture.sample_at(source[..., c], points[:, 0], points[:, 1]) for c in range(3)], 1)
        return dot_colours(rng, tones.toward_palette(sampled, palette))

    image = lay_dots(rng, canvas, diameter=diameter, passes=_PASSES, paint=paint, dome=(1.04, 0.08, 0.12))
    return soften_rims(image, scale)
