"""regionstyle.style.stats: masked mean/covariance, Gaussian W2, sliced Wasserstein and weighted quantiles,
against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from regionstyle.style import stats
from regionstyle.style.losses import style_loss, tap_seed


def _rows(n: int, c: int, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mixing = torch.randn(c, c, generator=g, dtype=dtype)
    return torch.randn(n, c, generator=g, dtype=dtype) @ mixing + torch.randn(c, generator=g, dtype=dtype)


def _target(name: str, rows: torch.Tensor, seed: int = 5):
    loss = style_loss(name)
    return loss.combine([(loss.summarise(rows, None, seed), 1.0)])


def _np_sqrtm(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def _np_w2(mean_a, cov_a, mean_b, cov_b) -> float:
    """The closed form with the roles swapped: tr (S_a^1/2 S_b S_a^1/2)^1/2 (the same value)."""
    root = _np_sqrtm(cov_a)
    return float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b)
                 - 2 * np.trace(_np_sqrtm(root @ cov_b @ root)))


def _w2(rows, weights, target_rows, target_weights=None):
    w_t = torch.ones(len(target_rows), dtype=target_rows.dtype) if target_weights is None else target_weights
    mean, cov = stats.weighted_moments(target_rows, w_t)
    return stats.gaussian_w2(rows, weights, mean=mean, cov_sqrt=stats.psd_sqrt(cov),
                             cov_trace=cov.diagonal().sum(), ridge=1e-12)


def test_weighted_moments_match_numpy_with_weights():
    rows = _rows(50, 4)
    weights = torch.rand(50, dtype=torch.float64) * (torch.rand(50, dtype=torch.float64) > 0.3)
    mean, cov = stats.weighted_moments(rows, weights)
    data, w = rows.numpy(), weights.numpy()
    np.testing.assert_allclose(mean.numpy(), np.average(data, axis=0, weights=w), rtol=1e-10)
    np.testing.assert_allclose(cov.numpy(), np.cov(data.T, aweights=w, bias=True), rtol=1e-9, atol=1e-12)


def test_w2_between_diagonal_gaussians_is_the_closed_form():
    # Whitened samples, rescaled per channel: exact means and diagonal covariances a and b, so
    # W2^2 = |mu_a - mu_b|^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2.
    base = _rows(400, 3, seed=1)
    base = base - base.mean(0)
    base = base @ torch.linalg.inv(torch.linalg.cholesky(base.T @ base / 400)).T
    a, b = torch.tensor([1.0, 4.0, 0.25], dtype=torch.float64), torch.tensor([9.0, 1.0, 0.25], dtype=torch.float64)
    mu_a, mu_b = torch.tensor([1.0, 0.0, 2.0], dtype=torch.float64), torch.tensor([0.0, 0.0, -1.0], dtype=torch.float64)
    region, style = base * a.sqrt() + mu_a, base * b.sqrt() + mu_b
    expected = float((mu_a - mu_b).pow(2).sum() + (a.sqrt() - b.sqrt()).pow(2).sum())
    ones = torch.ones(400, dtype=torch.float64)
    assert float(_w2(region, ones, style)) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("n", [60, 5])  # more positions than channels, and fewer (the n x n branch)
def test_w2_matches_an_independent_numpy_computation(n):
    region, style = _rows(n, 8, seed=2), _rows(90, 8, seed=3)
    weights = torch.rand(n, dtype=torch.float64) + 0.1
    mean_a, cov_a = stats.weighted_moments(region, weights)
    mean_b, cov_b = stats.weighted_moments(style, torch.ones(90, dtype=torch.float64))
    expected = _np_w2(mean_a.numpy(), cov_a.numpy(), mean_b.numpy(), cov_b.numpy())
    assert float(_w2(region, weights, style)) == pytest.approx(expected, rel=1e-6)


def test_w2_is_zero_for_identical_statistics_and_grows_with_a_shift():
    rows = _rows(80, 6, seed=4)
    ones = torch.ones(80, dtype=torch.float64)
    assert abs(float(_w2(rows, ones, rows))) < 1e-8
    shift = torch.tensor([3.0, 0, 0, 4.0, 0, 0], dtype=torch.float64)
    assert float(_w2(rows + shift, ones, rows)) == pytest.approx(25.0, rel=1e-6)


@pytest.mark.parametrize("n", [40, 4])
def test_w2_gradcheck_float64(n):
    style = _rows(70, 5, seed=6)
    weights = torch.rand(n, dtype=torch.float64) + 0.1
    rows = _rows(n, 5, seed=7).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda r: _w2(r, weights, style), (rows,))


def test_sliced_distance_is_zero_for_identical_samples_and_the_mean_squared_shift_after_a_shift():
    rows = _rows(256, 4, seed=8)
    directions = stats.random_directions(4, 4, seed=0, dtype=torch.float64)
    table = stats.quantiles(rows @ directions, 256)  # as many levels as samples: the exact sorted values
    ones = torch.ones(256, dtype=torch.float64)
    assert float(stats.sliced_w2(rows, ones, directions=directions, table=table)) == pytest.approx(0, abs=1e-20)
    shift = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    # A shift moves every 1-D quantile function by (shift . d_k); over an orthonormal basis their squares
    # sum to |shift|^2, and the mean over the 4 directions is a quarter of it.
    moved = stats.sliced_w2(rows + shift, ones, directions=directions, table=table)
    assert float(moved) == pytest.approx(float(shift.pow(2).sum()) / 4, rel=1e-10)


def test_sliced_distance_along_one_direction_is_the_exact_1d_wasserstein():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(300, 3)), rng.gamma(2.0, size=(300, 3))
    direction = rng.normal(size=(3, 1))
    direction /= np.linalg.norm(direction)
    expected = np.mean((np.sort((a @ direction)[:, 0]) - np.sort((b @ direction)[:, 0])) ** 2)
    table = stats.quantiles(torch.from_numpy(b @ direction), 300)
    value = stats.sliced_w2(torch.from_numpy(a), torch.ones(300, dtype=torch.float64),
                            directions=torch.from_numpy(direction), table=table)
    assert float(value) == pytest.approx(expected, rel=1e-10)


def test_sliced_gradcheck_float64_and_zero_weight_rows_play_no_part():
    style = _rows(200, 4, seed=9)
    directions = stats.random_directions(4, 6, seed=1, dtype=torch.float64)  # more directions than channels
    table = stats.quantiles(style @ directions, 64)
    weights = torch.rand(30, dtype=torch.float64) + 0.2
    weights[::4] = 0
    rows = _rows(30, 4, seed=10).requires_grad_(True)
    loss = lambda r: stats.sliced_w2(r, weights, directions=directions, table=table)  # noqa: E731
    assert torch.autograd.gradcheck(loss, (rows,))
    loss(rows).backward()
    assert rows.grad[::4].abs().max() == 0 and rows.grad[1::4].abs().max() > 0
    # Dropping the zero-weight rows, or scaling every weight, leaves the value unchanged.
    rows = rows.detach()
    kept = weights > 0
    assert float(stats.sliced_w2(rows[kept], weights[kept], directions=directions, table=table)) == \
        pytest.approx(float(loss(rows)), rel=1e-12)
    assert float(stats.sliced_w2(rows, 3 * weights, directions=directions, table=table)) == \
        pytest.approx(float(loss(rows)), rel=1e-12)


def test_random_directions_are_unit_seeded_and_orthonormal_per_block():
    d = stats.random_directions(5, 7, seed=3)
    assert d.shape == (5, 7)
    torch.testing.assert_close(d[:, :5].T @ d[:, :5], torch.eye(5), atol=1e-6, rtol=0)
    torch.testing.assert_close(d.norm(dim=0), torch.ones(7))
    assert torch.equal(d, stats.random_directions(5, 7, seed=3))
    assert not torch.allclose(d, stats.random_directions(5, 7, seed=4))
    assert tap_seed("relu1_1", 512) != tap_seed("relu1_1", 1024) != tap_seed("relu2_1", 1024)


def test_blended_targets_mix_moments_and_quantile_functions_linearly():
    a = _rows(128, 3, seed=11, dtype=torch.float32)
    shift = torch.tensor([2.0, -1.0, 0.5])
    # W2: the blend's moments are the mixture's, i.e. those of the two sample sets pooled.
    w2 = style_loss("w2")
    blend = w2.combine([(w2.summarise(a, None, 0), 0.5), (w2.summarise(a + shift, None, 0), 0.5)])
    pooled = w2.combine([(w2.summarise(torch.cat([a, a + shift]), None, 0), 1.0)])
    torch.testing.assert_close(blend.mean, pooled.mean)
    torch.testing.assert_close(blend.cov_sqrt, pooled.cov_sqrt, atol=1e-4, rtol=1e-4)
    # Sliced: half-way between a set and its shifted copy is the set shifted half-way (1-D barycentre).
    sliced = style_loss("sliced")
    blend = sliced.combine([(sliced.summarise(a, None, 7), 0.5), (sliced.summarise(a + shift, None, 7), 0.5)])
    halfway = _target("sliced", a + shift / 2, seed=7)
    torch.testing.assert_close(blend.table, halfway.table, atol=1e-5, rtol=1e-5)




def test_w2_of_identical_weighted_statistics_is_zero_and_zero_weights_are_dropped():
    rows = _rows(120, 5, seed=14)
    weights = torch.rand(120, dtype=torch.float64)
    weights[::3] = 0
    assert abs(float(_w2(rows, weights, rows, weights))) < 1e-8
    kept = weights > 0
    assert float(_w2(rows, weights, rows)) == pytest.approx(float(_w2(rows[kept], weights[kept], rows)), rel=1e-10)


def test_sliced_distance_of_a_permutation_of_the_exemplar_is_zero():
    rows = _rows(200, 4, seed=15)
    directions = stats.random_directions(4, 8, seed=2, dtype=torch.float64)
    table = stats.quantiles(rows @ directions, 200)
    permuted = rows[torch.randperm(200, generator=torch.Generator().manual_seed(0))]
    ones = torch.ones(200, dtype=torch.float64)
    assert float(stats.sliced_w2(permuted, ones, directions=directions, table=table)) == pytest.approx(0, abs=1e-20)


def test_weighted_quantiles_drop_zero_weights_ignore_scale_and_match_the_unweighted_ones():
    samples = _rows(150, 3, seed=16)
    ones = torch.ones(150, dtype=torch.float64)
    torch.testing.assert_close(stats.quantiles(samples, 40, ones), stats.quantiles(samples, 40))
    weights = torch.rand(150, dtype=torch.float64) + 0.1
    weights[:50] = 0
    torch.testing.assert_close(stats.quantiles(samples, 40, weights), stats.quantiles(samples[50:], 40, weights[50:]))
    torch.testing.assert_close(stats.quantiles(samples, 40, 7 * weights), stats.quantiles(samples, 40, weights))


def test_weighted_quantiles_follow_the_weights():
    # Two values, 0 and 1, with weights 3 : 1: three quarters of the levels sit at 0 (the median is 0).
    samples = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    table = stats.quantiles(samples, 400, torch.tensor([3.0, 1.0], dtype=torch.float64))[:, 0]
    assert float(table[:int(400 * 0.375)].max()) == 0.0  # below the first sample's position 3/8: held at 0
    assert float(table[int(400 * 0.875):].min()) == 1.0  # above the second's position 7/8: held at 1
    # Between them linear: at u = 1/2 a quarter of the way from 3/8 to 7/8.
    assert float(table[199:201].mean()) == pytest.approx(0.25, abs=1e-9)
