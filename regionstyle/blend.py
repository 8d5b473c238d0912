"""Seam blending: putting the untouched regions back, and measuring seams.

All styled regions come out of ONE optimisation over soft masks, so the boundary between two styles is
already continuous. What remains is the boundary between styled pixels and pixels that must stay as in
the photo (``keep`` rules, unclaimed classes). There:
- the photo's weight is feathered *outward* only (into the styled neighbour), so every pixel of a keep
  region stays bit-identical to the input while the styled side fades into it;
- the two images are mixed with a Laplacian pyramid (Burt & Adelson 1983): low frequencies blend over a
  wide band, fine texture over a narrow one, so there is neither a hard edge nor a blurry halo.

The seam measure compares gradient energy in a thin band across region boundaries with a ring just
outside it, each relative to the photo (see :func:`seam_score`).
"""

from __future__ import annotations

import cv2
import numpy as np

from regionstyle.datatypes import RegionMasks


def keep_weight(masks: RegionMasks, *, feather_px: float) -> np.ndarray:
    """Weight (H, W) in [0, 1] of the photo in the final image: 1 on every unstyled pixel, fading outward.

    The hard part is every pixel owned by an unstyled region (``masks.owner``, the partition before
    feathering; where no owner map is given, where unstyled masks dominate); feathering only ever raises
    values outside it, so the keep pixels themselves stay exactly 1.
    """
    unstyled = [i for i, styled in enumerate(masks.styled) if not styled]
    if masks.owner is not None:
        hard = np.isin(masks.owner, unstyled).astype(np.float32)
    else:
        hard = (masks.masks[unstyled].sum(axis=0) >= 0.5).astype(np.float32)
    if feather_px <= 0:
        return hard
    distance = cv2.distanceTransform((1 - hard).astype(np.uint8), cv2.DIST_L2, 5)
    fade = np.clip(1.0 - distance / float(feather_px), 0.0, 1.0)
    return np.maximum(hard, fade).astype(np.float32)


def composite(stylized: np.ndarray, photo: np.ndarray, weight: np.ndarray, *, feather_px: float = 4.0
              ) -> np.ndarray:
    """Blend (H, W, 3) images with the photo's weight (H, W); exact photo pixels where weight == 1.

    The pyramid gets about log2(feather) + 1 levels: its coarsest band mixes over ~2x the feather width,
    so low frequencies cross the boundary smoothly without spreading the photo into a wide halo.
    """
    levels = 1 + max(1, int(np.ceil(np.log2(max(feather_px, 1.0)))))
    mixed = pyramid_blend(photo, stylized, weight, levels=levels)
    exact = weight >= 1.0
    mixed[exact] = photo[exact]
    return mixed


def pyramid_blend(first: np.ndarray, second: np.ndarray, weight: np.ndarray, *, levels: int = 5) -> np.ndarray:
    """Laplacian-pyramid blend: weight * first + (1 - weight) * second, band by band. Inputs float32."""
    levels = max(1, min(levels, int(np.log2(max(2, min(weight.shape)))) - 2))
    masks = [weight.astype(np.float32)]
    for _ in range(levels - 1):
        masks.append(cv2.pyrDown(masks[-1]))
    blended = [m[..., None] * a + (1 - m[..., None]) * b
               for m, a, b in zip(masks, _laplacian(first, levels), _laplacian(second, levels))]
    image = blended[-1]
    for band in reversed(blended[:-1]):
        image = cv2.pyrUp(image, dstsize=(band.shape[1], band.shape[0])) + band
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def _laplacian(image: np.ndarray, levels: int) -> list[np.ndarray]:
    gaussian = [image.astype(np.float32)]
    for _ in range(levels - 1):
        gaussian.append(cv2.pyrDown(gaussian[-1]))
    bands = [fine - cv2.pyrUp(coarse, dstsize=(fine.shape[1], fine.shape[0]))
             for fine, coarse in zip(gaussian[:-1], gaussian[1:])]
    return bands + [gaussian[-1]]


def boundary_bands(labels: np.ndarray, *, band_px: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Masks (H, W) of the band within ``band_px`` of a region boundary and of the ring just beyond it."""
    edges = np.zeros(labels.shape, bool)
    edges[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edges[1:, :] |= labels[1:, :] != labels[:-1, :]
    distance = cv2.distanceTransform((~edges).astype(np.uint8), cv2.DIST_L2, 5)
    return distance <= band_px, (distance > band_px) & (distance <= 4 * band_px)


def _gradient_energy(image: np.ndarray) -> np.ndarray:
    grey = image.astype(np.float32).mean(axis=2)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return gx * gx + gy * gy


def seam_score(output: np.ndarray, photo: np.ndarray, labels: np.ndarray, *, band_px: int = 3) -> float | None:
    """How much stronger edges are along region boundaries than just beside them, relative to the photo.

        seam = (E_band(out) / E_band(photo)) / (E_ring(out) / E_ring(photo))

    E = mean squared Sobel gradient over a set of pixels; band = within ``band_px`` of a boundary of
    ``labels`` (H, W region ids), ring = from band_px to 4 * band_px away. 1.0 means boundaries changed
    exactly like their surroundings (no visible seam); above 1 a seam was added, below 1 boundaries were
    softened. None when the image has no boundary.
    """
    band, ring = boundary_bands(labels, band_px=band_px)
    if not band.any() or not ring.any():
        return None
    energy_out, energy_photo = _gradient_energy(output), _gradient_energy(photo)
    eps = 1e-8
    band_ratio = energy_out[band].mean() / (energy_photo[band].mean() + eps)
    ring_ratio = energy_out[ring].mean() / (energy_photo[ring].mean() + eps)
    return float(band_ratio / (ring_ratio + eps))
