"""Colour decisions shared by the region renderers: palettes, saturation, ink and paper.

A region rendering takes its colours from the photo. ``palette = "default"`` keeps them; a named palette
pulls them toward the palette: the region's colours are first moved to the palette's mean and spread
(so the whole palette gets used, light colours for light parts), then each is drawn most of the way to the
nearest palette colour. A painter working from a limited palette does much the same.
"""

from __future__ import annotations

import cv2
import numpy as np

from regionstyle.styles.palettes import PALETTES, ink_and_paper

_LUMA = np.asarray([0.2126, 0.7152, 0.0722], np.float32)
PALETTE_PULL = 0.75  # how far toward the nearest palette colour; the rest keeps the photo's nuance


def luma(colours: np.ndarray) -> np.ndarray:
    """Rec. 709 luma of (..., 3) colours, shape (...)."""
    return (colours @ _LUMA).astype(np.float32)


# Fairchild and Pirrotta (1991): a chromatic colour looks lighter than a grey of its luminance (the
# Helmholtz-Kohlrausch effect); L** = L* + (2.5 - 0.025 L*) (0.116 |sin((h - 90 deg) / 2)| + 0.085) C*.
def value(colours: np.ndarray) -> np.ndarray:
    """Perceived lightness of (..., 3) sRGB colours in [0, 1] as a draughtsman judges it, shape (...): CIE
    L* raised for chroma (Fairchild-Pirrotta), over 100, clipped to 1. A clear blue sky of luma 0.43 reads
    0.62, a brick red of luma 0.36 reads 0.49, a grey its L* (sRGB 0.5: 0.53). Drawings in one ink (pencil,
    woodcut) shade by this rather than by luma."""
    flat = np.ascontiguousarray(np.asarray(colours, np.float32).reshape(-1, 1, 3))
    lab = cv2.cvtColor(flat, cv2.COLOR_RGB2Lab).reshape(-1, 3)
    lightness, chroma = lab[:, 0], np.hypot(lab[:, 1], lab[:, 2])
    hue = np.arctan2(lab[:, 2], lab[:, 1])
    lift = (2.5 - 0.025 * lightness) * (0.116 * np.abs(np.sin((hue - np.pi / 2) / 2)) + 0.085)
    lifted = lightness + lift * chroma
    return np.clip(lifted / 100, 0.0, 1.0).astype(np.float32).reshape(np.shape(colours)[:-1])


def saturate(colours: np.ndarray, amount: float) -> np.ndarray:
    """Colours (..., 3) with their distance from grey (same luma) multiplied by ``amount``, clipped."""
    grey = luma(colours)[..., None]
    return np.clip(grey + amount * (colours - grey), 0.0, 1.0).astype(np.float32)


def toward_palette(colours: np.ndarray, palette: str, *, weights: np.ndarray | None = None) -> np.ndarray:
    """``colours`` (N, 3) pulled toward palette ``palette``; unchanged for ``"default"``. float32 (N, 3).

    weights: (N,) how much each colour counts for the mean and spread (e.g. the area of its tile).
    """
    if palette == "default" or len(colours) == 0:
        return np.asarray(colours, np.float32)
    swatch = PALETTES[palette]
    moved = _match_moments(np.asarray(colours, np.float64), swatch.astype(np.float64), weights)
    nearest = swatch[np.argmin(((moved[:, None, :] - swatch[None]) ** 2).sum(axis=-1), axis=1)]
    return np.clip(PALETTE_PULL * nearest + (1 - PALETTE_PULL) * moved, 0.0, 1.0).astype(np.float32)


def _match_moments(colours: np.ndarray, target: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Per-channel mean and standard deviation of ``colours`` moved to those of ``target`` (robust to a
    flat region: its spread is never divided by less than 0.02)."""
    w = np.ones(len(colours)) if weights is None else np.asarray(weights, np.float64) + 1e-12
    mean = np.average(colours, axis=0, weights=w)
    spread = np.sqrt(np.average((colours - mean) ** 2, axis=0, weights=w))
    return (colours - mean) / np.maximum(spread, 0.02) * target.std(axis=0) + target.mean(axis=0)


def ink_paper(palette: str, *, default: str = "mono") -> tuple[np.ndarray, np.ndarray]:
    """(ink, paper) float32 (3,) colours of a monochrome rendering in ``palette``."""
    return ink_and_paper(PALETTES[default if palette == "default" else palette])
