"""Style targets: what each region's statistics should become, computed once per style and scale.

A style is one exemplar image or a weighted blend of several; its target at a scale holds one Gram matrix
per style layer (a blend mixes the Grams with its weights) and the RGB colour moments. An exemplar may carry
a mask: a built-in style rendered from a region's own pixels fills the whole frame, but only the region
is its style, so its statistics are taken over the region only.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from regionstyle.encoder import FeatureEncoder
from regionstyle.encoder.guides import layer_masks
from regionstyle.losses import color_moments
from regionstyle.style.gram import EMPTY_REGION
from regionstyle.tiling import MARGIN, TILE, Window, feature_slices, needs_tiles, windows


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
    """One style at one scale: Gram (C, C) per tap, and colour mean (3,) / covariance (3, 3)."""

    grams: dict[str, torch.Tensor]
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
                 content_long_side: int, device: torch.device) -> StyleTarget:
    """The blended Grams and colour moments of ``source`` at the scale of a content of ``content_long_side``."""
    long_side = max(16, round(content_long_side * source.texture_scale))
    grams: dict[str, torch.Tensor] = {}
    mean = torch.zeros(3, device=device)
    cov = torch.zeros(3, 3, device=device)
    masks = source.masks or (None,) * len(source.images)
    for image, weight, mask in zip(source.images, source.weights, masks):
        sized = resize_long_side(image.to(device), long_side)
        region = None if mask is None else resize_long_side(mask[None].to(device), long_side)
        for tap, value in exemplar_grams(sized, region, encoder, taps).items():
            grams[tap] = grams.get(tap, 0) + weight * value
        image_mean, image_cov = color_moments(sized, None if region is None else region[0])
        mean, cov = mean + weight * image_mean, cov + weight * image_cov
    return StyleTarget(grams=grams, color_mean=mean, color_cov=cov)


def exemplar_grams(image: torch.Tensor, region: torch.Tensor | None, encoder: FeatureEncoder,
                   taps: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """Gram per tap of ``image`` (3, H, W), over ``region`` (1, H, W) when given.

    A region that vanished at a deep layer falls back to the whole frame's Gram there (a rendering extends
    past its region, so that Gram is still the style's). A print-sized exemplar is read window by window
    (:mod:`regionstyle.tiling`): the sums of weighted outer products over each window's kept centre add up
    to the whole image's, without holding its features at once (4096 px: 5.9 GB in one piece, measured).
    """
    size = tuple(image.shape[-2:])
    whole = Window((0, 0, *size), (0, 0, *size))
    parts = windows(size, tile=TILE, margin=MARGIN) if needs_tiles(size) else [whole]
    masked: dict[str, list[torch.Tensor]] = {}
    plain: dict[str, list[torch.Tensor]] = {}
    for window in parts:
        top, left, bottom, right = window.outer
        features = encoder(image[None, :, top:bottom, left:right], taps=taps)
        per_tap = {} if region is None else layer_masks(region[:, top:bottom, left:right], encoder, taps)
        for tap in taps:
            rows, cols = feature_slices(window, tuple(features[tap].shape[-2:]))
            kept = features[tap][0, :, rows, cols].float().flatten(1)
            _accumulate(plain, tap, kept, None)
            if region is not None:
                _accumulate(masked, tap, kept, per_tap[tap][0, rows, cols].reshape(-1))
    grams = {}
    for tap in taps:
        weighted, total = masked.get(tap, plain[tap])
        if region is not None and float(total) < EMPTY_REGION:
            weighted, total = plain[tap]
        grams[tap] = weighted / total
    return grams


def _accumulate(sums: dict[str, list[torch.Tensor]], tap: str, flat: torch.Tensor,
                weights: torch.Tensor | None) -> None:
    """Add a window's sum of (weighted) outer products f f^T and its total weight to ``sums[tap]``."""
    weighted = flat if weights is None else flat * weights[None]
    products = weighted @ flat.T
    total = flat.new_tensor(float(flat.shape[1])) if weights is None else weights.sum()
    if tap in sums:
        sums[tap][0] += products
        sums[tap][1] += total
    else:
        sums[tap] = [products, total]
