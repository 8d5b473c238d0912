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
rule is a promise). Islands (``min_island``, off by default) are small pieces of a region enclosed by one
other region, such as a cloud the segmenter calls building, alone in the sky: they join the region around
them. Mass only ever moves between masks, so the sum-to-one invariant survives every step; feathering blurs
each mask and renormalises.
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
# Where a network's soft masks cross, a third class can win a rim of pixels: the cloud that the bundled
# segmenter calls building in Logan Circle's sky has 9% of its ring in the unstyled remainder.
ENCLOSED_SHARE = 0.75
# A network's soft mask fades out around a piece over a few of its cells, and further along a wisp of what it
# half believes (Logan Circle's cloud: building 0.07 at 32 px from it, 0.38 in a tail at 1920 px): an
# island's mass moves wherever its mask stays above this in one stretch with it, or a halo of its old style
# would stay, cut off where a fixed radius ended.
ISLAND_FRINGE = 0.03


def build_region_masks(segmentation: Segmentation, resolution: maskrules.Resolution, *, min_area: float = 0.0,
                       feather_px: float = 0.0, min_island: float = 0.0) -> RegionMasks:
    """Soft masks of ``resolution``'s regions plus the unstyled remainder, float32 (R, H, W) in [0, 1].

    min_area: styled regions below this share of the image are dissolved into their neighbours.
    feather_px: width in pixels of the soft band at region borders (a rule's ``feather`` overrides it).
    min_island: pieces of a region smaller than this share of the image that one other region encloses join
        that region (a rule's ``min_island`` overrides it; keep regions' pieces never move).
    Styled regions left empty are omitted; ``rule_index`` is each mask's index in ``resolution.regions``
    (-1 for the remainder).
    """
    _check_inputs(segmentation, resolution, min_area=min_area, feather_px=feather_px, min_island=min_island)
    regions = resolution.regions
    masks = _soft_masks(segmentation, _membership(resolution, len(segmentation.class_names)))
    styled = np.array([not r.keep for r in regions] + [False])
    if min_area > 0:
        masks = dissolve_small(masks, styled & (masks.mean(axis=(1, 2)) < min_area))
    masks = dissolve_small(masks, styled & ~owns_a_pixel(masks))
    shares = [0.0 if r.keep else r.settings.get("min_island", min_island) for r in regions] + [min_island]
    if any(share > 0 for share in shares):
        masks = join_islands(masks, shares, keep=np.array([r.keep for r in regions] + [False]))
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
                  feather_px: float, min_island: float) -> None:
    if tuple(resolution.vocabulary.classes) != tuple(segmentation.class_names):
        raise BadInput(f"the rules were resolved against the {resolution.vocabulary.name} vocabulary "
                       f"({len(resolution.vocabulary.classes)} classes) but the segmentation uses "
                       f"{segmentation.vocabulary} ({len(segmentation.class_names)} classes)")
    for name, share in (("min_area", min_area), ("min_island", min_island)):
        if not 0.0 <= share < 1.0:  # `not` also refuses NaN
            raise BadInput(f"{name}: expected a share of the image in [0, 1), got {share}")
    if feather_px < 0:
        raise BadInput(f"feather_px must be >= 0, got {feather_px}")


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


def join_islands(masks: np.ndarray, min_shares: list[float], *, keep: np.ndarray) -> np.ndarray:
    """Pieces of each mask's hard region under ``min_shares[r]`` of the image, off the frame's edge and
    enclosed by one other region, give their mass to that region.

    The mass moves in the piece and in its soft fringe (``ISLAND_FRINGE``), where it goes to the enclosing
    region too, except at pixels a ``keep`` region owns: those get it themselves, so no pixel changes hands
    from a keep region.
    """
    out = masks.copy()
    owner = owner_map(out)
    for index, share in enumerate(min_shares):
        target = _island_targets(owner, out[index], index, min_pixels=share * owner.size) if share > 0 else None
        if target is not None:
            kept = (target >= 0) & keep[owner]
            target[kept] = owner[kept]
            _move_mass(out, source=index, target=target, where=target >= 0)
            owner = owner_map(out)  # the next region's islands are judged on the partition as it is now
    return out


