"""Pencil: graphite cross-hatching on toothy paper.

Tone is built the way an illustrator builds it: a first set of parallel hatches almost everywhere, then a
second direction over it where the drawing is darker, a third and fourth in the darkest passages. Each
hatch line is a series of separate strokes with tapered ends and their own pressure; the lines wobble a
little, and graphite only catches on the peaks of the paper's tooth, so lines break up into grain.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from regionstyle.styles import cells, texture
from regionstyle.styles.palettes import get_palette, ink_and_paper, luminance
from regionstyle.styles.spec import BuiltinStyle, ParamSpec, common_params

DEFAULT_PALETTE = "mono"
_TABLE = 4096  # random values per stroke, looked up by a hash of (line, stroke along the line)
_GROUP = 4
_MEAN_TRANSMITTANCE = 0.86  # share of light the drawing lets through, on average
# Direction of each layer relative to the first, radians: crossings at oblique angles, not a square grid.
_TURNS = (0.0, 1.05, -0.62, 0.48)
_LEVELS = (-0.2, 0.3, 0.55, 0.78)  # tone above which each hatching direction appears


def _strokes_on_line(rng: np.random.Generator, line: np.ndarray, along: np.ndarray,
                     length: float) -> tuple[np.ndarray, np.ndarray]:
    """Split each hatch line into strokes: (stroke hash key int64, taper in [0, 1]) per pixel.

    Neighbouring lines come in small groups that start and stop nearly together (one movement of the hand
    draws a patch of parallel strokes); a smooth warp of the along-line position varies stroke lengths so
    that stroke ends never line up into a lattice.
    """
    height, width = line.shape
    group = (line + rng.integers(_GROUP)) // _GROUP
    stagger = 0.3 * rng.random(_TABLE, dtype=np.float32)[line % _TABLE]
    warp = 0.8 * texture.value_noise(rng, height, width, cell=1.5 * length)
    position = along / length + rng.random(_TABLE, dtype=np.float32)[group % _TABLE] + stagger + warp
    index = np.floor(position).astype(np.int64)
    key = (group * 7919 + index * 104729) % _TABLE
    share = rng.uniform(0.6, 0.97, _TABLE).astype(np.float32)[key]  # the rest of the slot is a gap
    where = position - index
    taper = np.sin(np.pi * np.clip(where / share, 0, 1)) ** 0.4
    return key, taper


def _patch_angles(rng: np.random.Generator, height: int, width: int, *, spacing: float) -> np.ndarray:
    """Hatching direction per pixel, float32 (H, W) radians: one per patch of drawing, patches about
    16 lines across with freehand borders (the hand turns the paper, or itself, between patches)."""
    seeds = cells.jittered_seeds(rng, height, width, cell=16 * spacing, jitter=0.9)
    patches = cells.voronoi(seeds, height, width)
    angle = rng.uniform(0, math.pi, seeds.count).astype(np.float32)[patches.ids]
    push = [4 * spacing * (2 * texture.value_noise(rng, height, width, cell=5 * spacing) - 1) for _ in "yx"]
    ys, xs = texture.pixel_grid(height, width)
    return cv2.remap(angle, xs + push[1], ys + push[0], interpolation=cv2.INTER_NEAREST,
                     borderMode=cv2.BORDER_REFLECT)


def _hatching(rng: np.random.Generator, height: int, width: int, *, angle: np.ndarray, spacing: float,
              tone: np.ndarray, level: float) -> np.ndarray:
    """Graphite cover of one hatching direction (``angle`` per pixel), float32 (H, W) in [0, 1]."""
    ys, xs = texture.pixel_grid(height, width)
    wobble = 0.3 * spacing * (2 * texture.value_noise(rng, height, width, cell=20 * spacing) - 1)
    cos, sin = np.cos(angle), np.sin(angle)
    across = -xs * sin + ys * cos + wobble
    along = xs * cos + ys * sin
    raw = np.floor(across / spacing)
    line = (raw - raw.min()).astype(np.int64)
    jitter = (rng.random(_TABLE, dtype=np.float32)[line % _TABLE] - 0.5) * 0.3 * spacing
    offset = np.abs(across - (raw + 0.5) * spacing - jitter)
    half = max(0.5, 0.1 * spacing)
    profile = np.exp(-((offset / (half + 0.35)) ** 4))  # a soft-edged line about 2 * half px wide
    key, taper = _strokes_on_line(rng, line, along, rng.uniform(6, 10) * spacing)
    pressure = rng.uniform(0.45, 1.0, _TABLE).astype(np.float32)[key]
    wanted = rng.uniform(-0.1, 0.1, _TABLE).astype(np.float32)[key]
    present = (tone > level + wanted).astype(np.float32)  # a stroke is kept or dropped as a whole
    return profile * taper * pressure * present


def render(*, height: int, width: int, seed: int, palette: str, scale: float, spacing: float) -> np.ndarray:
    """Pencil exemplar: float32 (H, W, 3) in [0, 1]; hatch lines ``spacing * scale`` px apart."""
    gap = max(2.0, spacing * scale)  # closer lines merge into a flat grey
    rng = texture.stream(seed, "pencil")
    colours = get_palette(palette, default=DEFAULT_PALETTE)
    ink, paper_colour = ink_and_paper(colours)
    leads = colours[np.argsort(luminance(colours))][: max(1, len(colours) // 2)]
    tooth = texture.paper(rng, height, width, scale=scale)
    tone = np.clip(0.5 + 0.3 * texture.fractal_noise(rng, height, width, cell=30 * gap, octaves=2), 0, 1)
    catch = np.clip(0.6 + 0.4 * tooth, 0.1, 1.0)  # graphite sticks to the peaks of the tooth
    transmitted = np.ones((height, width, 3), np.float32)
    base = _patch_angles(rng, height, width, spacing=gap)
    for k, level in enumerate(_LEVELS):
        angle = base + _TURNS[k] + rng.normal(0, 0.08)
        cover = 0.62 * catch * _hatching(rng, height, width, angle=angle, spacing=gap, tone=tone, level=level)
        lead = ink if k % 2 == 0 else leads[k // 2 % len(leads)]
        transmitted *= 1 - cover[..., None] * (1 - lead)
    # As much graphite on every exemplar, whatever the tone field and patches happened to be.
    transmitted **= texture.mean_exponent(luminance(transmitted), _MEAN_TRANSMITTANCE)
    paper = paper_colour * (1 + 0.02 * tooth[..., None])
    return np.clip(paper * transmitted, 0, 1).astype(np.float32)


STYLE = BuiltinStyle(
    name="pencil",
    description="graphite cross-hatching in two to four directions on toothy paper",
    params={
        **common_params(default_palette=DEFAULT_PALETTE),
        "spacing": ParamSpec(default=6.0, type=float, doc="distance between hatch lines in px (before scale)",
                             bounds=(2.0, 32.0)),
    },
    render=render,
)
