"""Colour control: moment-matching colour transfer, luminance-only results.

Three modes per region (rules ``color = ...``), after Gatys et al. 2016, "Preserving colour in neural
artistic style transfer":
- ``style``: the region takes its style's palette (initialised by moment transfer, kept by a colour term);
- ``preserve``: luminance-only transfer, the photo's own chroma is put back afterwards;
- ``match``: the style exemplar is first recoloured to the region's colours, then transferred as usual.
"""

from __future__ import annotations

import numpy as np
import torch

from regionstyle.losses import color_moments

# ITU-R BT.601 luma weights: the luminance the eye reads structure from.
_LUMA = torch.tensor([0.299, 0.587, 0.114])


def _sqrtm(cov: torch.Tensor, *, inverse: bool = False) -> torch.Tensor:
    """Symmetric square root (or inverse root) of a 3x3 covariance, regularised so flat regions work."""
    # numpy's LAPACK call: torch.linalg.eigh was seen failing to converge on well-conditioned 3x3
    # covariances here (torch 2.14 CPU), and a 3x3 problem gains nothing from the device anyway.
    matrix = cov.detach().double().cpu().numpy() + 1e-5 * np.eye(3)
    values, vectors = np.linalg.eigh(matrix)
    powered = np.clip(values, 1e-8, None) ** (-0.5 if inverse else 0.5)
    return torch.from_numpy((vectors * powered) @ vectors.T).to(cov.device)


def transfer_moments(pixels: torch.Tensor, *, source_mean: torch.Tensor, source_cov: torch.Tensor,
                     target_mean: torch.Tensor, target_cov: torch.Tensor) -> torch.Tensor:
    """Linear colour transfer x' = A (x - mu_s) + mu_t with A = C_t^1/2 C_s^-1/2 (matches mean and covariance).

    pixels: (3, H, W) in [0, 1]; returns (3, H, W) clamped to [0, 1].
    """
    matrix = (_sqrtm(target_cov) @ _sqrtm(source_cov, inverse=True)).to(pixels.dtype)
    flat = pixels.flatten(1) - source_mean[:, None]
    moved = matrix @ flat + target_mean[:, None]
    return moved.reshape(pixels.shape).clamp(0, 1)


def recolor_like(pixels: torch.Tensor, reference: torch.Tensor, reference_weights: torch.Tensor | None = None
                 ) -> torch.Tensor:
    """Give ``pixels`` (3, H, W) the colour mean and covariance of ``reference`` (3, h, w) (weighted)."""
    source_mean, source_cov = color_moments(pixels)
    target_mean, target_cov = color_moments(reference, reference_weights)
    return transfer_moments(pixels, source_mean=source_mean, source_cov=source_cov,
                            target_mean=target_mean, target_cov=target_cov)


def luminance(pixels: torch.Tensor) -> torch.Tensor:
    """Luma (1, H, W) of RGB pixels (3, H, W)."""
    return (pixels * _LUMA.to(pixels)[:, None, None]).sum(dim=0, keepdim=True)


def grey(pixels: torch.Tensor) -> torch.Tensor:
    """Luma repeated on three channels: a style exemplar stripped of colour, for luminance-only transfer."""
    return luminance(pixels).expand(3, -1, -1).contiguous()


def keep_photo_chroma(result: torch.Tensor, photo: torch.Tensor) -> torch.Tensor:
    """The result's luminance with the photo's colour: photo + (luma(result) - luma(photo)), clamped."""
    return (photo + (luminance(result) - luminance(photo))).clamp(0, 1)


def styled_start(content: torch.Tensor, masks: torch.Tensor, sources: list) -> torch.Tensor:
    """The starting image: in each ``color = "style"`` region, the photo recoloured to its style's palette.

    content: (3, H, W); masks: (R, H, W); sources: (mask row, StyleSource) pairs. Starting from the style's
    colours matters most for encoders whose Gram matrices carry little colour (MobileNet, random VGG).
    """
    start = content.clone()
    for index, source in sources:
        moments = [color_moments(image.to(content)) for image in source.images]  # once each: at 12 MP 0.3 s
        target_mean = sum(w * mean for (mean, _), w in zip(moments, source.weights))
        target_cov = sum(w * cov for (_, cov), w in zip(moments, source.weights))
        mean, cov = color_moments(content, masks[index])
        moved = transfer_moments(content, source_mean=mean, source_cov=cov, target_mean=target_mean,
                                 target_cov=target_cov)
        weight = masks[index][None]
        start = start * (1 - weight) + moved * weight
    return start
