"""Ink wash (sumi-e): grey washes of diluted ink and calligraphic brush strokes on fibrous rice paper.

Washes are soft gradients of thin ink that bleed into the paper. Strokes are bands around the level lines
of smooth noise: long, gently curving, swelling and thinning with the brush's pressure, ending in a taper.
Where the brush runs dry (``dryness``) the stroke breaks into streaks along its direction, the bristle
marks of dry-brush (kasure); wet strokes feather into the paper fibres at their edges.
"""

from __future__ import annotations

import cv2
import numpy as np

from regionstyle.styles import texture
from regionstyle.styles.palettes import get_palette, ink_and_paper
from regionstyle.styles.spec import BuiltinStyle, ParamSpec, common_params

DEFAULT_PALETTE = "mono"
_BRISTLES = 28
_STROKE_SETS = 6
_STROKE_MEAN = 0.34  # average ink density of the brush strokes
_WASH_MEAN = 0.09  # average ink density of the washes
_SHARE = 0.08  # of the paper inked by each set of strokes


def _washes(rng: np.random.Generator, height: int, width: int, *, size: float) -> np.ndarray:
    """Ink density of the washes, float32 (H, W) in [0, 1]: broad soft gradients of thin ink."""
    density = np.zeros((height, width), np.float32)
    for strength in (0.25, 0.15, 0.12):
        field = texture.fractal_noise(rng, height, width, cell=3 * size, octaves=3)
        shape = texture.smoothstep(0.0, 0.6, field) * (0.6 + 0.4 * texture.value_noise(rng, height, width,
                                                                                          cell=size))
        density = 1 - (1 - density) * (1 - strength * shape)
    # The same amount of ink in every exemplar, however the washes happened to fall.
    return np.clip(density * (_WASH_MEAN / max(float(density.mean()), 1e-3)), 0, 1)


def _band(rng: np.random.Generator, height: int, width: int, *,
          size: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One set of brush strokes, each float32 (H, W): position across the stroke in [-1, 1] (2 outside),
    cover in [0, 1], and how firmly the brush presses in [0, 1] (0 where it lifts off at a stroke's end)."""
    field = texture.fractal_noise(rng, height, width, cell=3 * size, octaves=2)
    slope = np.hypot(cv2.Sobel(field, cv2.CV_32F, 1, 0, ksize=5), cv2.Sobel(field, cv2.CV_32F, 0, 1, ksize=5))
    distance = field / (slope / 48 + 1e-4)  # px from the zero level line (Sobel 5x5 gains 48)
    pressure = texture.value_noise(rng, height, width, cell=1.5 * size)
    lifts = texture.fractal_noise(rng, height, width, cell=2 * size, octaves=2)
    # The brush is on the paper where `lifts` is high; it thins to a point where it lifts off.
    low, high = np.quantile(lifts[::4, ::4], [0.55, 0.8])  # the brush touches about a third of each set
    contact = texture.smoothstep(low, high, lifts)
    half = size * 0.16 * (0.35 + pressure) * contact
    # Level lines are long in one exemplar and few in another; widening or narrowing the brush so that
    # every set inks the same share of paper keeps the exemplar's statistics alike from seed to seed.
    near = np.abs(distance) < half
    half = half * np.clip(_SHARE / max(float(near.mean()), 1e-3), 0.6, 2.5)
    across = distance / np.maximum(half, 1e-3)
    # Fading out strokes thinner than ~2 px keeps the brush from leaving hairlines along every level line.
    cover = np.clip(half - np.abs(distance) + 0.5, 0, 1) * texture.smoothstep(0.5, 2.0, half)
    return np.where(cover > 0, np.clip(across, -1, 1), 2.0).astype(np.float32), cover, contact


def _stroke_density(rng: np.random.Generator, height: int, width: int, *, size: float, dryness: float,
                    fibres: np.ndarray) -> np.ndarray:
    """Ink density of one set of strokes, float32 (H, W) in [0, 1]."""
    across, cover, contact = _band(rng, height, width, size=size)
    profile = rng.standard_normal(4 * _BRISTLES).astype(np.float32)
    # Bristle tracks drift across the stroke as it goes, so streaks wander, merge and split.
    drift = 6.0 * texture.value_noise(rng, height, width, cell=size)
    position = (np.clip((across + 1) / 2, 0, 1) * _BRISTLES + drift) % (4 * _BRISTLES - 1)
    bristle = np.interp(position, np.arange(4 * _BRISTLES), profile).astype(np.float32)
    # Dry brush: as the brush lifts and runs out, only the bristles still carrying ink touch the paper,
    # and then only the peaks of the paper's fibres.
    wander = texture.fractal_noise(rng, height, width, cell=0.5 * size, octaves=3)
    thirst = dryness * (0.3 + 0.35 * wander + 1.3 * (1 - contact)) - 0.15 * fibres
    inked = np.clip(1.5 * (0.7 * bristle + 1.4 - 2.4 * thirst), 0, 1)
    # Ink strength varies from stroke to stroke (a smooth field: strokes are far apart), and one flank of
    # each stroke is loaded darker than the other.
    strength = 0.7 + 0.3 * texture.value_noise(rng, height, width, cell=0.7 * size)
    tone = strength * (1.0 - 0.25 * np.clip((across + 1) / 2, 0, 1))
    return cover * inked * tone


def render(*, height: int, width: int, seed: int, palette: str, scale: float, dryness: float) -> np.ndarray:
    """Ink-wash exemplar: float32 (H, W, 3) in [0, 1]; strokes about ``12 * scale`` px wide."""
    size = 35.0 * scale
    rng = texture.stream(seed, "ink-wash")
    ink, paper_colour = ink_and_paper(get_palette(palette, default=DEFAULT_PALETTE))
    fibres = texture.paper(rng, height, width, scale=scale)
    washes = _washes(rng, height, width, size=size)
    strokes = np.zeros((height, width), np.float32)
    for _ in range(_STROKE_SETS):
        stroke = _stroke_density(rng, height, width, size=size, dryness=dryness, fibres=fibres)
        # Wet ink creeps a little way along the paper fibres around the stroke.
        bleed = 0.25 * texture.blur(stroke, 0.8 * scale) * np.clip(0.7 + 0.3 * fibres, 0, 1)
        strokes = 1 - (1 - strokes) * (1 - np.maximum(stroke, bleed))
    # A fixed share of ink per exemplar (a dry brush leaves less of it) keeps seeds statistically alike.
    strokes = texture.match_mean(np.clip(strokes * (1 + 0.06 * fibres), 0, 1),
                                 _STROKE_MEAN * (1.2 - 0.4 * dryness))
    density = (1 - (1 - washes) * (1 - strokes))[..., None]
    paper = paper_colour * (1 + 0.03 * fibres[..., None])
    return np.clip(paper * (1 - density) + ink * density, 0, 1).astype(np.float32)


STYLE = BuiltinStyle(
    name="ink-wash",
    description="sumi-e: grey ink washes and calligraphic dry-brush strokes on rice paper",
    params={
        **common_params(default_palette=DEFAULT_PALETTE),
        "dryness": ParamSpec(default=0.5, type=float,
                             doc="0 = solid wet strokes, 1 = broken dry-brush streaks",
                             bounds=(0.0, 1.0)),
    },
    render=render,
)
