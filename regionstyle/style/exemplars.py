"""Style exemplars: the images a rules file's paintings stand for, ready for the style targets.

A ``StyleRef`` from the rules is a built-in style, a style image (with ``scale`` and ``crop``), or a blend.
This module turns a painting (or a blend of paintings) into a :class:`StyleSource` (tensors and blend
weights) and applies the region's colour mode to the exemplar (greyscale for ``preserve``, recoloured to
the region for ``match``). Built-in styles are rendered from the region's own pixels instead
(:mod:`regionstyle.style.region`), which uses :func:`exemplar` for the paintings of a blend.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping

import cv2
import numpy as np
import torch

from maskrules import StyleRef
from regionstyle import color
from regionstyle.losses import color_moments
from regionstyle.style.rendered import leaves
from regionstyle.style.targets import StyleSource

# A painting's style is in its marks, not in its empty stretches: the Great Wave's beige sky is a quarter of
# the print, and read evenly it made regions styled after it pale cream patches; weighted by local detail
# they take its blue crests and foam. A position's weight is its luminance's standard deviation over a
# window of DETAIL_WINDOW of the painting's long side, over the painting's DETAIL_QUANTILE of it, clipped to
# [DETAIL_FLOOR, 1]: flat paper still counts a little, and a painting with detail everywhere (The Starry
# Night: 1% of it at the floor) is read nearly as before. Measured in benchmarks/README.md, "Detail".
DETAIL_WINDOW = 1 / 64
DETAIL_QUANTILE = 0.75
DETAIL_FLOOR = 0.1


def exemplar(ref: StyleRef) -> torch.Tensor:
    """The (3, H, W) float exemplar of a style image leaf, in [0, 1] (cropped as the rules say)."""
    if ref.kind != "image":
        raise ValueError(f"exemplar: expected a style image leaf, got a {ref.kind} style ({ref.name}); built-in "
                         "styles are rendered from the region (regionstyle.style.region.region_source)")
    pixels = _style_image(str(ref.image), ref.crop)
    return torch.from_numpy(np.ascontiguousarray(np.asarray(pixels, np.float32).transpose(2, 0, 1)))


def painting_size(ref: StyleRef) -> tuple[int, int]:
    """(height, width) of a style image leaf's whole painting, decoded as :func:`exemplar` decodes it (EXIF
    turns included), before its crop."""
    return _style_image(str(ref.image), None).shape[:2]


@functools.lru_cache(maxsize=16)
def _style_image(path: str, crop: tuple[float, float, float, float] | None) -> np.ndarray:
    from regionstyle import io

    pixels = cropped(io.read_image(path).pixels, crop)
    pixels.setflags(write=False)  # shared by the cache: nobody may change it in place
    return pixels


def cropped(array: np.ndarray, crop: tuple[float, float, float, float] | None) -> np.ndarray:
    """The part of an (H, W, ...) array that ``crop`` (fractions left, top, right, bottom) keeps, at least 1 px.

    One rule for a painting's pixels and for its label map, so both keep the same part.
    """
    if crop is None:
        return array
    height, width = array.shape[:2]
    left, top, right, bottom = crop
    return array[round(top * height):max(round(bottom * height), round(top * height) + 1),
                 round(left * width):max(round(right * width), round(left * width) + 1)]


def style_source(ref: StyleRef, *, color_mode: str, content: torch.Tensor, mask: torch.Tensor,
                 painting_masks: Mapping[StyleRef, torch.Tensor] | None = None) -> StyleSource:
    """The StyleSource of a region's painting (or blend of paintings), with the region's colour mode applied.

    content: (3, H, W) photo; mask: (H, W) the region (used by colour mode ``match``, which recolours the
    exemplar to the region's own colours). painting_masks: leaf -> (H', W') mask of the part of its painting
    a ``match`` style reads (:mod:`regionstyle.style.matching`); other leaves read the whole painting,
    weighted by its detail (:func:`detail_weights`).
    """
    parts = leaves(ref)
    images = [exemplar(leaf) for leaf, _ in parts]
    painting_masks = painting_masks or {}
    masks = tuple(painting_weights(leaf, image, painting_masks) for (leaf, _), image in zip(parts, images))
    key = f"{ref!r}|{color_mode}{mask_digest(painting_masks)}"
    images = [in_color_mode(image, color_mode, content=content, mask=mask) for image in images]
    if color_mode == "match":
        key += "|" + _digest(content, mask)  # the exemplar now depends on this photo's region
    # Texture scale: one factor per leaf is not expressible in a single target; use the weighted mean.
    scale = float(sum(leaf.scale * weight for leaf, weight in parts))
    return StyleSource(key=key, images=tuple(images), weights=tuple(w for _, w in parts), texture_scale=scale,
                       masks=masks)


def in_color_mode(image: torch.Tensor, color_mode: str, *, content: torch.Tensor, mask: torch.Tensor
                  ) -> torch.Tensor:
    """A (3, H', W') exemplar in a region's colour mode (:func:`regionstyle.color.in_mode`); content: (3, H, W)
    the photo, mask: (H, W) the region."""
    if color_mode not in ("preserve", "match"):
        return image
    photo = content.detach().permute(1, 2, 0).cpu().numpy()
    pixels = color.in_mode(image.permute(1, 2, 0).numpy(), color_mode, photo=photo, mask=mask.detach().cpu().numpy())
    return torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))


def painting_weights(leaf: StyleRef, image: torch.Tensor, painting_masks: Mapping[StyleRef, torch.Tensor]
                     ) -> torch.Tensor:
    """How much each position of a painting leaf's exemplar counts: the part a ``match`` chose, else its
    detail."""
    return painting_masks[leaf] if leaf in painting_masks else detail_weights(image)


def detail_weights(image: torch.Tensor) -> torch.Tensor:
    """(H, W) float32 weights in [DETAIL_FLOOR, 1] of a (3, H, W) painting's positions: its local detail."""
    luminance = (0.299 * image[0] + 0.587 * image[1] + 0.114 * image[2]).numpy().astype(np.float32)
    side = max(3, round(max(luminance.shape) * DETAIL_WINDOW)) | 1
    mean = cv2.blur(luminance, (side, side))
    spread = np.sqrt(np.maximum(cv2.blur(luminance * luminance, (side, side)) - mean * mean, 0.0))
    scale = max(float(np.quantile(spread, DETAIL_QUANTILE)), 1e-6)
    return torch.from_numpy(np.clip(spread / scale, DETAIL_FLOOR, 1.0).astype(np.float32))


def mask_digest(painting_masks: Mapping[StyleRef, torch.Tensor] | None) -> str:
    """A key suffix for the painting masks a ``match`` chose ("" for none: keys stay as they were)."""
    if not painting_masks:
        return ""
    digest = hashlib.sha1()
    for leaf, mask in sorted(painting_masks.items(), key=lambda pair: repr(pair[0])):
        digest.update(repr(leaf).encode())
        digest.update(np.ascontiguousarray(mask.detach().cpu().numpy()).tobytes())
    return "|match:" + digest.hexdigest()[:16]


def _digest(content: torch.Tensor, mask: torch.Tensor) -> str:
    mean, cov = color_moments(content, mask)
    values = torch.cat([mean, cov.flatten()]).cpu().numpy().round(4).tobytes()
    return hashlib.sha1(values).hexdigest()[:12]
