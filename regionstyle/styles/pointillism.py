"""Pointillism: dense round dots of pure, unmixed colour on a pale canvas, mixed only by the eye.

Dots are laid in three overlapping passes of jittered grid points. Each dot's colour is drawn from the
palette with odds that drift slowly across the canvas (as Seurat let blues and greens dominate one patch
and oranges another), so neighbouring dots contrast while the exemplar stays stationary.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from regionstyle.styles import cells, texture
from regionstyle.styles.palettes import get_palette
from regionstyle.styles.spec import BuiltinStyle, ParamSpec, common_params

DEFAULT_PALETTE = "impression"
_CANVAS = np.asarray([0.93, 0.91, 0.85], dtype=np.float32)
# (grid pitch, jitter, smallest and largest radius) per pass, all in dot diameters. Small filler dots go
# down first, the main near-touching layer over them, then a sparse layer of stray dabs on top.
_PASSES = ((0.8, 1.0, 0.26, 0.36), (1.0, 0.55, 0.4, 0.5), (1.7, 1.0, 0.36, 0.46))


def _dot_colours(
    rng: np.random.Generator, seeds: cells.Seeds, colours: np.ndarray, odds: list[np.ndarray]
) -> np.ndarray:
    """A palette colour for every seed: Gumbel-max sampling with the local odds, plus a little jitter."""
    ys, xs = seeds.points[..., 0].ravel(), seeds.points[..., 1].ravel()
    logits = np.stack([texture.sample_at(field, ys, xs) for field in odds], axis=1)
    gumbel = -np.log(-np.log(rng.random(logits.shape) + 1e-9) + 1e-9)
    index = np.argmax(logits + gumbel, axis=1)
    light = rng.uniform(0.92, 1.06, size=(len(index), 1))
    return np.clip(colours[index] * light, 0, 1).astype(np.float32)


def lay_dots(rng: np.random.Generator, canvas: np.ndarray, *, diameter: float,
             passes: tuple[tuple[float, float, float, float], ...],
             paint: Callable[[cells.Seeds], np.ndarray], dome: tuple[float, float, float]) -> np.ndarray:
    """Round dots over ``canvas`` (H, W, 3), pass after pass, softened at their rims; float32 (H, W, 3).

    passes: (grid pitch, jitter, smallest and largest radius) per pass, in dot diameters; paint: the colour
    (N, 3) of each dot of a pass from its seeds; dome: (a, b, c), a dot's shade at radial distance r being
    a - b r^2 - c r^8 (a dab of paint is a touch darker at the rim, where the film is thin). This stroke is
    shared by the stationary exemplar and the rendering from a region's pixels.
    """
    height, width = canvas.shape[:2]
    image = canvas
    for pitch, jitter, smallest, largest in passes:
        seeds = cells.jittered_seeds(rng, height, width, cell=pitch * diameter, jitter=jitter)
        radii = rng.uniform(smallest, largest, size=seeds.count).astype(np.float32) * diameter
        image = stamp_dots(rng, image, seeds, radii=radii, paint=paint, dome=dome)
    return image


def stamp_dots(rng: np.random.Generator, image: np.ndarray, seeds: cells.Seeds, *, radii: np.ndarray,
               paint: Callable[[cells.Seeds], np.ndarray], dome: tuple[float, float, float]) -> np.ndarray:
    """``image`` (H, W, 3) with a round dot of ``radii[i]`` px at each seed, in ``paint(seeds)``'s colours,
    shaded as :func:`lay_dots` says (``dome``); overlapping dots stack in random order."""
    height, width = image.shape[:2]
    dot_ids, radial = cells.discs(seeds, height, width, radii=radii,
                                  priority=rng.random(seeds.count, dtype=np.float32))
    colours = paint(seeds)
    shade = (dome[0] - dome[1] * radial**2 - dome[2] * radial**8)[..., None]
    return np.where((dot_ids >= 0)[..., None], colours[np.maximum(dot_ids, 0)] * shade, image)


def render(*, height: int, width: int, seed: int, palette: str, scale: float, dot: int) -> np.ndarray:
    """Pointillist exemplar: float32 (H, W, 3) in [0, 1]; dots about ``dot * scale`` px across."""
    diameter = max(2.0, dot * scale)  # a dot needs two pixels to be round
    colours = get_palette(palette, default=DEFAULT_PALETTE)
    rng = texture.stream(seed, "pointillism")
    # Slowly drifting log-odds per colour; 1.3 makes the local favourites clear but never exclusive.
    odds = [1.3 * texture.fractal_noise(rng, height, width, cell=9 * diameter, octaves=2) for _ in colours]
    weave = 0.04 * texture.paper(rng, height, width, scale=scale)
    canvas = np.broadcast_to(_CANVAS, (height, width, 3)) * (1 + weave[..., None])
    image = lay_dots(rng, canvas, diameter=diameter, passes=_PASSES, dome=(1.05, 0.1, 0.15),
                     paint=lambda seeds: _dot_colours(rng, seeds, colours, odds))
    return soften_rims(image, scale)


def soften_rims(image: np.ndarray, scale: float) -> np.ndarray:
    """Soften the pixel staircase on the dot rims without blurring the dots into each other."""
    return np.clip(texture.blur(image.astype(np.float32), 0.45 * min(scale, 1.5)), 0, 1).astype(np.float32)


STYLE = BuiltinStyle(
    name="pointillism",
    description="dense round dots of pure colour on pale canvas, mixed optically (Seurat, Signac)",
    params={
        **common_params(default_palette=DEFAULT_PALETTE),
        "dot": ParamSpec(default=7, type=int, doc="dot diameter in px (before scale)", bounds=(2, 64)),
    },
    render=render,
)