def _island_targets(owner: np.ndarray, mask: np.ndarray, index: int, *, min_pixels: float) -> np.ndarray | None:
    """int32 (H, W): the enclosing region where mask ``index``'s islands and their fringes are, else -1;
    None when it has no island."""
    count, pieces, stats, _ = cv2.connectedComponentsWithStats((owner == index).astype(np.uint8), connectivity=8)
    region_of = np.full(count, -1, np.int32)  # each piece's enclosing region, -1 for pieces that stay
    for piece in range(1, count):
        if stats[piece, cv2.CC_STAT_AREA] < min_pixels:
            region_of[piece] = _enclosing_region(owner, pieces, piece, stats[piece])
    if (region_of < 0).all():
        return None
    target = np.full(owner.size, -1, np.int32)
    candidates, region = _fringes(owner, mask, index, pieces.ravel(), stats[:, cv2.CC_STAT_AREA], region_of)
    target[candidates] = region
    return target.reshape(owner.shape)


def _fringes(owner: np.ndarray, mask: np.ndarray, index: int, pieces: np.ndarray, areas: np.ndarray,
             region_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices of the islands' pixels and fringes, and the region each one's mass goes to.

    The fringe: where the mask stays above ISLAND_FRINGE in one stretch with the piece, up to halfway to the
    region's other pieces (pixels nearer this piece than any other); there, pixels of the enclosing region,
    and pixels of any region as near the piece as it is wide (the rim a third class won around it). Pixels
    of other regions further away keep the mass: a trace the network spreads far gives no leak.
    """
    distance, nearest = cv2.distanceTransformWithLabels((owner != index).astype(np.uint8), cv2.DIST_L2, 5,
                                                        labelType=cv2.DIST_LABEL_PIXEL)
    count, stretches = cv2.connectedComponents(((mask > ISLAND_FRINGE) | (owner == index)).astype(np.uint8),
                                               connectivity=8)
    stretches = stretches.ravel()
    island_pixels = np.flatnonzero(region_of[pieces] >= 0)
    # Only pixels of a stretch that holds an island can move: the work below is on them alone.
    holds_island = np.zeros(count, bool)
    holds_island[stretches[island_pixels]] = True
    candidates = np.flatnonzero(holds_island[stretches])
    # DIST_LABEL_PIXEL numbers this region's pixels 1, 2, ... in raster order: each candidate's nearest piece.
    nearest_piece = pieces[np.flatnonzero(owner.ravel() == index)][nearest.ravel()[candidates] - 1]
    # (stretch, piece) as one key: a candidate is in the fringe when its stretch holds its nearest island.
    key = stretches[candidates].astype(np.int64) * len(areas) + nearest_piece
    in_fringe = np.isin(key, stretches[island_pixels].astype(np.int64) * len(areas) + pieces[island_pixels])
    region = region_of[nearest_piece]
    near = distance.ravel()[candidates] <= np.sqrt(areas[nearest_piece])
    moves = in_fringe & ((owner.ravel()[candidates] == region) | near)
    return candidates[moves], region[moves]


def _enclosing_region(owner: np.ndarray, pieces: np.ndarray, piece: int, box: np.ndarray) -> int:
    """The region holding ENCLOSED_SHARE of the ring of pixels around ``piece``; -1 if the piece touches the
    frame's edge (it may go on outside the picture) or no region holds that much of its ring."""
    x, y, w, h = (int(v) for v in box[:4])
    height, width = owner.shape
    if x == 0 or y == 0 or x + w == width or y + h == height:
        return -1
    window = (slice(y - 1, y + h + 1), slice(x - 1, x + w + 1))
    inside = (pieces[window] == piece).astype(np.uint8)
    ring = cv2.dilate(inside, np.ones((3, 3), np.uint8)).astype(bool) & ~inside.astype(bool)
    counts = np.bincount(owner[window][ring])
    return int(counts.argmax()) if counts.max() >= ENCLOSED_SHARE * ring.sum() else -1


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
