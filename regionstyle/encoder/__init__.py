"""Feature networks for the style and content losses: a registry, default layer plans, weights loading.

``build_encoder`` builds exactly what is asked (and raises :class:`WeightsUnavailable` when pretrained
weights are missing); ``load_encoder`` is what the pipeline calls: with ``"auto"`` it prefers pretrained
VGG19 and falls back to the seeded random VGG19 with a warning when no weights are available.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from torch import nn

from regionstyle import weights as weights_store
from regionstyle.encoder.mobilenet import build_mobilenet_v2, mobilenet_layer_names
from regionstyle.encoder.network import (IMAGENET_MEAN, IMAGENET_STD, SIGNED_MEAN, SIGNED_STD, EncoderInfo,
                                         FeatureEncoder, SpatialOp, load_local_convention)
from regionstyle.encoder.smoothing import SoftmaxEncoder, softmax_channels
from regionstyle.encoder.vgg import build_vgg, vgg_layer_names
from regionstyle.errors import BadInput, WeightsUnavailable

log = logging.getLogger(__name__)

__all__ = ["ENCODER_NAMES", "LAYER_PLANS", "LayerPlan", "FeatureEncoder", "SpatialOp", "EncoderInfo",
           "build_encoder", "load_encoder",
           "SoftmaxEncoder", "softmax_channels"]


@dataclass(frozen=True)
class LayerPlan:
    """Which taps feed the style loss (with relative weights) and which one the content loss.

    style_weight: the style/content balance calibrated for this network (see regionstyle.objective).
    softmax_temperature: if set, style and content compare :func:`~regionstyle.encoder.smoothing.
        softmax_channels` of the activations rather than the activations (applied by ``load_encoder``).
    """

    style: tuple[tuple[str, float], ...]
    content: str
    style_weight: float = 100.0
    fine: LayerPlan | None = None
    softmax_temperature: float | None = None

    @property
    def taps(self) -> tuple[str, ...]:
        """Every tap this plan (and its fine-scale plan) reads."""
        own = [name for name, _ in self.style] + [self.content]
        return tuple(dict.fromkeys(own + list(self.fine.taps if self.fine else ())))

    @property
    def own_taps(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([name for name, _ in self.style] + [self.content]))


# Fine scales (see regionstyle.optimize.FINE_ABOVE) refine texture with the shallow layers only: the deep,
# large-scale statistics were settled at the coarse scales, and VGG19 up to relu3_1 costs ~30% of a pass
# to relu5_1. (Anchoring the fine pass to the upsampled coarser result instead of the photo was tried: it
# kept the coarse scale's blur.)
_VGG_FINE = LayerPlan(style=(("relu1_1", 1.0), ("relu2_1", 1.0), ("relu3_1", 1.0)), content="relu3_1")
_VGG_PLAN = LayerPlan(style=(("relu1_1", 1.0), ("relu2_1", 1.0), ("relu3_1", 1.0), ("relu4_1", 1.0),
                             ("relu5_1", 1.0)), content="relu4_2", fine=_VGG_FINE)
LAYER_PLANS: dict[str, LayerPlan] = {
    "vgg19": _VGG_PLAN,
    "vgg16": _VGG_PLAN,
    # Random filters describe fine detail poorly: with relu1_1/relu2_1 at full weight the optimiser meets
    # them with pixel grain; lighter there, the deeper layers' larger patterns lead (benchmarks/README.md).
    "random": LayerPlan(style=(("relu1_1", 0.2), ("relu2_1", 0.5), ("relu3_1", 1.0), ("relu4_1", 1.0),
                               ("relu5_1", 1.0)), content="relu4_2",
                        fine=LayerPlan(style=(("relu1_1", 0.2), ("relu2_1", 0.5), ("relu3_1", 1.0)),
                                       content="relu3_1")),
    # Expanded ReLU6 activations at strides 2, 2, 4, 8, 16: the widest layers of each resolution. Softmax
    # over channels keeps windows on stylised buildings (benchmarks/README.md); taps, layer weights, content
    # tap and style weight were measured too and changed the results less than the run-to-run noise.
    "mobilenet_v2": LayerPlan(style=(("stem", 1.0), ("b2_expand", 1.0), ("b4_expand", 1.0),
                                     ("b7_expand", 1.0), ("b14_expand", 1.0)), content="b7_expand",
                              softmax_temperature=1.0),
}
ENCODER_NAMES = ("auto", *LAYER_PLANS)


def build_encoder(name: str, *, taps: Iterable[str] | None = None, weights_file: str | Path | None = None,
                  download: bool = False, seed: int = 0, softmax_temperature: float | None = None
                  ) -> FeatureEncoder:
    """Build encoder ``name`` with pretrained weights (cache, local file, or download if allowed).

    ``random`` is the VGG19 architecture with seeded random texture filters (an 11x11 Gabor first layer,
    see :mod:`regionstyle.encoder.gabor`) and needs no weights.
    ``softmax_temperature``: return :func:`~regionstyle.encoder.smoothing.softmax_channels` of the taps
    (a :class:`SoftmaxEncoder`) instead of the raw activations.
    Raises WeightsUnavailable when pretrained weights are needed and missing.
    """
    if name not in LAYER_PLANS:
        raise BadInput(f"unknown encoder {name!r}; choose from {', '.join(ENCODER_NAMES)}")
    taps = tuple(taps) if taps is not None else LAYER_PLANS[name].taps
    if name == "mobilenet_v2":
        return _build_mobilenet(taps, weights_file, download, softmax_temperature)
    arch = "vgg19" if name == "random" else name
    state = None if name == "random" else weights_store.load_state_dict(
        name, local_file=weights_file, download=download)
    body = build_vgg(arch, state_dict=state, seed=seed)
    source = f"random(seed={seed})" if state is None else str(weights_file or "imagenet (torchvision)")
    info = EncoderInfo(name, source, "imagenet", pretrained=state is not None)
    return _encoder(body=body, taps=_pick(vgg_layer_names(body), taps, name), mean=IMAGENET_MEAN,
                    std=IMAGENET_STD, info=info, softmax_temperature=softmax_temperature)


def _build_mobilenet(taps: tuple[str, ...], weights_file: str | Path | None, download: bool,
                     softmax_temperature: float | None) -> FeatureEncoder:
    declared = load_local_convention(Path(weights_file)) if weights_file else {}
    tf_style = list(declared.get("input_range", [])) == [-1.0, 1.0] or declared.get("padding") == "tf_same"
    state = weights_store.load_state_dict("mobilenet_v2", local_file=weights_file, download=download)
    body = build_mobilenet_v2(state_dict=state, tf_same_padding=declared.get("padding") == "tf_same")
    signed = list(declared.get("input_range", [])) == [-1.0, 1.0]
    info = EncoderInfo("mobilenet_v2", str(weights_file or "imagenet (torchvision)"),
                       "tf" if tf_style else "torchvision", pretrained=True)
    return _encoder(body=body, taps=_pick(mobilenet_layer_names(), taps, "mobilenet_v2"),
                    mean=SIGNED_MEAN if signed else IMAGENET_MEAN, std=SIGNED_STD if signed else IMAGENET_STD,
                    info=info, softmax_temperature=softmax_temperature)


def _encoder(*, body: nn.Sequential, taps: dict[str, str], mean: tuple[float, ...], std: tuple[float, ...],
             info: EncoderInfo, softmax_temperature: float | None) -> FeatureEncoder:
    if softmax_temperature is None:
        return FeatureEncoder(body=body, taps=taps, mean=mean, std=std, info=info)
    return SoftmaxEncoder(body=body, taps=taps, mean=mean, std=std, info=info, temperature=softmax_temperature)


def _pick(available: dict[str, str], taps: tuple[str, ...], name: str) -> dict[str, str]:
    unknown = [tap for tap in taps if tap not in available]
    if unknown:
        raise BadInput(f"encoder {name} has no layer(s) {unknown}; it has: {', '.join(available)}")
    return {tap: available[tap] for tap in taps}


def load_encoder(name: str = "auto", *, taps: Iterable[str] | None = None,
                 weights_file: str | Path | None = None, seed: int = 0) -> tuple[FeatureEncoder, str | None]:
    """The encoder the pipeline runs, and a warning when it had to fall back to random weights.

    ``auto`` = pretrained VGG19 if its weights are cached (or ``weights_file`` is given), else the seeded
    random VGG19. A name given explicitly never falls back: its missing weights are an error.
    Each network's features come transformed as its LayerPlan says (``softmax_temperature``).
    """
    if name != "auto":
        return build_encoder(name, taps=taps, weights_file=weights_file, seed=seed,
                             softmax_temperature=LAYER_PLANS[name].softmax_temperature), None
    try:
        return build_encoder("vgg19", taps=taps, weights_file=weights_file, seed=seed,
                             softmax_temperature=LAYER_PLANS["vgg19"].softmax_temperature), None
    except WeightsUnavailable as exc:
        warning = (f"pretrained VGG19 weights are not available, so a seeded random-weight VGG19 ran "
                   f"(textures transfer, results are weaker). {exc}")
        log.warning(warning)
        return build_encoder("random", taps=taps, seed=seed,
                             softmax_temperature=LAYER_PLANS["random"].softmax_temperature), warning
