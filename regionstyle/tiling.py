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
