"""Masked style statistics beyond the Gram matrix: mean + covariance (Gaussian W2) and sliced Wasserstein.

Conventions (as :func:`regionstyle.style.gram.masked_gram_rows`): a region's features are rows (N, C), one per
position (a view of a channels-last map, possibly bfloat16 under autocast); its mask weights are (N,) in
[0, 1]. Results are float32 (float64 rows stay float64, for gradchecks). Positions of weight 0 are dropped
before anything is computed, so they get exactly zero gradient.

- Gaussian Wasserstein-2 (the closed form between Gaussians N(mu, S) and N(mu_t, S_t)):
      W2^2 = |mu - mu_t|^2 + tr S + tr S_t - 2 tr (S_t^1/2 S S_t^1/2)^1/2
  The last trace is a sum of square roots of eigenvalues of a candidate-dependent PSD matrix; they come
  from ``eigvalsh`` in float64 (its gradient, V diag(g) V^T, has no 1/(l_i - l_j) terms, so repeated
  eigenvalues are harmless), floored at a small ``ridge`` so the square root's slope stays finite.
- Sliced Wasserstein (Heitz et al., CVPR 2021): project both feature sets on K directions, sort, compare.
  The style side is kept as its quantile function on L levels per direction; a region's weighted samples
  are compared against it at their cumulative-weight positions, so soft masks weight samples rather than
  clip them, and blended styles are linear mixes of quantile functions (the 1-D Wasserstein barycentre).
"""

from __future__ import annotations

import numpy as np
import torch

RIDGE = 1e-6  # eigenvalue floor, relative to the mean eigenvalue of the target covariance


def _float(tensor: torch.Tensor) -> torch.Tensor:
    """float32, or float64 where the input is float64 (gradchecks)."""
    return tensor.to(torch.promote_types(tensor.dtype, torch.float32))


