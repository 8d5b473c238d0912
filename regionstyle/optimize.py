"""The multi-style pixel optimiser: one optimisation over all regions at once, coarse to fine.

Each scale resizes the content and the region masks, gathers a :class:`ScaleProblem` (content features,
per-layer masks, style targets, all under ``no_grad``), then runs L-BFGS (default) or Adam on the pixels,
starting from the previous scale's result upsampled. Progress goes to a callback; nothing is printed.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import torch
import torch.nn.functional as F

from regionstyle import cuda_graph, finite, pyramid
from regionstyle.config import TransferConfig
from regionstyle.datatypes import Progress
from regionstyle.encoder import EncoderInfo, FeatureEncoder, LayerPlan
from regionstyle.encoder.guides import layer_masks
from regionstyle.limits import smallest_side
from regionstyle.losses import luminance_laplacian
from regionstyle.native_memory import keep_freed_memory, release_freed_memory
from regionstyle.objective import (ENCODER_CONTEXT, EdgeTerm, LossWeights, RegionTerm, ScaleProblem, evaluate,
                                   pool_gathers, resize_masks, second_mask_nearby, usable_taps, with_context)
from regionstyle.pyramid import PixelPyramid
from regionstyle.style import layered
from regionstyle.style.targets import StyleSource, StyleTarget, style_target
from regionstyle.tiling import MARGIN, TILE, Window, needs_tiles, windows

log = logging.getLogger(__name__)

ProgressCallback = Callable[[Progress], None]
# Scales whose long side exceeds this use the plan's shallow ``fine`` layers (when it has them): the
# coarsest scale (256 px by default) sets the large motifs with every layer, and each finer one refines
# them. 400 rather than 600 puts a 1024 px output's 512 px scale on the fine plan too (MobileNetV2 at
# 1024 px: 63 s against 89 s). benchmarks/README.md.
FINE_ABOVE = 400
FINER_SCALE_DIVISOR = 3
# Curvature pairs L-BFGS keeps. 20 instead of 50: the same quality on the ten shared photos at 512 px
# (median ratio 0.543 against 0.542) and each iteration's two-loop recursion is shorter (a 512 px paintings
# run 47-52 s against 53-54 s; 10 pairs: 46-48 s, ratio 0.549). benchmarks/README.md.
LBFGS_HISTORY = 20
# The edge term compares the photo's and the output's Laplacians pixel by pixel. On 2x2-pooled luminance
# (until the twelfth session) the term was blind to the finest checkerboard, and the style gradient put its
# energy there: VGG19-shaped skies carried a coloured pixel speckle (fine-grain energy in the ten photos'
# skies 0.034 pooled, 0.025 unpooled, 0.028 without the term). With MobileNetV2 the median style ratio
# stayed 0.498 at 512 px and the buildings looked crisper (benchmarks/README.md, "The edge term pixel by
# pixel").
EDGE_POOL = 1
# Pixels on each side of a border between two styles where the edge term holds only the edge's magnitude,
# not its sign (:func:`_style_borders`); the edge term's cells are EDGE_POOL px.
STYLE_BORDER_PIXELS = 6
STYLE_BORDER_CELLS = -(-STYLE_BORDER_PIXELS // EDGE_POOL)
# (style key, loss, long side, taps, encoder, detail side): the style key comes first
# (Session.forget_photo_targets).
TargetCache = dict[tuple[str, str, int, tuple[str, ...], EncoderInfo, int | None], StyleTarget]


@dataclass(frozen=True)
class StyledRegion:
    """A region to stylise: its row in the mask tensor, its style and its rule parameters.

    coarse: for a layered style, the source of its coarse part; ``source`` is then the fine part's, which
    drives the fine taps, the colour and the start (:mod:`regionstyle.style.layered`).
    """

    name: str
    index: int
    source: StyleSource
    strength: float = 1.0
    content_weight: float | None = None
    use_color: bool = True
    coarse: StyleSource | None = None
    style_loss: str = "gram"
    edge_weight: float | None = None


def scale_sizes(height: int, width: int, *, coarse_start: int, scales: tuple[int, ...] | None = None,
                min_side: int = 8) -> list[tuple[int, int]]:
    """(h, w) of each scale, coarse to fine, ending at the full size.

    Long sides are ``scales`` (those below the full size) when given, else they double from
    ``coarse_start``; a coarse scale whose short side would be under ``min_side`` (the encoder's smallest
    usable side, :func:`regionstyle.limits.smallest_side`) is left out.
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
    factors = [side / long_side for side in sides]
    return [(max(8, round(height * factor)), max(8, round(width * factor))) for factor in factors]


