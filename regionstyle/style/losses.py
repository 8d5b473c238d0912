"""The style losses a region can use, as a registry: name -> (per-tap statistics, blend, distance).

Each loss has three pure parts:
- ``summarise(rows, weights, seed)``: the statistics of one exemplar's features (M, C) at one tap, over
  the weights (M,) of its mask (None: every position);
- ``combine(parts)``: a blend's target from (statistics, weight) pairs, mixed linearly (Grams; first and
  second moments; quantile functions), then finished (square roots, norms) once;
- ``distance(rows, weights, target)``: a region's *relative* distance to the target, of order one at the
  start whatever the encoder's activation scale (the objective weighs layers and regions on top).

Relative, and why: the Gram distance is divided by the mean square of the target Gram (as it always was);
the W2 distance by the target's E|f|^2 (the squared distance of an all-zero region from the style) and the
sliced distance, a mean over directions, by E|f|^2 / C, so a pure shift of the features gives W2 and
sliced the same value. Projections see less of a covariance mismatch than the full W2 does: at the start
of the shared photos' runs the sliced value was 0.38-0.43 of the W2 value (MobileNetV2 and random VGG,
measured on branch h/stats with benchmarks/bench_losses.py), so it is multiplied by ``SLICED_SCALE`` and
one style weight serves all three.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch

from regionstyle.config import STYLE_LOSS_NAMES
from regionstyle.style import stats
from regionstyle.style.gram import masked_gram_distance, masked_gram_rows

# Sliced Wasserstein: directions per tap (K = channels, as Heitz et al.) and quantile levels kept.
QUANTILE_LEVELS = 1024
SLICED_SCALE = 2.5
# A target's size divides its distance; this floor only keeps an all-zero target from dividing by zero. It
# sits far below any real statistic: softmaxed MobileNetV2 features are of order 1 / C, and the Gram of its
# 576-channel b14_expand has a mean square of about 2e-11 (Tübingen's paintings, 256 px).
ZERO_SIZE = 1e-30


@dataclass(frozen=True)
class GramTarget:
    """gram (C, C), the (blended) area-normalised Gram; norm: its mean square."""

    gram: torch.Tensor
    norm: float


@dataclass(frozen=True)
class GaussianTarget:
    """mean (C,), cov_sqrt (C, C) = S_t^1/2, cov_trace = tr S_t, norm = E|f|^2, ridge for the eigenvalues."""

    mean: torch.Tensor
    cov_sqrt: torch.Tensor
    cov_trace: torch.Tensor
    norm: float
    ridge: float


@dataclass(frozen=True)
class SlicedTarget:
    """directions (C, K); table (L, K) the style's quantile functions; norm = E|f|^2 / C per direction."""

    directions: torch.Tensor
    table: torch.Tensor
    norm: float


@dataclass(frozen=True)
class StyleLoss:
    summarise: Callable[[torch.Tensor, torch.Tensor | None, int], Any]
    combine: Callable[[Sequence[tuple[Any, float]]], Any]
    distance: Callable[[torch.Tensor, torch.Tensor, Any], torch.Tensor]


