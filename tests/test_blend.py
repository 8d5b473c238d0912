"""Seam blending: keep pixels are exact, the styled side fades in, and the seam measure sees seams."""

from __future__ import annotations

import numpy as np

from regionstyle.blend import composite, keep_weight, pyramid_blend, seam_score
from regionstyle.datatypes import RegionMasks


def _masks() -> RegionMasks:
    masks = np.zeros((2, 40, 60), np.float32)
    masks[0, :, :30] = 1  # styled
    masks[1, :, 30:] = 1  # keep
    return RegionMasks(("sky", "keep"), masks, (True, False), (0, 1))


def test_keep_weight_is_one_on_keep_pixels_and_fades_outward_only():
    weight = keep_weight(_masks(), feather_px=6)
    assert (weight[:, 30:] == 1).all()
    assert 0 < weight[0, 27] < 1 and weight[0, 10] == 0
    assert (np.diff(weight[0, :31]) >= 0).all()


def test_composite_keeps_photo_pixels_bit_identical():
    rng = np.random.default_rng(0)
    photo = rng.random((40, 60, 3), dtype=np.float32)
    stylized = rng.random((40, 60, 3), dtype=np.float32)
    out = composite(stylized, photo, keep_weight(_masks(), feather_px=6))
    assert np.array_equal(out[:, 30:], photo[:, 30:])
    assert np.abs(out[:, :20] - stylized[:, :20]).mean() < 0.05


def test_pyramid_blend_with_constant_weight_is_the_plain_mix():
    rng = np.random.default_rng(1)
    a, b = rng.random((33, 47, 3), dtype=np.float32), rng.random((33, 47, 3), dtype=np.float32)
    mixed = pyramid_blend(a, b, np.full((33, 47), 0.25, np.float32))
    np.testing.assert_allclose(mixed, np.clip(0.25 * a + 0.75 * b, 0, 1), atol=1e-5)


def test_seam_score_is_one_without_change_and_high_with_a_hard_seam():
    rng = np.random.default_rng(2)
    photo = rng.random((64, 64, 3)).astype(np.float32) * 0.2 + 0.4
    labels = np.zeros((64, 64), int)
    labels[:, 32:] = 1
    assert abs(seam_score(photo, photo, labels) - 1.0) < 1e-6
    seamed = photo.copy()
    seamed[:, 32:] += 0.3  # a step exactly on the boundary
    assert seam_score(seamed, photo, labels) > 2.0
    assert seam_score(photo, photo, np.zeros((64, 64), int)) is None
