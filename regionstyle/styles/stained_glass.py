"""Stained glass: saturated translucent panes in Voronoi shapes, held by thick dark lead cames.

Each pane is lit from behind: its colour glows brighter where the glass is thin and carries the mottling,
streaks and seed bubbles of hand-made cathedral glass. The lead is drawn as a rounded bar that catches a
little light along its crest and casts a soft shadow onto the glass beside it.
"""

from __future__ import annotations

import numpy as np

from regionstyle.styles import cells, texture
from regionstyle.styles.palettes import even_shares, get_palette, stratified_choice
from regionstyle.styles.spec import BuiltinStyle, ParamSpec, common_params

DEFAULT_PALETTE = "jewel"


def _saturate(colours: np.ndarray, amount: float) -> np.ndarray:
    """Push colours away from their grey by ``amount`` (1 = unchanged)."""
    grey = colours.mean(axis=-1, keepdims=True)
    return np.clip(grey + amount * (colours - grey), 0, 1)


def _glass(seed: int, seeds: cells.Seeds, panes: cells.Voronoi, colours: np.ndarray) -> np.ndarray:
    """Lit glass colour of every pixel, float32 (H, W, 3), before the lead goes on."""
    rng = texture.stream(seed, "glass")
    height, width = panes.ids.shape
    count, size = seeds.count, seeds.cell
    # Neighbouring panes mostly differ (a shuffled palette per small block of panes), and each colour
    # ends up covering about the same area, so the palette's balance does not depend on the seed.
    preferred = stratified_choice(rng, *seeds.points.shape[:2], len(colours)).ravel()
    logits = 2.0 * np.eye(len(colours))[preferred] + rng.gumbel(size=(count, len(colours)))
    choice = even_shares(logits, np.bincount(panes.ids.ravel(), minlength=count).astype(np.float64))
    pane_colour = _saturate(colours, 1.35)[choice]
    pane_colour *= rng.uniform(0.9, 1.05, size=(count, 1))
    # Cathedral glass: thickness varies in blotches and in ripples that run one way per pane.
    mottle = texture.fractal_noise(rng, height, width, cell=size / 3, octaves=3)
    angle = rng.uniform(0, np.pi, size=count).astype(np.float32)[panes.ids]
    along = panes.offset[0] * np.cos(angle) + panes.offset[1] * np.sin(angle)
    ripple = np.sin(along * (2 * np.pi / (0.22 * size)) + 2.0 * mottle)
    bubbles = np.maximum(texture.value_noise(rng, height, width, cell=0.045 * size) - 0.93, 0) * 6.0
    glow = 1.0 + 0.13 * mottle + 0.07 * ripple + bubbles
    return pane_colour.astype(np.float32)[panes.ids] * glow[..., None]


def render(*, height: int, width: int, seed: int, palette: str, scale: float, cell: int) -> np.ndarray:
    """Stained-glass exemplar: float32 (H, W, 3) in [0, 1]; panes about ``cell * scale`` px across."""
    size = max(6.0, cell * scale)  # room for glass between the leads
    rng = texture.stream(seed, "panes")
    seeds = cells.jittered_seeds(rng, height, width, cell=size, jitter=0.65)
    panes = cells.voronoi(seeds, height, width)
    glass = _glass(seed, seeds, panes, get_palette(palette, default=DEFAULT_PALETTE))
    half = max(1.5, 0.07 * size)  # half the width of the lead came
    border = panes.border + 0.25 * half * (2 * texture.value_noise(rng, height, width, cell=size / 2) - 1)
    shadow = 1.0 - 0.45 * np.exp(-np.maximum(border - half, 0) / (0.12 * size))
    lead = np.clip(half + 0.5 - border, 0.0, 1.0)[..., None]
    crest = np.clip(1.0 - (border / half) ** 2, 0.0, 1.0)
    came = (0.05 + 0.16 * crest**3 + 0.02 * texture.value_noise(rng, height, width, cell=2.0))[..., None]
    image = lead * came + (1 - lead) * glass * shadow[..., None]
    return np.clip(image, 0, 1).astype(np.float32)


STYLE = BuiltinStyle(
    name="stained-glass",
    description="Voronoi panes of saturated translucent colour held by thick dark lead lines",
    params={
        **common_params(default_palette=DEFAULT_PALETTE),
        "cell": ParamSpec(default=32, type=int, doc="pane size in px (before scale)", bounds=(8, 256)),
    },
    render=render,
)
