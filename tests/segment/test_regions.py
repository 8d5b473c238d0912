"""Region masks: sum to one everywhere, keep regions exact, min_area, islands, feathering."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import maskrules
from regionstyle.datatypes import Segmentation
from regionstyle.errors import BadInput
from regionstyle.segment.regions import ISLAND_FRINGE, build_region_masks

VOCAB = maskrules.vocabulary_from_class_list("sky\nbuilding\nperson\ntree\nroad\n", name="tiny")
SKY, BUILDING, PERSON, TREE, ROAD = range(5)


def resolution(rules: str) -> maskrules.Resolution:
    return maskrules.resolve(maskrules.parse_rules(rules), VOCAB)


RULES = resolution('[map]\nsky = "watercolor"\nbuilding = "mosaic"\nperson = "keep"\n')


def hard(labels: np.ndarray) -> Segmentation:
    return Segmentation(labels=labels.astype(np.int32), class_names=VOCAB.classes, vocabulary="tiny",
                        source="test")


def soft(seed: int, size=(48, 64), work=(12, 16)) -> Segmentation:
    gen = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(len(VOCAB.classes), *work, generator=gen)
    up = F.interpolate(logits[None], size=size, mode="bilinear", align_corners=False)[0]
    return Segmentation(labels=up.argmax(0).numpy().astype(np.int32), class_names=VOCAB.classes,
                        vocabulary="tiny", source="test", probs=logits.softmax(0).numpy())


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 1000), min_area=st.sampled_from([0.0, 0.05, 0.3]),
       feather_px=st.sampled_from([0.0, 3.0, 9.0]), min_island=st.sampled_from([0.0, 0.01, 0.2]))
def test_masks_sum_to_one_at_every_pixel(seed, min_area, feather_px, min_island):
    masks = build_region_masks(soft(seed), RULES, min_area=min_area, feather_px=feather_px, min_island=min_island)
    assert masks.masks.shape[1:] == (48, 64) and masks.masks.dtype == np.float32
    np.testing.assert_allclose(masks.masks.sum(axis=0), 1.0, atol=1e-5)
    assert masks.masks.min() >= -1e-6 and masks.masks.max() <= 1 + 1e-6
    assert masks.names[-1] == "unstyled" and masks.rule_index[-1] == -1 and not masks.styled[-1]


def test_region_order_flags_and_indices():
    masks = build_region_masks(soft(1), RULES)
    assert masks.names == ("sky", "building", "person", "unstyled")
    assert masks.styled == (True, True, False, False)
    assert masks.rule_index == (0, 1, 2, -1)


def test_soft_masks_are_upsampled_sums_of_member_probabilities():
    seg = soft(2)
    masks = build_region_masks(seg, RULES)
    probs = torch.from_numpy(seg.probs)
    for name, ids in (("person", [PERSON]), ("unstyled", [TREE, ROAD])):
        low = probs[ids].sum(0)[None, None]
        expected = F.interpolate(low, size=(48, 64), mode="bilinear", align_corners=False)[0, 0].numpy()
        np.testing.assert_allclose(masks.masks[masks.names.index(name)], expected, atol=1e-5)


def test_a_keep_region_is_exactly_its_classes_on_a_label_map():
    labels = np.random.default_rng(0).integers(0, 5, size=(30, 40))
    masks = build_region_masks(hard(labels), RULES)
    np.testing.assert_array_equal(masks.masks[masks.names.index("person")], labels == PERSON)
    np.testing.assert_array_equal(masks.masks[-1], np.isin(labels, [TREE, ROAD]))


def test_small_styled_region_dissolves_into_its_neighbour_not_the_remainder():
    labels = np.full((100, 100), BUILDING)
    labels[:, 70:] = ROAD  # unstyled remainder on the right
    labels[40:45, 10:15] = SKY  # 0.25 % of sky inside the building
    labels[80:83, 80:83] = PERSON  # 0.09 % kept person: a keep rule never dissolves
    masks = build_region_masks(hard(labels), RULES, min_area=0.01)
    assert "sky" not in masks.names
    building = masks.masks[masks.names.index("building")]
    assert building[40:45, 10:15].min() == 1.0
    np.testing.assert_array_equal(masks.masks[masks.names.index("person")], labels == PERSON)
    np.testing.assert_allclose(masks.masks.sum(0), 1.0)


def test_a_styled_region_largest_nowhere_is_absent_and_its_trace_goes_to_each_pixels_owner():
    """Soft masks give a class missing from the photo a little probability everywhere; it is not styled as a
    faint region over the whole scene (as a label map would leave it out), and no mass is lost."""
    logits = torch.full((len(VOCAB.classes), 12, 16), -2.0)
    logits[BUILDING, :, :8] = 3.0  # building on the left, road (unstyled) on the right
    logits[ROAD, :, 8:] = 3.0
    logits[SKY] = 0.0  # sky: about 5% probability at every pixel, the largest nowhere
    logits[PERSON, 5, 3] = 4.0  # one kept person cell, the largest there
    probs = logits.softmax(0)
    up = F.interpolate(probs[None], size=(48, 64), mode="bilinear", align_corners=False)[0]
    seg = Segmentation(labels=up.argmax(0).numpy().astype(np.int32), class_names=VOCAB.classes,
                       vocabulary="tiny", source="test", probs=probs.numpy())
    masks = build_region_masks(seg, RULES)
    assert masks.names == ("building", "person", "unstyled")  # sky gone, the tiny keep region stays
    np.testing.assert_allclose(masks.masks.sum(0), 1.0, atol=1e-5)
    kept = build_region_masks(seg, resolution('[map]\nsky = "keep"\nbuilding = "mosaic"\n'))
    assert "sky" in kept.names  # a keep rule never dissolves
    # the sky's share went to the building on the left and to the remainder on the right
    building, rest = masks.masks[0], masks.masks[-1]
    assert building[:, :28].mean() > kept.masks[kept.names.index("building")][:, :28].mean() + 0.03
    assert rest[:, 36:].mean() > kept.masks[-1][:, 36:].mean() + 0.03


@given(seed=st.integers(0, 1000), min_island=st.sampled_from([0.01, 0.05, 0.2]))
@settings(max_examples=60, deadline=None)
def test_islands_never_take_a_pixel_from_a_keep_region(seed, min_island):
    plain, joined = build_region_masks(soft(seed), RULES), build_region_masks(soft(seed), RULES, min_island=min_island)
    before, after = np.array(plain.names)[plain.owner], np.array(joined.names)[joined.owner]
    assert (after[before == "person"] == "person").all()
    np.testing.assert_allclose(joined.masks.sum(0), 1.0, atol=1e-5)


def island_scene() -> np.ndarray:
    """60x80: sky above, building below; small pieces that are islands and pieces that are not."""
    labels = np.full((60, 80), SKY)
    labels[30:, :] = BUILDING
    labels[10:13, 20:23] = BUILDING  # an island of building in the sky (9 px)
    labels[45:47, 50:52] = ROAD  # a hole of the unstyled remainder in the building
    labels[10:13, 60:63] = PERSON  # an island of a keep region in the sky
    labels[0:3, 40:43] = BUILDING  # on the frame's edge: it may go on outside the picture
    labels[27:30, 5:8] = BUILDING  # touches the building below: not a piece of its own
    labels[20:23, 30:33] = BUILDING  # between sky and a tree: the sky holds 11 of its 16 ring pixels
    labels[19:24, 33:36] = TREE
    labels[10:13, 45:48] = BUILDING  # a rim of the remainder on one side: the sky holds 13 of 16
    labels[10:13, 48] = ROAD
    labels[40:60, 0:20] = PERSON  # large
    return labels


def test_islands_enclosed_by_one_region_join_it_and_nothing_else_moves():
    labels = island_scene()
    masks = build_region_masks(hard(labels), RULES, min_island=10 / labels.size)
    owner = np.array(masks.names)[masks.owner]
    assert (owner[10:13, 20:23] == "sky").all() and (owner[45:47, 50:52] == "building").all()
    assert (owner[10:13, 45:49] == "sky").all()  # the rim too: 9 of its 12 ring pixels are sky
    changed = np.zeros(labels.shape, bool)
    changed[10:13, 20:23] = changed[45:47, 50:52] = changed[10:13, 45:49] = True
    unchanged = build_region_masks(hard(labels), RULES)
    assert (masks.owner == unchanged.owner)[~changed].all()  # the keep island, the edge and the two-region piece
    np.testing.assert_array_equal(masks.masks[masks.names.index("person")], labels == PERSON)
    np.testing.assert_allclose(masks.masks.sum(0), 1.0, atol=1e-6)


def test_an_island_at_the_threshold_stays():
    labels = island_scene()
    masks = build_region_masks(hard(labels), RULES, min_island=9 / labels.size)  # 9 px is not under 9 px
    assert masks.masks[masks.names.index("building")][10:13, 20:23].min() == 1.0
    assert masks.masks[masks.names.index("building")][45:47, 50:52].min() == 1.0  # the 4 px hole did join


def test_an_island_with_a_hole_joins_whole():
    """A hole of sky in an island of building in the sky: the hole joins the island, then the island the sky."""
    labels = np.full((60, 80), SKY)
    labels[40:, :] = BUILDING
    labels[10:17, 20:27] = BUILDING
    labels[12:15, 22:25] = SKY
    masks = build_region_masks(hard(labels), RULES, min_island=0.02)
    assert (np.array(masks.names)[masks.owner][:40] == "sky").all()


def test_a_rules_min_island_moves_its_own_islands_only():
    labels = island_scene()
    rules = resolution('[map]\nsky = "watercolor"\nperson = "keep"\n'
                       '[[rule]]\nclasses = ["building"]\nstyle = "mosaic"\nmin_island = 0.01\n')
    masks = build_region_masks(hard(labels), rules)
    owner = np.array(masks.names)[masks.owner]
    assert (owner[10:13, 20:23] == "sky").all()  # the building's island joined the sky
    assert (owner[45:47, 50:52] == "unstyled").all()  # the remainder's hole in the building did not move
    overridden = build_region_masks(hard(labels), rules, min_island=0.01)  # the global value reaches the rest
    assert (np.array(overridden.names)[overridden.owner][45:47, 50:52] == "building").all()


def test_a_soft_islands_fringe_goes_with_it_but_the_regions_own_border_stays():
    """Soft masks fade out around an island: its mass moves wherever the mask stays above ISLAND_FRINGE in one
    stretch with it, up to halfway to the region's other pieces."""
    height, width = 96, 64
    logits = np.zeros((len(VOCAB.classes), height, width), np.float32)
    logits[SKY] = 4.0
    logits[BUILDING, 64:] = 8.0  # the building below row 64
    yy, xx = np.mgrid[:height, :width]
    radius = np.hypot(yy - 20, xx - 32)
    logits[BUILDING] += 8.0 * np.exp(-radius**2 / (2 * 3.0**2))  # a bump in the sky
    logits[BUILDING] += 3.8 * np.exp(-((yy - 20) ** 2 / 8.0 + (xx - 20) ** 2 / 50.0))  # a wisp off its left
    rim = (radius > 3.2) & (radius < 5.5) & (np.abs(np.arctan2(yy - 20, xx - 32)) < np.pi / 6)
    logits[ROAD, rim] = 5.5  # a sliver of a third class on its right, as where soft masks cross
    probs = torch.from_numpy(logits).softmax(0).numpy()
    seg = Segmentation(labels=probs.argmax(0).astype(np.int32), class_names=VOCAB.classes, vocabulary="tiny",
                       source="test", probs=probs)
    plain = build_region_masks(seg, RULES)
    cleaned = build_region_masks(seg, RULES, min_island=0.01)
    building = plain.names.index("building")
    assert plain.masks[building][20, 32] > 0.9 and plain.masks[building][20, 18] > 0.3  # island and wisp
    assert (plain.owner[rim] == plain.names.index("unstyled")).all() and plain.masks[building][rim].max() > 0.05
    assert cleaned.masks[building][rim].max() <= ISLAND_FRINGE and cleaned.masks[building][20, 18] == 0.0
    assert cleaned.masks[building][:42].max() <= ISLAND_FRINGE  # nearer the island than the building below
    np.testing.assert_array_equal(cleaned.masks[building][44:], plain.masks[building][44:])
    np.testing.assert_array_equal(cleaned.masks[:, 64:], plain.masks[:, 64:])  # the building's own pixels
    np.testing.assert_allclose(cleaned.masks.sum(0), 1.0, atol=1e-5)


