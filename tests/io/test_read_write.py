"""Tests of regionstyle.io: round trips, orientation, modes, metadata, refusals and atomic writes.

Every file is generated in tmp_path; expected values come from numpy or Pillow, never from io itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from regionstyle import io as rio
from regionstyle.errors import BadImage, BadInput

STEP8, STEP16 = 1.0 / 255.0, 1.0 / 65535.0
ORIENTATION = 0x0112


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.fixture
def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def exif_bytes(orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make: a tag that must survive untouched
    if orientation is not None:
        exif[ORIENTATION] = orientation
    exif.get_ifd(0x8769)[0x9003] = "2021:06:01 12:00:00"  # DateTimeOriginal, in the EXIF sub-IFD
    return exif.tobytes()


def parsed_exif(data: bytes) -> Image.Exif:
    exif = Image.Exif()
    exif.load(data)
    return exif


def smooth_image(height: int = 24, width: int = 36) -> np.ndarray:
    """A smooth, asymmetric float32 RGB image that survives JPEG nearly intact."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.stack([x / (width - 1), y / (height - 1), 0.5 + 0.3 * np.sin(x / 7.0)], axis=2)


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("suffix", [".png", ".tif", ".webp", ".bmp"])
def test_lossless_8bit_round_trip_within_half_a_step(tmp_path, rng, suffix):
    pixels = rng.random((5, 7, 3), dtype=np.float32)
    written = rio.write_image(tmp_path / f"out{suffix}", pixels, quality=100)  # WebP 100 = lossless
    loaded = rio.read_image(written)
    assert loaded.bit_depth == 8 and loaded.pixels.dtype == np.float32 and loaded.pixels.shape == (5, 7, 3)
    assert np.abs(loaded.pixels - pixels).max() <= 0.5 * STEP8 + 1e-6
    assert loaded.alpha is None and loaded.path == written


@pytest.mark.parametrize("suffix", [".jpg", ".webp"])
def test_lossy_round_trip_stays_close(tmp_path, suffix):
    pixels = smooth_image()
    loaded = rio.read_image(rio.write_image(tmp_path / f"out{suffix}", pixels, quality=95))
    assert np.abs(loaded.pixels - pixels).mean() < 0.01


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16bit_round_trip_keeps_precision_and_alpha(tmp_path, rng, suffix):
    pixels = rng.random((5, 7, 3)).astype(np.float32)
    alpha = rng.random((5, 7)).astype(np.float32)
    loaded = rio.read_image(rio.write_image(tmp_path / f"deep{suffix}", pixels, alpha=alpha, bit_depth=16))
    assert loaded.bit_depth == 16
    assert np.abs(loaded.pixels - pixels).max() <= 0.5 * STEP16 + 1e-7
    assert np.abs(loaded.alpha - alpha).max() <= 0.5 * STEP16 + 1e-7
    squashed = np.round(pixels * 255) / 255  # what an 8-bit detour would have produced
    assert np.abs(loaded.pixels - squashed).max() > 100 * STEP16


