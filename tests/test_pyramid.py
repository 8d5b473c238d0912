"""The pixels as a Laplacian pyramid: lossless, kept in [0, 1], and faster to optimise at low frequencies."""

import pytest
import torch
import torch.nn.functional as F

from regionstyle.pyramid import SMALLEST_SIDE, PixelPyramid, border_weight, compose, decompose, level_sizes


@pytest.mark.parametrize("size", [(37, 50), (64, 64), (97, 256)])
@pytest.mark.parametrize("levels", [1, 2, 4])
def test_compose_gives_the_image_back(size, levels):
    image = torch.rand(1, 3, *size, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    sizes = level_sizes(size, levels=levels)
    torch.testing.assert_close(compose(decompose(image, sizes), sizes), image)


def test_levels_stop_before_a_side_gets_too_small():
    assert level_sizes((97, 256), levels=4) == [(97, 256), (49, 128), (25, 64)]  # 25 < 2 * 16: not halved
    assert level_sizes((256, 192), levels=4) == [(256, 192), (128, 96), (64, 48), (32, 24)]
    assert min(level_sizes((40, 40), levels=9)[-1]) >= SMALLEST_SIDE


def test_one_level_is_the_pixels_themselves():
    image = torch.rand(1, 3, 20, 30)
    pixels = PixelPyramid(image, levels=1)
    assert len(pixels.variables) == 1
    assert torch.equal(pixels.variables[0], image)
    assert pixels.image() is pixels.variables[0]


def test_clamp_folds_the_excess_into_the_finest_level():
    image = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(1)) * 1.6 - 0.3
    pixels = PixelPyramid(image, levels=4)
    coarse = [variable.clone() for variable in pixels.variables[1:]]
    clamped = pixels.clamp_()
    assert clamped.min() >= 0 and clamped.max() <= 1
    torch.testing.assert_close(pixels.image(), image.clamp(0, 1))
    for before, after in zip(coarse, pixels.variables[1:]):
        assert torch.equal(before, after)


def test_backward_is_the_adjoint_of_compose():
    generator = torch.Generator().manual_seed(2)
    pixels = PixelPyramid(torch.rand(1, 3, 48, 40, dtype=torch.float64, generator=generator), levels=3)
    gradient = torch.randn(1, 3, 48, 40, dtype=torch.float64, generator=generator)
    pixels.backward(gradient)
    step = [torch.randn_like(variable) for variable in pixels.variables]
    # <d image / d variables . step, gradient> = <step, variables' gradient> for a linear compose
    moved = compose(step, pixels.sizes, gain=pixels.gain)
    expected = (moved * gradient).sum()
    got = sum((s * v.grad).sum() for s, v in zip(step, pixels.variables))
    torch.testing.assert_close(got, expected)


def _gradient_fit_loss(levels: int, evaluations: int) -> float:
    """L-BFGS fitting an image's differences between neighbours (a Poisson problem, like the edge and TV
    terms): its curvature is smallest at low frequencies, where pixel steps only diffuse."""
    generator = torch.Generator().manual_seed(3)
    target = F.interpolate(torch.rand(1, 3, 4, 4, generator=generator), size=(64, 64), mode="bilinear")

    def differences(image):
        return image[..., 1:, :] - image[..., :-1, :], image[..., :, 1:] - image[..., :, :-1]

    def loss_of(image):
        return sum((d - e).pow(2).sum() for d, e in zip(differences(image), differences(target)))

    pixels = PixelPyramid(torch.full((1, 3, 64, 64), 0.5), levels=levels)

    def closure():
        optimizer.zero_grad()
        image = pixels.clamp_().requires_grad_(True)
        loss = loss_of(image)
        loss.backward()
        pixels.backward(image.grad)
        return loss

    optimizer = torch.optim.LBFGS(pixels.variables, max_iter=evaluations, max_eval=evaluations, history_size=5,
                                  line_search_fn="strong_wolfe")
    optimizer.step(closure)
    with torch.no_grad():
        return float(loss_of(pixels.image().clamp(0, 1)))


def test_the_pyramid_reaches_a_lower_loss_than_the_pixels_in_the_same_evaluations():
    assert _gradient_fit_loss(levels=4, evaluations=20) < 0.7 * _gradient_fit_loss(levels=1, evaluations=20)


def _two_regions(size: int = 64) -> list[torch.Tensor]:
    left, middle = torch.zeros(size, size), torch.zeros(size, size)
    left[:, :30], middle[:, 30:50] = 1, 1
    return [left, middle]  # columns 50 on: neither (the rest of the image)


def test_the_border_weight_is_zero_only_near_where_regions_meet():
    weight = border_weight(_two_regions(), band=4)
    near = [26, 29, 30, 33, 46, 49, 50, 53]  # within 4 px of the borders at 30 and 50
    far = [0, 25, 34, 45, 54, 63]
    assert (weight[:, near] == 0).all() and (weight[:, far] == 1).all()


def test_a_weighted_pyramid_still_composes_to_the_image_and_moves_only_pixels_at_borders():
    weight = border_weight(_two_regions(), band=4).double()
    image = torch.rand(1, 3, 64, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    sizes = level_sizes((64, 64), levels=3)
    levels = decompose(image, sizes, coarse_weight=weight)
    torch.testing.assert_close(compose(levels, sizes, coarse_weight=weight), image)
    moved = [level.clone() for level in levels]
    moved[-1] += 1.0  # the coarsest level, everywhere: 0.5^2 on the pixels it reaches
    change = compose(moved, sizes, coarse_weight=weight) - image
    assert change[..., :, 30].abs().max() == 0
    torch.testing.assert_close(change[..., :, 40], torch.full_like(change[..., :, 40], 0.25))