def band_width(mask_row: np.ndarray) -> int:
    return int(((mask_row > 0.05) & (mask_row < 0.95)).sum())


def test_feathering_widens_the_border_band_by_about_the_asked_pixels():
    labels = np.full((40, 200), SKY)
    labels[:, 100:] = BUILDING
    sharp = build_region_masks(hard(labels), RULES)
    assert band_width(sharp.masks[0][20]) == 0
    for width in (6, 12, 24):
        feathered = build_region_masks(hard(labels), RULES, feather_px=width)
        assert abs(band_width(feathered.masks[0][20]) - width) <= 2
        np.testing.assert_allclose(feathered.masks.sum(0), 1.0, atol=1e-5)


def test_a_rules_feather_overrides_the_global_one():
    labels = np.full((20, 200), SKY)
    labels[:, 100:] = ROAD
    rules = resolution('[[rule]]\nclasses = ["sky"]\nstyle = "watercolor"\nfeather = 20\n')
    masks = build_region_masks(hard(labels), rules, feather_px=4)
    # The sky blurs over ~20 px, the remainder over ~4: after renormalising the band is set by both.
    assert 10 <= band_width(masks.masks[0][10]) <= 22


def test_inputs_are_validated():
    with pytest.raises(BadInput, match="resolved against the tiny vocabulary .* but the segmentation uses voc"):
        voc = maskrules.get_vocabulary("voc")
        build_region_masks(Segmentation(np.zeros((4, 4), np.int32), voc.classes, "voc", "t"), RULES)
    with pytest.raises(BadInput, match=r"min_area: expected a share of the image in \[0, 1\), got 1.5"):
        build_region_masks(hard(np.zeros((4, 4))), RULES, min_area=1.5)
    with pytest.raises(BadInput, match=r"min_island: expected a share of the image in \[0, 1\), got -0.1"):
        build_region_masks(hard(np.zeros((4, 4))), RULES, min_island=-0.1)