def test_16bit_grey_png_from_pillow(tmp_path):
    values = np.array([[0, 1, 257], [4097, 40000, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "grey16.png")  # mode I;16
    loaded = rio.read_image(tmp_path / "grey16.png")
    assert loaded.bit_depth == 16
    expected = values.astype(np.float64) / 65535
    np.testing.assert_allclose(loaded.pixels, np.repeat(expected[..., None], 3, axis=2), atol=1e-7)


def test_alpha_survives_8bit_png(tmp_path, rng):
    alpha = rng.random((4, 6)).astype(np.float32)
    loaded = rio.read_image(rio.write_image(tmp_path / "a.png", smooth_image(4, 6), alpha=alpha))
    assert np.abs(loaded.alpha - alpha).max() <= 0.5 * STEP8 + 1e-6


def test_jpeg_composites_alpha_over_white(tmp_path, caplog):
    pixels = np.zeros((16, 16, 3), np.float32)
    alpha = np.zeros((16, 16), np.float32)
    alpha[:, 8:] = 1.0
    loaded = rio.read_image(rio.write_image(tmp_path / "flat.jpg", pixels, alpha=alpha))
    assert loaded.alpha is None
    assert loaded.pixels[:, :6].min() > 0.95 and loaded.pixels[:, 10:].max() < 0.05
    assert "compositing" in caplog.text


def test_write_clips_and_creates_parent(tmp_path):
    pixels = np.array([[[-0.5, 0.5, 1.5]]], dtype=np.float64)
    loaded = rio.read_image(rio.write_image(tmp_path / "new" / "dir" / "c.png", pixels))
    np.testing.assert_allclose(loaded.pixels[0, 0], [0.0, 128 / 255, 1.0], atol=1e-6)


# ---------------------------------------------------------------- orientation and metadata


def stored_for(upright: np.ndarray, orientation: int) -> np.ndarray:
    """The array a camera stores for ``upright`` under EXIF ``orientation`` (independent of io)."""
    return {3: np.rot90(upright, 2), 6: np.rot90(upright, 1), 8: np.rot90(upright, -1)}[orientation]


@pytest.mark.parametrize("orientation", [6, 8, 3])
@pytest.mark.parametrize("suffix, bit_depth", [(".png", 8), (".png", 16), (".tif", 16), (".tif", 8)])
def test_exif_orientation_gives_upright_pixels(tmp_path, rng, orientation, suffix, bit_depth):
    upright = rng.random((4, 7, 3)).astype(np.float32)  # 4x7: asymmetric, so any wrong turn shows
    stored = np.ascontiguousarray(stored_for(upright, orientation))
    path = rio.write_image(tmp_path / f"o{suffix}", stored, exif=exif_bytes(orientation), bit_depth=bit_depth)
    loaded = rio.read_image(path)
    step = STEP8 if bit_depth == 8 else STEP16
    assert loaded.pixels.shape == upright.shape
    assert np.abs(loaded.pixels - upright).max() <= 0.5 * step + 1e-6
    exif = parsed_exif(loaded.exif)
    assert exif[ORIENTATION] == 1 and exif[0x010F] == "TestCam"
    assert exif.get_ifd(0x8769)[0x9003] == "2021:06:01 12:00:00"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow_exif_transpose(tmp_path, orientation):
    stored = (np.arange(3 * 5 * 3).reshape(3, 5, 3) * 5).astype(np.uint8)
    Image.fromarray(stored).save(tmp_path / "o.png", exif=exif_bytes(orientation))
    with Image.open(tmp_path / "o.png") as image:
        expected = np.asarray(ImageOps.exif_transpose(image)).astype(np.float32) / 255
    np.testing.assert_allclose(rio.read_image(tmp_path / "o.png").pixels, expected, atol=1e-6)


def test_jpeg_orientation_and_exif(tmp_path):
    upright = smooth_image(24, 40)
    stored = (np.rot90(upright, 1) * 255).round().astype(np.uint8)  # orientation 6 stores it turned left
    Image.fromarray(stored).save(tmp_path / "cam.jpg", exif=exif_bytes(6), quality=98)
    loaded = rio.read_image(tmp_path / "cam.jpg")
    assert loaded.pixels.shape == (24, 40, 3)
    assert np.abs(loaded.pixels - upright).mean() < 0.01
    assert parsed_exif(loaded.exif)[ORIENTATION] == 1


@pytest.mark.parametrize(
    "suffix, bit_depth", [(".jpg", 8), (".png", 8), (".webp", 8), (".tif", 8), (".png", 16), (".tif", 16)]
)
def test_icc_profile_survives_round_trip(tmp_path, srgb_icc, suffix, bit_depth):
    path = rio.write_image(tmp_path / f"icc{suffix}", smooth_image(8, 8), icc_profile=srgb_icc, bit_depth=bit_depth)
    assert rio.read_image(path).icc_profile == srgb_icc
    with Image.open(path) as image:  # an independent reader finds it too
        assert image.info["icc_profile"] == srgb_icc


def test_non_rgb_icc_profile_is_dropped(tmp_path, srgb_icc):
    grey_icc = srgb_icc[:16] + b"GRAY" + srgb_icc[20:]
    Image.new("L", (3, 2), 90).save(tmp_path / "g.png", icc_profile=grey_icc)
    assert rio.read_image(tmp_path / "g.png").icc_profile is None


def test_bmp_drops_metadata_with_a_warning(tmp_path, srgb_icc, caplog):
    rio.write_image(tmp_path / "m.bmp", smooth_image(4, 4), icc_profile=srgb_icc, exif=exif_bytes(1))
    assert "keeps no EXIF" in caplog.text
    assert rio.read_image(tmp_path / "m.bmp").icc_profile is None


# ---------------------------------------------------------------- colour modes


def test_palette_without_and_with_transparency(tmp_path):
    indices = np.array([[0, 1, 2], [2, 1, 0]], dtype=np.uint8)
    palette = [255, 0, 0, 0, 255, 0, 0, 0, 255]
    image = Image.frombytes("P", (3, 2), indices.tobytes())
    image.putpalette(palette)
    image.save(tmp_path / "p.png")
    image.save(tmp_path / "pt.png", transparency=1)
    expected = np.array(palette, np.float32).reshape(3, 3)[indices] / 255
    plain = rio.read_image(tmp_path / "p.png")
    np.testing.assert_array_equal(plain.pixels, expected)
    assert plain.alpha is None
    transparent = rio.read_image(tmp_path / "pt.png")
    np.testing.assert_array_equal(transparent.alpha, (indices != 1).astype(np.float32))


def test_cmyk_uses_naive_conversion_without_usable_profile(tmp_path):
    cmyk = np.array([[[0, 0, 0, 0], [255, 0, 0, 0]], [[0, 100, 50, 20], [10, 20, 30, 255]]], np.uint8)
    Image.frombytes("CMYK", (2, 2), cmyk.tobytes()).save(tmp_path / "c.tif", icc_profile=b"not a profile" * 20)
    loaded = rio.read_image(tmp_path / "c.tif")
    ink, black = cmyk[..., :3] / 255, cmyk[..., 3:] / 255
    expected = (1 - ink) * (1 - black)  # the textbook formula, no colour management
    np.testing.assert_allclose(loaded.pixels, expected, atol=0.5 / 255 + 1e-6)
    assert loaded.icc_profile is None  # a CMYK profile cannot describe the RGB result


def test_grey_greyalpha_and_bilevel(tmp_path):
    grey = np.array([[0, 64, 255]], np.uint8)
    Image.fromarray(grey).save(tmp_path / "l.png")
    np.testing.assert_allclose(rio.read_image(tmp_path / "l.png").pixels, np.repeat(grey[..., None], 3, 2) / 255)
    Image.fromarray(np.dstack([grey, 255 - grey])).save(tmp_path / "la.png")  # uint8 (H, W, 2) -> LA
    la = rio.read_image(tmp_path / "la.png")
    np.testing.assert_allclose(la.alpha, (255 - grey[0]) / 255 * np.ones((1, 3)), atol=1e-6)
    Image.fromarray(np.array([[True, False]])).save(tmp_path / "b.png")  # mode 1
    np.testing.assert_array_equal(rio.read_image(tmp_path / "b.png").pixels[0, :, 0], [1.0, 0.0])


def test_float_grey_tiff_is_clipped_to_unit_range(tmp_path):
    Image.fromarray(np.array([[0.0, 0.25, 1.5]], np.float32)).save(tmp_path / "f.tif")  # mode F
    loaded = rio.read_image(tmp_path / "f.tif")
    assert loaded.bit_depth == 16
    np.testing.assert_array_equal(loaded.pixels[0, :, 1], [0.0, 0.25, 1.0])


def test_rgb_png_with_transparent_colour(tmp_path):
    rgb = np.array([[[10, 20, 30], [1, 2, 3]]], np.uint8)
    Image.fromarray(rgb).save(tmp_path / "trns.png", transparency=(10, 20, 30))
    np.testing.assert_array_equal(rio.read_image(tmp_path / "trns.png").alpha, [[0.0, 1.0]])


# ---------------------------------------------------------------- refusals


def _truncated_jpeg(path: Path) -> Path:
    full = path.with_suffix(".full.jpg")
    Image.fromarray((smooth_image(64, 64) * 255).astype(np.uint8)).save(full)
    path.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    return path


def _written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda folder: _truncated_jpeg(folder / "cut.jpg"), "truncated"),
        (lambda folder: _written(folder / "empty.png", b""), "empty (0 bytes)"),
        (lambda folder: _written(folder / "notes.jpg", b"hello, not an image"), "is not a readable"),
        (lambda folder: folder / "missing.png", "no such file"),
        (lambda folder: folder, "is a folder"),
    ],
)
def test_bad_files_raise_badimage_naming_the_file(tmp_path, make, words):
    path = make(tmp_path)
    with pytest.raises(BadImage) as caught:
        rio.read_image(path)
    assert str(path) in str(caught.value) and words in str(caught.value)


