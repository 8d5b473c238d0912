"""What stays loaded across images: encoders, segmenters and style targets; and the device a run uses.

One :class:`Session` serves a batch, a web editor or a ``stylize_many`` stream, so models and style targets
(per style, scale and encoder) are built once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import maskrules
from regionstyle import devices, segment
from regionstyle.config import TransferConfig

if TYPE_CHECKING:  # torch loads with the first stage that needs it: a run of laid-in built-ins never does
    import torch

    from regionstyle import encoder as encoders
    from regionstyle.optimize import TargetCache

log = logging.getLogger(__name__)


@dataclass
class Session:
    """Models and targets shared across images.

    custom_encoder: a prebuilt (FeatureEncoder, LayerPlan) to use instead of the configured encoder (tests
        use a tiny random network; embedders may bring their own).
    on_download: progress of a checkpoint download on first use, ``(bytes done, bytes total or None)``.
    custom_segmenter: a segmenter to use instead of the configured one (tests; embedders).
    paintings: paintings segmented for ``match`` styles (labels, vocabulary), per painting and segmenter.
    """

    custom_encoder: tuple[Any, encoders.LayerPlan] | None = None
    on_download: Callable[[int, int | None], None] | None = None
    encoders: dict[tuple, tuple[Any, str]] = field(default_factory=dict)
    segmenters: dict[tuple, Any] = field(default_factory=dict)
    targets: TargetCache = field(default_factory=dict)
    custom_segmenter: Any = None
    paintings: dict[tuple, tuple[Any, maskrules.Vocabulary]] = field(default_factory=dict)

    def encoder(self, config: TransferConfig, device: torch.device) -> tuple[Any, encoders.LayerPlan, str]:
        """The feature network for ``config`` on ``device``, its layer plan, and which one ran and why."""
        import torch

        from regionstyle import encoder as encoders

        if self.custom_encoder is not None:
            network, plan = self.custom_encoder
            return network.to(device), plan, f"custom encoder {network.info.name}"
        key = (config.encoder, config.encoder_weights, config.seed, str(device))
        if key not in self.encoders:
            network, why = encoders.load_encoder(config.encoder, weights_file=config.encoder_weights,
                                                 seed=config.seed, on_download=self.on_download)
            self.encoders[key] = (network.to(device).to(memory_format=torch.channels_last), why)
        network, why = self.encoders[key]
        return network, encoders.LAYER_PLANS[network.info.name], why

    def segmenter(self, name: str, spec: maskrules.SegmentationSpec, device: str,
                  weights: str | Path | None = None) -> Any:
        if self.custom_segmenter is not None:
            return self.custom_segmenter
        key = (name, spec, device, str(weights))
        if key not in self.segmenters:
            self.segmenters[key] = segment.build_segmenter(name, device=device, spec=spec, weights=weights)
        return self.segmenters[key]

    def forget_photo_targets(self) -> None:
        """Drop the style targets of built-ins rendered from a photo's regions (keyed by StyleSource.key
        first): they belong to that one photo and never come back, and a batch would pile them up."""
        from regionstyle.style.region import is_region_key

        for key in [key for key in self.targets if is_region_key(str(key[0]))]:
            del self.targets[key]


def resolve_device(name: str) -> torch.device:
    """:func:`regionstyle.devices.resolve_device` as a torch device, for the stages that run torch."""
    import torch

    return torch.device(devices.resolve_device(name))
