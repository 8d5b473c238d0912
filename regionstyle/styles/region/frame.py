"""The region as a renderer sees it: its pixels only, cropped to where it is, the rest filled in.

A region renderer must depend on the photo's pixels inside the region and on nothing else: the building's
tiles may not take the sky's colour because a tile straddles the roofline. So every renderer works on a
:class:`RegionView`: the crop around the region's support (mask > 0.5) where every pixel outside the
support has been replaced by a smooth extrapolation of the pixels inside it (push-pull filling), and the
result is pasted back into a full frame whose outside is an extension of the crop.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SUPPORT_LEVEL = 0.5  # mask values above this are the region; below, the photo is never read


@dataclass(frozen=True)
class RegionView:
    """A region's crop. pixels: float32 (h, w, 3) in [0, 1], filled outside the support;
    support: bool (h, w); box: (top, left, bottom, right) of the crop in the full frame; shape: (H, W)."""

    pixels: np.ndarray
    support: np.ndarray
    box: tuple[int, int, int, int]
    shape: tuple[int, int]

    @property
    def luma(self) -> np.ndarray:
        """Rec. 709 luma of the filled pixels, float32 (h, w) in [0, 1]."""
        return self.pixels @ np.asarray([0.2126, 0.7152, 0.0722], np.float32)


def region_view(photo: np.ndarray, mask: np.ndarray, *, margin: int) -> RegionView:
    """The crop of ``photo`` (H, W, 3) around ``mask`` (H, W) > 0.5, ``margin`` px wider on every side.

    An empty support (a mask that is nowhere above 0.5) gives a view of the whole frame filled with grey.
    """
    support = mask > SUPPORT_LEVEL
    height, width = support.shape
    rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
    if rows.size == 0:
        grey = np.full((height, width, 3), 0.5, np.float32)
        return RegionView(grey, support, (0, 0, height, width), (height, width))
    top, bottom = max(0, rows[0] - margin), min(height, rows[-1] + 1 + margin)
    left, right = max(0, cols[0] - margin), min(width, cols[-1] + 1 + margin)
    crop = support[top:bottom, left:right]
    pixels = fill_outside(np.asarray(photo[top:bottom, left:right], np.float32), crop)
    return RegionView(pixels, crop, (top, left, bottom, right), (height, width))


def fill_outside(image: np.ndarray, support: np.ndarray) -> np.ndarray:
    """``image`` (h, w, 3) with the pixels outside ``support`` replaced by a smooth extrapolation of those
    inside (push-pull: a Gaussian pyramid of the premultiplied image, normalised, filled from coarse to fine).

    Pixels outside the support are multiplied by zero before anything else, so they cannot leak in.
    """
    weight = support.astype(np.float32)
    premultiplied = np.where(support[..., None], image, 0.0).astype(np.float32)
    filled = _pull(premultiplied, weight)
    return np.where(support[..., None], image, filled).astype(np.float32)


def _pull(value: np.ndarray, weight: np.ndarray) -> np.ndarray:
    height, width = weight.shape
    if min(height, width) <= 2:
        total = max(float(weight.sum()), 1e-6)
        mean = value.reshape(-1, 3).sum(axis=0) / total
        return np.broadcast_to(mean.astype(np.float32), value.shape).copy()
    coarse = _pull(cv2.pyrDown(value), cv2.pyrDown(weight))
    up = cv2.pyrUp(coarse, dstsize=(width, height))
    # Where a level has weight of its own it keeps its normalised value; holes take the coarser level.
    alpha = np.clip(2.0 * weight, 0.0, 1.0)[..., None]
    own = value / np.maximum(weight, 1e-6)[..., None]
    return (alpha * own + (1.0 - alpha) * up).astype(np.float32)


def paste(view: RegionView, crop_image: np.ndarray) -> np.ndarray:
    """``crop_image`` (h, w, 3) placed at the view's box in a full (H, W, 3) frame, extended outside by
    reflection (the outside is never shown, but the style statistics at the region's rim may see it)."""
    top, left, bottom, right = view.box
    height, width = view.shape
    frame = cv2.copyMakeBorder(np.ascontiguousarray(crop_image, np.float32), top, height - bottom, left,
                               width - right, cv2.BORDER_REFLECT_101 if min(crop_image.shape[:2]) > 1
                               else cv2.BORDER_REPLICATE)
    return frame.astype(np.float32)
