"""The built-in styles sheet: the photo, then one tile per style, three tiles a row."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from regionstyle import io
from regionstyle.cli import main
from regionstyle.errors import BadInput
from regionstyle.session import Session
from regionstyle.sheet import GAP, LABEL_HEIGHT, render_sheet, sample_photo
from regionstyle.styles.region import render_region


def _photo(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A 48 x 64 PNG with a few coloured blocks, and its pixels as the pipeline reads them."""
    rng = np.random.default_rng(0)
    pixels = np.zeros((48, 64, 3), np.float32)
    pixels[:20] = [0.4, 0.6, 0.9]
    pixels[20:, :32] = [0.7, 0.5, 0.4]
    pixels[20:, 32:] = [0.2, 0.5, 0.2]
    pixels[28:36, 8:16] = [0.15, 0.15, 0.2]
    pixels = np.clip(pixels + rng.normal(0, 0.03, pixels.shape), 0, 1)
    Image.fromarray((pixels * 255).round().astype(np.uint8)).save(tmp_path / "photo.png")
    return tmp_path / "photo.png", (np.asarray(Image.open(tmp_path / "photo.png"), np.float32) / 255)


def _whole_photo_labels(tmp_path: Path) -> Path:
    """One class everywhere: the rule ``"*" = STYLE`` makes the whole photo one region."""
    Image.fromarray(np.full((48, 64), 2, np.uint8)).save(tmp_path / "labels.png")
    return tmp_path / "labels.png"


def _tile(sheet: np.ndarray, index: int, height: int, width: int) -> np.ndarray:
    """Tile ``index`` of a three-column sheet of (LABEL_HEIGHT + height, width) tiles, without its label."""
    top = (index // 3) * (LABEL_HEIGHT + height + GAP) + LABEL_HEIGHT
    left = (index % 3) * (width + GAP)
    return sheet[top:top + height, left:left + width]


def test_the_sheet_shows_the_photo_then_each_style_rendered_from_it(tmp_path, tiny_encoder):
    photo, pixels = _photo(tmp_path)
    names = ["pencil", "mosaic", "woodcut"]
    sheet = render_sheet(names, photo=photo, labels=_whole_photo_labels(tmp_path),
                         settings={"size": 64, "device": "cpu", "seed": 3},
                         session=Session(custom_encoder=tiny_encoder))
    tile_height = LABEL_HEIGHT + 48
    assert sheet.shape == (2 * tile_height + GAP, 3 * 64 + 2 * GAP, 3) and sheet.dtype == np.float32
    np.testing.assert_allclose(_tile(sheet, 0, 48, 64), pixels, atol=1e-6)
    for index, name in enumerate(names, start=1):
        expected = render_region(name, pixels, np.ones((48, 64), np.float32), seed=3)
        np.testing.assert_allclose(_tile(sheet, index, 48, 64), expected, atol=1e-5)
    assert np.all(_tile(sheet, 5, 48, 64) == 1.0)  # the last row's empty place stays white


def test_optimize_builtins_stylises_the_tiles_further(tmp_path, tiny_encoder):
    photo, pixels = _photo(tmp_path)
    sheet = render_sheet(["pencil"], photo=photo, labels=_whole_photo_labels(tmp_path),
                         settings={"size": 64, "device": "cpu", "seed": 3, "iterations": 3, "optimize_builtins": True},
                         session=Session(custom_encoder=tiny_encoder))
    rendered = render_region("pencil", pixels, np.ones((48, 64), np.float32), seed=3)
    assert np.abs(_tile(sheet, 1, 48, 64) - rendered).mean() > 1e-3


def test_the_sample_photo_is_segmented_and_every_region_rendered(tiny_encoder):
    session = Session(custom_encoder=tiny_encoder)
    sheet = render_sheet(["mosaic"], settings={"size": 48, "device": "cpu"}, session=session)
    height = sheet.shape[0] - LABEL_HEIGHT
    width = (sheet.shape[1] - GAP) // 2
    photo = cv2.resize(io.read_image(sample_photo()).pixels, (width, height), interpolation=cv2.INTER_AREA)
    shown, mosaic = _tile(sheet, 0, height, width), _tile(sheet, 1, height, width)
    assert max(height, width) == 48 and mosaic.std() > 0.05
    np.testing.assert_allclose(shown, photo, atol=1e-5)
    assert np.abs(mosaic - photo).mean() > 0.03  # the regions are rendered, not the photo shown


def test_the_default_photo_ships_inside_the_package():
    import regionstyle

    photo = sample_photo()
    assert photo.is_file() and photo.parent.parent == Path(regionstyle.__file__).parent


def test_unknown_style_is_refused_before_any_work(tiny_encoder):
    with pytest.raises(BadInput, match="did you mean 'mosaic'"):
        render_sheet(["mosiac"], session=Session(custom_encoder=tiny_encoder))


def test_the_cli_refuses_labels_without_a_photo(tmp_path):
    labels = _whole_photo_labels(tmp_path)
    result = CliRunner().invoke(main, ["styles", "sheet", "-o", str(tmp_path / "s.png"), "--labels", str(labels)])
    assert result.exit_code == 2 and "--labels goes with --photo" in result.output
    assert not (tmp_path / "s.png").exists()


@pytest.mark.slow
def test_the_cli_sheet_of_a_photo_with_its_labels(tmp_path):
    photo, _ = _photo(tmp_path)
    out = tmp_path / "sheet.png"
    result = CliRunner().invoke(main, ["styles", "sheet", "--photo", str(photo), "--labels",
                                       str(_whole_photo_labels(tmp_path)), "--style", "stained-glass", "--size", "64",
                                       "--iterations", "2", "--encoder", "random", "--device", "cpu", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert Image.open(out).size == (2 * 64 + GAP, LABEL_HEIGHT + 48)
