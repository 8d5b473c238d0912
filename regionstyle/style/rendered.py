"""Built-in styles rendered from a region's own pixels, and laid into the picture (numpy only).

A built-in style is rendered from the region itself (:func:`regionstyle.styles.region.render_region`): the
building laid in tiles of its own colours along its own edges. A region whose style is built-ins only is
laid in as rendered: a run of such regions needs nothing more, and never loads torch (a preview in seconds).
The optimiser's side of a rendering (its statistics as a target, its start and anchor as tensors) is
:mod:`regionstyle.style.region`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from maskrules import StyleRef
from regionstyle import color
from regionstyle.styles.region import render_region


def leaves(ref: StyleRef, weight: float = 1.0) -> list[tuple[StyleRef, float]]:
    """A blend flattened to (leaf style, weight) pairs; weights multiply down nested blends."""
    if ref.kind != "blend":
        return [(ref, weight)]
    return [pair for member, share in ref.blend for pair in leaves(member, weight * share)]


def renders_from_region(ref: StyleRef | None) -> bool:
    """Whether ``ref`` is, or blends in, a built-in style (which is then rendered from the region)."""
    return ref is not None and any(leaf.kind == "builtin" for leaf, _ in leaves(ref))


def builtins_only(ref: StyleRef) -> bool:
    """Whether ``ref`` is built-ins only (no painting, no layers): its rendering is the whole style, laid in
    as it is. The optimiser would have almost nothing left to do there: on four shared photos at 512 px, 200
    iterations moved such regions by 0.005-0.009 of the value range on average (benchmarks/README.md)."""
    return ref.kind != "layers" and all(leaf.kind == "builtin" for leaf, _ in leaves(ref))


def render_leaf(leaf: StyleRef, photo: np.ndarray, mask: np.ndarray, *, seed: int, color_mode: str) -> np.ndarray:
    """A built-in leaf rendered from the region (``photo`` (H, W, 3) where ``mask`` (H, W) is), in the
    region's colour mode (:func:`regionstyle.color.in_mode`); float32 (H, W, 3)."""
    pixels = render_region(leaf.builtin, photo, mask, params=dict(leaf.params), seed=seed)
    return color.in_mode(pixels, color_mode, photo=photo, mask=mask)


@dataclass(frozen=True)
class Rendering:
    """A built-ins-only style rendered from one region: one (H, W, 3) image per leaf and the leaves' shares."""

    images: tuple[np.ndarray, ...]
    shares: tuple[float, ...]

    def blended(self) -> np.ndarray:
        """What is laid in: the leaves' renderings glazed over each other by their shares."""
        return sum(w * image for w, image in zip(self.shares, self.images)) / sum(self.shares)

    def palette(self) -> color.Moments:
        """The colours the region starts from under ``color = "style"``."""
        return color.blended_moments(self.images, self.shares)


def render(ref: StyleRef, photo: np.ndarray, mask: np.ndarray, *, seed: int, color_mode: str) -> Rendering:
    """A built-ins-only style (:func:`builtins_only`) rendered from a region."""
    parts = leaves(ref)
    return Rendering(tuple(render_leaf(leaf, photo, mask, seed=seed, color_mode=color_mode) for leaf, _ in parts),
                     tuple(share for _, share in parts))


def lay_in(image: np.ndarray, masks: np.ndarray, layers: Sequence[tuple[int, np.ndarray, float]]) -> np.ndarray:
    """``image`` (H, W, 3) with each layer's (mask row, rendering (H, W, 3), opacity) laid over it where, and
    as much as, its mask ``masks[row]`` times the opacity says."""
    for index, rendering, opacity in layers:
        weight = (masks[index] * np.float32(opacity))[..., None]
        image = image * (1 - weight) + rendering * weight
    return image.astype(np.float32, copy=False)
