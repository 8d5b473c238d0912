"""Building encoders: a registered name (+ optional local weights) -> a ready :class:`FeatureEncoder`.

``build_encoder`` builds exactly what is asked for; ``load_encoder`` is what the pipeline calls: it
resolves ``auto`` (VGG19 when its weights are cached, else the bundled MobileNetV2, never a download)
and applies each network's feature transform (the plan's softmax temperature).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

import torch
from torch import nn

from regionstyle.encoder.mobilenet import build_mobilenet_v2, mobilenet_layer_names
from regionstyle.encoder.network import (IMAGENET_MEAN, IMAGENET_STD, SIGNED_MEAN, SIGNED_STD, EncoderInfo,
                                         FeatureEncoder, load_local_convention)
from regionstyle.encoder.registry import ENCODER_NAMES, ENCODERS
from regionstyle.encoder.smoothing import SoftmaxEncoder
from regionstyle.encoder.vgg import build_vgg, vgg_layer_names
from regionstyle.errors import BadInput
from regionstyle.weights import status, torch_hub
from regionstyle.weights.bundled import load_bundled_encoder
from regionstyle.weights.download import ProgressCallback

log = logging.getLogger(__name__)


def resolve_auto(name: str, *, weights_file: str | Path | None = None) -> tuple[str, str]:
    """(the encoder that will run, why): ``auto`` is VGG19 if its weights are at hand, else MobileNetV2."""
    if name == "random" and weights_file is not None:  # it would silently ignore them
        raise BadInput(f"the random encoder takes no weights, but encoder_weights = {weights_file} was given: "
                       "name the encoder the weights are for (mobilenet_v2, vgg19, vgg16)")
    if name != "auto":
        return name, "named in the settings"
    vgg19 = ENCODERS["vgg19"]
    if weights_file is not None:
        return "vgg19", f"auto with a weights file ({weights_file}): VGG19"
    if status.is_cached(vgg19.weights):
        return "vgg19", "auto: VGG19 ImageNet weights are cached"
    return "mobilenet_v2", ("auto: VGG19 weights are not cached, so the bundled MobileNetV2 ran "
                            "(`regionstyle weights fetch vgg19` or --encoder vgg19 downloads VGG19)")


def load_encoder(name: str = "auto", *, taps: Iterable[str] | None = None, weights_file: str | Path | None = None,
                 seed: int = 0, on_download: ProgressCallback | None = None) -> tuple[FeatureEncoder, str]:
    """The encoder the pipeline runs (``auto`` resolved, features transformed as its plan says) and a note
    saying which network ran and why."""
    chosen, why = resolve_auto(name, weights_file=weights_file)
    plan = ENCODERS[chosen].plan
    encoder = build_encoder(chosen, taps=taps, weights_file=weights_file, seed=seed, on_download=on_download,
                            softmax_temperature=plan.softmax_temperature, antialias=plan.antialias)
    log.info("encoder: %s (%s)", chosen, why)
    return encoder, why


def build_encoder(name: str, *, taps: Iterable[str] | None = None, weights_file: str | Path | None = None,
                  download: bool | None = None, seed: int = 0, softmax_temperature: float | None = None,
                  antialias: bool = False, on_download: ProgressCallback | None = None) -> FeatureEncoder:
    """Build encoder ``name`` with its weights: ``weights_file``, the bundled ones, the caches or a download.

    download: None = on first use unless ``REGIONSTYLE_OFFLINE`` is set. ``random`` (VGG19 with seeded
    random texture filters, :mod:`regionstyle.encoder.gabor`) needs no weights.
    softmax_temperature: return softmax-over-channels features (a :class:`SoftmaxEncoder`).
    antialias: blur before strided convolutions (MobileNetV2 only; VGG downsamples by max pooling).
    """
    if name not in ENCODERS:
        raise BadInput(f"unknown encoder {name!r}; choose from {', '.join(ENCODER_NAMES)}")
    taps = tuple(taps) if taps is not None else ENCODERS[name].plan.taps
    if name == "mobilenet_v2":
        return _build_mobilenet(taps, weights_file, softmax_temperature, antialias)
    if antialias:
        raise ValueError(f"anti-aliasing is built for MobileNetV2's strided convolutions, not {name}")
    arch = "vgg19" if name == "random" else name
    state = None if name == "random" else torch_hub.load_state_dict(
        ENCODERS[name].weights, local_file=weights_file, download=download, on_progress=on_download)
    body = _fitted(lambda: build_vgg(arch, state_dict=state, seed=seed), weights_file or name, arch, state)
    source = f"random(seed={seed})" if state is None else str(weights_file or "imagenet (torchvision)")
    info = EncoderInfo(name, source, "imagenet", pretrained=state is not None)
    return _encoder(body=body, taps=_pick(vgg_layer_names(body), taps, name), mean=IMAGENET_MEAN,
                    std=IMAGENET_STD, info=info, softmax_temperature=softmax_temperature)


def _build_mobilenet(taps: tuple[str, ...], weights_file: str | Path | None,
                     softmax_temperature: float | None, antialias: bool) -> FeatureEncoder:
    if weights_file is None:
        state, declared = load_bundled_encoder()
        source = "bundled (TF-slim ImageNet)"
    else:
        declared = load_local_convention(Path(weights_file), architecture="mobilenet_v2")
        state = torch_hub.read_torch_file(Path(weights_file))
        source = str(weights_file)
    tf_padding = declared.get("padding") == "tf_same"
    signed = list(declared.get("input_range", [])) == [-1.0, 1.0]
    body = _fitted(lambda: build_mobilenet_v2(state_dict=state, tf_same_padding=tf_padding, antialias=antialias),
                   weights_file or "the bundled weights", "mobilenet_v2", state)
    info = EncoderInfo("mobilenet_v2", source, "tf" if signed or tf_padding else "torchvision", pretrained=True)
    return _encoder(body=body, taps=_pick(mobilenet_layer_names(), taps, "mobilenet_v2"),
                    mean=SIGNED_MEAN if signed else IMAGENET_MEAN, std=SIGNED_STD if signed else IMAGENET_STD,
                    info=info, softmax_temperature=softmax_temperature)


def _fitted(build, source: str | Path, arch: str, state: dict | None = None) -> nn.Sequential:
    """Run a builder that loads a state dict strictly; a checkpoint that does not fit is one clear line
    (what the file looks like, and torch's first complaint)."""
    try:
        body = build()
    except (RuntimeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        from regionstyle.weights.inspect import describe

        lines = [line.strip() for line in str(exc).splitlines() if line.strip()] or [type(exc).__name__]
        detail = lines[1] if len(lines) > 1 and lines[0].startswith("Error(s) in loading") else lines[0]
        looks = f": the file looks like {describe(state)}" if state else ""
        raise BadInput(f"weights {source} do not fit the {arch} architecture{looks}; "
                       f"{detail[:160]}{'...' if len(detail) > 160 else ''}") from None
    if any(not torch.isfinite(p).all() for p in body.parameters()):
        raise BadInput(f"weights {source} hold NaN or infinite values")
    return body


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