def test_truncated_png_is_refused(tmp_path):
    Image.fromarray((smooth_image(32, 32) * 255).astype(np.uint8)).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) - 40])
    with pytest.raises(BadImage, match="cut.png"):
        rio.read_image(tmp_path / "cut.png")


def test_image_over_max_pixels_is_refused(tmp_path):
    rio.write_image(tmp_path / "big.png", smooth_image(10, 10))
    with pytest.raises(BadImage, match=r"big\.png has 10x10 = 100 pixels, more than max_pixels=99"):
        rio.read_image(tmp_path / "big.png", max_pixels=99)
    assert rio.read_image(tmp_path / "big.png", max_pixels=100).size == (10, 10)


def test_pillow_decompression_bomb_error_is_badimage(tmp_path, monkeypatch):
    rio.write_image(tmp_path / "bomb.png", smooth_image(10, 10))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 20)  # Pillow's hard limit is twice this
    with pytest.raises(BadImage, match=r"bomb\.png refused as a possible decompression bomb"):
        rio.read_image(tmp_path / "bomb.png")


@pytest.mark.parametrize(
    "kwargs, suffix, message",
    [
        ({"bit_depth": 16}, ".jpg", "16-bit output needs PNG or TIFF"),
        ({"bit_depth": 12}, ".png", "bit_depth must be 8 or 16"),
        ({"quality": 0}, ".jpg", "quality must be in 1..100"),
        ({}, ".gif", "cannot tell the image format"),
        ({"format": "heic"}, ".png", "unknown image format 'heic'"),
    ],
)
def test_write_refuses_bad_options(tmp_path, kwargs, suffix, message):
    with pytest.raises(BadInput, match=message):
        rio.write_image(tmp_path / f"x{suffix}", smooth_image(2, 2), **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_write_refuses_bad_arrays(tmp_path):
    with pytest.raises(ValueError, match=r"expected a float array of shape \(H, W, 3\)"):
        rio.write_image(tmp_path / "x.png", np.zeros((2, 2, 4), np.float32))
    pixels = np.zeros((2, 2, 3), np.float32)
    pixels[1, 0, 2] = np.nan
    with pytest.raises(ValueError, match="1 values are NaN or infinite"):
        rio.write_image(tmp_path / "x.png", pixels)


def test_explicit_format_overrides_suffix(tmp_path):
    path = rio.write_image(tmp_path / "noext", smooth_image(4, 4), format="jpg")
    with Image.open(path) as image:
        assert image.format == "JPEG"


# ---------------------------------------------------------------- safe writing


def _temp_leftovers(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith(".")]


@pytest.mark.parametrize("error, expected", [(OSError("disk full"), BadInput), (RuntimeError("boom"), RuntimeError)])
def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch, error, expected):
    target = rio.write_image(tmp_path / "out.png", smooth_image(4, 4))
    before = target.read_bytes()

    def failing_save(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG half an image")
        raise error

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(expected):
        rio.write_image(target, np.zeros((4, 4, 3), np.float32))
    assert target.read_bytes() == before
    assert _temp_leftovers(tmp_path) == []


def test_overwrite_replaces_content_and_keeps_permissions(tmp_path):
    target = rio.write_image(tmp_path / "out.png", np.zeros((2, 2, 3), np.float32))
    target.chmod(0o640)
    rio.write_image(target, np.ones((2, 2, 3), np.float32))
    assert rio.read_image(target).pixels.min() == 1.0
    assert target.stat().st_mode & 0o777 == 0o640 and _temp_leftovers(tmp_path) == []


def test_write_refuses_to_overwrite_a_protected_input(tmp_path):
    source = rio.write_image(tmp_path / "photo.png", smooth_image(4, 4))
    before = source.read_bytes()
    (tmp_path / "link.png").symlink_to(source)
    os.link(source, tmp_path / "hard.png")
    for alias in (source, tmp_path / "sub" / ".." / "photo.png", tmp_path / "link.png", tmp_path / "hard.png"):
        with pytest.raises(BadInput, match="refusing to overwrite the input"):
            rio.write_image(alias, np.zeros((4, 4, 3), np.float32), protect=[source])
    assert source.read_bytes() == before
    rio.write_image(tmp_path / "result.png", np.zeros((4, 4, 3), np.float32), protect=[source])


# ---------------------------------------------------------------- label maps


def test_label_map_8bit_16bit_and_palette(tmp_path):
    ids8 = np.array([[0, 2, 3], [150, 7, 2]], np.uint8)
    Image.fromarray(ids8).save(tmp_path / "l8.png")
    ids16 = np.array([[0, 300], [65535, 1]], np.uint16)
    Image.fromarray(ids16).save(tmp_path / "l16.png")
    palette = Image.frombytes("P", (3, 2), ids8.tobytes())
    palette.putpalette(list(np.random.default_rng(0).integers(0, 256, 768)))  # colours irrelevant
    palette.save(tmp_path / "pal.png")
    for name, expected in (("l8.png", ids8), ("l16.png", ids16), ("pal.png", ids8)):
        labels = rio.read_label_map(tmp_path / name)
        assert labels.dtype == np.int32
        np.testing.assert_array_equal(labels, expected)


def test_label_map_refuses_colour_and_jpeg(tmp_path):
    Image.new("RGB", (3, 3), (128, 64, 0)).save(tmp_path / "colour.png")
    with pytest.raises(BadImage, match=r"colour\.png is a colour-coded label map .*legend"):
        rio.read_label_map(tmp_path / "colour.png")
    Image.new("L", (3, 3), 2).save(tmp_path / "ids.jpg")
    with pytest.raises(BadImage, match=r"ids\.jpg is a lossy JPEG"):
        rio.read_label_map(tmp_path / "ids.jpg")


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_write_label_map_round_trips_8_and_16_bit(tmp_path, suffix):
    small = np.array([[0, 3], [255, 22]], np.int64)
    wide = np.array([[0, 300], [65535, 1]], np.int32)
    for name, ids, mode in (("small", small, "L"), ("wide", wide, "I;16")):
        path = rio.write_label_map(tmp_path / f"{name}{suffix}", ids)
        with Image.open(path) as image:
            assert image.mode == mode
        np.testing.assert_array_equal(rio.read_label_map(path), ids)


def test_write_label_map_refusals(tmp_path):
    with pytest.raises(BadInput, match=r"as JPEG: use \.png or \.tif"):
        rio.write_label_map(tmp_path / "ids.jpg", np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match=r"ids must be in 0\.\.65535, got -1\.\.0"):
        rio.write_label_map(tmp_path / "ids.png", np.array([[-1, 0]]))
    with pytest.raises(ValueError, match="integer class ids"):
        rio.write_label_map(tmp_path / "ids.png", np.zeros((2, 2), np.float32))
    source = rio.write_label_map(tmp_path / "given.png", np.zeros((2, 2), np.uint8))
    with pytest.raises(BadInput, match="refusing to overwrite the input"):
        rio.write_label_map(source, np.ones((2, 2), np.uint8), protect=[source])


def test_color_label_map_with_legend(tmp_path):
    colours = np.array([[[255, 0, 0], [0, 0, 255]], [[0, 0, 255], [9, 9, 9]]], np.uint8)
    Image.fromarray(colours).save(tmp_path / "c.png")
    legend = {(255, 0, 0): 2, (0, 0, 255): 3, (9, 9, 9): 0}
    np.testing.assert_array_equal(rio.read_color_label_map(tmp_path / "c.png", legend), [[2, 3], [3, 0]])
    with pytest.raises(BadImage, match=r"1 colour\(s\) are not in the legend, e.g. \(9, 9, 9\)"):
        rio.read_color_label_map(tmp_path / "c.png", {(255, 0, 0): 2, (0, 0, 255): 3})


def test_multi_picture_jpeg_reads_first_frame(tmp_path):
    first, second = Image.new("RGB", (8, 8), (200, 10, 10)), Image.new("RGB", (8, 8), (0, 0, 200))
    first.save(tmp_path / "phone.jpg", "MPO", save_all=True, append_images=[second])
    pixels = rio.read_image(tmp_path / "phone.jpg").pixels
    np.testing.assert_allclose(pixels.mean(axis=(0, 1)), np.array([200, 10, 10]) / 255, atol=0.02)


# ---------------------------------------------------------------- real data (skipped where absent)


@pytest.mark.shared
def test_real_photo_and_label_map(shared_data):
    photo = shared_data / "photos" / "small264_big_ben_cc0.jpg"
    loaded = rio.read_image(photo)
    with Image.open(photo) as image:
        expected = np.asarray(ImageOps.exif_transpose(image).convert("RGB"), dtype=np.float32) / 255
    np.testing.assert_array_equal(loaded.pixels, expected)
    label_path = shared_data / "labels" / "small264_big_ben_cc0.png"
    labels = rio.read_label_map(label_path)
    with Image.open(label_path) as image:
        np.testing.assert_array_equal(labels, np.asarray(image))
    assert labels.shape == loaded.size and set(np.unique(labels)) >= {2, 3}  # building and sky
