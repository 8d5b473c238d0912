"""A run's files for editors: the PSD read back with psd-tools, region masks written and fed back."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from regionstyle import io, pipeline
from regionstyle.config import make_config
from regionstyle.errors import BadInput
from regionstyle.layers import maskfiles
from regionstyle.layers import result as layered
from regionstyle.rules import load_ruleset
from regionstyle.session import Session
from tests.paths import SAMPLES

psd_tools = pytest.importorskip("psd_tools", reason="psd-tools is a dependency of regionstyle")


@pytest.fixture(scope="module")
def scene_run(tiny_encoder):
    """The bundled sample scene at 64 px, a few iterations with the tiny encoder."""
    photo = io.read_image(SAMPLES / "scene.png")
    ruleset = load_ruleset(SAMPLES / "scene.toml")
    config = make_config(ruleset.defaults, size=64, iterations=3, device="cpu", seed=0)
    session = Session(custom_encoder=tiny_encoder)
    result = pipeline.run(photo, ruleset, config, session=session)
    return photo, ruleset, config, session, result


def test_psd_layers_and_composite_match_the_flat_output(scene_run, tmp_path):
    from psd_tools import PSDImage
    from psd_tools.composite import composite

    photo, _, config, _, result = scene_run
    flat = io.to_uint8(result.image)
    path = layered.write_layers(tmp_path / "out.psd", result, config)
    document = PSDImage.open(path)
    layers = list(document)
    styled = [(n, r) for n, r in zip(result.masks.names, result.report["regions"]) if r["styled"]]
    assert [layer.name for layer in layers] == ["photo"] + [f"{n} \u2014 {r['style']}" for n, r in styled[::-1]]
    assert layers[1].name.startswith("default") and layers[-1].name == "sky \u2014 watercolor"
    assert document.size == (flat.shape[1], flat.shape[0])
    # the bottom layer is the photo at the working size, resized independently here
    import cv2

    working = cv2.resize(photo.pixels, (flat.shape[1], flat.shape[0]), interpolation=cv2.INTER_AREA)
    assert np.array_equal(np.asarray(layers[0].topil().convert("RGB")), io.to_uint8(working))
    color, _, _ = composite(document)
    assert np.abs(color.astype(np.float64) * 255 - flat).max() <= 0.5 + 1e-3
    assert np.array_equal(np.asarray(document.topil().convert("RGB")), flat)  # the stored merged image
    masks = [np.asarray(layer.mask.topil()) for layer in layers[1:]]
    owner_names = np.array(result.masks.names)[result.masks.owner]
    kept = ~np.isin(owner_names, [n for n, _ in styled])
    assert kept.any() and all((m[kept] == 0).all() for m in masks)  # road and the rest show the photo
    checked = []
    for position, (layer, mask, (name, _)) in enumerate(zip(layers[1:], masks, styled[::-1])):
        above = masks[position + 1:]  # psd order: later = higher
        alone = (mask == 255) & np.all([m == 0 for m in above] or [np.ones_like(mask, bool)], axis=0)
        assert np.array_equal(np.asarray(layer.topil().convert("RGB"))[alone], flat[alone])
        checked += [name] if alone.any() else []
        inside = (owner_names == name) & (result.masks.masks[list(result.masks.names).index(name)] > 0.999)
        assert (mask[inside] > 0).all()
    assert {"sky", "building"} <= set(checked)  # the big regions have pixels only they show (at 64 px)


def test_region_mask_files_round_trip_to_the_same_result(scene_run, tmp_path):
    photo, ruleset, config, session, result = scene_run
    files = layered.write_masks(tmp_path / "masks", result)
    assert [f.name for f in files] == [f"{n}.png" for n in result.masks.names]
    for index, file in enumerate(files):
        mask = np.asarray(Image.open(file))
        assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 255}
        assert np.array_equal(mask == 255, result.masks.owner == index)
    index = json.loads((tmp_path / "masks" / "regions.json").read_text())
    assert {e["name"]: e["style"] for e in index["regions"]}["sky"] == "watercolor"
    again = pipeline.run(photo, ruleset, config, labels=tmp_path / "masks", session=session)
    assert again.masks.names == result.masks.names
    assert np.array_equal(again.masks.owner, result.masks.owner)
    assert np.allclose(again.masks.masks, result.masks.masks, atol=1e-6)
    assert np.array_equal(io.to_uint8(again.image), io.to_uint8(result.image))
    assert again.report["segmenter"]["choice"].startswith("region masks")


def test_an_edited_mask_moves_pixels_to_another_region(scene_run, tmp_path):
    from regionstyle.segment.mask_folder import region_masks

    result = scene_run[-1]
    folder = tmp_path / "masks"
    layered.write_masks(folder, result)
    sky = np.asarray(Image.open(folder / "sky.png")).copy()
    building = np.asarray(Image.open(folder / "building.png")).copy()
    ys, xs = np.nonzero(sky)
    patch = (slice(ys.min(), ys.min() + 4), slice(xs.min(), xs.min() + 4))
    sky[patch] = 0
    building[patch] = 255  # a bit of sky repainted as building
    Image.fromarray(sky).save(folder / "sky.png")
    Image.fromarray(building).save(folder / "building.png")
    regions = [(n, s, i, 0.0) for i, (n, s) in enumerate(zip(result.masks.names, result.masks.styled))]
    masks = region_masks(folder, regions, size=result.masks.owner.shape)
    assert (np.array(masks.names)[masks.owner[patch]] == "building").all()
    sky[:, :] = 0  # sky erased everywhere and painted nowhere: its pixels go to their neighbours
    Image.fromarray(sky).save(folder / "sky.png")
    masks = region_masks(folder, regions, size=result.masks.owner.shape)
    assert "sky" not in masks.names and masks.masks.sum(axis=0) == pytest.approx(1.0, abs=1e-5)


def test_writing_masks_refuses_to_replace_without_overwrite(scene_run, tmp_path):
    result = scene_run[-1]
    layered.write_masks(tmp_path, result)
    with pytest.raises(BadInput, match="--overwrite"):
        layered.write_masks(tmp_path, result)
    layered.write_masks(tmp_path, result, overwrite=True)
    with pytest.raises(BadInput, match="refusing to overwrite the input"):
        layered.write_masks(tmp_path, result, overwrite=True, protect=[tmp_path / "sky.png"])


def test_safe_names_stay_distinct():
    assert maskfiles.file_names(["a b", "a_b", "A b"]) == ["a_b.png", "a_b_2.png", "A_b_3.png"]
