"""Label and region overlays: exact tint, deterministic colours, a legend of what is present."""

from __future__ import annotations

import numpy as np

from regionstyle.datatypes import RegionMasks
from regionstyle.overlay import class_colour, label_overlay, region_overlay


def swatch_present(legend: np.ndarray, colour) -> bool:
    target = np.round(np.asarray(colour) * 255)
    return bool((np.abs(np.round(legend * 255) - target).max(axis=2) == 0).any())


def test_colours_are_deterministic_and_distinct():
    colours = [class_colour(i) for i in range(151)]
    assert colours == [class_colour(i) for i in range(151)]
    assert len({tuple(np.round(np.array(c) * 255).astype(int)) for c in colours}) == 151


def test_label_overlay_tints_exactly_and_lists_present_classes():
    rng = np.random.default_rng(0)
    image = rng.random((50, 300, 3), dtype=np.float32)
    labels = np.zeros((50, 300), np.int32)
    labels[:, 100:] = 3
    labels[:5, :5] = 7
    out = label_overlay(image, labels, ["others", "wall", "building", "sky", "", "", "", "road"], alpha=0.4)
    assert out.dtype == np.float32 and out.shape[1:] == (300, 3) and out.shape[0] > 50
    palette = np.array([class_colour(i) for i in range(8)], np.float32)
    np.testing.assert_allclose(out[:50], 0.6 * image + 0.4 * palette[labels], atol=1e-6)
    legend = out[50:]
    assert all(swatch_present(legend, class_colour(i)) for i in (0, 3, 7))
    assert not swatch_present(legend, class_colour(2))  # building is not in the picture


def test_region_overlay_blends_soft_masks_and_greys_out_unstyled():
    masks = np.zeros((3, 20, 200), np.float32)
    masks[0, :, :100] = 1.0
    masks[1, :, 100:150] = 1.0
    masks[2, :, 150:] = 1.0
    masks[0, :, 99], masks[2, :, 99] = 0.5, 0.5  # a feathered column
    regions = RegionMasks(names=("sky", "person", "unstyled"), masks=masks, styled=(True, False, False),
                          rule_index=(0, 1, -1))
    image = np.full((20, 200, 3), 0.5, np.float32)
    out = region_overlay(image, regions, alpha=1.0)
    np.testing.assert_allclose(out[0, 0], class_colour(0), atol=1e-6)
    kept, unstyled = out[0, 120], out[0, 180]
    assert np.ptp(kept) == 0 and np.ptp(unstyled) == 0 and kept[0] < unstyled[0]  # greys, keep darker
    np.testing.assert_allclose(out[0, 99], 0.5 * np.array(class_colour(0)) + 0.5 * unstyled, atol=1e-6)
    assert swatch_present(out[20:], class_colour(0))
