"""The built-in styles preview sheet: one row per style, the photo's rendering beside the stylised photo."""

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


def test_sheet_rows_hold_the_rendering_beside_the_stylised_photo(tmp_path, tiny_encoder):
    photo, pixels = _photo(tmp_path)
    session = Session(custom_encoder=tiny_encoder)
    sheet = render_sheet(["pencil", "mosaic"], photo=photo, labels=_whole_photo_labels(tmp_path),
                         settings={"size": 64, "iterations": 2, "device": "cpu", "seed": 3}, session=session)
    row_height = LABEL_HEIGHT + 48 + 4
    assert sheet.shape == (2 * row_height, 2 * 64 + GAP, 3) and sheet.dtype == np.float32
    for index, name in enumerate(["pencil", "mosaic"]):
        top = index * row_height + LABEL_HEIGHT
        rendering, result = sheet[top:top + 48, :64], sheet[top:top + 48, 64 + GAP:]
        expected = render_region(name, pixels, np.ones((48, 64), np.float32), seed=3)
        np.testing.assert_allclose(rendering, expected, atol=1e-5)
        assert np.abs(result - pixels).mean() > 0.05  # stylised, not the photo
        assert np.abs(result - rendering).mean() < np.abs(pixels - rendering).mean()  # it starts from there
        assert sheet[top - LABEL_HEIGHT:top].min() < 0.5  # the name is written on the label strip


@pytest.mark.slow
def test_the_sample_photo_is_segmented_and_every_region_rendered(tiny_encoder):
    session = Session(custom_encoder=tiny_encoder)
    sheet = render_sheet(["mosaic"], settings={"size": 48, "iterations": 2, "device": "cpu"}, session=session)
    height = sheet.shape[0] - LABEL_HEIGHT - 4
    width = (sheet.shape[1] - GAP) // 2
    rendering = sheet[LABEL_HEIGHT:LABEL_HEIGHT + height, :width]
    photo = cv2.resize(io.read_image(sample_photo()).pixels, (width, height), interpolation=cv2.INTER_AREA)
    assert max(height, width) == 48 and rendering.std() > 0.05
    assert np.abs(rendering - photo).mean() > 0.03  # the regions are rendered, not the photo shown


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
    assert Image.open(out).size == (2 * 64 + GAP, LABEL_HEIGHT + 48 + 4)
