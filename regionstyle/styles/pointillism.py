"""Pointillism: dense round dots of pure, unmixed colour on a pale canvas, mixed only by the eye.

Dots are laid in three overlapping passes of jittered grid points. Each dot's colour is drawn from the
palette with odds that drift slowly across the canvas (as Seurat let blues and greens dominate one patch
and oranges another), so neighbouring dots contrast while the exemplar stays stationary.
"""

from __future__ import annotations

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


def render(*, height: int, width: int, seed: int, palette: str, scale: float, dot: int) -> np.ndarray:
    """Pointillist exemplar: float32 (H, W, 3) in [0, 1]; dots about ``dot * scale`` px across."""
    diameter = max(2.0, dot * scale)  # a dot needs two pixels to be round
    colours = get_palette(palette, default=DEFAULT_PALETTE)
    rng = texture.stream(seed, "pointillism")
    # Slowly drifting log-odds per colour; 1.3 makes the local favourites clear but never exclusive.
    odds = [1.3 * texture.fractal_noise(rng, height, width, cell=9 * diameter, octaves=2) for _ in colours]
    weave = 0.04 * texture.paper(rng, height, width, scale=scale)
    image = np.broadcast_to(_CANVAS, (height, width, 3)) * (1 + weave[..., None])
    for pitch, jitter, smallest, largest in _PASSES:
        seeds = cells.jittered_seeds(rng, height, width, cell=pitch * diameter, jitter=jitter)
        radii = rng.uniform(smallest, largest, size=seeds.count).astype(np.float32) * diameter
        dot_ids, radial = cells.discs(seeds, height, width, radii=radii,
                                      priority=rng.random(seeds.count, dtype=np.float32))
        paint = _dot_colours(rng, seeds, colours, odds)
        # A slight dome: dabs of paint are a touch darker at the rim, where the film is thin.
        dome = (1.05 - 0.1 * radial**2 - 0.15 * radial**8)[..., None]
        covered = (dot_ids >= 0)[..., None]
        image = np.where(covered, paint[np.maximum(dot_ids, 0)] * dome, image)
    # Soften the pixel staircase on the dot rims without blurring the dots into each other.
    return np.clip(texture.blur(image.astype(np.float32), 0.45 * min(scale, 1.5)), 0, 1)


STYLE = BuiltinStyle(
    name="pointillism",
    description="dense round dots of pure colour on pale canvas, mixed optically (Seurat, Signac)",
    params={
        **common_params(default_palette=DEFAULT_PALETTE),
        "dot": ParamSpec(default=7, type=int, doc="dot diameter in px (before scale)", bounds=(2, 64)),
    },
    render=render,
)
