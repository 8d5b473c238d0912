"""Oil impasto: thick directional brush strokes whose relief catches the light.

Strokes follow a swirling flow. Inside each stroke the paint has a height: a rounded body, grooves left
by the bristles running along the stroke, ridges squeezed up along its flanks and a blob where the brush
lifted off. The picture is lit from the upper left through that height map, so every stroke gets a bright
and a shaded side and small specular highlights, which is what reads as "thick paint".
"""

from __future__ import annotations

import cv2
import numpy as np

from regionstyle.styles import strokes, texture
from regionstyle.styles.palettes import even_shares, get_palette
from regionstyle.styles.spec import BuiltinStyle, ParamSpec, common_params

DEFAULT_PALETTE = "starry"
_BRISTLES = 12
_LIGHT = np.asarray([-0.55, -0.55, 0.63], dtype=np.float32)  # (x, y, z), from the upper left
_HALFWAY = (_LIGHT + np.asarray([0, 0, 1], np.float32)) / np.linalg.norm(_LIGHT + np.asarray([0, 0, 1]))


def _bristles(rng: np.random.Generator, frame: strokes.StrokeFrame) -> np.ndarray:
    """Bristle grooves, float32 (H, W) about N(0, 1): a random profile across each stroke, constant along."""
    table = rng.standard_normal((frame.count, _BRISTLES + 1)).astype(np.float32)
    position = (frame.across + 1) / 2 * _BRISTLES
    low = np.floor(position).astype(np.int64).clip(0, _BRISTLES - 1)
    blend = position - low
    ids = frame.lookup
    return table[ids, low] * (1 - blend) + table[ids, low + 1] * blend


def _relief(frame: strokes.StrokeFrame, grooves: np.ndarray, thickness: np.ndarray) -> np.ndarray:
    """Paint height in units of the stroke's half width, float32 (H, W)."""
    across, along = frame.across, frame.along
    body = np.clip(1 - across**2, 0, 1) ** 0.35  # a flat-topped ribbon, not a tube
    flanks = np.exp(-(((np.abs(across) - 0.85) / 0.12) ** 2))  # paint squeezed out along the sides
    blob = texture.smoothstep(-0.4, -1.0, along) * body  # the loaded brush lands heavily
    return (thickness[frame.lookup] * (0.3 * body + 0.16 * grooves * body + 0.2 * flanks + 0.35 * blob))


def _coverage(frame: strokes.StrokeFrame, grooves: np.ndarray) -> np.ndarray:
    """Opacity of the stroke, float32 (H, W): the brush runs dry towards its end, leaving bristle marks."""
    dry = texture.smoothstep(0.1, 1.0, frame.along)
    alpha = np.clip(2.0 * (grooves + 1.4 - 3.0 * dry), 0, 1)
    ragged = np.clip(6.0 * (1.0 - np.abs(frame.across)) + 0.5 * grooves, 0, 1)
    return (alpha * ragged * frame.covered).astype(np.float32)


def _colours(rng: np.random.Generator, frame: strokes.StrokeFrame, odds: np.ndarray,
             colours: np.ndarray) -> np.ndarray:
    """Unlit paint, float32 (H, W, 3): a colour per stroke, favouring the locally likely ones, streaked
    with a second colour along the bristles."""
    at_centre = np.stack([texture.sample_at(o, frame.centres[:, 0], frame.centres[:, 1]) for o in odds], 1)
    area = np.bincount(frame.ids[frame.covered], minlength=frame.count).astype(np.float64)
    first = even_shares(2.0 * at_centre + rng.gumbel(size=at_centre.shape), area)
    main = colours[first] * rng.uniform(0.85, 1.1, size=(frame.count, 1))
    second = colours[rng.integers(len(colours), size=frame.count)]
    streak = np.clip(_bristles(rng, frame) - 0.7, 0, 1)[..., None] * 0.7
    return (main[frame.lookup] * (1 - streak) + second[frame.lookup] * streak).astype(np.float32)


def _light(paint: np.ndarray, height_map: np.ndarray, *, size: float) -> np.ndarray:
    """Shade ``paint`` by the relief ``height_map`` (px): diffuse light plus Blinn specular highlights.

    The relief is softened in proportion to the stroke width ``size``: wet paint slumps, and the lit
    texture keeps the same look at every scale instead of sharp one-pixel creases.
    """
    relief = cv2.GaussianBlur(height_map, (0, 0), max(0.6, 0.06 * size))
    gx = cv2.Sobel(relief, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(relief, cv2.CV_32F, 0, 1, ksize=3) / 8
    norm = np.sqrt(gx * gx + gy * gy + 1)
    diffuse = np.clip((-gx * _LIGHT[0] - gy * _LIGHT[1] + _LIGHT[2]) / norm, 0, 1)
    gloss = np.clip((-gx * _HALFWAY[0] - gy * _HALFWAY[1] + _HALFWAY[2]) / norm, 0, 1) ** 40
    return paint * (0.3 + 0.85 * diffuse)[..., None] + 0.4 * gloss[..., None]


def render(*, height: int, width: int, seed: int, palette: str, scale: float, stroke: int) -> np.ndarray:
    """Oil-impasto exemplar: float32 (H, W, 3) in [0, 1]; strokes ``stroke * scale`` px wide."""
    size = max(3.0, stroke * scale)  # also bounds the number of strokes drawn
    rng = texture.stream(seed, "oil")
    colours = get_palette(palette, default=DEFAULT_PALETTE)
    angles = strokes.flow_angles(rng, height, width, size=8 * size)
    odds = np.stack([texture.fractal_noise(rng, height, width, cell=8 * size, octaves=2) for _ in colours])
    # An underlayer of broad strokes covers the canvas; the main strokes go over it, drying out at the end.
    paint = np.broadcast_to(colours.mean(axis=0), (height, width, 3))  # the toned ground, seen in rare gaps
    relief = np.zeros((height, width), np.float32)
    for grow, density, jitter in ((1.5, 2.5, 0.25), (1.0, 1.2, 0.15)):
        frame = strokes.lay_strokes(rng, angles, width=grow * size, length=3.2 * grow * size,
                                    density=density, jitter=jitter)
        grooves = _bristles(rng, frame)
        alpha = _coverage(frame, grooves) if grow == 1.0 else frame.covered.astype(np.float32)
        thickness = rng.uniform(0.6, 1.3, frame.count).astype(np.float32)
        layer_height = _relief(frame, grooves, thickness) * (grow * size / 2)
        paint = paint * (1 - alpha[..., None]) + _colours(rng, frame, odds, colours) * alpha[..., None]
        relief = relief * (1 - 0.7 * alpha) + layer_height * alpha
    return np.clip(_light(paint, relief.astype(np.float32), size=size), 0, 1).astype(np.float32)


STYLE = BuiltinStyle(
    name="oil",
    description="oil impasto: thick directional brush strokes lit through their relief",
    params={
        **common_params(default_palette=DEFAULT_PALETTE),
        "stroke": ParamSpec(default=12, type=int, doc="brush width in px (before scale)", bounds=(3, 96)),
    },
    render=render,
)
