"""Style targets: what each region's statistics should become, computed once per style and scale.

A style is one exemplar image or a weighted blend of several; its target at a scale holds, per style layer,
what the region's style loss compares against (:mod:`regionstyle.style.losses`: a Gram matrix, mean and
covariance, or quantile functions; a blend mixes them linearly with its weights) and the RGB colour moments. An exemplar may carry
a mask: a built-in style rendered from a region's own pixels fills the whole frame, but only the region
is its style, so its statistics are taken over the region only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F

from regionstyle.encoder import FeatureEncoder
from regionstyle.encoder.guides import layer_masks
from regionstyle.losses import color_moments
from regionstyle.style.gram import EMPTY_REGION
from regionstyle.style.losses import style_loss, tap_seed
from regionstyle.tiling import EXEMPLAR_TILE, MARGIN, Window, feature_slices, needs_tiles, windows


@dataclass(frozen=True)
class StyleSource:
    """The exemplar image(s) of one style. images: (3, H, W) in [0, 1]; weights sum to 1.

    texture_scale: the exemplar is resized so its long side is ``texture_scale`` x the content's long side
    at each scale: textures keep the same size relative to the photo from the coarsest scale to the finest.
    masks: per image, an (H, W) weight map of where it carries the style, or None for all of it (empty:
    None for every image): a region's rendering, or the part of a painting a ``match`` chose.
    rendered: per image, whether it is a built-in rendered from the region (laid in as the start; empty:
    none is).
    """

    key: str
    images: tuple[torch.Tensor, ...]
    weights: tuple[float, ...]
    texture_scale: float = 1.0
    masks: tuple[torch.Tensor | None, ...] = ()
    rendered: tuple[bool, ...] = ()


@dataclass(frozen=True)
class StyleTarget:
    """One style at one scale for one loss: ``taps`` {tap: that loss's target (e.g. GramTarget)}, and the
    colour mean (3,) / covariance (3, 3)."""

    loss: str
    taps: dict[str, Any]
    color_mean: torch.Tensor
    color_cov: torch.Tensor


def resize_long_side(image: torch.Tensor, long_side: int, *, detail_side: int | None = None) -> torch.Tensor:
    """Resize (C, H, W) so max(H, W) == long_side (antialiased bilinear).

    detail_side: a long side above it is reached by way of it (shrunk to ``detail_side``, then enlarged), so
    the result holds no finer detail than the image shows at ``detail_side``. An image already no larger
    than ``detail_side`` shows no finer detail, and is enlarged in one step (two would blur it twice)."""
    height, width = image.shape[-2:]
    factor = long_side / max(height, width)
    size = (max(1, round(height * factor)), max(1, round(width * factor)))
    if detail_side is not None and long_side > detail_side and max(height, width) > detail_side:
        image = resize_long_side(image, detail_side)
    return F.interpolate(image[None], size=size, mode="bilinear", antialias=True, align_corners=False)[0]


@torch.no_grad()
def style_target(source: StyleSource, encoder: FeatureEncoder, taps: tuple[str, ...], *,
                 content_long_side: int, device: torch.device, loss: str = "gram",
                 detail_side: int | None = None) -> StyleTarget:
    """The blended statistics of ``loss`` and colour moments of ``source`` at the scale of a content of
    ``content_long_side``; an exemplar sized past ``detail_side`` holds only the detail it has at that size
    (:attr:`regionstyle.encoder.LayerPlan.detail_side`)."""
    long_side = max(16, round(content_long_side * source.texture_scale))
    statistic = style_loss(loss)
    parts: dict[str, list[tuple[Any, float]]] = {tap: [] for tap in taps}
    mean = torch.zeros(3, device=device)
    cov = torch.zeros(3, 3, device=device)
    masks = source.masks or (None,) * len(source.images)
    for image, weight, mask in zip(source.images, source.weights, masks):
        sized = resize_long_side(image.to(device), long_side, detail_side=detail_side)
        region = None if mask is None else resize_long_side(mask[None].to(device), long_side, detail_side=detail_side)
        for tap, pieces in exemplar_parts(sized, region, encoder, taps, statistic.summarise,
                                          seed=lambda tap: tap_seed(tap, content_long_side)).items():
            # Every image of a blend draws the same directions (sliced), so their quantiles mix.
            parts[tap].extend((summary, weight * share) for summary, share in pieces)
        image_mean, image_cov = color_moments(sized, None if region is None else region[0])
        mean, cov = mean + weight * image_mean, cov + weight * image_cov
    return StyleTarget(loss=loss, taps={tap: statistic.combine(parts[tap]) for tap in taps},
                       color_mean=mean, color_cov=cov)


Summarise = Callable[[torch.Tensor, "torch.Tensor | None", int], Any]


def exemplar_parts(image: torch.Tensor, region: torch.Tensor | None, encoder: FeatureEncoder,
                   taps: tuple[str, ...], summarise: Summarise, *, seed: Callable[[str], int]
                   ) -> dict[str, list[tuple[Any, float]]]:
    """Per tap, the summaries of ``image``'s (3, H, W) features over ``region`` (1, H, W; None: all of it),
    each with its share of the region's weight, for a loss's ``combine`` to mix like a blend.

    A small exemplar is one part. A print-sized one is read window by window (:mod:`regionstyle.tiling`;
    4096 px in one piece held 5.9 GB of features, measured), one part per window's kept centre: Grams and
    moments mixed by those shares are exactly the whole image's; sliced quantile tables mixed so are their
    Wasserstein barycentre, close to the whole image's for windows of one texture. A region that vanished at
    a deep layer falls back to the whole frame there (the rendering extends past its region, so the frame's
    statistics are still the style's).
    """
    size = tuple(image.shape[-2:])
    whole = Window((0, 0, *size), (0, 0, *size))
    pieces = windows(size, tile=EXEMPLAR_TILE, margin=MARGIN) if needs_tiles(size) else [whole]
    found: dict[str, list[tuple[Any, float]]] = {tap: [] for tap in taps}
    for window in pieces:
        top, left, bottom, right = window.outer
        features = encoder(image[None, :, top:bottom, left:right], taps=taps)
        per_tap = {} if region is None else layer_masks(region[:, top:bottom, left:right], encoder, taps)
        for tap in taps:
            rows_kept, cols_kept = feature_slices(window, tuple(features[tap].shape[-2:]))
            rows = features[tap][0, :, rows_kept, cols_kept].float().flatten(1).T  # (h * w, C)
            weights = None if region is None else per_tap[tap][0, rows_kept, cols_kept].reshape(-1)
            total = float(rows.shape[0]) if weights is None else float(weights.sum())
            if total >= EMPTY_REGION:  # a window the region does not reach adds nothing
                found[tap].append((summarise(rows, weights, seed(tap)), total))
    vanished = tuple(tap for tap in taps if not found[tap])
    if region is not None and vanished:
        found.update(exemplar_parts(image, None, encoder, vanished, summarise, seed=seed))
    return {tap: [(summary, total / sum(t for _, t in pieces_)) for summary, total in pieces_]
            for tap, pieces_ in found.items()}
