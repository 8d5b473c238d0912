"""Seeded Gabor filter banks: the first layer of the offline random encoder.

The first layers of networks trained on photos learn oriented band-pass filters, in luminance and in
opponent colours, plus a few colour blobs. White-noise 3x3 filters (what a plain random init gives) see
mostly pixel-level noise, so matching a painting's statistics through them adds coloured grain. A bank of
oriented filters at brush-stroke wavelengths makes the style loss ask for strokes instead: on the shared
photos, an independent judge network finds the results nearer their own paintings, with fewer seams
(benchmarks/quality.py; numbers in benchmarks/README.md).
"""

from __future__ import annotations

import math

import torch


def gabor_bank(count: int, *, kernel: int, generator: torch.Generator, blobs: int = 8,
               wavelengths: tuple[float, float] = (3.5, 12.0), luminance_share: float = 0.6) -> torch.Tensor:
    """``count`` unit-norm RGB filters (count, 3, kernel, kernel), drawn from ``generator``.

    The first ``blobs`` are Gaussian colour blobs (random colour, sigma 0.8-2 px): they respond to flat
    colour, so palettes still transfer. The others are Gabor filters with random orientation, phase and
    wavelength (log-uniform in ``wavelengths``, in pixels), made zero-mean so flat colour leaves them
    silent; a ``luminance_share`` of them see brightness, the rest an opponent colour axis (weights sum 0).
    """
    if kernel % 2 == 0 or kernel < 3:
        raise ValueError(f"kernel = {kernel}: expected an odd size >= 3")
    axis = torch.arange(kernel, dtype=torch.float32) - kernel // 2
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    filters = [_blob(x, y, generator) if index < blobs else _gabor(x, y, generator, wavelengths, luminance_share)
               for index in range(count)]
    bank = torch.stack(filters)
    return bank / bank.flatten(1).norm(dim=1).view(-1, 1, 1, 1)


def _blob(x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    sigma = 0.8 + 1.2 * float(torch.rand((), generator=generator))
    profile = torch.exp(-(x**2 + y**2) / (2 * sigma**2))
    colour = torch.randn(3, generator=generator)
    return colour.view(3, 1, 1) * profile


def _gabor(x: torch.Tensor, y: torch.Tensor, generator: torch.Generator, wavelengths: tuple[float, float],
           luminance_share: float) -> torch.Tensor:
    theta, stretch, phase, kind = torch.rand(4, generator=generator).tolist()
    theta *= math.pi
    low, high = wavelengths
    wavelength = low * (high / low) ** stretch
    # About one and a half periods under the envelope, cut to the kernel so the filter is not truncated.
    sigma = min(0.56 * wavelength, x.shape[-1] / 4)
    along = x * math.cos(theta) + y * math.sin(theta)
    across = -x * math.sin(theta) + y * math.cos(theta)
    envelope = torch.exp(-(along**2 + across**2) / (2 * sigma**2))
    profile = envelope * torch.cos(2 * math.pi * along / wavelength + 2 * math.pi * phase)
    profile = profile - envelope * (profile.sum() / envelope.sum())  # zero mean under the envelope
    if kind < luminance_share:
        colour = torch.ones(3) + 0.2 * torch.randn(3, generator=generator)
    else:
        colour = torch.randn(3, generator=generator)
        colour = colour - colour.mean()
    return colour.view(3, 1, 1) * profile
