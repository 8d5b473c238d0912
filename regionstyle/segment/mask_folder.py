"""A folder of region masks in place of a segmentation: one 8-bit PNG per region, as ``--masks DIR`` writes it.

Read back (``[segmentation] masks = "DIR"`` or ``--labels DIR``) the masks REPLACE the segmentation:
- each region of the rules takes the PNG of its name (grey levels are shares; a file of another size is
  scaled to the working size); a file naming no region of the rules is an error, a region with no file
  gets nothing;
- a pixel that no mask claims (a region erased in one file and painted in no other) takes the masks of
  the nearest claimed pixel, so erasing a wrong bit of sky hands it to its neighbours;
- where masks overlap, shares are proportional; then every mask is feathered as usual, so a run from
  masks written by an earlier run of a label map reproduces that run's regions exactly.

``regions.json`` beside the PNGs (written with them) names the region of each file, since file names are
made safe for any file system (:func:`safe_name`); without it each PNG's stem is its region's name.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

import cv2
import numpy as np

import maskrules
from regionstyle.datatypes import RegionMasks, Segmentation
from regionstyle.errors import BadImage, BadInput
from regionstyle.io.inputs import read_input_text
from regionstyle.segment.regions import REMAINDER, feather

log = logging.getLogger(__name__)

INDEX = "regions.json"
# A region to read: (name, styled, index in the rule resolution or -1, feather width in pixels).
RegionSpec = tuple[str, bool, int, float]


def safe_name(name: str) -> str:
    """A file stem for a region name: letters, digits, '.', '-' and '_' only ("tree+grass" -> "tree_grass")."""
    return re.sub(r"[^\w.-]+", "_", name, flags=re.ASCII).strip("._") or "region"


def chosen_folder(labels: str | os.PathLike[str] | None, spec: maskrules.SegmentationSpec) -> Path | None:
    """The mask folder a run uses: ``labels`` naming a folder, else ``[segmentation] masks``; None = segment.

    A ``labels`` FILE (a label map) beats the rules' masks, as a command-line option beats the rules.
    """
    if labels is not None:
        return Path(labels) if Path(labels).is_dir() else None
    return spec.masks


def regions_from_folder(folder: Path, resolution: maskrules.Resolution, *, size: tuple[int, int],
                        feather_px: float) -> tuple[Segmentation, RegionMasks]:
    """The region masks of ``resolution``'s regions (and the remainder) read from ``folder`` at ``size``,
    and a Segmentation whose "classes" are those regions (there were no class labels)."""
    regions = [(r.name, not r.keep, i, r.settings.get("feather", feather_px))
               for i, r in enumerate(resolution.regions)]
    masks = region_masks(folder, [*regions, (REMAINDER, False, -1, feather_px)], size=size)
    segmentation = Segmentation(labels=masks.owner, class_names=masks.names, vocabulary="region-masks",
                                source=f"masks:{folder}")
    return segmentation, masks


def region_masks(folder: str | os.PathLike[str], regions: list[RegionSpec], *, size: tuple[int, int]) -> RegionMasks:
    """RegionMasks from a folder of masks: read, shared, feathered (each region's width), empty styled dropped."""
    masks, owner = read_region_masks(folder, regions, size=size)
    soft = feather(masks, [width for *_, width in regions])
    keep = [i for i, (_, styled, _, _) in enumerate(regions) if not styled or (owner == i).any() or soft[i].any()]
    renumber = np.full(len(regions), -1, np.int32)
    renumber[keep] = np.arange(len(keep), dtype=np.int32)
    return RegionMasks(names=tuple(regions[i][0] for i in keep), masks=np.ascontiguousarray(soft[keep]),
                       styled=tuple(regions[i][1] for i in keep), rule_index=tuple(regions[i][2] for i in keep),
                       owner=renumber[owner])


def mask_files(folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Region name -> mask file in ``folder``: from ``regions.json`` when present, else each PNG's stem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(f"region masks: {folder} is not a folder (write one with --masks DIR)")
    if (folder / INDEX).is_file():
        try:
            entries = json.loads(read_input_text(folder / INDEX, what="regions index"))["regions"]
            found = {str(e["name"]): folder / str(e["file"]) for e in entries}
        except (ValueError, KeyError, TypeError) as exc:
            raise BadInput(f"region masks: {folder / INDEX} is not a regions index ({exc})") from None
        outside = [str(path.name if path.parent == folder else path) for path in found.values()
                   if path.parent != folder or path.name in ("", ".", "..")]
        if outside:  # the index names files of this folder only, never ../photo.png or /etc/...
            raise BadInput(f"region masks: {folder / INDEX} names files outside {folder}: {', '.join(outside)}")
        return {name: path for name, path in found.items() if path.is_file()}
    return {path.stem: path for path in sorted(folder.glob("*.png"))}


def read_region_masks(folder: str | os.PathLike[str], regions: list[RegionSpec], *,
                      size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Masks (R, H, W) summing to 1, and the owner map, for ``regions``; not feathered yet.

    size: (height, width) to read the masks at.
    """
    files = mask_files(folder)
    names = [name for name, *_ in regions]
    by_safe = {safe_name(n): n for n in names}
    files = {n if n in names else by_safe.get(n, n): p for n, p in files.items()}
    unknown = sorted(set(files) - set(names))
    if unknown:
        raise BadInput(f"region masks in {folder}: {', '.join(unknown)} name no region of these rules "
                       f"(regions: {', '.join(names)}); rename or remove those files")
    if not files:
        raise BadInput(f"region masks: no mask PNG in {folder} (write them with --masks DIR)")
    for name in names:
        if name not in files:
            log.warning("region masks: no file for region %r in %s: it gets no pixels", name, folder)
    stack = np.stack([_read_mask(files[n], size) if n in files else np.zeros(size, np.float32) for n in names])
    stack = fill_uncovered(stack)
    stack = stack / stack.sum(axis=0, keepdims=True)
    return stack.astype(np.float32), stack.argmax(axis=0).astype(np.int32)


def _read_mask(path: Path, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            grey = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    except (OSError, UnidentifiedImageError) as exc:
        raise BadImage(f"region mask {path}: not a readable image ({exc})") from None
    height, width = size
    if abs(grey.shape[1] / grey.shape[0] - width / height) > 0.02:
        raise BadInput(f"region mask {path} is {grey.shape[1]}x{grey.shape[0]} but the photo is {width}x{height}: "
                       "masks must be of this photo (any size, same shape)")
    if grey.shape != size:
        grey = cv2.resize(grey, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(grey, 0.0, 1.0)


def fill_uncovered(stack: np.ndarray) -> np.ndarray:
    """``stack`` (R, H, W) with every pixel where all masks are 0 given the masks of the nearest other pixel."""
    empty = stack.sum(axis=0) <= 1e-6
    if not empty.any():
        return stack
    if empty.all():
        raise BadInput("region masks: every mask is black; at least one region needs white pixels")
    _, nearest = cv2.distanceTransformWithLabels(empty.astype(np.uint8), cv2.DIST_L2, 5,
                                                 labelType=cv2.DIST_LABEL_PIXEL)
    covered = np.flatnonzero(~empty.ravel())  # DIST_LABEL_PIXEL numbers these 1, 2, ... in raster order
    source = covered[nearest.ravel() - 1]
    flat = stack.reshape(stack.shape[0], -1)
    return flat[:, source].reshape(stack.shape)
