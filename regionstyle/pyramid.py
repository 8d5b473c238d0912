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

from regionstyle.objective import second_mask_nearby

# Levels of the pyramid. On the ten shared photos at 512 px with 140 instead of 200 evaluations at the
# coarsest scale, 3 levels styled as strongly as 4 and let less of a style spill over a region's border
# (its coarsest cells are 4 px of the 256 px scale, not 8). benchmarks/README.md.
LEVELS = 3
GAIN = 0.5
# Pixels within this distance of a border between regions are moved by the finest level only
# (:func:`border_weight`). With the whole pyramid everywhere, the ten shared photos at 512 px showed more of
# each painting's palette just outside its region (leak 8.7 against 7.6 on the pixels); with 4 px, 7.9,
# and the styles as strong (benchmarks/README.md). 4 px is the coarsest level's cell at three levels.
BORDER_BAND = 4
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


def decompose(image: torch.Tensor, sizes: list[tuple[int, int]], *, gain: float = GAIN,
              coarse_weight: torch.Tensor | None = None) -> list[torch.Tensor]:
    """(1, C, H, W) -> the levels' variables, finest first, such that :func:`compose` gives ``image`` back."""
    levels, current = [], image
    for k in range(len(sizes) - 1):
        smaller = F.interpolate(current, size=sizes[k + 1], mode="bilinear", antialias=True)
        levels.append((current - _upsample(smaller, sizes[k])) / gain**k)
        current = smaller
    levels.append(current / gain ** (len(sizes) - 1))
    if coarse_weight is not None and len(levels) > 1:  # the finest level carries what the weight holds back
        levels[0] = image - coarse_weight * _coarse_part(levels, sizes, gain)
    return levels


def _coarse_part(levels: list[torch.Tensor], sizes: list[tuple[int, int]], gain: float) -> torch.Tensor:
    """The sum of the levels above the finest, upsampled to full size."""
    image = levels[-1] * gain ** (len(sizes) - 1)
    for k in range(len(sizes) - 2, 0, -1):
        image = _upsample(image, sizes[k]) + levels[k] * gain**k
    return _upsample(image, sizes[0])


def compose(levels: list[torch.Tensor], sizes: list[tuple[int, int]], *, gain: float = GAIN,
            coarse_weight: torch.Tensor | None = None) -> torch.Tensor:
    """The image (1, C, H, W) that the levels' variables stand for (differentiable).

    coarse_weight: (H, W) in [0, 1], how much the coarse levels count at each pixel (None: everywhere)."""
    if len(levels) == 1:
        return levels[0]
    coarse = _coarse_part(levels, sizes, gain)
    return levels[0] + (coarse if coarse_weight is None else coarse_weight * coarse)


def border_weight(masks: list[torch.Tensor], *, band: int) -> torch.Tensor:
    """(H, W): 0 within ``band`` pixels of where two of the (H, W) ``masks`` (or a mask and the rest of the
    image) meet, 1 elsewhere. A coarse cell across such a border would move both sides with one variable,
    spreading one region's style over the other."""
    rest = (1 - torch.stack(masks).sum(0)).clamp_min(0)
    return 1 - second_mask_nearby(torch.stack([*masks, rest]), band).clamp(0, 1)


class PixelPyramid:
    """An image held as pyramid variables (leaves with gradients), kept displayable by :meth:`clamp_`.

    ``levels=1`` is the plain pixels (one leaf, the image itself). coarse_weight: see :func:`compose`.
    """

    def __init__(self, image: torch.Tensor, *, levels: int = LEVELS, gain: float = GAIN,
                 coarse_weight: torch.Tensor | None = None) -> None:
        self.sizes = level_sizes(tuple(image.shape[-2:]), levels=levels)
        self.gain = gain
        self.coarse_weight = coarse_weight
        self.variables = [level.detach().contiguous().requires_grad_(True)
                          for level in decompose(image.detach(), self.sizes, gain=gain, coarse_weight=coarse_weight)]

    def image(self) -> torch.Tensor:
        """(1, C, H, W), differentiable with respect to :attr:`variables`."""
        return compose(self.variables, self.sizes, gain=self.gain, coarse_weight=self.coarse_weight)

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
