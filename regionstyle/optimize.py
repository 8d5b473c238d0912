"""The multi-style pixel optimiser: one optimisation over all regions at once, coarse to fine.

Each scale resizes the content and the region masks, gathers a :class:`ScaleProblem` (content features,
per-layer masks, style targets, all under ``no_grad``), then runs L-BFGS (default) or Adam on the pixels,
starting from the previous scale's result upsampled. Progress goes to a callback; nothing is printed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from regionstyle import finite
from regionstyle.config import TransferConfig
from regionstyle.datatypes import Progress
from regionstyle.encoder import EncoderInfo, FeatureEncoder, LayerPlan
from regionstyle.encoder.guides import layer_masks
from regionstyle.limits import smallest_side
from regionstyle.objective import LossWeights, RegionTerm, ScaleProblem, evaluate, resize_masks, usable_taps
from regionstyle.style.targets import StyleSource, StyleTarget, style_target

log = logging.getLogger(__name__)

ProgressCallback = Callable[[Progress], None]
# Scales whose long side exceeds this use the plan's shallow ``fine`` layers (when it has them).
FINE_ABOVE = 600
FINER_SCALE_DIVISOR = 3
# (style key, loss, long side, taps, encoder): the style key comes first (Session.forget_photo_targets).
TargetCache = dict[tuple[str, str, int, tuple[str, ...], EncoderInfo], StyleTarget]


@dataclass(frozen=True)
class StyledRegion:
    """A region to stylise: its row in the mask tensor, its style and its rule parameters."""

    name: str
    index: int
    source: StyleSource
    strength: float = 1.0
    content_weight: float | None = None
    use_color: bool = True
    style_loss: str = "gram"


def schedule(height: int, width: int, *, coarse_start: int, iterations: int,
             scales: tuple[int, ...] | None = None, min_side: int = 8) -> list[tuple[tuple[int, int], int]]:
    """(size, iterations) per scale, coarse to fine, ending at the full size.

    Long sides are ``scales`` (those below the full size) when given, else they double from
    ``coarse_start``; a coarse scale whose short side would be under ``min_side`` (the encoder's smallest
    usable side, :func:`regionstyle.limits.smallest_side`) is left out. Finer scales start from the
    upsampled coarser result and only refine detail, so each runs a third of the iterations of the one
    before (at least 10): a scale costs ~4x per iteration of the one before, and this keeps the finest scale from dominating (measured: 1024 px default run, see
    benchmarks/).
    """
    long_side = max(height, width)
    if scales:
        sides = sorted({side for side in scales if side < long_side} | {long_side})
    else:
        halves = [long_side]
        while halves[-1] / 2 >= coarse_start * 0.75:
            halves.append(round(halves[-1] / 2))
        sides = halves[::-1]
    sides = [side for side in sides[:-1] if side * min(height, width) / long_side >= min_side] + sides[-1:]
    plan = []
    for step, side in enumerate(sides):
        factor = side / long_side
        size = (max(8, round(height * factor)), max(8, round(width * factor)))
        plan.append((size, max(10, round(iterations / FINER_SCALE_DIVISOR**step))))
    return plan


def optimize(content: torch.Tensor, masks: torch.Tensor, regions: Sequence[StyledRegion], *,
             encoder: FeatureEncoder, plan: LayerPlan, config: TransferConfig, init: torch.Tensor | None = None,
             on_progress: ProgressCallback | None = None, target_cache: TargetCache | None = None,
             anchor: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """Stylise ``content`` (3, H, W) in [0, 1] given region ``masks`` (R, H, W); returns (3, H, W) in [0, 1].

    ``init`` (3, H, W), if given, is the starting image at full size (e.g. colour-transferred content).
    ``anchor``: (image (3, H, W), weight (H, W) in [0, 1]) laid back over the upsampled result at the start
    of every finer scale: renderings of built-in styles whose grout lines and hatching a coarse scale
    cannot hold, so each scale starts from them sharp rather than from their blurred upsampling.
    """
    device = content.device
    steps = schedule(*content.shape[-2:], coarse_start=config.coarse_start, iterations=config.iterations,
                     scales=config.scales, min_side=smallest_side(encoder, plan.taps))
    torch.manual_seed(config.seed)
    start = init if init is not None else content
    if config.init == "noise":
        start = torch.rand(content.shape, generator=torch.Generator().manual_seed(config.seed)).to(device)
    image = F.interpolate(start[None], size=steps[0][0], mode="bilinear", antialias=True)
    clock = _Clock(steps)
    for scale, (size, iterations) in enumerate(steps):
        image = F.interpolate(image, size=size, mode="bilinear", align_corners=False)
        if anchor is not None and scale > 0:
            image = _lay_in(image, anchor, size)
        fine = scale > 0 and plan.fine is not None and max(size) > FINE_ABOVE
        problem = build_problem(content, masks, regions, size=size, encoder=encoder,
                                plan=plan.fine if fine else plan, config=config, target_cache=target_cache)
        report = clock.reporter(scale, size, on_progress)
        image = run_scale(image, problem, encoder, config=config, iterations=iterations, report=report)
    return image[0].clamp(0, 1)


def _lay_in(image: torch.Tensor, anchor: tuple[torch.Tensor, torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
    """(1, 3, h, w) ``image`` with the anchor's image laid over it where (and as much as) its weight says."""
    pinned, weight = (F.interpolate(part[None] if part.dim() == 3 else part[None, None], size=size,
                                    mode="bilinear", antialias=True) for part in anchor)
    return image * (1 - weight) + pinned.to(image) * weight.to(image)


