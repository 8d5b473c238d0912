"""Style targets: what each region's statistics should become, computed once per style and scale.

A style is one exemplar image or a weighted blend of several; its target at a scale holds, per style layer,
what the region's style loss compares against (:mod:`regionstyle.style.losses`: a Gram matrix, mean and
covariance, or quantile functions; a blend mixes them linearly with its weights) and the RGB colour moments. An exemplar may carry
a mask: a built-in style rendered from a region's own pixels fills the whole frame, but only the region
is its style, so its statistics are taken over the region only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from regionstyle.encoder import FeatureEncoder
from regionstyle.encoder.guides import layer_masks
from regionstyle.losses import color_moments
from regionstyle.style.gram import EMPTY_REGION
from regionstyle.style.losses import style_loss, tap_seed


@dataclass(frozen=True)
class StyleSource:
    """The exemplar image(s) of one style. images: (3, H, W) in [0, 1]; weights sum to 1.

    texture_scale: the exemplar is resized so its long side is ``texture_scale`` x the content's long side
    at each scale: textures keep the same size relative to the photo from the coarsest scale to the finest.
    masks: per image, an (H, W) weight map of where it carries the style, or None for all of it (empty:
    None for every image).
    """

    key: str
    images: tuple[torch.Tensor, ...]
    weights: tuple[float, ...]
    texture_scale: float = 1.0
    masks: tuple[torch.Tensor | None, ...] = ()


@dataclass(frozen=True)
class StyleTarget:
    """One style at one scale for one loss: ``taps`` {tap: that loss's target (e.g. GramTarget)}, and the
    colour mean (3,) / covariance (3, 3)."""

    loss: str
    taps: dict[str, Any]
    color_mean: torch.Tensor
    color_cov: torch.Tensor


def resize_long_side(image: torch.Tensor, long_side: int) -> torch.Tensor:
    """Resize (3, H, W) so max(H, W) == long_side (antialiased bilinear)."""
    height, width = image.shape[-2:]
    factor = long_side / max(height, width)
    size = (max(1, round(height * factor)), max(1, round(width * factor)))
    return F.interpolate(image[None], size=size, mode="bilinear", antialias=True, align_corners=False)[0]


@torch.no_grad()
def style_target(source: StyleSource, encoder: FeatureEncoder, taps: tuple[str, ...], *,
                 content_long_side: int, device: torch.device, loss: str = "gram") -> StyleTarget:
    """The blended statistics of ``loss`` and colour moments of ``source`` at the scale of a content of
    ``content_long_side``."""
    long_side = max(16, round(content_long_side * source.texture_scale))
    statistic = style_loss(loss)
    parts: dict[str, list[tuple[Any, float]]] = {tap: [] for tap in taps}
    mean = torch.zeros(3, device=device)
    cov = torch.zeros(3, 3, device=device)
    masks = source.masks or (None,) * len(source.images)
    for image, weight, mask in zip(source.images, source.weights, masks):
        sized = resize_long_side(image.to(device), long_side)
        features = encoder(sized[None], taps=taps)
        region = None if mask is None else resize_long_side(mask[None].to(device), long_side)
        per_tap = {} if region is None else layer_masks(region, encoder, taps)
        for tap in taps:
            rows = features[tap][0].float().flatten(1).T  # (h * w, C)
            # A region that vanished at a deep layer falls back to the whole frame there (the rendering
            # extends past the region, so the frame's statistics are still the style's).
            usable = region is not None and float(per_tap[tap].sum()) >= EMPTY_REGION
            weights = per_tap[tap][0].reshape(-1) if usable else None
            # Every image of a blend draws the same directions (sliced), so their quantiles mix.
            parts[tap].append((statistic.summarise(rows, weights, tap_seed(tap, content_long_side)), weight))
        image_mean, image_cov = color_moments(sized, None if region is None else region[0])
        mean, cov = mean + weight * image_mean, cov + weight * image_cov
    return StyleTarget(loss=loss, taps={tap: statistic.combine(parts[tap]) for tap in taps},
                       color_mean=mean, color_cov=cov)
