"""Region masks: sum to one everywhere, keep regions exact, min_area, cleanup, feathering."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import maskrules
from regionstyle.datatypes import Segmentation
from regionstyle.errors import BadInput
from regionstyle.segment.regions import build_region_masks

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
       feather_px=st.sampled_from([0.0, 3.0, 9.0]), cleanup_px=st.sampled_from([0, 3]))
def test_masks_sum_to_one_at_every_pixel(seed, min_area, feather_px, cleanup_px):
    masks = build_region_masks(soft(seed), RULES, min_area=min_area, feather_px=feather_px, cleanup_px=cleanup_px)
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


def test_cleanup_removes_a_small_island_and_fills_a_small_hole():
    labels = np.full((60, 80), SKY)
    labels[30:, :] = BUILDING
    labels[10:13, 20:23] = BUILDING  # 3x3 island of building in the sky
    labels[45:47, 50:52] = ROAD  # 2x2 hole of unstyled in the building
    labels[40:60, 0:20] = PERSON  # big enough to stay
    masks = build_region_masks(hard(labels), RULES, cleanup_px=4)
    sky, building = masks.masks[masks.names.index("sky")], masks.masks[masks.names.index("building")]
    assert sky[10:13, 20:23].min() == 1.0 and building[45:47, 50:52].min() == 1.0
    np.testing.assert_array_equal(masks.masks[masks.names.index("person")], labels == PERSON)
    kept = build_region_masks(hard(labels), RULES, cleanup_px=2)  # 3x3 >= 2x2: the island stays
    assert kept.masks[kept.names.index("building")][10:13, 20:23].min() == 1.0


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
