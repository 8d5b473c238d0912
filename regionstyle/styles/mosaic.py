"""Mosaic: hand-cut near-square tesserae in gently curving rows, set in grout.

Rows follow a slowly warped coordinate frame (as in opus vermiculatum, where tesserae follow contours),
each row is shifted by a random amount, and every tile gets its own margins, corner rounding, ragged edge,
tilt and colour jitter, so no two tiles are the same and the grout between them varies in width.
"""

from __future__ import annotations

import numpy as np

from regionstyle.styles import texture
from regionstyle.styles.palettes import balanced_choice, get_palette
from regionstyle.styles.spec import BuiltinStyle, ParamSpec, common_params

DEFAULT_PALETTE = "terracotta"
_GROUT = np.asarray([0.42, 0.40, 0.37], dtype=np.float32)


def _tile_frame(seed: int, height: int, width: int, size: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tile id (int64 (H, W), 0-based) and each pixel's position inside its tile (fy, fx) in [0, size)."""
    rng = texture.stream(seed, "mosaic-rows")
    ys, xs = texture.pixel_grid(height, width)
    bend = 0.3 * size
    v = ys + bend * (2 * texture.value_noise(rng, height, width, cell=4 * size) - 1)
    u = xs + bend * (2 * texture.value_noise(rng, height, width, cell=4 * size) - 1)
    row_raw = np.floor(v / size)
    row = (row_raw - row_raw.min()).astype(np.int64)
    shift = rng.random(row.max() + 1, dtype=np.float32)[row] * size  # running bond with random offsets
    col_raw = np.floor((u + shift) / size)
    col = (col_raw - col_raw.min()).astype(np.int64)
    tile = row * (col.max() + 1) + col
    return tile, v - row_raw * size, u + shift - col_raw * size


def _tesserae(
    seed: int, tile: np.ndarray, fy: np.ndarray, fx: np.ndarray, size: float
) -> tuple[np.ndarray, np.ndarray]:
    """Coverage of the stone (float32 (H, W) in [0, 1]) and signed distance to the stone's edge in px."""
    rng = texture.stream(seed, "mosaic-cut")
    count = int(tile.max()) + 1
    gap = max(0.8, 0.07 * size)
    margins = rng.uniform(0.5 * gap, 1.6 * gap, size=(4, count)).astype(np.float32)[:, tile]
    top, bottom, left, right = margins
    half_y, half_x = (size - top - bottom) / 2, (size - left - right) / 2
    corner = 0.18 * size
    qy = np.abs(fy - top - half_y) - (half_y - corner)
    qx = np.abs(fx - left - half_x) - (half_x - corner)
    outside = np.hypot(np.maximum(qy, 0), np.maximum(qx, 0)) + np.minimum(np.maximum(qy, qx), 0) - corner
    height, width = tile.shape
    ragged = 0.07 * size * (2 * texture.value_noise(rng, height, width, cell=size / 3) - 1)
    distance = outside + ragged
    return np.clip(0.5 - distance, 0.0, 1.0), distance


def _tile_colours(seed: int, tile: np.ndarray, colours: np.ndarray, size: float) -> np.ndarray:
    """Colour of every pixel's tile, (H, W, 3): patches of related colours with per-tile jitter."""
    rng = texture.stream(seed, "mosaic-colour")
    count = int(tile.max()) + 1
    # Neighbouring tiles often share a colour (a mosaicist lays bands and patches), but not always.
    height, width = tile.shape
    field = texture.value_noise(rng, height, width, cell=5 * size)
    hits = np.maximum(np.bincount(tile.ravel(), minlength=count), 1)
    mean = np.bincount(tile.ravel(), weights=field.ravel(), minlength=count) / hits
    rank = np.argsort(np.argsort(mean))  # equal shares of the palette along the field
    index = (rank * len(colours) // count).astype(np.int64)
    stray = rng.random(count) < 0.3
    index[stray] = balanced_choice(rng, len(colours), int(stray.sum()))
    light = rng.uniform(0.82, 1.12, size=(count, 1))
    tint = rng.uniform(-0.04, 0.04, size=(count, 3))
    per_tile = np.clip(colours[index] * light + tint, 0, 1).astype(np.float32)
    return per_tile[tile]


def render(*, height: int, width: int, seed: int, palette: str, scale: float, tile: int) -> np.ndarray:
    """Mosaic exemplar: float32 (H, W, 3) in [0, 1]; tesserae about ``tile * scale`` px apart."""
    size = max(3.0, tile * scale)  # below 3 px a tile is no longer a tile
    colours = get_palette(palette, default=DEFAULT_PALETTE)
    tile_id, fy, fx = _tile_frame(seed, height, width, size)
    cover, distance = _tesserae(seed, tile_id, fy, fx, size)
    stone = _tile_colours(seed, tile_id, colours, size)
    rng = texture.stream(seed, "mosaic-surface")
    count = int(tile_id.max()) + 1
    tilt = rng.uniform(-0.12, 0.12, size=(2, count)).astype(np.float32)[:, tile_id]
    bevel = 1.0 - 0.35 * np.exp(np.minimum(distance, 0) / (0.1 * size))  # worn, rounded stone edges
    grain = 0.05 * texture.value_noise(rng, height, width, cell=1.5)
    shade = bevel * (1 + tilt[0] * (fy / size - 0.5) + tilt[1] * (fx / size - 0.5)) + grain
    grout = _GROUT * (0.85 + 0.3 * texture.value_noise(rng, height, width, cell=2.0))[..., None]
    image = cover[..., None] * stone * shade[..., None] + (1 - cover[..., None]) * grout
    return np.clip(image, 0, 1).astype(np.float32)


STYLE = BuiltinStyle(
    name="mosaic",
    description="tesserae: irregular near-square stone tiles with grout lines and per-tile colour variation",
    params={
        **common_params(default_palette=DEFAULT_PALETTE),
        "tile": ParamSpec(default=16, type=int, doc="tile size in px (before scale)", bounds=(4, 256)),
    },
    render=render,
)
