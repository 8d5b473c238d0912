"""The loss of one scale: every styled region's masked style terms, content, colour and total variation.

Everything fixed during a scale's optimisation (content features, per-layer masks, style targets) is
gathered once, under ``no_grad``, into a :class:`ScaleProblem`; :func:`evaluate` is then a pure function
of the pixels.

Balancing, and why:
- each layer's style distance (the region's own loss: gram, w2 or sliced, :mod:`regionstyle.style.losses`)
  is relative to its target's size (the Gram's mean square; E|f|^2 for the Wasserstein distances), and the
  content distance is divided by the mean square of the content features: every term is then a
  *relative* error of order one whatever the encoder's activation scale (VGG, MobileNet, random), so one
  style weight works for all of them and for every loss;
- each region's style term is multiplied by its share of the image: area-normalised statistics give every
  pixel of a small region a larger gradient, and this restores a per-pixel style force independent of
  region size (a 2% region is neither ignored nor over-driven next to the sky).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F

from regionstyle.encoder import FeatureEncoder, LayerPlan
from regionstyle.losses import color_loss, content_loss, edge_loss, luminance_laplacian, tv_loss
from regionstyle.style.gram import EMPTY_REGION
from regionstyle.style.losses import style_loss
from regionstyle.style.targets import StyleTarget

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LayerSupport:
    """Where a region has weight at one layer: ``positions`` (K,) into the layer's flattened h * w positions
    (None: all of them) and the mask's ``weights`` (K,) there; ``span``: where its rows lie in the scale's
    pooled gather at this layer (:func:`pool_gathers`).

    Each region's statistics read only its own positions: R regions that tile the image then cost about one
    Gram's worth of products instead of R (3 regions at 512 px: 3.2x less Gram time, measured in float32;
    the gather's backward is an O(N C) scatter, small next to the O(N C^2) products).
    """

    positions: torch.Tensor | None
    weights: torch.Tensor
    span: tuple[int, int] | None = None

    def rows(self, features: torch.Tensor, pooled: torch.Tensor | None = None) -> torch.Tensor:
        """The region's rows of (N, C) features (a slice of ``pooled``, the layer's pooled gather, if given)."""
        if self.positions is None:
            return features
        if self.span is not None and pooled is not None:
            return pooled[self.span[0]:self.span[1]]
        return features.index_select(0, self.positions)


# Above this share of a layer's positions a region reads them all: the gather would only add a copy.
_GATHER_BELOW = 0.9


@dataclass(frozen=True)
class RegionTerm:
    """One styled region at one scale. target: its style's statistics for its loss (``target.loss``);
    layers: {tap: LayerSupport}; pixel_mask: (H, W)."""

    name: str
    target: StyleTarget
    layers: dict[str, LayerSupport]
    pixel_mask: torch.Tensor
    strength: float
    area: float
    use_color: bool


@dataclass(frozen=True)
class LossWeights:
    style: float
    content: float
    tv: float
    color: float


@dataclass(frozen=True)
class EdgeTerm:
    """The photo's edges at one scale: ``target`` (h, w), the Laplacian of its luminance pooled ``pool`` x
    ``pool`` (:func:`regionstyle.losses.luminance_laplacian`), and per-cell ``weights`` (h, w), already
    divided by the photo's own weighted edge energy so that losing every edge costs about the edge weight.
    ``magnitude_weights`` (h, w): cells where only the edge's magnitude |Laplacian| is held, not its sign
    (borders between two styles, which decide there which side is the brighter)."""

    target: torch.Tensor
    weights: torch.Tensor
    pool: int
    magnitude_weights: torch.Tensor | None = None


@dataclass(frozen=True)
class ScaleProblem:
    """content_target: (C, h, w) at plan.content; content_weights: (h, w) per-position content weight;
    edges: the edge term, None where no region asks for one."""

    plan: LayerPlan
    regions: tuple[RegionTerm, ...]
    content_target: torch.Tensor
    content_weights: torch.Tensor
    content_norm: float
    weights: LossWeights
    gathers: dict[str, torch.Tensor] = field(default_factory=dict)  # {tap: pooled positions} (pool_gathers)
    edges: EdgeTerm | None = None
    context: int = 0  # pixels of mirrored image the encoder sees around it (ENCODER_CONTEXT)


# The encoder sees the image mirrored this many pixels past each edge, with masks of zero weight there: a
# border pixel otherwise meets the networks' zero padding (and, for the TF-trained MobileNetV2, an
# asymmetric SAME stride grid), and the optimiser painted a green line two pixels high along the top edge
# of every MobileNetV2 picture (G - B +15 to +50 over rows 6-14 on the ten photos at 512 px).
ENCODER_CONTEXT = 8


def with_context(image: torch.Tensor, context: int) -> torch.Tensor:
    """(N, C, H, W) ``image`` mirrored ``context`` pixels past each edge (as is when it is too small)."""
    if context <= 0 or min(image.shape[-2:]) <= context:
        return image
    return F.pad(image, (context,) * 4, mode="reflect")


# At each layer a region's lightest positions, up to this share of its mask's total weight, are left out of
# its statistics. A segmentation network's soft masks give every region some probability everywhere (at
# 512 px Logan Circle's sky had weight > 0 at every position, >= 0.01 at 39% of them): read in full, each
# of three regions paid a whole image's Gram and the gathers above never applied (512 px Tübingen without
# a label map: 38 s -> 29 s). What is left out moves a region's statistics by about this share (0.01 did
# no better on the quality measure) and keeps its style gradient off the rest of the photo. A region still
# read in full (over _GATHER_BELOW of a layer) keeps its light positions there: the gather is only a saving.
NEGLIGIBLE_WEIGHT_SHARE = 0.001


def usable_taps(region_masks: dict[str, torch.Tensor], name: str) -> dict[str, LayerSupport]:
    """A region's support per layer, without the layers where it vanished (logged, never a NaN)."""
    kept = {}
    for tap, mask in region_masks.items():
        flat = mask.reshape(-1)
        if float(flat.sum()) < EMPTY_REGION:
            log.info("region %s: no weight left at layer %s; that layer is skipped for it", name, tap)
            continue
        positions = weighty_positions(flat)
        if len(positions) > _GATHER_BELOW * len(flat):
            kept[tap] = LayerSupport(None, flat)
        else:
            kept[tap] = LayerSupport(positions, flat.index_select(0, positions))
    return kept


