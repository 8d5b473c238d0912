"""The layer stack of a result: per-layer pixels and 8-bit alphas whose normal-mode composite is the flat output.

The flat output is not a per-pixel mix of "photo" and "stylised": all styled regions come out of ONE
optimisation, and the keep regions are then pasted back with a Laplacian-pyramid fade
(:mod:`regionstyle.blend`). So the layers cannot simply be "the optimiser's image, masked". Instead:

1. Total cover t (H, W): how much of the styled layers must lie over the photo at each pixel. It is the
   styled side's own weight ``1 - keep_weight`` (1 inside styled regions, fading to 0 towards a keep
   region), raised where needed so the layer colour below stays in [0, 255]: a layer of colour C and
   cover t over the photo P shows P + t (C - P), so C = P + (flat - P) / t, which needs t >= t_min.
2. The cover is shared among the styled regions in proportion to their soft masks (which sum to 1 with
   the keep masks; renormalised over the styled ones). Every styled layer carries the SAME colour C, so
   the composite depends only on the total cover: 1 - prod(1 - a_i) over the layers.
3. Alphas are set top layer first: a_k = 1 - (1 - cover wanted down to layer k) / (light left above k),
   rounded UP to 1/255, so the cover reached is never below t and rounding never accumulates (each layer
   corrects towards the running target). C is then computed from the cover actually reached with the
   8-bit alphas, so the only error left is rounding C itself: an exact float composite of the stored file
   is within half a level of the flat output, i.e. it rounds to it.

Everything here is a pure function of uint8 / float arrays; writing files is :mod:`regionstyle.layers.psd`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regionstyle.errors import BadInput


@dataclass(frozen=True)
class LayerStack:
    """A layered picture, bottom to top: ``photo``, then ``names[-1]`` ... ``names[0]`` (top).

    photo: uint8 (H, W, 3), the bottom layer. color: uint8 (H, W, 3), the pixels of every styled layer.
    alphas: uint8 (L, H, W), one mask per styled layer, in ``names`` order (top layer first).
    flat: uint8 (H, W, 3), the flat output the stack composites to.
    """

    photo: np.ndarray
    color: np.ndarray
    alphas: np.ndarray
    names: tuple[str, ...]
    flat: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        return int(self.photo.shape[0]), int(self.photo.shape[1])


def build_stack(photo: np.ndarray, flat: np.ndarray, shares: np.ndarray, photo_weight: np.ndarray,
                names: tuple[str, ...] | list[str]) -> LayerStack:
    """Layers over ``photo`` that composite to ``flat`` (see the module doc).

    photo, flat: uint8 (H, W, 3). shares: float (L, H, W) >= 0, the styled regions' soft masks, top layer
    first. photo_weight: float (H, W) in [0, 1], the photo's weight in the flat output (1 on kept pixels).
    """
    _check(photo, flat, shares, photo_weight, names)
    diff = flat.astype(np.float64) - photo.astype(np.float64)
    # 0 on kept pixels (weight 1, flat == photo there), 1 inside styled regions, the fade in between.
    cover = np.clip(np.maximum(1.0 - photo_weight.astype(np.float64), minimum_cover(photo, flat)), 0.0, 1.0)
    alphas = layer_alphas(cover, region_shares(shares))
    reached = 1.0 - np.prod(1.0 - alphas.astype(np.float64) / 255.0, axis=0)
    safe = np.where(reached > 0, reached, 1.0)[..., None]
    color = np.where(reached[..., None] > 0, photo + diff / safe, flat.astype(np.float64))
    color = np.clip(np.round(color), 0, 255).astype(np.uint8)
    return LayerStack(photo=photo, color=color, alphas=alphas, names=tuple(names), flat=flat)


def minimum_cover(photo: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """float64 (H, W): the least cover t for which C = P + (flat - P) / t stays in [0, 255] on every channel."""
    p = photo.astype(np.float64)
    d = flat.astype(np.float64) - p
    room = np.where(d > 0, 255.0 - p, p)  # how far C may move from P in the direction of d
    need = np.divide(np.abs(d), room, out=np.zeros_like(d), where=room > 0)
    return need.max(axis=2)


def region_shares(shares: np.ndarray) -> np.ndarray:
    """float64 (L, H, W) summing to 1 at every pixel: masks renormalised; where all are 0, the largest wins."""
    shares = np.clip(shares.astype(np.float64), 0.0, None)
    total = shares.sum(axis=0)
    empty = total <= 1e-9
    if empty.any():  # cover with no styled mask under it (can only happen at the very rim of a fade)
        fallback = np.zeros_like(shares)
        np.put_along_axis(fallback, shares.argmax(axis=0)[None], 1.0, axis=0)
        shares = np.where(empty[None], fallback, shares)
        total = np.where(empty, 1.0, total)
    return shares / total[None]


def layer_alphas(cover: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """uint8 (L, H, W): alphas whose stacked cover (top layer first) reaches ``cover`` (H, W) split by ``shares``.

    Each alpha is rounded up, so the cover reached down to any layer is at least the cover wanted there.
    A layer is more opaque than its share only where layers above it are partly transparent (soft borders).
    """
    light = np.ones(cover.shape, np.float64)  # light still reaching below the layers done so far
    wanted = np.zeros(cover.shape, np.float64)
    out = np.zeros(shares.shape, np.uint8)
    for index, share in enumerate(shares):
        wanted = wanted + cover * share
        # Where the layers above already cover everything this alpha is invisible: give it the region's
        # own share, so the mask an editor shows stays the region (not a solid sheet under the others).
        alpha = np.where(light > 0, 1.0 - np.divide(1.0 - wanted, light, out=np.zeros_like(light), where=light > 0),
                         cover * share)
        level = np.clip(np.ceil(alpha * 255.0 - 1e-6), 0, 255)
        out[index] = level.astype(np.uint8)
        light = light * (1.0 - level / 255.0)
    return out


def composite(stack: LayerStack) -> np.ndarray:
    """float64 (H, W, 3) in [0, 255]: the stack composited in normal mode, in floating point (for checks)."""
    image = stack.photo.astype(np.float64)
    for alpha in stack.alphas[::-1]:  # bottom styled layer first
        a = alpha.astype(np.float64)[..., None] / 255.0
        image = image * (1.0 - a) + stack.color.astype(np.float64) * a
    return image


def _check(photo: np.ndarray, flat: np.ndarray, shares: np.ndarray, photo_weight: np.ndarray,
           names: tuple[str, ...] | list[str]) -> None:
    if photo.dtype != np.uint8 or flat.dtype != np.uint8 or photo.ndim != 3 or photo.shape != flat.shape:
        raise BadInput(f"layers: expected photo and flat as uint8 (H, W, 3) of one shape, got {photo.dtype} "
                       f"{photo.shape} and {flat.dtype} {flat.shape}")
    if shares.ndim != 3 or shares.shape[1:] != photo.shape[:2] or photo_weight.shape != photo.shape[:2]:
        raise BadInput(f"layers: expected shares (L, {photo.shape[0]}, {photo.shape[1]}) and a weight of the "
                       f"photo's size, got {shares.shape} and {photo_weight.shape}")
    if len(names) != shares.shape[0]:
        raise BadInput(f"layers: expected one name per layer ({shares.shape[0]}), got {len(names)}")
