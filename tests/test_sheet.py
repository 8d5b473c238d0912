"""The built-in styles preview sheet: one row per style, exemplar beside the stylised photo."""

from __future__ import annotations

import numpy as np
import pytest

from regionstyle import styles
from regionstyle.errors import BadInput
from regionstyle.session import Session
from regionstyle.sheet import LABEL_HEIGHT, render_sheet, sample_photo


def test_sheet_rows_hold_each_exemplar_and_a_stylised_photo(tiny_encoder):
    session = Session(custom_encoder=tiny_encoder)
    sheet = render_sheet(["mosaic", "pencil"], settings={"size": 48, "iterations": 2, "device": "cpu"},
                         session=session)
    tile = 48 * 2 // 3
    row_height = tile + LABEL_HEIGHT + 4
    assert sheet.shape[0] == 2 * row_height and sheet.dtype == np.float32
    for index, name in enumerate(["mosaic", "pencil"]):
        top = index * row_height + LABEL_HEIGHT
        exemplar = styles.render_builtin(name, height=tile, width=tile)
        np.testing.assert_allclose(sheet[top:top + tile, :tile], exemplar, atol=1e-6)
        scene = sheet[top:top + tile, tile + 8:]
        assert scene.std() > 0.05  # a picture, not the white background
    assert sheet[:LABEL_HEIGHT].min() < 0.5  # the name is written on the label strip


def test_the_default_photo_ships_inside_the_package():
    import regionstyle

    photo = sample_photo()
    assert photo.is_file() and photo.parent.parent == __import__("pathlib").Path(regionstyle.__file__).parent


def test_unknown_style_is_refused_before_any_work(tiny_encoder):
    with pytest.raises(BadInput, match="did you mean 'mosaic'"):
        render_sheet(["mosiac"], session=Session(custom_encoder=tiny_encoder))