def weighty_positions(weights: torch.Tensor, share: float = NEGLIGIBLE_WEIGHT_SHARE) -> torch.Tensor:
    """Ascending indices of the (N,) ``weights`` left after dropping the lightest ones that together hold at
    most ``share`` of their sum (zeros always go)."""
    values, order = weights.sort()
    light = int((values.cumsum(0) <= share * float(values.sum())).sum())
    kept = order[light:]
    return kept[weights[kept] > 0].sort().values


def pool_gathers(terms: tuple[RegionTerm, ...]) -> tuple[tuple[RegionTerm, ...], dict[str, torch.Tensor]]:
    """The regions' gathers pooled into one per layer: (terms with their spans set, {tap: positions}).

    The backward of a gather zero-fills the whole (N, C) layer before scattering into it; one pooled gather
    per layer fills it once instead of once per region (at 512 px each fill of the 96-channel stride-2 layer
    took about 10 ms, three per evaluation). Positions shared by two regions' soft borders appear twice.
    """
    parts: dict[str, list[torch.Tensor]] = {}
    pooled_terms = []
    for term in terms:
        layers = {}
        for tap, support in term.layers.items():
            if support.positions is not None:
                start = sum(len(part) for part in parts.get(tap, []))
                parts.setdefault(tap, []).append(support.positions)
                support = replace(support, span=(start, start + len(support.positions)))
            layers[tap] = support
        pooled_terms.append(replace(term, layers=layers))
    return tuple(pooled_terms), {tap: torch.cat(positions) for tap, positions in parts.items()}


