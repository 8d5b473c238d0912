"""Woodcut: black ink printed from a block, with white lines carved out by a gouge.

The block is divided into areas (large Voronoi cells), each carved with parallel gouge lines in its own
direction that bend with a smooth flow, as a carver follows a form. The width of each cut swells and
thins with the tone the carver wants (wide cuts read light, thin cuts dark) and tapers where the gouge
enters and leaves the wood. Uncut ridges are left between areas, the black prints with the mottling of
the wood grain, and the occasional chip of uncleared wood prints as a fleck in the white.
"""

from __future__ import annotations

import numpy as np

from regionstyle.styles import cells, texture
from regionstyle.styles.palettes import get_palette, ink_and_paper
from regionstyle.styles.spec import BuiltinStyle, ParamSpec, common_params

DEFAULT_PALETTE = "mono"


def _gouge_lines(seed: int, height: int, width: int, *, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel: distance in px to the middle of the nearest gouge line, and the area border distance."""
    rng = texture.stream(seed, "woodcut-lines")
    areas = cells.voronoi(cells.jittered_seeds(rng, height, width, cell=16 * spacing, jitter=0.9),
                          height, width)
    angle = rng.uniform(0, np.pi, size=int(areas.ids.max()) + 1).astype(np.float32)[areas.ids]
    bend = 1.5 * spacing * texture.fractal_noise(rng, height, width, cell=12 * spacing, octaves=2)
    ys, xs = texture.pixel_grid(height, width)
    across = -xs * np.sin(angle) + ys * np.cos(angle) + bend
    offset = np.abs(across / spacing - np.floor(across / spacing) - 0.5) * spacing
    wobble = 0.6 * spacing * (texture.value_noise(rng, height, width, cell=4 * spacing) - 0.5)
    return offset, areas.border + wobble  # borders cut freehand, not ruled


def render(*, height: int, width: int, seed: int, palette: str, scale: float, spacing: float) -> np.ndarray:
    """Woodcut exemplar: float32 (H, W, 3) in [0, 1]; gouge lines ``spacing * scale`` px apart."""
    gap = max(2.5, spacing * scale)  # a cut and a ridge need a pixel or two each
    ink, paper_colour = ink_and_paper(get_palette(palette, default=DEFAULT_PALETTE))
    offset, border = _gouge_lines(seed, height, width, spacing=gap)
    rng = texture.stream(seed, "woodcut-cut")
    tone = texture.fractal_noise(rng, height, width, cell=6 * gap, octaves=2)
    swell = texture.fractal_noise(rng, height, width, cell=3 * gap, octaves=2)
    # Share of each line period cut away: 0 leaves solid black, 1 clears the wood completely.
    cut = np.clip(0.42 + 0.3 * tone + 0.15 * swell, 0.0, 1.0)
    white = np.clip(cut * gap / 2 - offset + 0.5, 0, 1)  # anti-aliased edge of the cut
    ridge = np.clip(border - 0.35 * gap + 0.5, 0, 1)  # a black ridge left standing between areas
    chips = (texture.value_noise(rng, height, width, cell=0.6 * gap) > 0.97).astype(np.float32)
    printed = 1 - white * ridge * (1 - chips)  # 1 where the block touched the paper
    grain = texture.streaks(rng, height, width, angle=rng.uniform(0, np.pi), length=15 * gap)
    ink_load = np.clip(0.92 + 0.06 * grain, 0, 1)  # wood grain shows as faint streaks in the black
    density = texture.blur(printed, 0.4) * ink_load
    paper = paper_colour * (1 + 0.02 * texture.paper(rng, height, width, scale=scale)[..., None])
    return np.clip(paper * (1 - density[..., None]) + ink * density[..., None], 0, 1).astype(np.float32)


STYLE = BuiltinStyle(
    name="woodcut",
    description="woodcut print: black ink with white gouge lines following the forms, strong contrast",
    params={
        **common_params(default_palette=DEFAULT_PALETTE),
        "spacing": ParamSpec(default=8.0, type=float, doc="distance between gouge lines in px (before scale)",
                             bounds=(3.0, 48.0)),
    },
    render=render,
)
