"""Gram matrices and loss terms against independent computations, and float64 gradchecks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from regionstyle import losses
from regionstyle.style import gram as gram_stats


def test_gram_matches_numpy_mean_of_outer_products():
    features = torch.randn(5, 7, 6, dtype=torch.float64)
    flat = features.numpy().reshape(5, -1)
    expected = sum(np.outer(flat[:, p], flat[:, p]) for p in range(flat.shape[1])) / flat.shape[1]
    np.testing.assert_allclose(gram_stats.gram(features).numpy(), expected, rtol=1e-12)


def test_binary_masked_gram_equals_gram_of_the_region_alone():
    features = torch.randn(4, 8, 8, dtype=torch.float64)
    mask = torch.zeros(8, 8, dtype=torch.float64)
    mask[2:6, 1:4] = 1
    inside = features[:, 2:6, 1:4]
    torch.testing.assert_close(gram_stats.masked_gram(features, mask), gram_stats.gram(inside))


def test_masked_gram_is_area_normalised():
    # A uniform texture gives the same Gram whether the region covers 5% or 100% of the map.
    features = torch.ones(3, 20, 20, dtype=torch.float64) * torch.tensor([1.0, 2.0, 3.0])[:, None, None]
    small = torch.zeros(20, 20, dtype=torch.float64)
    small[:4, :5] = 1
    torch.testing.assert_close(gram_stats.masked_gram(features, small), gram_stats.gram(features))


def test_soft_weights_weight_the_outer_products():
    features = torch.randn(2, 1, 2, dtype=torch.float64)
    weights = torch.tensor([[0.25, 0.75]], dtype=torch.float64)
    f0, f1 = features[:, 0, 0].numpy(), features[:, 0, 1].numpy()
    expected = (0.25 * np.outer(f0, f0) + 0.75 * np.outer(f1, f1)) / 1.0
    np.testing.assert_allclose(gram_stats.masked_gram(features, weights).numpy(), expected)


def test_masked_gram_gradcheck_float64():
    features = torch.randn(3, 4, 5, dtype=torch.float64, requires_grad=True)
    weights = torch.rand(4, 5, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda f: gram_stats.masked_gram(f, weights), (features,))


def test_masked_gram_gradient_is_zero_where_the_mask_is_zero():
    features = torch.randn(3, 6, 6, dtype=torch.float64, requires_grad=True)
    mask = torch.zeros(6, 6, dtype=torch.float64)
    mask[:3] = 1
    gram_stats.gram_distance(gram_stats.masked_gram(features, mask), torch.eye(3, dtype=torch.float64)).backward()
    assert features.grad[:, 3:].abs().max() == 0
    assert features.grad[:, :3].abs().max() > 0


def test_gram_distance_is_mean_square_gatys_weighting():
    a, b = torch.randn(6, 6), torch.randn(6, 6)
    assert gram_stats.gram_distance(a, b).item() == pytest.approx(((a - b) ** 2).sum().item() / 36, rel=1e-5)


def test_content_loss_weighting():
    features, target = torch.randn(4, 3, 3), torch.randn(4, 3, 3)
    weights = torch.zeros(3, 3)
    weights[0, 0] = 9.0  # all weight on one position: the loss is that position's squared error
    expected = ((features[:, 0, 0] - target[:, 0, 0]) ** 2).mean()
    assert losses.content_loss(features, target, weights).item() == pytest.approx(expected.item(), rel=1e-5)
    assert losses.content_loss(features, features).item() == 0


def test_tv_loss_zero_for_flat_and_positive_for_edges():
    flat = torch.full((3, 8, 8), 0.3)
    assert losses.tv_loss(flat).item() == 0
    edge = flat.clone()
    edge[:, :, 4:] = 0.7
    assert losses.tv_loss(edge).item() > 0


def test_color_moments_match_numpy():
    pixels = torch.rand(3, 10, 12, dtype=torch.float64)
    weights = (torch.rand(10, 12, dtype=torch.float64) > 0.5).double()
    mean, cov = losses.color_moments(pixels, weights)
    chosen = pixels.numpy().reshape(3, -1)[:, weights.numpy().ravel() > 0]
    np.testing.assert_allclose(mean.numpy(), chosen.mean(axis=1))
    np.testing.assert_allclose(cov.numpy(), np.cov(chosen, bias=True))


def test_row_layout_gram_equals_the_masked_gram_value_and_gradient():
    features = torch.randn(4, 9, 7, dtype=torch.float64)
    mask = torch.rand(9, 7, dtype=torch.float64) * (torch.rand(9, 7, dtype=torch.float64) > 0.6)
    dense_in = features.clone().requires_grad_(True)
    rows_in = features.clone().requires_grad_(True)
    dense = gram_stats.masked_gram(dense_in, mask)
    rows = gram_stats.masked_gram_rows(rows_in.flatten(1).T, mask.reshape(-1))
    torch.testing.assert_close(rows, dense)
    target = torch.eye(4, dtype=torch.float64)
    gram_stats.gram_distance(dense, target).backward()
    gram_stats.gram_distance(rows, target).backward()
    torch.testing.assert_close(rows_in.grad, dense_in.grad)


def test_bfloat16_rows_keep_the_gram_within_a_percent():
    features = torch.rand(16, 32, 32)
    mask = (torch.rand(32, 32) > 0.3).float()
    exact = gram_stats.masked_gram(features, mask)
    fast = gram_stats.masked_gram_rows(features.flatten(1).T.to(torch.bfloat16), mask.reshape(-1))
    assert fast.dtype == torch.float32
    assert ((fast - exact).abs() / exact.abs().clamp_min(1e-3)).max() < 0.01


def test_luminance_laplacian_is_zero_on_flat_and_ramps_and_marks_edges():
    flat = torch.full((3, 16, 20), 0.4)
    ramp = torch.linspace(0, 1, 20).expand(3, 16, 20).clone()
    assert losses.luminance_laplacian(flat, 1).abs().max() < 1e-6
    assert losses.luminance_laplacian(ramp, 1)[:, 1:-1].abs().max() < 1e-5  # replicate padding bends the ends
    step = flat.clone()
    step[:, :, 10:] = 0.9
    lap = losses.luminance_laplacian(step, 1)
    # the edge's doublet: positive on the dark side, negative on the bright side, nothing elsewhere
    assert lap[:, 9].min() > 0.4 and lap[:, 10].max() < -0.4 and lap[:, :8].abs().max() < 1e-6


def test_luminance_laplacian_pools_and_sees_luminance_not_hue():
    image = torch.rand(3, 17, 24)
    assert losses.luminance_laplacian(image, 2).shape == (9, 12)  # ceil: the odd row still counts
    # two colours of equal luminance: no edge between them
    red, green = torch.tensor([0.587, 0.0, 0.0]), torch.tensor([0.0, 0.299, 0.0])
    split = torch.where(torch.arange(24)[None, None, :] < 12, red[:, None, None], green[:, None, None])
    assert losses.luminance_laplacian(split.expand(3, 17, 24), 1).abs().max() < 1e-6


def test_edge_loss_is_zero_on_target_and_grows_with_the_difference():
    target = torch.randn(6, 7)
    weights = torch.rand(6, 7)
    assert losses.edge_loss(target, target, weights) == 0
    assert losses.edge_loss(target + 0.2, target, weights) < losses.edge_loss(target + 0.4, target, weights)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_masked_gram_distance_has_autograds_value_and_gradient(dtype):
    """The hand-written backward of the gram style term against autograd through the plain formula."""
    g = torch.Generator().manual_seed(4)
    rows = torch.rand(300, 12, generator=g, dtype=dtype)
    weights = torch.rand(300, generator=g, dtype=dtype) * (torch.rand(300, generator=g) > 0.3)
    target = gram_stats.masked_gram_rows(torch.rand(200, 12, generator=g, dtype=dtype), torch.ones(200, dtype=dtype))
    mine, plain = rows.clone().requires_grad_(True), rows.clone().requires_grad_(True)
    value = gram_stats.masked_gram_distance(mine, weights, target)
    reference = gram_stats.gram_distance(gram_stats.masked_gram_rows(plain, weights), target)
    (value * 3.0).backward()
    (reference * 3.0).backward()
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(value, reference, rtol=tolerance, atol=0)
    torch.testing.assert_close(mine.grad, plain.grad, rtol=tolerance * 10, atol=tolerance * 1e-3)
    assert plain.grad[weights == 0].abs().max() == 0 == mine.grad[weights == 0].abs().max()


def test_masked_gram_distance_gradcheck():
    g = torch.Generator().manual_seed(5)
    rows = torch.rand(40, 5, generator=g, dtype=torch.float64, requires_grad=True)
    weights, target = torch.rand(40, generator=g, dtype=torch.float64), torch.eye(5, dtype=torch.float64) / 3
    assert torch.autograd.gradcheck(lambda x: gram_stats.masked_gram_distance(x, weights, target), (rows,))


def test_masked_gram_distance_refuses_to_differentiate_weights():
    rows, weights = torch.rand(10, 3), torch.rand(10, requires_grad=True)
    with pytest.raises(NotImplementedError, match="rows only"):
        gram_stats.masked_gram_distance(rows, weights, torch.eye(3))