def evaluate(image: torch.Tensor, problem: ScaleProblem, encoder: FeatureEncoder, *,
             autocast_dtype: torch.dtype | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss of ``image`` (1, 3, H, W) and its terms (for progress reports)."""
    terms = loss_terms(image, problem, encoder, autocast_dtype=autocast_dtype)
    return terms["total"], term_values(terms)


def loss_terms(image: torch.Tensor, problem: ScaleProblem, encoder: FeatureEncoder, *,
               autocast_dtype: torch.dtype | None = None, autocast_cache: bool = True) -> dict[str, torch.Tensor]:
    """The loss of ``image`` (1, 3, H, W) as 0-dim tensors: each term and their weighted ``total``.

    Nothing here waits for the device (no value is read back), so a CUDA graph can hold it
    (:mod:`regionstyle.cuda_graph`, which also turns the autocast cache off: cached casts would be freed
    under the graph when the autocast region ends).
    """
    with torch.autocast(image.device.type, dtype=autocast_dtype or torch.bfloat16,
                        enabled=autocast_dtype is not None, cache_enabled=autocast_cache):
        # channels_last suits oneDNN/cuDNN convolutions; the optimised tensor itself stays contiguous.
        seen = with_context(image, problem.context)
        features = encoder(seen.contiguous(memory_format=torch.channels_last), taps=problem.plan.own_taps)
    # (h*w, C) rows: a view of channels-last maps (no copy), still in the autocast dtype. Reshaped whole, not
    # indexed (f[0]): the backward of an index allocates an NCHW gradient, which the encoder's channels-last
    # backward (its softmax) then copied back: two copies of every tap per evaluation, 15% of one at 512 px.
    features = {tap: f.permute(0, 2, 3, 1).reshape(-1, f.shape[1]) for tap, f in features.items()}
    weights = problem.weights
    pooled = {tap: features[tap].index_select(0, positions) for tap, positions in problem.gathers.items()}
    style = sum((_region_style(features, pooled, term, problem.plan) for term in problem.regions),
                image.new_zeros(()))
    content_features = features[problem.plan.content].float().T.reshape(problem.content_target.shape)
    content = content_loss(content_features, problem.content_target, problem.content_weights) / problem.content_norm
    smooth = tv_loss(image[0])
    colour = sum((term.area * color_loss(image[0], term.pixel_mask, term.target.color_mean,
                                         term.target.color_cov)
                  for term in problem.regions if term.use_color), image.new_zeros(()))
    # The edge weights carry their own scale (a per-cell map, see EdgeTerm), so no global factor here.
    edges = image.new_zeros(()) if problem.edges is None else _edge_distance(image, problem.edges)
    total = (weights.style * style + weights.content * content + weights.tv * smooth + weights.color * colour
             + edges)
    return {"style": style, "content": content, "tv": smooth, "color": colour, "edges": edges, "total": total}


def term_values(terms: dict[str, torch.Tensor]) -> dict[str, float]:
    """The terms as floats, read back in one transfer (six reads were six waits for a GPU)."""
    return dict(zip(terms, stacked_terms(terms).tolist()))


def stacked_terms(terms: dict[str, torch.Tensor]) -> torch.Tensor:
    """The terms as one float tensor, in the dict's order, detached (nothing read back)."""
    return torch.stack([value.detach().float() for value in terms.values()])


def _edge_distance(image: torch.Tensor, edges: EdgeTerm) -> torch.Tensor:
    laplacian = luminance_laplacian(image[0], edges.pool)
    distance = edge_loss(laplacian, edges.target, edges.weights)
    if edges.magnitude_weights is not None:
        distance = distance + edge_loss(laplacian.abs(), edges.target.abs(), edges.magnitude_weights)
    return distance


def _region_style(features: dict[str, torch.Tensor], pooled: dict[str, torch.Tensor], term: RegionTerm,
                  plan: LayerPlan) -> torch.Tensor:
    distance = style_loss(term.target.loss).distance  # already relative: of order one at the start
    loss = features[plan.content].new_zeros(())
    for tap, layer_weight in plan.style:
        support = term.layers.get(tap)
        if support is None:
            continue
        rows = support.rows(features[tap], pooled.get(tap))
        loss = loss + layer_weight * distance(rows, support.weights, term.target.taps[tap])
    return term.strength * term.area * loss


def resize_masks(masks: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Area/bilinear resize of (R, H, W) masks to ``size`` (h, w)."""
    mode = "area" if size[0] <= masks.shape[-2] else "bilinear"
    return F.interpolate(masks[None], size=size, mode=mode)[0]


def second_mask_nearby(masks: torch.Tensor, band: int) -> torch.Tensor:
    """(H, W): the second-strongest of the (R, H, W) ``masks`` within ``band`` pixels, > 0 only where two
    of them meet (the strongest is the pixel's own)."""
    near = F.max_pool2d(masks[None], 2 * band + 1, stride=1, padding=band)[0]
    return near.topk(2, dim=0).values[1]
