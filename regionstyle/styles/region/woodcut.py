"""Woodcut from the photo: black ink, white carved lines along the shapes, contours left standing.

The block is cut in patches of straight parallel gouge lines, each patch running along the local edge
direction (one of four, chosen per area as a cutter would; level where no edge runs); a carved line is as
wide as the photo is light there (perceived lightness, ``tones.value``), so light areas are mostly cut
away and dark ones stay black. The strongest edges and the region's outline are left uncut as black
contour lines, highlights are cleared wholesale, and the inked surface shows a faint wood grain.
"""

from __future__ import annotations

import numpy as np

from regionstyle.styles import texture
from regionstyle.styles.region import fields, tones
from regionstyle.styles.region.frame import RegionView
from regionstyle.styles.region.pencil import darkness, hatch

_DIRECTIONS = 4
# Where no edge runs (a clear sky) the votes are noise and the block came out in patches cut every way; a
# cutter's default there is the horizontal line, so it gets this much of a vote everywhere.
_HORIZONTAL_VOTE = 0.15
# Gradient energy (luma per px, squared) at which an area counts as half sure of its direction: the weakest
# real edge's. Below it (a clear sky: 0.002-0.004 per px) the structure tensor's direction is still coherent
# (it follows the sky's gentle gradient or a nearby tower's outline, blurred into the sky), and the sky was cut
# in diagonal and vertical patches.
_EDGE_ENERGY = fields.MIN_EDGE_GRADIENT ** 2


def carving_direction(angles: np.ndarray, coherence: np.ndarray, sureness: np.ndarray, *, sigma: float
                      ) -> np.ndarray:
    """Index (h, w) of the nearest of ``_DIRECTIONS`` directions, decided per area (votes blurred over
    ``sigma`` px) so that each patch of the block is cut one way.

    sureness: (h, w) in [0, 1], how much the area has edges of its own. It weighs each pixel's vote and, again,
    the blurred votes where they land, so a flat area keeps the horizontal default instead of taking the
    direction of a textured area next to it."""
    votes = []
    for k in range(_DIRECTIONS):
        agreement = np.clip(np.cos(2 * (angles - k * np.pi / _DIRECTIONS)), 0, 1) * (0.2 + coherence) * sureness
        vote = fields.smooth(agreement.astype(np.float32), sigma) * sureness
        votes.append(vote + _HORIZONTAL_VOTE if k == 0 else vote)
    return np.argmax(np.stack(votes), axis=0)


def edge_sureness(luma: np.ndarray, *, sigma: float) -> np.ndarray:
    """(h, w) in [0, 1): the gradient energy of ``luma`` averaged over ``sigma`` px, e / (e + _EDGE_ENERGY)."""
    gy, gx = fields.gradients(luma, sigma=1.0)
    energy = fields.smooth(gx * gx + gy * gy, sigma)
    return energy / (energy + _EDGE_ENERGY)


def render(view: RegionView, *, seed: int, palette: str, scale: float, spacing: float) -> np.ndarray:
    """float32 (h, w, 3): carved lines ``spacing * scale`` px apart."""
    gap = max(2.5, spacing * scale)
    rng = texture.stream(seed, "woodcut-region")
    height, width = view.support.shape
    ink, paper = tones.ink_paper(palette)
    angles, coherence = fields.tangent_angles(view.luma, view.support, sigma=2 * gap)
    direction = carving_direction(angles, coherence, edge_sureness(view.luma, sigma=gap), sigma=2 * gap)
    light = 1.0 - darkness(fields.smooth(tones.value(view.pixels), 0.35 * gap), view.support)
    cut = np.clip((light - 0.2) / 0.65, 0.0, 1.0)  # share of each line carved away
    ys, xs = texture.pixel_grid(height, width)
    wobble = 0.12 * texture.fractal_noise(rng, height, width, cell=5 * gap, octaves=2)
    carved = np.zeros((height, width), np.float32)
    for k in range(_DIRECTIONS):
        lines = hatch(ys, xs, k * np.pi / _DIRECTIONS, spacing=gap, width=cut, phase=wobble)
        carved = np.where(direction == k, lines, carved)
    carved = np.maximum(carved, texture.smoothstep(0.88, 0.95, light))  # highlights cleared wholesale
    contours = fields.edge_map(view.luma, view.support, sigma=max(1.0, 0.2 * gap), keep=0.08)
    standing = fields.distance_to(contours) < max(1.0, 0.18 * gap)
    carved = np.where(standing, 0.0, carved)
    grain = 0.06 * texture.streaks(rng, height, width, angle=0.0, length=30 * scale)
    inked = np.clip((1.0 - carved) * (1.0 + grain), 0.0, 1.0)[..., None]
    return np.clip(paper * (1 - inked) + ink * inked, 0, 1).astype(np.float32)