@torch.no_grad()
def build_problem(content: torch.Tensor, masks: torch.Tensor, regions: Sequence[StyledRegion], *,
                  size: tuple[int, int], encoder: FeatureEncoder, plan: LayerPlan, config: TransferConfig,
                  target_cache: TargetCache | None) -> ScaleProblem:
    """Everything a scale's loss needs that does not depend on the pixels being optimised.

    content: (3, H, W) the photo, whose features the content loss keeps; it is resized to ``size``.
    """
    scaled = F.interpolate(content[None], size=size, mode="bilinear", antialias=True)
    scaled_masks = resize_masks(masks, size)
    style_taps = tuple(tap for tap, _ in plan.style)
    per_layer = layer_masks(scaled_masks, encoder, style_taps, mode=config.mask_mode)
    terms = []
    for region in regions:
        target = _target(region.source, region.style_loss, encoder, style_taps, max(size), content.device,
                         target_cache)
        region_layers = usable_taps({tap: m[region.index] for tap, m in per_layer.items()}, region.name)
        area = float(scaled_masks[region.index].mean())
        terms.append(RegionTerm(region.name, target, region_layers, scaled_masks[region.index],
                                region.strength, area, region.use_color))
    content_features = encoder(scaled, taps=(plan.content,))[plan.content][0].float()
    weights = LossWeights(style=config.style_weight if config.style_weight is not None else plan.style_weight,
                          content=config.content_weight, tv=config.tv_weight, color=config.color_weight)
    return ScaleProblem(plan=plan, regions=tuple(terms), content_target=content_features,
                        content_weights=_content_weights(scaled_masks, regions, content_features.shape[-2:]),
                        content_norm=float(content_features.pow(2).mean().clamp_min(1e-12)), weights=weights)


def _target(source: StyleSource, loss: str, encoder: FeatureEncoder, taps: tuple[str, ...], long_side: int,
            device: torch.device, cache: TargetCache | None) -> StyleTarget:
    key = (source.key, loss, long_side, taps, encoder.info)  # a Session may serve several encoders
    if cache is not None and key in cache:
        return cache[key]
    target = style_target(source, encoder, taps, content_long_side=long_side, device=device, loss=loss)
    if cache is not None:
        cache[key] = target
    return target


def _content_weights(masks: torch.Tensor, regions: Sequence[StyledRegion], size: torch.Size) -> torch.Tensor:
    """Per-position content weight at the content layer: 1, or a styled region's own ``content_weight``."""
    weight_map = torch.ones_like(masks[0])
    for region in regions:
        if region.content_weight is not None:
            weight_map = weight_map + masks[region.index] * (region.content_weight - 1.0)
    return resize_masks(weight_map[None], tuple(size))[0]


def run_scale(image: torch.Tensor, problem: ScaleProblem, encoder: FeatureEncoder, *, config: TransferConfig,
              iterations: int, report: Callable[[int, dict[str, float]], None]) -> torch.Tensor:
    """Optimise the pixels of one scale; returns the (1, 3, h, w) result clamped to [0, 1]."""
    pixels = image.detach().clone().contiguous().requires_grad_(True)
    dtype = autocast_dtype(config.precision, pixels.device)
    count = 0

    def closure() -> torch.Tensor:
        nonlocal count
        with torch.no_grad():
            pixels.clamp_(0, 1)  # keep pixels displayable; L-BFGS tolerates this projection in practice
        optimizer.zero_grad()
        loss, terms = evaluate(pixels, problem, encoder, autocast_dtype=dtype)
        finite.check_terms(terms, evaluation=count + 1, size=tuple(pixels.shape[-2:]))
        loss.backward()
        count += 1
        report(min(count, iterations), terms)
        return loss

    if config.optimizer == "lbfgs":
        # A strong-Wolfe line search keeps L-BFGS from diverging on rough losses (seen with the random
        # encoder on the sample scene); max_eval caps the work at the iteration budget in evaluations.
        optimizer = torch.optim.LBFGS([pixels], lr=1.0, max_iter=iterations, max_eval=iterations,
                                      history_size=50, tolerance_grad=1e-9, tolerance_change=1e-12,
                                      line_search_fn="strong_wolfe")
        optimizer.step(closure)
    elif config.optimizer == "adam":
        optimizer = torch.optim.Adam([pixels], lr=config.learning_rate)
        for _ in range(iterations):
            optimizer.step(closure)
    else:
        raise ValueError(f"optimizer {config.optimizer!r}: expected 'lbfgs' or 'adam'")
    finite.check_pixels(pixels.detach())  # a last step may follow a non-finite gradient
    return pixels.detach().clamp(0, 1).contiguous()


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """bfloat16 autocast where it pays (CUDA; CPUs with native bf16 support), else None (fp32)."""
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16
    return torch.bfloat16 if _cpu_has_bf16() else None


def _cpu_has_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


class _Clock:
    """Turns per-evaluation reports into Progress with an ETA (cost per scale ~ pixels x iterations)."""

    def __init__(self, steps: list[tuple[tuple[int, int], int]]) -> None:
        self.steps = steps
        self.work = [size[0] * size[1] * its for size, its in steps]
        self.start = time.perf_counter()

    def reporter(self, scale: int, size: tuple[int, int], on_progress: ProgressCallback | None
                 ) -> Callable[[int, dict[str, float]], None]:
        iterations = self.steps[scale][1]

        def report(iteration: int, losses: dict[str, float]) -> None:
            if on_progress is None:
                return
            elapsed = time.perf_counter() - self.start
            done = sum(self.work[:scale]) + self.work[scale] * iteration / iterations
            eta = elapsed * (sum(self.work) - done) / max(done, 1e-9)
            on_progress(Progress(scale + 1, len(self.steps), size, iteration, iterations, losses, elapsed, eta))
        return report
