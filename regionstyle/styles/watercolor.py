"""Watercolour: transparent washes glazed over each other on cold-pressed paper.

Each wash is a soft organic shape (a thresholded, domain-warped fractal noise) whose pigment pools at the
rim as it dries (edge darkening), settles into the valleys of the paper (granulation), varies in strength
inside (wet-in-wet), and is pushed back by blooms: cauliflower-edged backruns where water crept into a
drying wash. Washes combine like filters (multiplying transmittance), so overlaps deepen and mix.
"""

from __future__ import annotations

import numpy as np

from regionstyle.styles import texture
from regionstyle.styles.palettes import balanced_choice, get_palette, luminance
from regionstyle.styles.spec import BuiltinStyle, ParamSpec, common_params

DEFAULT_PALETTE = "meadow"
_PAPER = np.asarray([0.97, 0.955, 0.92], dtype=np.float32)
_WASHES = 6
_MEAN_TRANSMITTANCE = 0.74


def _shape(rng: np.random.Generator, height: int, width: int, *, size: float, coverage: float,
           softness: float) -> np.ndarray:
    """A wash's footprint: (H, W) float32 in [0, 1], about ``coverage`` of the image, ragged soft edge."""
    warp = size * 0.2
    base = texture.fractal_noise(rng, height, width, cell=size, octaves=3, gain=0.4)
    # A faint fine octave only matters near the threshold: it frays the edge, not the shape.
    base = base + 0.08 * texture.fractal_noise(rng, height, width, cell=size / 12, octaves=2)
    base = texture.warp(base, warp * texture.fractal_noise(rng, height, width, cell=size, octaves=2),
                        warp * texture.fractal_noise(rng, height, width, cell=size, octaves=2))
    level = np.quantile(base[:: 4, :: 4], 1.0 - coverage)
    return texture.smoothstep(level - softness, level + softness, base)


def _bloom(rng: np.random.Generator, height: int, width: int, *, size: float, wetness: float) -> np.ndarray:
    """Backruns: (H, W) float32, -1 inside a bloom (pigment pushed out), + at its frilly dark rim, else 0."""
    frilly = texture.fractal_noise(rng, height, width, cell=size * 0.25, octaves=5, gain=0.65)
    inside = _shape(rng, height, width, size=0.3 * size, coverage=0.15 * wetness, softness=0.05) * \
        texture.smoothstep(-0.9, -0.3, frilly)
    rim = np.clip(texture.blur(inside, 0.025 * size) - inside, 0, 1)
    return 1.2 * rim - 0.35 * inside


def _wash_density(rng: np.random.Generator, height: int, width: int, *, size: float, wetness: float,
                  grain: np.ndarray) -> np.ndarray:
    """Pigment density of one wash, (H, W) float32 >= 0 (about 0.5 in the body of the wash)."""
    softness = 0.05 + 0.25 * wetness
    shape = _shape(rng, height, width, size=size, coverage=0.3, softness=softness)
    # Pigment migrates to the drying edge: a dark band just inside the rim.
    rim = np.clip(shape - texture.blur(shape, 0.05 * size), 0, 1)
    inner = 0.55 + 0.45 * texture.value_noise(rng, height, width, cell=0.8 * size)
    density = shape * inner * 0.6 + 1.1 * rim + _bloom(rng, height, width, size=size, wetness=wetness) * shape
    # Granulation: heavy pigment settles in the paper's hollows.
    return np.maximum(density * (1.0 - 0.22 * grain), 0)


def render(*, height: int, width: int, seed: int, palette: str, scale: float, wetness: float) -> np.ndarray:
    """Watercolour exemplar: float32 (H, W, 3) in [0, 1]; washes about ``80 * scale`` px across."""
    colours = get_palette(palette, default=DEFAULT_PALETTE)
    rng = texture.stream(seed, "watercolor")
    size = 80.0 * scale
    # Pigment settles in hollows a few px wide, not pixel by pixel: smooth the paper first.
    grain = texture.standardise(texture.blur(texture.paper(rng, height, width, scale=scale), 1.0 * scale))
    paper = np.broadcast_to(_PAPER, (height, width, 3)) * (1 + 0.015 * grain[..., None])
    transmitted = np.ones((height, width, 3), np.float32)
    for index in balanced_choice(rng, len(colours), _WASHES):
        density = np.clip(_wash_density(rng, height, width, size=size, wetness=wetness, grain=grain), 0, 1.4)
        # A second pigment dropped in wet: the colour drifts inside the wash.
        other = colours[rng.integers(len(colours))]
        drift = 0.4 * texture.value_noise(rng, height, width, cell=0.7 * size)[..., None] ** 2
        pigment = colours[index] * (1 - drift) + other * drift
        transmitted *= np.clip(1.0 - 0.75 * density[..., None] * (1.0 - pigment), 0.0, 1.0)
    # The same depth of pigment overall in every exemplar, however the washes happened to overlap.
    transmitted **= texture.mean_exponent(luminance(transmitted), _MEAN_TRANSMITTANCE)
    return np.clip(paper * transmitted, 0, 1).astype(np.float32)


STYLE = BuiltinStyle(
    name="watercolor",
    description="transparent watercolour washes with pooled dark edges, blooms and granulating paper grain",
    params={
        **common_params(default_palette=DEFAULT_PALETTE),
        "wetness": ParamSpec(default=0.5, type=float,
                             doc="0 = crisp dry edges, 1 = soft edges and many blooms",
                             bounds=(0.0, 1.0)),
    },
    render=render,
)
