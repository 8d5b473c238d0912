"""Colour control: moment-matching colour transfer, luminance-only results.

Three modes per region (rules ``color = ...``), after Gatys et al. 2016, "Preserving colour in neural
artistic style transfer":
- ``style``: the region takes its style's palette (initialised by moment transfer, kept by a colour term);
- ``preserve``: luminance-only transfer, the photo's own chroma is put back afterwards;
- ``match``: the style exemplar is first recoloured to the region's colours, then transferred as usual.

Numpy on (H, W, 3) float32 RGB in [0, 1]: each of these runs once per photo, not per iteration, and a run of
laid-in built-ins uses them without loading torch. The optimiser's differentiable colour term is
:func:`regionstyle.losses.color_moments`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# ITU-R BT.601 luma weights: the luminance the eye reads structure from.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
Moments = tuple[np.ndarray, np.ndarray]  # mean (3,) and covariance (3, 3), float64


def moments(pixels: np.ndarray, weights: np.ndarray | None = None) -> Moments:
    """Weighted mean (3,) and covariance (3, 3) of (H, W, 3) pixels; weights: (H, W) or None (all 1)."""
    flat = pixels.reshape(-1, 3).astype(np.float64)
    w = np.ones(len(flat)) if weights is None else weights.reshape(-1).astype(np.float64)
    total = max(float(w.sum()), 1e-12)
    mean = w @ flat / total
    centred = flat - mean
    return mean, (centred * w[:, None]).T @ centred / total


def blended_moments(images: Sequence[np.ndarray], shares: Sequence[float]) -> Moments:
    """The share-weighted mean of several images' moments: a blend's palette."""
    each = [moments(image) for image in images]
    return (sum(w * mean for (mean, _), w in zip(each, shares)),
            sum(w * cov for (_, cov), w in zip(each, shares)))


def _sqrtm(cov: np.ndarray, *, inverse: bool = False) -> np.ndarray:
    """Symmetric square root (or inverse root) of a 3x3 covariance, regularised so flat regions work."""
    values, vectors = np.linalg.eigh(cov + 1e-5 * np.eye(3))
    powered = np.clip(values, 1e-8, None) ** (-0.5 if inverse else 0.5)
    return (vectors * powered) @ vectors.T


def transfer_moments(pixels: np.ndarray, *, source: Moments, target: Moments) -> np.ndarray:
    """Linear colour transfer x' = A (x - mu_s) + mu_t with A = C_t^1/2 C_s^-1/2 (matches mean and covariance).

    pixels: (H, W, 3) in [0, 1]; returns float32 (H, W, 3) clipped to [0, 1].
    """
    matrix = (_sqrtm(target[1]) @ _sqrtm(source[1], inverse=True)).astype(np.float32)
    offset = (target[0] - source[0] @ matrix.T.astype(np.float64)).astype(np.float32)
    return np.clip(pixels.reshape(-1, 3) @ matrix.T + offset, 0.0, 1.0).reshape(pixels.shape)


def recolor_like(pixels: np.ndarray, reference: np.ndarray, reference_weights: np.ndarray | None = None
                 ) -> np.ndarray:
    """Give ``pixels`` (H, W, 3) the colour mean and covariance of ``reference`` (h, w, 3) (weighted)."""
    return transfer_moments(pixels, source=moments(pixels), target=moments(reference, reference_weights))


def luminance(pixels: np.ndarray) -> np.ndarray:
    """Luma (H, W, 1) of RGB pixels (H, W, 3)."""
    return (pixels @ LUMA)[..., None]


def grey(pixels: np.ndarray) -> np.ndarray:
    """Luma repeated on three channels: a style exemplar stripped of colour, for luminance-only transfer."""
    return np.repeat(luminance(pixels), 3, axis=2)


def keep_photo_chroma(result: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """The result's luminance with the photo's colour: photo + (luma(result) - luma(photo)), clipped."""
    return np.clip(photo + (luminance(result) - luminance(photo)), 0.0, 1.0)


def in_mode(image: np.ndarray, color_mode: str, *, photo: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A style exemplar (H', W', 3) as a region's colour mode wants it: grey for ``preserve``, recoloured to
    the region's own colours (``photo`` (H, W, 3) weighted by ``mask`` (H, W)) for ``match``, else as it is."""
    if color_mode == "preserve":
        return grey(image)
    if color_mode == "match":
        return recolor_like(image, photo, mask)
    return image


def styled_start(photo: np.ndarray, masks: np.ndarray, palettes: Sequence[tuple[int, Moments]]) -> np.ndarray:
    """The starting image: in each ``color = "style"`` region, the photo recoloured to its style's palette.

    photo: (H, W, 3); masks: (R, H, W); palettes: (mask row, the style's moments) pairs. Starting from the
    style's colours matters most for encoders whose Gram matrices carry little colour (MobileNet, random VGG).
    """
    start = photo.astype(np.float32, copy=True)
    for index, palette in palettes:
        weight = masks[index][..., None].astype(np.float32)
        moved = transfer_moments(photo, source=moments(photo, masks[index]), target=palette)
        start = start * (1 - weight) + moved * weight
    return start