def schedule(height: int, width: int, *, coarse_start: int, iterations: int,
             scales: tuple[int, ...] | None = None, min_side: int = 8) -> list[tuple[tuple[int, int], int]]:
    """(size, iterations) per scale, coarse to fine (sizes: :func:`scale_sizes`).

    Finer scales start from the upsampled coarser result and only refine detail, so each runs a third of
    the iterations of the one before (at least 10): a scale costs ~4x per iteration of the one before, and
    this keeps the finest scale from dominating (measured: 1024 px default run, see benchmarks/).
    """
    sizes = scale_sizes(height, width, coarse_start=coarse_start, scales=scales, min_side=min_side)
    return [(size, max(10, round(iterations / FINER_SCALE_DIVISOR**step))) for step, size in enumerate(sizes)]


def optimize(content: torch.Tensor, masks: torch.Tensor, regions: Sequence[StyledRegion], *,
             encoder: FeatureEncoder, plan: LayerPlan, config: TransferConfig, init: torch.Tensor | None = None,
             on_progress: ProgressCallback | None = None, target_cache: TargetCache | None = None,
             anchor: tuple[torch.Tensor, torch.Tensor] | None = None,
             detail_anchor: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """Stylise ``content`` (3, H, W) in [0, 1] given region ``masks`` (R, H, W); returns (3, H, W) in [0, 1].

    ``init`` (3, H, W), if given, is the starting image at full size (e.g. colour-transferred content).
    ``anchor``: (image (3, H, W), weight (H, W) in [0, 1]) laid back over the upsampled result at the start
    of every finer scale: renderings of built-in styles whose grout lines and hatching a coarse scale
    cannot hold, so each scale starts from them sharp rather than from their blurred upsampling.
    ``detail_anchor``: the same for layered styles' built-in fine parts, but only the rendering's detail
    finer than one pixel of the coarser scale is laid back (:func:`_lay_in_detail`): what the coarser
    scales made of the region (the coarse part's motifs and colours) stays underneath.
    """
    device = content.device
    iterations = config.iterations if config.iterations is not None else plan.iterations
    steps = schedule(*content.shape[-2:], coarse_start=config.coarse_start, iterations=iterations,
                     scales=config.scales, min_side=smallest_side(encoder, plan.taps))
    torch.manual_seed(config.seed)
    start = init if init is not None else content
    if config.init == "noise":
        start = torch.rand(content.shape, generator=torch.Generator().manual_seed(config.seed)).to(device)
    image = F.interpolate(start[None], size=steps[0][0], mode="bilinear", antialias=True)
    clock = _Clock(steps)
    keep_freed_memory()
    with _convolutions_for(encoder, device):
        for scale, (size, iterations) in enumerate(steps):
            image = F.interpolate(image, size=size, mode="bilinear", align_corners=False)
            if anchor is not None and scale > 0:
                image = _lay_in(image, anchor, size)
            if detail_anchor is not None and scale > 0:
                image = _lay_in_detail(image, detail_anchor, size, sigma=max(size) / max(steps[scale - 1][0]))
            fine = scale > 0 and plan.fine is not None and max(size) > FINE_ABOVE
            scale_plan = plan.fine if fine else plan
            scaled, scaled_masks = _at_size(content, masks, size)
            work = ScaleWork(scaled, scaled_masks, regions, encoder=encoder, plan=scale_plan, config=config,
                             long_side=max(size), target_cache=target_cache,
                             fine_taps=plan.fine_taps)
            if needs_tiles(size, full=tuple(content.shape[-2:])):
                image = refine_in_tiles(image, work, iterations=iterations, clock=clock, scale=scale,
                                        on_progress=on_progress)
            else:
                report = clock.reporter(scale, size, on_progress, evaluations=iterations)
                image = run_scale(image, work.problem(), encoder, config=config, iterations=iterations, report=report)
            release_freed_memory()
    return image[0].clamp(0, 1)


@contextlib.contextmanager
def _convolutions_for(encoder: FeatureEncoder, device: torch.device) -> Iterator[None]:
    """cuDNN off while MobileNetV2 runs on a GPU, restored after.

    cuDNN spent 1.5-3 s on the first forward and on the first backward of every new input size (each
    scale, each style exemplar: about 10 s of a 20 s run at 512 px on an H100), while PyTorch's own kernels
    took 0.02-0.2 s for the first and the same 5-12 ms after (benchmarks/README.md). VGG19's large
    convolutions were not measured without cuDNN, so it keeps it. Only the ``enabled`` flag is touched:
    a user's ``benchmark`` or ``deterministic`` choice stays as it was. The flag is the process's: another
    thread's convolutions meanwhile (a host application's) run without cuDNN too, slower but correct.
    """
    if device.type != "cuda" or encoder.info.name != "mobilenet_v2":
        yield
        return
    enabled = torch.backends.cudnn.enabled
    torch.backends.cudnn.enabled = False
    try:
        yield
    finally:
        torch.backends.cudnn.enabled = enabled


def _at_size(content: torch.Tensor, masks: torch.Tensor, size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """The photo and masks at a scale's size; at the full size the originals themselves, not copies (at
    4096x3072 a copy of both is 0.4 GB of a print run's peak)."""
    if tuple(content.shape[-2:]) == tuple(size):
        return content, masks
    return F.interpolate(content[None], size=size, mode="bilinear", antialias=True)[0], resize_masks(masks, size)


def _lay_in(image: torch.Tensor, anchor: tuple[torch.Tensor, torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
    """(1, 3, h, w) ``image`` with the anchor's image laid over it where (and as much as) its weight says."""
    pinned, weight = _anchor_at(anchor, size, like=image)
    return image * (1 - weight) + pinned * weight


def _lay_in_detail(image: torch.Tensor, anchor: tuple[torch.Tensor, torch.Tensor], size: tuple[int, int], *,
                   sigma: float) -> torch.Tensor:
    """(1, 3, h, w) ``image`` whose detail (what a Gaussian blur of ``sigma`` px removes) is, where the
    anchor's weight says, the anchor image's; the blurred part stays the image's.

    A layered style's coarse part shapes the region at the coarsest scale; laying its fine part's
    rendering back whole at every finer scale erased that (Tübingen, mosaic over Starry Night: no trace of
    the painting). Its grout lines and hatching are finer than a pixel of the coarser scale, so that is
    what is laid back (``sigma``: the ratio of the two scales' sizes).
    """
    from torchvision.transforms.functional import gaussian_blur

    pinned, weight = _anchor_at(anchor, size, like=image)
    radius = max(1, min(math.ceil(3 * sigma), min(size) - 1))  # reflect padding needs radius < side

    def detail(pixels: torch.Tensor) -> torch.Tensor:
        return pixels - gaussian_blur(pixels, [2 * radius + 1] * 2, [sigma, sigma])

    return (image + weight * (detail(pinned) - detail(image))).clamp(0, 1)


def _anchor_at(anchor: tuple[torch.Tensor, torch.Tensor], size: tuple[int, int], *, like: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """The anchor's (1, 3, h, w) image and (1, 1, h, w) weight at ``size``, in ``like``'s dtype and device."""
    pinned, weight = (F.interpolate(part[None] if part.dim() == 3 else part[None, None], size=size,
                                    mode="bilinear", antialias=True) for part in anchor)
    return pinned.to(like), weight.to(like)


@dataclass(frozen=True)
class ScaleWork:
    """One scale's fixed inputs: the photo and region masks resized to it, and how to build its loss.

    content: (3, h, w) the photo at this scale (its features are what the content loss keeps); masks:
    (R, h, w). long_side: the scale's long side, which sizes the style exemplars even when a window of the
    scale is optimised alone, so textures keep one size relative to the photo. fine_taps: the taps layered
    styles take from their fine part (None: ``plan.fine_taps``; a fine-scale sub-plan is given its parent's
    split, :attr:`regionstyle.encoder.LayerPlan.fine_taps`).
    """

    content: torch.Tensor
    masks: torch.Tensor
    regions: Sequence[StyledRegion]
    encoder: FeatureEncoder
    plan: LayerPlan
    config: TransferConfig
    long_side: int
    target_cache: TargetCache | None
    fine_taps: frozenset[str] | None = None

    @property
    def split(self) -> frozenset[str]:
        return self.plan.fine_taps if self.fine_taps is None else self.fine_taps

    def problem(self, window: Window | None = None) -> ScaleProblem:
        """The loss of the whole scale, or of one window of it."""
        if window is None:
            return build_problem(self.content, self.masks, self.regions, work=self)
        top, left, bottom, right = window.outer
        masks = self.masks[:, top:bottom, left:right]
        # A region with a sliver of the window would chase its whole style with a few pixels; it was
        # styled at the coarser scales, and its own windows refine it.
        present = [region for region in self.regions if float(masks[region.index].mean()) >= MIN_WINDOW_SHARE]
        return build_problem(self.content[:, top:bottom, left:right], masks, present, work=self)


# The shifted second pass over a tiled scale runs this share of the first pass's iterations.
SECOND_PASS_SHARE = 0.5
# Work of a tiled scale against the same scale in one piece: (outer / inner area) x (both passes).
TILED_COST = ((TILE + 2 * MARGIN) / TILE) ** 2 * (1 + SECOND_PASS_SHARE)
# A region under this share of a window is left to the content and smoothness terms there.
MIN_WINDOW_SHARE = 0.01


@torch.no_grad()
def build_problem(content: torch.Tensor, masks: torch.Tensor, regions: Sequence[StyledRegion], *,
                  work: ScaleWork) -> ScaleProblem:
    """Everything the loss over ``content`` (3, h, w) and ``masks`` (R, h, w) needs that does not depend on
    the pixels being optimised."""
    encoder, plan, config = work.encoder, work.plan, work.config
    style_taps = tuple(tap for tap, _ in plan.style)
    context = ENCODER_CONTEXT if min(content.shape[-2:]) > ENCODER_CONTEXT else 0
    seen_masks = F.pad(masks, (context,) * 4)  # the mirrored border carries no weight
    per_layer = layer_masks(seen_masks, encoder, style_taps, mode=config.mask_mode)
    terms = []
    for region in regions:
        target = _region_target(region, encoder, style_taps, work.split, work.long_side, content.device,
                                work.target_cache, detail_side=plan.detail_side)
        region_layers = usable_taps({tap: m[region.index] for tap, m in per_layer.items()}, region.name)
        area = float(masks[region.index].mean())
        terms.append(RegionTerm(region.name, target, region_layers, masks[region.index],
                                region.strength, area, region.use_color))
    content_features = encoder(with_context(content[None], context), taps=(plan.content,))[plan.content][0].float()
    weights = LossWeights(style=config.style_weight if config.style_weight is not None else plan.style_weight,
                          content=config.content_weight, tv=config.tv_weight, color=config.color_weight)
    pooled_terms, gathers = pool_gathers(tuple(terms))
    return ScaleProblem(plan=plan, regions=pooled_terms, content_target=content_features,
                        content_weights=_content_weights(seen_masks, regions, content_features.shape[-2:]),
                        content_norm=float(content_features.pow(2).mean().clamp_min(1e-12)), weights=weights,
                        gathers=gathers, edges=_edge_term(content, masks, regions, config.edge_weight),
                        context=context)


def _region_target(region: StyledRegion, encoder: FeatureEncoder, taps: tuple[str, ...], fine_taps: frozenset[str],
                   long_side: int, device: torch.device, cache: TargetCache | None, *,
                   detail_side: int | None = None) -> StyleTarget:
    """A region's target: its style's, or for a layered style the fine part's on the fine taps and the
    coarse part's on the others (:func:`regionstyle.style.layered.merge_targets`)."""
    def target(source: StyleSource, taps: tuple[str, ...]) -> StyleTarget:
        return _target(source, region.style_loss, encoder, taps, long_side, device, cache, detail_side=detail_side)

    if region.coarse is None:
        return target(region.source, taps)
    fine, coarse = layered.split_taps(taps, fine_taps)
    # With no fine tap at this scale the fine part still gives the colour (its coarse Grams are then replaced).
    fine_target = target(region.source, fine or taps)
    coarse_target = target(region.coarse, coarse) if coarse else None
    return layered.merge_targets(fine_target, coarse_target)


def refine_in_tiles(image: torch.Tensor, work: ScaleWork, *, iterations: int, clock: _Clock, scale: int,
                    on_progress: ProgressCallback | None) -> torch.Tensor:
    """Optimise a print-sized scale window by window (see :mod:`regionstyle.tiling`), writing into ``image``
    (1, 3, h, w) itself (a copy would be 0.15 GB more at 4096 px); returns it.

    Every window starts from the current image, is optimised with its margin of context, and writes back
    its centre. A second pass over the grid moved by half a tile, with half the iterations, dissolves the
    first pass's joins (each now lies mid-window).
    """
    size = tuple(image.shape[-2:])
    passes = [(windows(size, tile=TILE, margin=MARGIN), iterations),
              (windows(size, tile=TILE, margin=MARGIN, shifted=True), max(5, int(iterations * SECOND_PASS_SHARE)))]
    report = clock.reporter(scale, size, on_progress,
                            evaluations=sum(len(grid) * its for grid, its in passes))
    done = 0
    for grid, its in passes:
        for window in grid:
            top, left, bottom, right = window.outer
            refined = run_scale(image[..., top:bottom, left:right], work.problem(window), work.encoder,
                                config=work.config, iterations=its,
                                report=lambda count, terms, base=done: report(base + count, terms))
            rows, cols = window.inner_in_outer()
            inner_top, inner_left, inner_bottom, inner_right = window.inner
            image[..., inner_top:inner_bottom, inner_left:inner_right] = refined[..., rows, cols]
            done += its
            release_freed_memory()
    return image


def _target(source: StyleSource, loss: str, encoder: FeatureEncoder, taps: tuple[str, ...], long_side: int,
            device: torch.device, cache: TargetCache | None, *, detail_side: int | None = None) -> StyleTarget:
    # A Session may serve several encoders (and so detail sides).
    key = (source.key, loss, long_side, taps, encoder.info, detail_side)
    if cache is not None and key in cache:
        return cache[key]
    target = style_target(source, encoder, taps, content_long_side=long_side, device=device, loss=loss,
                          detail_side=detail_side)
    if cache is not None:
        cache[key] = target
    return target


def _content_weights(masks: torch.Tensor, regions: Sequence[StyledRegion], size: torch.Size) -> torch.Tensor:
    """Per-position content weight at the content layer: 1, or a styled region's own ``content_weight``; 0 on
    the encoder's mirrored border, where the masks are 0 (inside they sum to 1)."""
    weight_map = _rule_weight_map(masks, {region.index: region.content_weight for region in regions}, 1.0)
    weight_map = weight_map * masks.sum(0)
    return resize_masks(weight_map[None], tuple(size))[0]


def _rule_weight_map(masks: torch.Tensor, own: dict[int, float | None], default: float) -> torch.Tensor:
    """(h, w) map of a per-rule weight: ``default``, or in region i's mask its ``own[i]`` (None: the default);
    blended across the masks' soft borders."""
    weight_map = torch.full_like(masks[0], float(default))
    for index, weight in own.items():
        if weight is not None:
            weight_map = weight_map + masks[index] * (weight - default)
    return weight_map


def _edge_term(content: torch.Tensor, masks: torch.Tensor, regions: Sequence[StyledRegion],
               default_weight: float) -> EdgeTerm | None:
    """The photo's edges as a loss target (None when every weight is 0).

    Each cell is weighted by the edge strength around it (|Laplacian|, 3x3 mean): only where the photo has an
    edge does the term hold the output to it, so flat parts (a clear sky, a plain wall) stay free for
    the style's own strokes, while windows, cornices and lettering keep their lines.
    """
    weight_map = _rule_weight_map(masks, {region.index: region.edge_weight for region in regions}, default_weight)
    if float(weight_map.max()) <= 0.0:
        return None
    target = luminance_laplacian(content, EDGE_POOL)
    strength = F.avg_pool2d(target.abs()[None, None], 3, stride=1, padding=1, count_include_pad=False)[0, 0]
    energy = float((strength * target**2).sum().clamp_min(1e-12))
    weights = resize_masks(weight_map[None], tuple(target.shape))[0] * strength / energy
    borders = _style_borders(masks, regions, tuple(target.shape))
    return EdgeTerm(target=target, weights=weights * (1 - borders), pool=EDGE_POOL,
                    magnitude_weights=weights * borders if float(borders.max()) > 0 else None)


def _style_borders(masks: torch.Tensor, regions: Sequence[StyledRegion], size: tuple[int, int]) -> torch.Tensor:
    """(h, w) in [0, 1] at ``size``: 1 within ``STYLE_BORDER_CELLS`` of where two different styles meet.

    There the two styles decide the contrast's sign, not the photo: held to the photo's signed edge, a
    skyline kept a pale halo of the photo's sky beside a tower whose sky turned dark blue and whose stone
    gold. The edge term holds only the edge's magnitude there (:class:`regionstyle.objective.EdgeTerm`).
    Borders of regions in the same style, and of kept regions, keep their edges whole.
    """
    styles: dict[tuple[str, str | None], torch.Tensor] = {}
    for region in regions:
        key = (region.source.key, region.coarse.key if region.coarse is not None else None)
        mask = resize_masks(masks[region.index][None], size)[0]
        styles[key] = torch.maximum(styles[key], mask) if key in styles else mask
    if len(styles) < 2:
        return masks.new_zeros(size)
    return second_mask_nearby(torch.stack(list(styles.values())), STYLE_BORDER_CELLS)


def run_scale(image: torch.Tensor, problem: ScaleProblem, encoder: FeatureEncoder, *, config: TransferConfig,
              iterations: int, report: Callable[[int, dict[str, float]], None]) -> torch.Tensor:
    """Optimise the pixels of one scale; returns the (1, 3, h, w) result clamped to [0, 1].

    L-BFGS moves the pixels' Laplacian pyramid (:mod:`regionstyle.pyramid`): a lower loss in as many
    evaluations; near the borders between regions only the pixels move, so a coarse cell does not carry a
    style across. Adam scales every variable by its own gradient history, which a change of variables
    does not help, so it moves the pixels themselves.
    """
    levels = pyramid.LEVELS if config.optimizer == "lbfgs" else 1
    borders = (pyramid.border_weight([term.pixel_mask for term in problem.regions], band=pyramid.BORDER_BAND)
               if levels > 1 and problem.regions else None)
    pixels = PixelPyramid(image, levels=levels, gain=pyramid.GAIN, coarse_weight=borders)
    evaluation = _evaluation(problem, encoder, autocast_dtype(config.precision, image.device), image.device)
    count = 0

    def closure() -> torch.Tensor:
        nonlocal count
        # Kept displayable by a projection on [0, 1]; L-BFGS tolerates it in practice.
        current = pixels.clamp_().requires_grad_(True)
        optimizer.zero_grad()
        loss, terms = evaluation(current)
        finite.check_terms(terms, evaluation=count + 1, size=tuple(current.shape[-2:]))
        pixels.backward(current.grad)
        count += 1
        report(min(count, iterations), terms)
        return loss

    if config.optimizer == "lbfgs":
        # A strong-Wolfe line search keeps L-BFGS from diverging on rough losses (seen with the random
        # encoder on the sample scene); max_eval caps the work at the iteration budget in evaluations.
        optimizer = torch.optim.LBFGS(pixels.variables, lr=1.0, max_iter=iterations, max_eval=iterations,
                                      history_size=LBFGS_HISTORY, tolerance_grad=1e-9, tolerance_change=1e-12,
                                      line_search_fn="strong_wolfe")
        optimizer.step(closure)
    elif config.optimizer == "adam":
        optimizer = torch.optim.Adam(pixels.variables, lr=config.learning_rate)
        for _ in range(iterations):
            optimizer.step(closure)
    else:
        raise ValueError(f"optimizer {config.optimizer!r}: expected 'lbfgs' or 'adam'")
    result = pixels.image().detach()  # with one level, the optimised leaf itself
    finite.check_pixels(result)  # a last step may follow a non-finite gradient
    return result.clamp(0, 1).contiguous()


def _evaluation(problem: ScaleProblem, encoder: FeatureEncoder, dtype: torch.dtype | None,
                device: torch.device) -> cuda_graph.Evaluation:
    """Loss and gradient of the pixels: replayed as a CUDA graph where the scale allows it, else eager."""
    eager = eager_evaluation(problem, encoder, dtype)
    if cuda_graph.capturable(problem, device):
        return cuda_graph.GraphedEvaluation(problem, encoder, autocast_dtype=dtype, fallback=eager)
    return eager


def eager_evaluation(problem: ScaleProblem, encoder: FeatureEncoder, dtype: torch.dtype | None
                     ) -> cuda_graph.Evaluation:
    """Loss and gradient of the pixels, op by op (the gradient left in pixels.grad)."""
    def eager(pixels: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        loss, terms = evaluate(pixels, problem, encoder, autocast_dtype=dtype)
        loss.backward()
        return loss, terms
    return eager


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
        # A tiled scale optimises each window's margin too, and a second half-length pass (~2.3x).
        full = steps[-1][0]
        self.work = [size[0] * size[1] * its * (TILED_COST if needs_tiles(size, full=full) else 1)
                     for size, its in steps]
        self.start = time.perf_counter()

    def reporter(self, scale: int, size: tuple[int, int], on_progress: ProgressCallback | None, *,
                 evaluations: int) -> Callable[[int, dict[str, float]], None]:
        """A report(evaluation, losses) for a scale that runs ``evaluations`` in all (windows included)."""
        iterations = evaluations

        def report(iteration: int, losses: dict[str, float]) -> None:
            if on_progress is None:
                return
            elapsed = time.perf_counter() - self.start
            done = sum(self.work[:scale]) + self.work[scale] * iteration / iterations
            eta = elapsed * (sum(self.work) - done) / max(done, 1e-9)
            on_progress(Progress(scale + 1, len(self.steps), size, iteration, iterations, losses, elapsed, eta))
        return report