def kept_rows(rows: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The rows (n, C) and weights (n,) of the positions with weight > 0 (the rest play no part)."""
    keep = weights > 0
    if bool(keep.all()):
        return rows, weights
    return rows[keep], weights[keep]


def weighted_mean(rows: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """sum_p w_p f_p / sum_p w_p, (C,), accumulated in float32 whatever the rows' dtype."""
    w = _float(weights)
    return (w.to(_float(rows).dtype) @ _float(rows)) / w.sum()


def weighted_moments(rows: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted mean (C,) and covariance (C, C): sum_p w_p (f_p - mu)(f_p - mu)^T / sum_p w_p.

    The product runs in the rows' dtype around the mean rounded to that dtype (centring first avoids the
    cancellation of E[ff^T] - mu mu^T in bfloat16); the exact shift is then removed: for any centre m,
    sum w (f - m)(f - m)^T / W = S + (mu - m)(mu - m)^T.
    """
    rows, weights = kept_rows(rows, weights)
    mean = weighted_mean(rows, weights)
    centre = mean.to(rows.dtype)
    centred = rows - centre
    second = (centred * weights.to(rows.dtype)[:, None]).T @ centred
    shift = mean - _float(centre)
    cov = _float(second) / _float(weights).sum() - torch.outer(shift, shift)
    return mean, cov


def psd_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a PSD matrix (eigenvalues below 0 from rounding are set to 0)."""
    values, vectors = torch.linalg.eigh(((matrix + matrix.T) / 2).double())
    return ((vectors * values.clamp_min(0).sqrt()) @ vectors.T).to(matrix.dtype)


def trace_sqrt(matrix: torch.Tensor, *, ridge: float) -> torch.Tensor:
    """tr(M^1/2) = sum_i sqrt(max(l_i, ridge)) of a symmetric PSD matrix, differentiable (float64 inside)."""
    symmetric = ((matrix + matrix.T) / 2).double()
    return torch.linalg.eigvalsh(symmetric).clamp_min(ridge).sqrt().sum().to(matrix.dtype)


def gaussian_w2(rows: torch.Tensor, weights: torch.Tensor, *, mean: torch.Tensor, cov_sqrt: torch.Tensor,
                cov_trace: torch.Tensor, ridge: float) -> torch.Tensor:
    """Squared Gaussian W2 between a region's weighted features and N(mean, cov_sqrt^2).

    rows: (N, C); weights: (N,); mean: (C,); cov_sqrt: (C, C) the target's S_t^1/2; cov_trace: tr S_t.
    tr (S_t^1/2 S S_t^1/2)^1/2 is the nuclear norm of X S_t^1/2 for the weighted centred rows X
    (S = X^T X): with fewer kept positions n than channels (deep layers, small regions) its eigenvalues
    come from the n x n matrix (X R)(X R)^T instead of the C x C one, which is far cheaper.
    """
    rows, weights = kept_rows(rows, weights)
    mu = weighted_mean(rows, weights)
    centre = mu.to(rows.dtype)
    scaled = (rows - centre) * (weights.to(rows.dtype) / weights.sum().to(rows.dtype)).sqrt()[:, None]
    shift = mu - _float(centre)
    root = cov_sqrt.to(shift.dtype)
    if rows.shape[0] >= rows.shape[1]:
        cov = _float(scaled.T @ scaled) - torch.outer(shift, shift)
        cross = root @ cov @ root
        own_trace = cov.diagonal().sum()
    else:  # rank <= n: the same non-zero eigenvalues from an n x n matrix (the shift is a rounding residue)
        projected = _float(scaled) @ root
        cross = projected @ projected.T
        own_trace = _float(scaled).pow(2).sum() - shift.pow(2).sum()
    return (mu - mean).pow(2).sum() + own_trace + cov_trace - 2 * trace_sqrt(cross, ridge=ridge)


def random_directions(channels: int, count: int, *, seed: int, dtype: torch.dtype = torch.float32
                      ) -> torch.Tensor:
    """(C, K) unit directions, orthonormal in blocks of C (a random rotation when K = C), seeded."""
    generator = torch.Generator().manual_seed(seed)
    blocks = []
    for start in range(0, count, channels):
        q, r = torch.linalg.qr(torch.randn(channels, channels, generator=generator, dtype=torch.float64))
        q = q * torch.sign(torch.diagonal(r))[None, :]  # Haar-distributed, not biased by QR's sign choice
        blocks.append(q[:, :min(channels, count - start)])
    return torch.cat(blocks, dim=1).to(dtype)


def quantiles(samples: torch.Tensor, levels: int, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Quantile functions of the columns of (M, K) samples at u_j = (j + 1/2) / L: (L, K), interpolated.

    Unweighted, the sorted samples sit at u = (i + 1/2) / M; L levels between them are linear
    interpolations. weights (M,) >= 0 (a masked exemplar): sample i of the sorted column sits at its
    cumulative-weight position (sum_{j<i} w_j + w_i / 2) / W, as :func:`sliced_w2` places a region's.
    """
    if weights is None:
        ordered = torch.sort(_float(samples), dim=0).values
        levels_at = (torch.arange(levels, dtype=ordered.dtype, device=ordered.device) + 0.5) / levels
        return sample_quantiles(ordered, levels_at)
    samples, weights = kept_rows(samples, weights)
    if samples.shape[0] == 1:  # one sample: its value at every level
        return _float(samples).expand(levels, -1).contiguous()
    ordered, order = torch.sort(_float(samples).T, dim=1)  # (K, n)
    ranked = _float(weights).to(ordered.dtype)[order]
    positions = (ranked.cumsum(dim=1) - ranked / 2) / ranked.sum(dim=1, keepdim=True)
    levels_at = ((torch.arange(levels, dtype=ordered.dtype, device=ordered.device) + 0.5) / levels)
    levels_at = levels_at.expand(ordered.shape[0], levels).contiguous()
    # Linear interpolation of each column's (position, value) pairs at the levels; ends held.
    high = torch.searchsorted(positions.contiguous(), levels_at).clamp(1, positions.shape[1] - 1)
    low = high - 1
    p_low, p_high = positions.gather(1, low), positions.gather(1, high)
    frac = ((levels_at - p_low) / (p_high - p_low).clamp_min(1e-12)).clamp(0, 1)
    values = ordered.gather(1, low) * (1 - frac) + ordered.gather(1, high) * frac
    return values.T.contiguous()


def sample_quantiles(table: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Values of quantile tables (L, K) at positions in [0, 1]: positions (P,) -> (P, K), (K, P) -> (K, P).

    Entry j of a table holds the quantile at (j + 1/2) / L; positions between are linear interpolations,
    beyond the first and last entries the ends are held.
    """
    count = table.shape[0]
    where = (positions * count - 0.5).clamp(0, count - 1)
    low = where.floor().long().clamp(max=count - 1)
    high = (low + 1).clamp(max=count - 1)
    frac = (where - low.to(where.dtype)).to(table.dtype)
    if positions.dim() == 1:
        return table[low] * (1 - frac[:, None]) + table[high] * frac[:, None]
    columns = table.T  # (K, L): one direction's table per row
    return columns.gather(1, low) * (1 - frac) + columns.gather(1, high) * frac


def _argsort_rows(values: torch.Tensor) -> torch.Tensor:
    """Sorting permutation of each row of (K, n). numpy's vectorised argsort is ~3x torch's on CPU."""
    if values.device.type == "cpu":
        return torch.from_numpy(np.argsort(values.detach().numpy(), axis=1))
    return torch.argsort(values.detach(), dim=1)


def sliced_w2(rows: torch.Tensor, weights: torch.Tensor, *, directions: torch.Tensor, table: torch.Tensor
              ) -> torch.Tensor:
    """Mean over directions of the squared 1-D Wasserstein distance of the region's weighted projections
    to the target quantile functions.

    rows: (N, C); weights: (N,); directions: (C, K); table: (L, K) the target's quantiles (see
    :func:`quantiles`). Per direction the kept samples are sorted; sample i of weight w_i sits at the
    cumulative-weight position c_i = (sum_{j<i} w_j + w_i / 2) / W and is compared with Q(c_i):
        SW^2 = mean_k sum_i w_i (x_i - Q_k(c_i))^2 / W
    The matching (who is compared with which quantile) is held fixed in the gradient, as usual.
    """
    rows, weights = kept_rows(rows, weights)
    projected = _float(directions.to(rows.dtype).T @ rows.T)  # (K, n), in the rows' precision
    w = _float(weights).to(projected.dtype)
    with torch.no_grad():
        order = _argsort_rows(projected).to(projected.device)
        ranked = w[order]
        positions = (ranked.cumsum(dim=1) - ranked / 2) / w.sum()
        matched = torch.empty_like(projected).scatter_(
            1, order, sample_quantiles(table.to(projected.dtype), positions))
    return ((projected - matched).pow(2) * w).sum() / (w.sum() * projected.shape[0])
