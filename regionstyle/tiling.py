"""Tiles for print-resolution scales: overlapping windows whose centres cover the image exactly once.

A scale with more pixels than fit in memory is refined window by window. Each window is optimised with a
margin of context around it, and only its centre is written back, so no window sees an edge that is not in
the photo. A second pass with the grid moved by half a tile puts the first pass's joins in the middle of
the second pass's windows, where they are optimised away (URST, Chen et al. 2022, and tiled super-resolution
do the same). Style targets come from the exemplar, not from the image, so every window chases the same
statistics: the tiles of a region add up to one texture.
"""

from __future__ import annotations

from dataclasses import dataclass

# A scale (or an exemplar) with more pixels than this is worked on in windows. The bundled MobileNetV2's
# forward+backward holds ~1.9 kB per pixel (1024x768: 1.5 GB over the process's 0.7 GB; 2048x1536: 5.6 GB,
# measured), and a 4096x3072 run holds about 0.7 GB of full-size tensors (photo, masks, start, result), so
# windows of 832x832 (0.7 Mpx, ~1.3 GB) keep a print-sized run under 4 GB (3.4 GB peak measured, see
# benchmarks/README.md).
TILE_ABOVE = 1_600_000
# Multiples of 32, the encoders' largest stride: a window's kept centre then starts on a feature position
# at every layer, so statistics gathered window by window add up to those of the whole image.
TILE = 640
MARGIN = 96
# An exemplar's statistics are read in smaller windows: no gradients are kept there, so a smaller window
# costs little more and holds less (a 4096 px painting's fine targets: +0.47 GB and 6.8 s in 320 px
# windows against +0.75 GB and 8.2 s in 640 px ones, measured), which lowers a print run's peak.
EXEMPLAR_TILE = 320
PRINT_ABOVE = 6_000_000


@dataclass(frozen=True)
class Window:
    """One tile. ``outer`` (top, left, bottom, right) is what is optimised; ``inner`` is what is kept."""

    outer: tuple[int, int, int, int]
    inner: tuple[int, int, int, int]

    @property
    def size(self) -> tuple[int, int]:
        top, left, bottom, right = self.outer
        return bottom - top, right - left

    def inner_in_outer(self) -> tuple[slice, slice]:
        """The kept centre, in the coordinates of the optimised window."""
        top, left = self.outer[0], self.outer[1]
        return (slice(self.inner[0] - top, self.inner[2] - top), slice(self.inner[1] - left, self.inner[3] - left))


def _cuts(length: int, tile: int, shift: int) -> list[int]:
    """Cut positions along one axis: 0, shift, shift + tile, ... length (no piece shorter than tile / 4)."""
    cuts = [0] + list(range(shift or tile, length, tile))
    if len(cuts) > 1 and length - cuts[-1] < tile // 4:
        cuts.pop()  # a sliver at the end joins the piece before it
    if len(cuts) > 1 and cuts[1] < tile // 4:
        cuts.pop(1)  # and a sliver at the start joins the piece after it
    return cuts + [length]


def windows(size: tuple[int, int], *, tile: int, margin: int, shifted: bool = False) -> list[Window]:
    """Windows over an image of ``size`` (height, width): centres of about ``tile`` pixels that tile it
    exactly once, each optimised with ``margin`` pixels of context (clipped at the image's edges).

    shifted: move the grid by half a tile (the second pass), so its joins fall inside the first pass's tiles.
    """
    if tile <= 0 or margin < 0:
        raise ValueError(f"tile must be > 0 and margin >= 0, got {tile} and {margin}")
    height, width = size
    rows = _cuts(height, tile, tile // 2 if shifted else 0)
    cols = _cuts(width, tile, tile // 2 if shifted else 0)
    result = []
    for top, bottom in zip(rows, rows[1:]):
        for left, right in zip(cols, cols[1:]):
            outer = (max(0, top - margin), max(0, left - margin), min(height, bottom + margin),
                     min(width, right + margin))
            result.append(Window(outer, (top, left, bottom, right)))
    return result


def needs_tiles(size: tuple[int, int], *, full: tuple[int, int] | None = None) -> bool:
    """Whether an image of ``size`` (height, width) is worked on in windows.

    full: the size of the run it is a scale of. A print-sized run (over ``PRINT_ABOVE``) keeps gigabytes of
    full-size images beside the optimisation, so there every scale larger than one window is tiled (4096 px:
    the untiled 1024x768 scale took the process to 4.5 GB, measured).
    """
    limit = TILE_ABOVE
    if full is not None and full[0] * full[1] > PRINT_ABOVE:
        limit = (TILE + 2 * MARGIN) ** 2
    return size[0] * size[1] > limit


def largest_piece(size: tuple[int, int], *, full: tuple[int, int] | None = None) -> int:
    """Pixels of the largest piece of an image of ``size`` (a scale of a run of size ``full``) that is
    optimised at once: the whole image, or the largest window (margins included) when it is tiled."""
    if not needs_tiles(size, full=full):
        return size[0] * size[1]
    return max(height * width for height, width in (w.size for w in windows(size, tile=TILE, margin=MARGIN)))


def feature_slices(window: Window, layer_size: tuple[int, int]) -> tuple[slice, slice]:
    """The kept centre of ``window`` in the coordinates of a feature map of ``layer_size`` computed over its
    outer window: exact when the window's offsets are multiples of the layer's stride (see ``TILE``)."""
    (height, width), (layer_h, layer_w) = window.size, layer_size
    rows, cols = window.inner_in_outer()

    def scaled(part: slice, length: int, layer_length: int) -> slice:
        stop = layer_length if part.stop == length else round(part.stop * layer_length / length)
        return slice(round(part.start * layer_length / length), stop)

    return scaled(rows, height, layer_h), scaled(cols, width, layer_w)
