"""The loss terms every scale shares, as pure functions of tensors: content, total variation, colour.

The style terms (a region's feature statistics against its style's) live in :mod:`regionstyle.style`.
Conventions: feature maps are (C, H, W) (a batch of one, squeezed); region weights are (H, W) in [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Mean luminance gradient (0-1 pixel values, per pixel) over a content-layer cell at which the edge boost is
# whole: a facade with windows, a mural or lettering reaches it; sky and calm water stay far below.
EDGE_DENSITY_FULL = 0.08


def edge_emphasis(image: torch.Tensor, size: tuple[int, int], *, gain: float) -> torch.Tensor:
    """Per-position content weight factor (h, w) = 1 + gain * min(edge density / EDGE_DENSITY_FULL, 1).

    image: (3, H, W) the photo at this scale; size: the content layer's (h, w). Edge density is the mean
    luminance gradient magnitude over each cell of the layer's grid (an absolute measure, so windows of a
    tiled scale agree with the whole). Keeping the photo harder where it has edges holds windows, cornices
    and lettering while flat areas (sky) take the style freely.
    """
    luma = (image * image.new_tensor([0.299, 0.587, 0.114])[:, None, None]).sum(0)
    dy = F.pad((luma[1:] - luma[:-1]).abs(), (0, 0, 0, 1))
    dx = F.pad((luma[:, 1:] - luma[:, :-1]).abs(), (0, 1))
    density = F.adaptive_avg_pool2d(torch.sqrt(dx**2 + dy**2)[None, None], size)[0, 0]
    return 1 + gain * (density / EDGE_DENSITY_FULL).clamp(max=1.0)


def content_loss(features: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None
                 ) -> torch.Tensor:
    """Weighted mean squared feature difference.

    features, target: (C, H, W); weights: (H, W) per-position content weight, or None for uniform 1.
    """
    squared = ((features - target) ** 2).mean(dim=0)
    if weights is None:
        return squared.mean()
    return (squared * weights).mean()


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Total variation: mean squared difference between neighbouring pixels. image: (3, H, W)."""
    dy = image[:, 1:, :] - image[:, :-1, :]
    dx = image[:, :, 1:] - image[:, :, :-1]
    return (dy**2).mean() + (dx**2).mean()


def color_moments(pixels: torch.Tensor, weights: torch.Tensor | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted mean (3,) and covariance (3, 3) of RGB pixels. pixels: (3, H, W); weights: (H, W) or None."""
    flat = pixels.flatten(1)
    w = torch.ones_like(flat[:1]) if weights is None else weights.reshape(1, -1).to(flat.dtype)
    total = w.sum()
    mean = (flat * w).sum(dim=1) / total
    centred = flat - mean[:, None]
    return mean, (centred * w) @ centred.T / total


def color_loss(pixels: torch.Tensor, weights: torch.Tensor, target_mean: torch.Tensor,
               target_cov: torch.Tensor) -> torch.Tensor:
    """Squared distance of a region's colour mean and covariance to a style's. pixels: (3, H, W)."""
    mean, cov = color_moments(pixels, weights)
    return ((mean - target_mean) ** 2).sum() + ((cov - target_cov) ** 2).sum()