def _ones(rows: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    return torch.ones(rows.shape[0], dtype=rows.dtype, device=rows.device) if weights is None else weights


def _second_moment(rows: torch.Tensor, weights: torch.Tensor | None, seed: int = 0) -> torch.Tensor:
    """E_w[f f^T] (C, C): the area-normalised (masked) Gram matrix of :mod:`regionstyle.style.gram`."""
    return masked_gram_rows(rows, _ones(rows, weights))


def _gram_combine(parts: Sequence[tuple[torch.Tensor, float]]) -> GramTarget:
    mixed = sum(weight * value for value, weight in parts)
    return GramTarget(mixed, float(mixed.pow(2).mean().clamp_min(ZERO_SIZE)))


def _gram_distance(rows: torch.Tensor, weights: torch.Tensor, target: GramTarget) -> torch.Tensor:
    return masked_gram_distance(rows, weights, target.gram) / target.norm


def _moments(rows: torch.Tensor, weights: torch.Tensor | None, seed: int = 0
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """First and second raw moments (mean, E[ff^T]): these blend linearly (a mixture's moments)."""
    weights = _ones(rows, weights)
    return stats.weighted_mean(rows, weights), _second_moment(rows, weights)


def _gaussian_combine(parts: Sequence[tuple[tuple[torch.Tensor, torch.Tensor], float]]) -> GaussianTarget:
    mean = sum(weight * first for (first, _), weight in parts)
    second = sum(weight * raw for (_, raw), weight in parts)
    cov = second - torch.outer(mean, mean)
    trace = cov.diagonal().sum().clamp_min(0)
    scale = float(trace) / cov.shape[0]
    return GaussianTarget(mean, stats.psd_sqrt(cov), trace, float((mean.pow(2).sum() + trace).clamp_min(ZERO_SIZE)),
                          ridge=stats.RIDGE * max(scale, ZERO_SIZE) ** 2)


def _gaussian_distance(rows: torch.Tensor, weights: torch.Tensor, target: GaussianTarget) -> torch.Tensor:
    w2 = stats.gaussian_w2(rows, weights, mean=target.mean, cov_sqrt=target.cov_sqrt,
                           cov_trace=target.cov_trace, ridge=target.ridge)
    return w2 / target.norm


def _sliced_summary(rows: torch.Tensor, weights: torch.Tensor | None, seed: int
                    ) -> tuple[torch.Tensor, torch.Tensor, float]:
    rows = rows.float() if rows.dtype != torch.float64 else rows
    directions = stats.random_directions(rows.shape[1], rows.shape[1], seed=seed, dtype=rows.dtype).to(rows.device)
    table = stats.quantiles(rows @ directions, QUANTILE_LEVELS, weights)
    w = _ones(rows, weights).to(rows.dtype)
    energy = float((rows.pow(2).sum(dim=1) * w).sum() / w.sum())
    return directions, table, energy


def _sliced_combine(parts: Sequence[tuple[tuple[torch.Tensor, torch.Tensor, float], float]]) -> SlicedTarget:
    directions = parts[0][0][0]  # every part of a blend drew the same seeded directions
    table = sum(weight * tab for (_, tab, _), weight in parts)
    norm = sum(weight * energy for (_, _, energy), weight in parts) / directions.shape[0]
    return SlicedTarget(directions, table, max(norm, ZERO_SIZE))


def _sliced_distance(rows: torch.Tensor, weights: torch.Tensor, target: SlicedTarget) -> torch.Tensor:
    distance = stats.sliced_w2(rows, weights, directions=target.directions, table=target.table)
    return SLICED_SCALE * distance / target.norm


STYLE_LOSSES: dict[str, StyleLoss] = {
    "gram": StyleLoss(_second_moment, _gram_combine, _gram_distance),
    "w2": StyleLoss(_moments, _gaussian_combine, _gaussian_distance),
    "sliced": StyleLoss(_sliced_summary, _sliced_combine, _sliced_distance),
}
assert tuple(STYLE_LOSSES) == STYLE_LOSS_NAMES, "regionstyle.config.STYLE_LOSS_NAMES names every loss"


def style_loss(name: str) -> StyleLoss:
    """The registered loss ``name``; a miss lists the valid names."""
    try:
        return STYLE_LOSSES[name]
    except KeyError:
        raise ValueError(f"style_loss {name!r}: expected one of {', '.join(STYLE_LOSS_NAMES)}") from None


def tap_seed(tap: str, long_side: int, seed: int = 0) -> int:
    """A stable seed per (tap, scale): random directions are fixed within a scale and fresh at the next."""
    return zlib.crc32(f"{tap}|{long_side}|{seed}".encode())
