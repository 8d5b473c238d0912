"""Noise and paper: the stationary random fields every built-in style is made of.

All fields are float32 arrays of shape (H, W). They are built from random grids upsampled by OpenCV, so
their cost grows with the number of pixels only, never with a Python loop over pixels. Each purpose gets
its own random stream (:func:`stream`), so adding a layer to one style never reshuffles another layer.
"""

from __future__ import annotations

import math
import zlib

import cv2
import numpy as np


def stream(seed: int, purpose: str) -> np.random.Generator:
    """An independent generator for one purpose ("grout", "dots" ...) of one seed."""
    return np.random.default_rng([seed, zlib.crc32(purpose.encode())])


def value_noise(rng: np.random.Generator, height: int, width: int, *, cell: float) -> np.ndarray:
    """Smooth noise with features about ``cell`` px across: (H, W) float32, roughly uniform in [0, 1].

    A random grid with one value per ``cell`` px, upsampled bicubically from a random sub-cell offset.
    """
    if cell <= 1.0:
        return rng.random((height, width), dtype=np.float32)
    rows, cols = math.ceil(height / cell) + 3, math.ceil(width / cell) + 3
    grid = rng.random((rows, cols), dtype=np.float32)
    top, left = rng.random(2) + 0.5  # in cells; keeps the bicubic support inside the grid
    big_h, big_w = round(rows * cell), round(cols * cell)
    if big_h * big_w <= 4 * height * width:  # resize is ~10x faster than a cubic warp, if not too oversized
        big = cv2.resize(grid, (big_w, big_h), interpolation=cv2.INTER_CUBIC)
        y0, x0 = int(top * cell), int(left * cell)
        return np.ascontiguousarray(big[y0 : y0 + height, x0 : x0 + width])
    # Cells as large as the image: sample only the H x W output rather than a grid of huge cells.
    to_grid = np.float32([[1.0 / cell, 0.0, left], [0.0, 1.0 / cell, top]])
    return cv2.warpAffine(grid, to_grid, (width, height), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)


def fractal_noise(
    rng: np.random.Generator, height: int, width: int, *, cell: float, octaves: int = 4, gain: float = 0.5
) -> np.ndarray:
    """Sum of ``octaves`` value noises from ``cell`` px down by halves; (H, W) float32, mean 0, std 1.

    Standardised over the image, so a threshold at ``t`` covers about the same share of every exemplar.
    """
    total = np.zeros((height, width), np.float32)
    for octave in range(octaves):
        total += gain**octave * value_noise(rng, height, width, cell=cell / 2**octave)
    return standardise(total)


def standardise(field: np.ndarray) -> np.ndarray:
    """``field`` shifted and scaled to mean 0 and standard deviation 1 (float32)."""
    return ((field - field.mean()) / (field.std() + 1e-6)).astype(np.float32)


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    """Hermite step from 0 (x <= edge0) to 1 (x >= edge1), float32."""
    if abs(edge1 - edge0) < 1e-12:  # a degenerate edge (e.g. quantiles of a one-pixel image): a hard step
        return (np.asarray(x) >= edge1).astype(np.float32)
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def warp(field: np.ndarray, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """``field`` resampled at (y + dy, x + dx); borders reflect. All (H, W) float32."""
    ys, xs = pixel_grid(*field.shape[:2])
    return cv2.remap(field, xs + dx, ys + dy, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def blur(field: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` px (a no-op below 0.3 px)."""
    if sigma < 0.3:
        return field
    return cv2.GaussianBlur(field, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)


def streaks(rng: np.random.Generator, height: int, width: int, *, angle: float, length: float) -> np.ndarray:
    """White noise smeared along ``angle`` (radians) over ``length`` px: fibres, bristle marks, grain.

    (H, W) float32 with mean 0 and std 1.
    """
    size = max(3, int(length) | 1)
    kernel = np.zeros((size, size), np.float32)
    centre = size // 2
    tip = (round(centre + centre * math.cos(angle)), round(centre + centre * math.sin(angle)))
    tail = (round(centre - centre * math.cos(angle)), round(centre - centre * math.sin(angle)))
    cv2.line(kernel, tail, tip, 1.0, 1, lineType=cv2.LINE_AA)
    kernel /= kernel.sum()
    noise = rng.standard_normal((height, width), dtype=np.float32)
    return standardise(cv2.filter2D(noise, -1, kernel, borderType=cv2.BORDER_REFLECT))


def paper(rng: np.random.Generator, height: int, width: int, *, scale: float) -> np.ndarray:
    """Height of a sheet of paper: tooth, fibres and soft mottling; (H, W) float32, mean 0, std 1.

    Styles darken or catch pigment where this is high or low: that is what makes a wash look granular
    and a pencil line broken.
    """
    tooth = blur(rng.standard_normal((height, width), dtype=np.float32), 0.7 * scale)
    fibres = sum(
        streaks(rng, height, width, angle=rng.uniform(0, math.pi), length=9 * scale) for _ in range(3)
    )
    mottle = value_noise(rng, height, width, cell=24 * scale)
    return standardise(standardise(tooth) + 0.6 * standardise(fibres) + 0.5 * standardise(mottle))


def pixel_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (ys, xs), each float32 (H, W)."""
    ys, xs = np.mgrid[0:height, 0:width]
    return ys.astype(np.float32), xs.astype(np.float32)


def sample_at(field: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Values of (H, W) ``field`` at the nearest pixels to points (ys, xs) (clamped to the image)."""
    height, width = field.shape
    rows = np.clip(np.rint(ys), 0, height - 1).astype(np.int64)
    cols = np.clip(np.rint(xs), 0, width - 1).astype(np.int64)
    return field[rows, cols]


def mean_exponent(field: np.ndarray, target: float) -> float:
    """The power ``g`` making ``mean(field ** g) == target`` for ``field`` in [0, 1] (``g`` in [1/16, 16]).

    Random layouts put more ink in one exemplar than in another, most of all in small ones; bending the
    tone curve to a fixed mean keeps the statistics the style losses see alike from seed to seed. For a
    transmittance, ``g`` is simply a thicker or thinner layer of pigment (Beer-Lambert).
    """
    sample = np.clip(field[::2, ::2], 0.0, 1.0).astype(np.float64)
    low, high = -4.0, 4.0  # log2 of the exponent; the mean falls as the exponent grows
    for _ in range(18):
        mid = (low + high) / 2
        if float(np.mean(sample ** (2.0**mid))) > target:
            low = mid
        else:
            high = mid
    return float(2.0 ** ((low + high) / 2))


def match_mean(field: np.ndarray, target: float) -> np.ndarray:
    """``field`` (values in [0, 1]) bent by a power curve to mean ``target``; 0 and 1 stay put. float32."""
    return (np.clip(field, 0.0, 1.0) ** mean_exponent(field, target)).astype(np.float32)
