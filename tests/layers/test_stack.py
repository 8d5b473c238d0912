"""The layer stack: per-layer pixels and alphas whose normal-mode composite is the flat output (pure numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from regionstyle.errors import BadInput
from regionstyle.layers.stack import build_stack, composite, layer_alphas, minimum_cover


def over(photo: np.ndarray, color: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """Normal-mode compositing written out independently: bottom layer first, float64, 0..255."""
    image = photo.astype(np.float64)
    for alpha in alphas[::-1]:
        a = alpha.astype(np.float64)[..., None] / 255.0
        image = a * color + (1.0 - a) * image
    return image


def random_case(seed: int, layers: int = 3, size: tuple[int, int] = (24, 32)):
    rng = np.random.default_rng(seed)
    photo = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
    weight = np.clip(rng.uniform(-0.5, 1.5, size), 0.0, 1.0)  # plenty of exact 0s and 1s
    flat = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
    flat[weight >= 1] = photo[weight >= 1]  # the pipeline's promise: kept pixels are the photo's
    shares = rng.dirichlet(np.ones(layers + 1), size=size).transpose(2, 0, 1)[:layers]
    return photo, flat, shares.astype(np.float32), weight.astype(np.float32)


@pytest.mark.parametrize("seed", range(6))
def test_stack_composites_to_the_flat_image(seed):
    photo, flat, shares, weight = random_case(seed)
    stack = build_stack(photo, flat, shares, weight, ["a", "b", "c"])
    composed = over(stack.photo, stack.color.astype(np.float64), stack.alphas)
    assert np.abs(composed - flat).max() <= 0.5 + 1e-9  # rounds to the flat image
    assert np.array_equal(np.round(composed).astype(np.uint8), flat)
    assert np.allclose(composite(stack), composed)  # the module's own compositing agrees
    kept = weight >= 1
    assert (stack.alphas[:, kept] == 0).all()  # the photo shows through on kept pixels


def test_cover_is_never_below_what_the_colours_need():
    photo, flat, shares, weight = random_case(7)
    stack = build_stack(photo, flat, shares, weight, ["a", "b", "c"])
    reached = 1 - np.prod(1 - stack.alphas / 255.0, axis=0)
    assert (reached + 1e-9 >= minimum_cover(photo, flat)).all()
    assert (reached + 1e-9 >= 1 - weight).all()


def test_hard_regions_give_opaque_layers_holding_the_flat_pixels():
    rng = np.random.default_rng(1)
    owner = rng.integers(0, 3, (20, 20))
    shares = np.stack([(owner == i).astype(np.float32) for i in range(2)])  # region 2 is kept
    photo = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    flat = np.where((owner == 2)[..., None], photo, rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).astype(np.uint8)
    weight = (owner == 2).astype(np.float32)
    stack = build_stack(photo, flat, shares, weight, ["top", "bottom"])
    for index in range(2):
        assert np.array_equal(stack.alphas[index], np.where(owner == index, 255, 0))
    styled = owner < 2
    assert np.array_equal(stack.color[styled], flat[styled])


def test_soft_border_top_alpha_is_its_share_and_lower_layers_fill_under_it():
    cover = np.ones((1, 5))
    top = np.array([[0.0, 0.25, 0.5, 0.75, 1.0]])
    alphas = layer_alphas(cover, np.stack([top, 1 - top]))
    assert np.array_equal(alphas[0], np.ceil(top * 255 - 1e-6))
    # under a partly transparent top layer the bottom one must be opaque for the cover to reach 1
    assert (alphas[1][0, :4] == 255).all()
    assert alphas[1][0, 4] == 0  # hidden under an opaque top layer: its own share (0)


def test_bad_shapes_are_refused_with_expected_and_got():
    photo, flat, shares, weight = random_case(0)
    with pytest.raises(BadInput, match="expected one name per layer"):
        build_stack(photo, flat, shares, weight, ["only one"])
    with pytest.raises(BadInput, match="expected photo and flat as uint8"):
        build_stack(photo.astype(np.float32), flat, shares, weight, ["a", "b", "c"])
