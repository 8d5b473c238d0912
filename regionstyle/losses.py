"""The loss terms every scale shares, as pure functions of tensors: content, total variation, colour.

The style terms (a region's feature statistics against its style's) live in :mod:`regionstyle.style`.
Conventions: feature maps are (C, H, W) (a batch of one, squeezed); region weights are (H, W) in [0, 1].
"""

from __future__ import annotations

import functools

import torch


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


# A 4-neighbour Laplacian: zero on flat and linear ramps, a +/- doublet across every edge and line.
_LAPLACIAN = ((0.0, 1.0, 0.0), (1.0, -4.0, 1.0), (0.0, 1.0, 0.0))
_LUMA = (0.299, 0.587, 0.114)


@functools.lru_cache(maxsize=8)
def _laplacian_kernel(device: torch.device) -> torch.Tensor:
    """The (1, 1, 3, 3) kernel, made once per device: a copy to the GPU at every evaluation would wait for it
    each time, and a CUDA graph cannot hold that copy at all."""
    return torch.tensor(_LAPLACIAN, device=device)[None, None]


def luminance_laplacian(image: torch.Tensor, pool: int) -> torch.Tensor:
    """The Laplacian (h, w) of the image's luminance, averaged over ``pool`` x ``pool`` cells first.

    image: (3, H, W). Luminance only, so a style is free to change the colours along an edge; the pooling
    leaves the style's finest grain out of what is compared (Li et al. 2017, "Laplacian-steered style
    transfer", pool their content image the same way).
    """
    luma = sum(weight * channel for weight, channel in zip(_LUMA, image.float()))[None, None]
    if pool > 1:
        luma = torch.nn.functional.avg_pool2d(luma, pool, ceil_mode=True)
    padded = torch.nn.functional.pad(luma, (1, 1, 1, 1), mode="replicate")
    return torch.nn.functional.conv2d(padded, _laplacian_kernel(luma.device))[0, 0]


def edge_loss(laplacian: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted squared Laplacian difference: sum of weights * (laplacian - target)^2; all (h, w)."""
    return (weights * (laplacian - target) ** 2).sum()
