"""Segmentation + resolved rules -> soft style-region masks that sum to 1 at every pixel.

A region's soft mask is the sum of its member classes' probabilities (at the model's working resolution;
only the R region maps are then upsampled, bilinearly, which keeps the sum at 1). Hard label maps give
one-hot masks. The pixels no region claims form the "unstyled" remainder, always the last mask.

Small styled regions (``min_area``) are dissolved into their neighbours, not into the remainder: a speck
of sky too small for reliable style statistics takes the style of what surrounds it, rather than staying
a photographic hole in a painted scene. A styled region that is the largest mask at no pixel at all is
not in the photo and dissolves the same way: a network's soft masks still give its classes a trace of
probability everywhere, which would otherwise be styled as a faint region spread over the whole scene
(a label map simply leaves such a region empty). Keep regions and the remainder never dissolve (a keep
rule is a promise). Mass only ever moves between masks, so the sum-to-one invariant survives every step;
feathering blurs each mask and renormalises.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import cv2
import numpy as np

from regionstyle.datatypes import RegionMasks, Segmentation
from regionstyle.errors import BadInput

if TYPE_CHECKING:
    import maskrules

log = logging.getLogger(__name__)

REMAINDER = "unstyled"
# A Gaussian step edge rises from 5 % to 95 % over 2 * 1.645 sigma; feather_px names that width.
_BAND_SIGMAS = 2 * 1.645


def build_region_masks(segmentation: Segmentation, resolution: maskrules.Resolution, *, min_area: float = 0.0,
                       feather_px: float = 0.0, cleanup_px: int = 0) -> RegionMasks:
    """Soft masks of ``resolution``'s regions plus the unstyled remainder, float32 (R, H, W) in [0, 1].

    min_area: styled regions below this share of the image are dissolved into their neighbours.
    feather_px: width in pixels of the soft band at region borders (a rule's ``feather`` overrides it).
    cleanup_px: islands and holes smaller than cleanup_px x cleanup_px pixels join the region around them.
    Styled regions left empty are omitted; ``rule_index`` is each mask's index in ``resolution.regions``
    (-1 for the remainder).
    """
    _check_inputs(segmentation, resolution, min_area=min_area, feather_px=feather_px, cleanup_px=cleanup_px)
    regions = resolution.regions
    masks = _soft_masks(segmentation, _membership(resolution, len(segmentation.class_names)))
    styled = np.array([not r.keep for r in regions] + [False])
    if min_area > 0:
        masks = dissolve_small(masks, styled & (masks.mean(axis=(1, 2)) < min_area))
    masks = dissolve_small(masks, styled & ~owns_a_pixel(masks))
    if cleanup_px > 0:
        masks = remove_islands(masks, min_pixels=cleanup_px * cleanup_px)
    widths = [r.settings.get("feather", feather_px) for r in regions] + [feather_px]
    hard_owner = owner_map(masks)  # before feathering: the partition keep regions are judged by
    masks = feather(masks, widths)
    keep = [i for i in range(len(masks)) if not styled[i] or masks[i].any() or (hard_owner == i).any()]
    names = [r.name for r in regions] + [REMAINDER]
    log.info("region masks: %s", ", ".join(f"{names[i]} {masks[i].mean():.1%}" for i in keep))
    renumber = np.full(len(masks), -1, np.int32)
    renumber[keep] = np.arange(len(keep), dtype=np.int32)
    return RegionMasks(names=tuple(names[i] for i in keep), masks=np.ascontiguousarray(masks[keep]),
                       styled=tuple(bool(styled[i]) for i in keep),
                       rule_index=tuple(i if i < len(regions) else -1 for i in keep),
                       owner=renumber[hard_owner])


def _check_inputs(segmentation: Segmentation, resolution: maskrules.Resolution, *, min_area: float,
                  feather_px: float, cleanup_px: int) -> None:
    if tuple(resolution.vocabulary.classes) != tuple(segmentation.class_names):
        raise BadInput(f"the rules were resolved against the {resolution.vocabulary.name} vocabulary "
                       f"({len(resolution.vocabulary.classes)} classes) but the segmentation uses "
                       f"{segmentation.vocabulary} ({len(segmentation.class_names)} classes)")
    if not 0.0 <= min_area < 1.0:
        raise BadInput(f"min_area: expected a share of the image in [0, 1), got {min_area}")
    if feather_px < 0 or cleanup_px < 0:
        raise BadInput(f"feather_px and cleanup_px must be >= 0, got {feather_px} and {cleanup_px}")


def _membership(resolution: maskrules.Resolution, num_classes: int) -> np.ndarray:
    """float32 (R + 1, K): 1 where class k belongs to region r; the last row takes unclaimed classes.

    A class claimed twice (the resolver never does this) stays with the first region, so rows stay disjoint.
    """
    table = np.zeros((len(resolution.regions) + 1, num_classes), dtype=np.float32)
    for row, region in enumerate(resolution.regions):
        ids = [i for i in region.class_ids if 0 <= i < num_classes and not table[:, i].any()]
        table[row, ids] = 1.0
    table[-1] = 1.0 - table[:-1].sum(axis=0)
    return table


def _soft_masks(segmentation: Segmentation, membership: np.ndarray) -> np.ndarray:
    """(R, H, W): member-probability sums upsampled bilinearly, or one-hot masks from hard labels."""
    height, width = segmentation.size
    if segmentation.probs is None:
        labels = np.clip(segmentation.labels, 0, membership.shape[1] - 1)
        return np.stack([row[labels] for row in membership]).astype(np.float32)
    k, h, w = segmentation.probs.shape
    low = (membership @ segmentation.probs.reshape(k, h * w)).reshape(-1, h, w)
    # cv2's INTER_LINEAR samples at pixel centres, like F.interpolate(align_corners=False) for the labels.
    return np.stack([cv2.resize(m, (width, height), interpolation=cv2.INTER_LINEAR) for m in low])


def owner_map(masks: np.ndarray) -> np.ndarray:
    """int32 (H, W): the index of the largest mask at every pixel."""
    return masks.argmax(axis=0).astype(np.int32)


def owns_a_pixel(masks: np.ndarray) -> np.ndarray:
    """bool (R,): which masks are the largest at one pixel or more."""
    return np.bincount(owner_map(masks).ravel(), minlength=len(masks)) > 0


def dissolve_small(masks: np.ndarray, dissolve: np.ndarray) -> np.ndarray:
    """Move all mass of the masks flagged in ``dissolve`` to the nearest surviving region, pixel by pixel."""
    if not dissolve.any():
        return masks
    owner = owner_map(masks)
    unknown = dissolve[owner]
    if unknown.all():  # nothing survives to absorb them (only when min_area is above every region's share)
        log.warning("min_area would dissolve every region; keeping them")
        return masks
    # Regions that own no pixel (absent from the photo) give each pixel's mass to that pixel's owner.
    target = _nearest_owner(owner, unknown) if unknown.any() else owner
    out = masks.copy()
    for index in np.flatnonzero(dissolve):
        _move_mass(out, source=index, target=target)
    return out


def remove_islands(masks: np.ndarray, *, min_pixels: int) -> np.ndarray:
    """Connected pieces of the owner map smaller than ``min_pixels`` join the region around them."""
    owner = owner_map(masks)
    small = np.zeros(owner.shape, dtype=bool)
    for index in np.unique(owner):
        count, pieces, stats, _ = cv2.connectedComponentsWithStats((owner == index).astype(np.uint8), 8)
        tiny = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < min_pixels)
        small |= np.isin(pieces, tiny[tiny > 0])
    if not small.any() or small.all():
        return masks
    target = _nearest_owner(owner, small)
    out = masks.copy()
    for index in np.unique(owner[small]):
        _move_mass(out, source=int(index), target=target, where=small & (owner == index))
    return out


def _nearest_owner(owner: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """``owner`` with every ``unknown`` pixel replaced by the owner of the nearest known pixel."""
    _, nearest = cv2.distanceTransformWithLabels(unknown.astype(np.uint8), cv2.DIST_L2, 5,
                                                 labelType=cv2.DIST_LABEL_PIXEL)
    # DIST_LABEL_PIXEL numbers the known (zero) pixels 1, 2, ... in raster order.
    known_owner = owner.ravel()[np.flatnonzero(~unknown.ravel())]
    return known_owner[nearest.ravel() - 1].reshape(owner.shape)


def _move_mass(masks: np.ndarray, *, source: int, target: np.ndarray, where: np.ndarray | None = None) -> None:
    """In place: the mass of mask ``source`` (at ``where``, default everywhere) moves to mask target[y, x]."""
    moving = masks[source].copy() if where is None else np.where(where, masks[source], 0.0).astype(np.float32)
    rows, cols = np.nonzero(moving)
    np.add.at(masks, (target[rows, cols], rows, cols), moving[rows, cols])
    masks[source][rows, cols] -= moving[rows, cols]


def feather(masks: np.ndarray, widths: list[float]) -> np.ndarray:
    """Blur each mask so its border ramps over about ``widths[r]`` pixels, then renormalise to sum 1."""
    if not any(w > 0 for w in widths):
        return masks
    blurred = np.stack([
        cv2.GaussianBlur(m, (0, 0), sigmaX=w / _BAND_SIGMAS, borderType=cv2.BORDER_REFLECT) if w > 0 else m
        for m, w in zip(masks, widths)])
    return blurred / np.maximum(blurred.sum(axis=0, keepdims=True), 1e-12)
