"""Watercolour from the photo: the region's tones laid as a few flat transparent washes on paper.

The photo is simplified by edge-preserving smoothing and flattened by mean shift into patches of one
colour (a watercolourist lays a wash per shape, not a colour per pixel), lightened as transparent pigment
over white paper, and the wash edges are wobbled. Pigment then pools at the edges of every wash as it
dries (darkened wet edges), settles in the paper's hollows (granulation) and varies in density across the
wash (turbulence); the pigment model is Bousseau et al. 2006: C' = C - (C - C^2)(d - 1) for density d.
"""

from __future__ import annotations

import cv2
import numpy as np

from regionstyle.styles import texture
from regionstyle.styles.region import fields, tones
from regionstyle.styles.region.frame import RegionView

_PAPER = np.asarray([0.97, 0.955, 0.92], np.float32)
# A photo's 8-bit rounding steps a smooth gradient (a clear sky) by 1/255; the rims of those steps are
# under RIM_ROUNDING deep, and they are no wash edges. Rims are scaled by the region's own 98th percentile,
# but never by less than RIM_FULL_DEPTH: scaled to full strength, a clear sky's rounding steps drew dark
# contour lines across it (benchmarks/README.md, "Wet edges").
RIM_ROUNDING = 0.001
RIM_FULL_DEPTH = 0.003


def render(view: RegionView, *, seed: int, palette: str, scale: float, wetness: float) -> np.ndarray:
    """float32 (h, w, 3); ``wetness`` 0 gives crisp washes, 1 soft, bleeding ones."""
    rng = texture.stream(seed, "watercolor-region")
    height, width = view.support.shape
    image8 = np.clip(view.pixels * 255 + 0.5, 0, 255).astype(np.uint8)
    smooth8 = cv2.edgePreservingFilter(image8, flags=cv2.RECURS_FILTER, sigma_s=(10 + 20 * wetness) * scale,
                                       sigma_r=0.25)
    # Mean shift flattens the smoothed photo into patches of one colour: the washes.
    flat = cv2.pyrMeanShiftFiltering(smooth8, sp=max(2, round(6 * scale)), sr=18).astype(np.float32) / 255
    pigment = tones.toward_palette(flat.reshape(-1, 3), palette).reshape(flat.shape)
    # Transparent pigment over white paper: everything lighter and a touch purer than the photo.
    pigment = tones.saturate(1.0 - 0.85 * (1.0 - pigment), 1.2)
    wobble = (0.5 + 1.0 * wetness) * scale
    dy = wobble * texture.fractal_noise(rng, height, width, cell=16 * scale, octaves=2)
    dx = wobble * texture.fractal_noise(rng, height, width, cell=16 * scale, octaves=2)
    wash = fields.smooth(texture.warp(pigment, dy, dx), (0.4 + 1.2 * wetness) * scale)
    return _pigment_effects(rng, wash, scale=scale, wetness=wetness)


def _pigment_effects(rng: np.random.Generator, wash: np.ndarray, *, scale: float, wetness: float) -> np.ndarray:
    """Darkened wet edges, granulation and turbulence applied to ``wash`` (h, w, 3) as pigment density."""
    height, width = wash.shape[:2]
    grain = texture.standardise(texture.blur(texture.paper(rng, height, width, scale=scale), 0.8 * scale))
    luma = tones.luma(wash)
    # The edge of every wash: pigment carried there by the drying water makes a darker rim.
    rim = np.clip(fields.smooth(luma, (1.5 + 1.5 * wetness) * scale) - luma - RIM_ROUNDING, 0, None)
    rim = np.clip(rim / max(float(np.quantile(rim, 0.98)), RIM_FULL_DEPTH), 0, 1)
    turbulence = texture.fractal_noise(rng, height, width, cell=40 * scale, octaves=3)
    density = 1.0 + 0.6 * rim + 0.1 * turbulence + 0.12 * grain
    painted = wash - (wash - wash * wash) * (density[..., None] - 1.0)
    paper = _PAPER * (1.0 + 0.02 * grain[..., None])
    return np.clip(painted * paper, 0, 1).astype(np.float32)
