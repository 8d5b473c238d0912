"""File to file: what stylize_file writes, in which format and depth, and what it refuses before any work."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from regionstyle import files, io
from regionstyle.errors import BadInput
from regionstyle.session import Session
from tests.paths import SAMPLES

RULES = ('[segmentation]\nlabels = "labels.png"\nclasses = "ade20k"\n[defaults]\niterations = 2\n'
         'optimize_builtins = true\n[map]\nsky = "oil"\n')  # optimised: the tests watch the encoder load


@pytest.fixture()
def scene(tmp_path):
    rng = np.random.default_rng(1)
    io.write_image(tmp_path / "photo.png", rng.random((32, 48, 3)).astype(np.float32))
    labels = np.full((32, 48), 3, np.uint8)
    labels[16:] = 2
    Image.fromarray(labels).save(tmp_path / "labels.png")
    (tmp_path / "rules.toml").write_text(RULES)
    return tmp_path


class NoModels(Session):
    """A Session that fails the test if any model is asked for: refusals must come first."""

    def encoder(self, *args, **kwargs):
        raise AssertionError("an encoder was loaded before the outputs were checked")

    def segmenter(self, *args, **kwargs):
        raise AssertionError("a segmenter was loaded before the outputs were checked")


@pytest.mark.parametrize(("output", "options", "words"), [
    ("out.xyz", files.OutputOptions(), "cannot tell the image format"),
    ("out.jpg", files.OutputOptions(bit_depth=16), "16-bit output needs PNG or TIFF"),
    ("out.png", files.OutputOptions(quality=0), "quality must be in 1..100"),
    ("photo.png", files.OutputOptions(overwrite=True), "refusing to overwrite the input"),
    ("rules.toml", files.OutputOptions(format="png", overwrite=True), "refusing to overwrite the input"),
    ("labels.png", files.OutputOptions(overwrite=True), "refusing to overwrite the input"),
    ("existing.png", files.OutputOptions(), "exists; pass --overwrite"),
    ("folder", files.OutputOptions(format="png"), "is a folder"),
    ("blocker.png/out.png", files.OutputOptions(), "is a file, not a folder"),
    ("manifest_is_a_dir.png", files.OutputOptions(manifest=True), "is a folder"),
])
def test_outputs_are_refused_before_any_model_loads(scene, output, options, words):
    (scene / "existing.png").write_bytes(b"keep")
    (scene / "folder").mkdir()
    (scene / "blocker.png").write_bytes(b"a file")
    (scene / "manifest_is_a_dir.png.json").mkdir()
    with pytest.raises(BadInput, match=words):
        files.stylize_file(scene / "photo.png", scene / "rules.toml", scene / output, options=options,
                           labels=scene / "labels.png", session=NoModels())
    assert (scene / "existing.png").read_bytes() == b"keep"
    assert not (scene / "manifest_is_a_dir.png").exists()


@pytest.mark.parametrize(("layers", "masks", "overwrite", "words"), [
    ("out.tif", None, False, "expected a .psd file name"),
    ("labels.png/out.psd", None, True, "is a file, not a folder"),
    ("photo.psd", None, False, "exists; pass --overwrite"),
    ("sub.psd", None, False, "is a folder"),
    (None, "photo.psd", True, "is a file; give a folder"),
    (None, "masks", False, "already holds regions.json and 1 more; pass --overwrite"),
    (None, "labels.png/masks", True, "is a file, not a folder"),
    (None, ".", True, "refusing to overwrite the input"),  # the --labels folder the masks are read from
])
def test_layers_and_masks_are_refused_before_any_model_loads(scene, layers, masks, overwrite, words):
    (scene / "photo.psd").write_bytes(b"an edited PSD")
    (scene / "sub.psd").mkdir()
    (scene / "masks").mkdir()
    (scene / "masks" / "regions.json").write_text("{}")
    (scene / "masks" / "sky.png").write_bytes(b"a painted mask")
    options = files.OutputOptions(overwrite=overwrite, layers=layers and scene / layers,
                                  masks=masks and scene / masks)
    labels = scene if masks == "." else scene / "labels.png"
    with pytest.raises(BadInput, match=words):
        files.stylize_file(scene / "photo.png", scene / "rules.toml", scene / "out.png", options=options,
                           labels=labels, session=NoModels())
    assert (scene / "photo.psd").read_bytes() == b"an edited PSD"
    assert (scene / "masks" / "sky.png").read_bytes() == b"a painted mask"


def test_writes_the_image_and_the_manifest_with_what_ran(scene, tiny_encoder):
    done = files.stylize_file(scene / "photo.png", scene / "rules.toml", scene / "out.png",
                              options=files.OutputOptions(manifest=True), session=Session(custom_encoder=tiny_encoder))
    assert done.output.is_file() and done.manifest == scene / "out.png.json"
    manifest = json.loads(done.manifest.read_text())
    assert manifest["input"] == str(scene / "photo.png") and manifest["settings"]["iterations"] == 2
    assert manifest["encoder"]["choice"] == "custom encoder tiny"
    assert manifest["segmenter"]["choice"] == f"label map {scene / 'labels.png'}"
    assert manifest["written"] == {"format": "png", "bit_depth": 8, "alpha": False, "exif": False, "icc_profile": False}
    assert io.read_image(done.output).size == (32, 48)


def test_a_16_bit_input_gives_a_16_bit_png_unless_asked_otherwise(scene, tiny_encoder):
    deep = (np.random.default_rng(2).random((32, 48, 3)) * 65535).astype(np.uint16)
    io.write_image(scene / "deep.png", deep.astype(np.float32) / 65535, bit_depth=16)
    session = Session(custom_encoder=tiny_encoder)
    done = files.stylize_file(scene / "deep.png", scene / "rules.toml", scene / "out.png", session=session)
    assert done.report["written"]["bit_depth"] == 16 and io.read_image(done.output).bit_depth == 16
    done = files.stylize_file(scene / "deep.png", scene / "rules.toml", scene / "out.jpg", session=session)
    assert done.report["written"]["bit_depth"] == 8


def test_the_sample_photo_with_a_plain_rules_file_and_the_bundled_models(tmp_path):
    """The README's first command: no [segmentation], no label map, no network, no ../shared."""
    rules = tmp_path / "plain.toml"
    rules.write_text('[map]\nsky = "watercolor"\nbuilding = "mosaic"\n')
    done = files.stylize_file(SAMPLES / "st_basils_cathedral.jpg", rules, tmp_path / "out.png",
                              settings={"size": 96, "iterations": 6, "optimize_builtins": True})
    assert done.report["segmenter"]["source"].startswith("tflite:")
    assert "deeplabv3-ade20k" in done.report["segmenter"]["choice"]
    assert done.report["encoder"]["name"] == "mobilenet_v2" and "bundled" in done.report["encoder"]["weights"]
    areas = {r["name"]: r["area"] for r in done.report["regions"]}
    assert areas["sky"] > 0.25 and areas["building"] > 0.25  # St Basil's: about half sky, half cathedral
    photo = io.read_image(SAMPLES / "st_basils_cathedral.jpg").pixels
    out = io.read_image(done.output).pixels
    assert out.shape == (96, 96, 3)
    import cv2

    small = cv2.resize(photo, (96, 96), interpolation=cv2.INTER_AREA)
    assert np.abs(out - small).mean() > 0.02  # stylised, not a copy
