"""The encoder registry: every feature network by name, with its checkpoint and layer plan.

Plain data (no torch): the settings schema takes its choices from here, so ``--encoder`` lists exactly
the registered names and ``regionstyle --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from regionstyle.encoder.plans import LAYER_PLANS, LayerPlan
from regionstyle.weights import WeightSpec, torchvision_checkpoint
from regionstyle.weights.bundled import BUNDLED_ENCODER


@dataclass(frozen=True)
class EncoderEntry:
    """One registered encoder. weights: its default checkpoint (None: seeded random filters)."""

    name: str
    description: str
    weights: WeightSpec | None
    plan: LayerPlan


ENCODERS: dict[str, EncoderEntry] = {
    entry.name: entry
    for entry in (
        EncoderEntry("vgg19", "VGG19 with ImageNet weights (torchvision; downloaded on first use, 548 MB)",
                     torchvision_checkpoint("vgg19", "torchvision.models.VGG19_Weights.IMAGENET1K_V1",
                                            "vgg19-dcbb9e9d.pth", "VGG19 ImageNet features (torchvision)",
                                            approx_mb=548),
                     LAYER_PLANS["vgg19"]),
        EncoderEntry("vgg16", "VGG16 with ImageNet weights (torchvision; downloaded on first use, 528 MB)",
                     torchvision_checkpoint("vgg16", "torchvision.models.VGG16_Weights.IMAGENET1K_V1",
                                            "vgg16-397923af.pth", "VGG16 ImageNet features (torchvision)",
                                            approx_mb=528),
                     LAYER_PLANS["vgg16"]),
        EncoderEntry("mobilenet_v2", "MobileNetV2 with ImageNet weights (bundled in the package)",
                     BUNDLED_ENCODER, LAYER_PLANS["mobilenet_v2"]),
        EncoderEntry("random", "VGG19 with seeded random texture filters (no weights; weakest)", None,
                     LAYER_PLANS["random"]),
    )
}
# "auto": VGG19 when its weights are cached, else the bundled MobileNetV2 (see encoder.build.resolve_auto).
ENCODER_NAMES: tuple[str, ...] = ("auto", *ENCODERS)
