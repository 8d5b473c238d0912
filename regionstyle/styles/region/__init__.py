"""Built-in styles rendered from a region's own pixels (non-photorealistic rendering).

``render_region("mosaic", photo, mask)`` lays the photo's region in tiles of its own colours along its own
edges; the pipeline uses such a rendering both as the optimisation's starting image inside the region and
as the region's style target, so tiles, panes, dots, hatching and washes survive and follow the shape.
Every renderer is a pure function of the pixels inside the region (mask > 0.5), its parameters and a seed.

The parameters are those of the stationary exemplars in :mod:`regionstyle.styles` (checked by the same
:class:`~regionstyle.styles.spec.ParamSpec`), with one difference: ``palette = "default"`` keeps the photo's
own colours (monochrome styles keep their ink and paper); a named palette pulls the colours toward it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType

import cv2
import numpy as np

from regionstyle.errors import BadInput
from regionstyle.styles import get_builtin
from regionstyle.styles.region import (
    frame,
    ink_wash,
    mosaic,
    oil,
    pencil,
    pointillism,
    stained_glass,
    watercolor,
    woodcut,
)

__all__ = ["REGION_RENDERERS", "render_region"]

logger = logging.getLogger(__name__)

# name -> renderer(view, *, seed, **params) -> float32 (h, w, 3) for the view's crop.
REGION_RENDERERS: Mapping[str, Callable[..., np.ndarray]] = MappingProxyType({
    "watercolor": watercolor.render,
    "mosaic": mosaic.render,
    "pointillism": pointillism.render,
    "pencil": pencil.render,
    "ink-wash": ink_wash.render,
    "stained-glass": stained_glass.render,
    "oil": oil.render,
    "woodcut": woodcut.render,
})
# The feature-size parameter of each style: the crop keeps a margin of a few features around the region.
_FEATURE = {"mosaic": "tile", "pointillism": "dot", "pencil": "spacing", "stained-glass": "cell",
            "oil": "stroke", "woodcut": "spacing"}


# Feature sizes (tile, dot, spacing ...) are pixels up to this long side; a larger photo gets them scaled up
# with it, so a print has the strokes of a 1024 px render relative to the photo (not 4x finer at 4096 px).
# Below it they stay pixels: a 264 px photo in 3 px tiles would not read as a mosaic.
PRINT_REFERENCE_SIDE = 1024


# Above this long side a built-in is rendered at it and enlarged to the photo (bicubic). Its features are
# already sized relative to the photo (size_factor), so what a larger render adds is only finer grain and
# crisper antialiased edges, at a cost that grows faster than the pixels: watercolour's mean shift
# searches a window that grows with the features, and took 86 s of a 101 s render of a whole 4000x3000
# photo on two cores (benchmarks/README.md, built-ins at print size).
RENDER_SIDE_LIMIT = 2048


def size_factor(shape: tuple[int, ...]) -> float:
    """How much larger than pixels a photo of ``shape`` (H, W, ...) paints its features (1 up to 1024 px)."""
    return max(1.0, max(shape[:2]) / PRINT_REFERENCE_SIDE)


def render_region(name: str, photo: np.ndarray, mask: np.ndarray, *,
                  params: Mapping[str, object] = MappingProxyType({}), seed: int = 0) -> np.ndarray:
    """Built-in style ``name`` rendered from the pixels of ``photo`` where ``mask`` > 0.5.

    photo: float32 (H, W, 3) RGB in [0, 1]; mask: float (H, W) in [0, 1].
    params: the style's parameters as a rules file gives them (checked; BadInput names a mistake); a
        ``seed`` among them overrides the ``seed`` argument.
    Returns float32 (H, W, 3) in [0, 1]. Inside the region it depends only on the photo's pixels inside
    the region; outside it is an extension of the rendering (never the photo), for the style statistics
    at the region's rim. Feature sizes are pixels up to 1024 px long side, relative above (size_factor);
    above RENDER_SIDE_LIMIT the photo is rendered at that long side and the rendering enlarged (so there
    the pixels within one shrink step outside the region's border are averaged into its rim).
    """
    style = get_builtin(name)
    _check_inputs(photo, mask)
    if max(np.shape(mask)) > RENDER_SIDE_LIMIT:
        return _rendered_at_limit(name, photo, mask, params=params, seed=seed)
    resolved = style.resolve(params)
    resolved["scale"] = float(resolved["scale"]) * size_factor(np.shape(photo))
    from_rules = resolved.pop("seed")
    run_seed = from_rules if "seed" in params else seed
    start = time.perf_counter()
    feature = float(resolved.get(_FEATURE.get(name, ""), 8)) * float(resolved["scale"])
    view = frame.region_view(np.asarray(photo, np.float32), np.asarray(mask, np.float32),
                             margin=int(round(3 * feature)) + 8)
    crop = REGION_RENDERERS[name](view, seed=run_seed, **resolved)
    image = np.clip(frame.paste(view, crop), 0.0, 1.0).astype(np.float32)
    logger.debug("rendered %s from a %dx%d region in %.3f s", name, crop.shape[1], crop.shape[0],
                 time.perf_counter() - start)
    return image


def _rendered_at_limit(name: str, photo: np.ndarray, mask: np.ndarray, *, params: Mapping[str, object],
                       seed: int) -> np.ndarray:
    """:func:`render_region` of the photo and mask shrunk to RENDER_SIDE_LIMIT (area), enlarged back (bicubic)."""
    height, width = np.shape(mask)
    shrink = RENDER_SIDE_LIMIT / max(height, width)
    small = (max(1, round(width * shrink)), max(1, round(height * shrink)))
    rendered = render_region(name, cv2.resize(np.asarray(photo, np.float32), small, interpolation=cv2.INTER_AREA),
                             cv2.resize(np.asarray(mask, np.float32), small, interpolation=cv2.INTER_AREA),
                             params=params, seed=seed)
    return np.clip(cv2.resize(rendered, (width, height), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)


def _check_inputs(photo: np.ndarray, mask: np.ndarray) -> None:
    photo_shape, mask_shape = np.shape(photo), np.shape(mask)
    if len(photo_shape) != 3 or photo_shape[2] != 3:
        raise BadInput(f"render_region: photo must be (H, W, 3) RGB, got shape {photo_shape}")
    if mask_shape != photo_shape[:2]:
        raise BadInput(f"render_region: mask must be (H, W) = {photo_shape[:2]} like the photo, got {mask_shape}")
