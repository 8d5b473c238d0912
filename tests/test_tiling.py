"""Tiles for print-resolution scales: centres cover the image exactly once; margins stay inside it."""

from __future__ import annotations

import numpy as np
import pytest

from regionstyle.tiling import windows


@pytest.mark.parametrize("size", [(3072, 4096), (1000, 1000), (300, 2000), (100, 90)])
@pytest.mark.parametrize("shifted", [False, True])
def test_centres_cover_every_pixel_once_and_margins_stay_in_the_image(size, shifted):
    tiles = windows(size, tile=768, margin=64, shifted=shifted)
    cover = np.zeros(size, np.int32)
    for window in tiles:
        top, left, bottom, right = window.inner
        cover[top:bottom, left:right] += 1
        outer = window.outer
        assert 0 <= outer[0] <= top and 0 <= outer[1] <= left and bottom <= outer[2] <= size[0] and right <= outer[3] <= size[1]
        assert top - outer[0] in (0, 64) or outer[0] == 0
        rows, cols = window.inner_in_outer()
        assert (rows.stop - rows.start, cols.stop - cols.start) == (bottom - top, right - left)
        assert min(bottom - top, right - left) >= min(768 // 4, *size)  # no slivers
    assert (cover == 1).all()


def test_the_shifted_grid_puts_its_joins_inside_the_first_grids_tiles():
    first = {w.inner[1] for w in windows((800, 4096), tile=1024, margin=0)} - {0}
    second = {w.inner[1] for w in windows((800, 4096), tile=1024, margin=0, shifted=True)} - {0}
    assert first and second and not first & second
    assert all(min(abs(a - b) for b in first) >= 256 for a in second)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        windows((10, 10), tile=0, margin=1)
