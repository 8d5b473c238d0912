"""A folder of region masks in place of a segmentation: edits move pixels, mistakes get clear messages."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import maskrules
from regionstyle.errors import BadInput
from regionstyle.rules import load_ruleset
from regionstyle.segment import mask_folder
from regionstyle.segment.mask_folder import region_masks


def write(folder, name: str, mask: np.ndarray) -> None:
    folder.mkdir(exist_ok=True)
    Image.fromarray(mask.astype(np.uint8)).save(folder / f"{name}.png")


def test_erased_pixels_go_to_their_neighbours_and_empty_regions_drop_out(tmp_path):
    folder = tmp_path / "masks"
    sky = np.zeros((16, 20), np.uint8)
    sky[:8] = 255
    write(folder, "sky", sky)
    write(folder, "building", 255 - sky)
    regions = [("sky", True, 0, 0.0), ("building", True, 1, 0.0), ("unstyled", False, -1, 0.0)]
    masks = region_masks(folder, regions, size=(16, 20))
    assert masks.names == ("sky", "building", "unstyled")  # a kept region stays, even with no pixels
    assert np.array_equal(masks.owner == 0, sky == 255)
    sky[2:6, 4:8] = 0  # a hole in the sky, painted in no other mask
    write(folder, "sky", sky)
    write(folder, "building", np.zeros_like(sky))  # and the building erased everywhere
    masks = region_masks(folder, regions, size=(16, 20))
    assert masks.names == ("sky", "unstyled")  # an empty styled region is dropped
    assert (masks.owner == 0).all()  # every unclaimed pixel went to its nearest claimed one: sky
    assert masks.masks.sum(axis=0) == pytest.approx(1.0, abs=1e-5)


def test_grey_levels_are_shares_and_other_sizes_are_scaled(tmp_path):
    folder = tmp_path / "masks"
    write(folder, "sky", np.full((8, 10), 64))
    write(folder, "building", np.full((8, 10), 192))
    regions = [("sky", True, 0, 0.0), ("building", True, 1, 0.0)]
    masks = region_masks(folder, regions, size=(16, 20))  # twice the files' size, same shape
    assert masks.masks.shape == (2, 16, 20)
    assert masks.masks[0] == pytest.approx(0.25, abs=1e-6) and masks.masks[1] == pytest.approx(0.75, abs=1e-6)


def test_mask_folder_mistakes_are_clear(tmp_path):
    regions = [("sky", True, 0, 0.0), ("unstyled", False, -1, 0.0)]
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput, match="no mask PNG"):
        region_masks(tmp_path / "empty", regions, size=(8, 8))
    write(tmp_path / "odd", "skye", np.full((8, 8), 255))
    with pytest.raises(BadInput, match=r"skye name no region of these rules \(regions: sky, unstyled\)"):
        region_masks(tmp_path / "odd", regions, size=(8, 8))
    write(tmp_path / "black", "sky", np.zeros((8, 8)))
    with pytest.raises(BadInput, match="every mask is black"):
        region_masks(tmp_path / "black", regions, size=(8, 8))
    write(tmp_path / "black", "sky", np.zeros((8, 16)))
    with pytest.raises(BadInput, match="masks must be of this photo"):
        region_masks(tmp_path / "black", regions, size=(8, 8))


def test_safe_names():
    assert mask_folder.safe_name("tree+grass") == "tree_grass"
    assert mask_folder.safe_name("...") == "region"


def test_rules_name_a_mask_folder(tmp_path):
    (tmp_path / "masks").mkdir()
    path = tmp_path / "rules.toml"
    path.write_text("[segmentation]\nmasks = 'masks'\n[map]\nsky = 'watercolor'\n")
    spec = load_ruleset(path).segmentation
    assert spec.masks == tmp_path / "masks"
    assert mask_folder.chosen_folder(None, spec) == tmp_path / "masks"
    label_map = tmp_path / "labels.png"
    label_map.write_bytes(b"")
    assert mask_folder.chosen_folder(label_map, spec) is None  # a label map given beats the rules' masks
    assert mask_folder.chosen_folder(tmp_path, spec) == tmp_path  # so does a folder given
    path.write_text("[segmentation]\nmasks = 'nowhere'\n[map]\nsky = 'watercolor'\n")
    with pytest.raises(maskrules.RuleError, match="folder of region masks not found"):
        load_ruleset(path)
