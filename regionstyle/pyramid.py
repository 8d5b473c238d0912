"""The pixels of one scale as a Laplacian pyramid: the variables the optimiser moves.

An image is the sum of its pyramid's levels, each upsampled to full size: a band of detail per octave and
the smallest picture at the top. The change of variables is linear and loses nothing, so the loss and its
minima stay those of the pixels; what changes is the optimiser's geometry. A step on a level-k cell moves
the 4^k pixels under it together, so large motifs (a swirl across the sky, a wash over a facade) move in
one step instead of diffusing out from pixel gradients over many evaluations. L-BFGS keeps only a few
curvature pairs for a problem with 10^5-10^6 variables; most of its metric is the plain one of whatever
variables it is given.

``GAIN`` decides how much faster the coarse levels move: a level-k variable is scaled by GAIN^k. With 0.5
each octave gets the same share of a step as a band of pixels would (4^k pixels x 0.5^(2k)), so the
preconditioning comes only from the levels adding up; with 1 (five levels, four photos) the loss fell more
slowly than on the plain pixels (benchmarks/README.md, *The pixels as a Laplacian pyramid*).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Levels of the pyramid. On the ten shared photos at 512 px with 140 instead of 200 evaluations at the
# coarsest scale, 3 levels styled as strongly as 4 and let less of a style spill over a region's border
# (its coarsest cells are 4 px of the 256 px scale, not 8). benchmarks/README.md.
LEVELS = 3
GAIN = 0.5
# A level is not halved below this many pixels on its short side.
SMALLEST_SIDE = 16


def level_sizes(size: tuple[int, int], *, levels: int = LEVELS) -> list[tuple[int, int]]:
    """(h, w) of each level, finest first; fewer than ``levels`` where the image is small."""
    sizes = [(int(size[0]), int(size[1]))]
    while len(sizes) < levels and min(sizes[-1]) >= 2 * SMALLEST_SIDE:
        height, width = sizes[-1]
        sizes.append(((height + 1) // 2, (width + 1) // 2))
    return sizes


def _upsample(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(image, size=size, mode="bilinear", align_corners=False)


def decompose(image: torch.Tensor, sizes: list[tuple[int, int]], *, gain: float = GAIN) -> list[torch.Tensor]:
    """(1, C, H, W) -> the levels' variables, finest first, such that :func:`compose` gives ``image`` back."""
    levels, current = [], image
    for k in range(len(sizes) - 1):
        smaller = F.interpolate(current, size=sizes[k + 1], mode="bilinear", antialias=True)
        levels.append((current - _upsample(smaller, sizes[k])) / gain**k)
        current = smaller
    levels.append(current / gain ** (len(sizes) - 1))
    return levels


def compose(levels: list[torch.Tensor], sizes: list[tuple[int, int]], *, gain: float = GAIN) -> torch.Tensor:
    """The image (1, C, H, W) that the levels' variables stand for (differentiable)."""
    image = levels[-1] * gain ** (len(sizes) - 1) if len(levels) > 1 else levels[-1]
    for k in range(len(sizes) - 2, -1, -1):
        image = _upsample(image, sizes[k]) + (levels[k] * gain**k if k else levels[k])
    return image


class PixelPyramid:
    """An image held as pyramid variables (leaves with gradients), kept displayable by :meth:`clamp_`.

    ``levels=1`` is the plain pixels (one leaf, the image itself).
    """

    def __init__(self, image: torch.Tensor, *, levels: int = LEVELS, gain: float = GAIN) -> None:
        self.sizes = level_sizes(tuple(image.shape[-2:]), levels=levels)
        self.gain = gain
        self.variables = [level.detach().contiguous().requires_grad_(True)
                          for level in decompose(image.detach(), self.sizes, gain=gain)]

    def image(self) -> torch.Tensor:
        """(1, C, H, W), differentiable with respect to :attr:`variables`."""
        return compose(self.variables, self.sizes, gain=self.gain)

    @torch.no_grad()
    def clamp_(self) -> torch.Tensor:
        """Fold whatever lies outside [0, 1] into the finest level; returns the image, now in [0, 1]."""
        image = self.image()
        clamped = image.clamp(0, 1)
        self.variables[0].add_(clamped - image)
        return clamped

    def backward(self, pixel_gradient: torch.Tensor) -> None:
        """Accumulate the variables' gradients from the image's (the adjoint of :func:`compose`)."""
        self.image().backward(pixel_gradient)
