"""What stays loaded across images: encoders, segmenters and style targets, and the device and threads.

One :class:`Session` serves a batch, a web editor or a ``stylize_many`` stream, so models and style targets
(per style, scale and encoder) are built once.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

import maskrules
from regionstyle import encoder as encoders
from regionstyle import segment
from regionstyle.config import TransferConfig
from regionstyle.errors import BadInput
from regionstyle.optimize import TargetCache
from regionstyle.style.region import is_region_key

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
        for key in [key for key in self.targets if is_region_key(str(key[0]))]:
            del self.targets[key]


def resolve_device(name: str) -> torch.device:
    """``auto`` = CUDA when present, else CPU; anything else must be a device this machine has."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise BadInput(f"unknown device {name!r}: {exc}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise BadInput(f"device {name!r} was asked for, but this machine has no CUDA GPU; use --device cpu")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise BadInput(f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise BadInput(f"device {name!r} was asked for, but MPS is not available here; use --device cpu")
    return device


def use_threads(threads: int) -> int:
    """Set torch's CPU thread count: ``threads``, or with 0 one per core not already busy; returns it.

    Oversubscribed OpenMP threads spin against each other: on a 2-core machine with other work running,
    two torch threads ran up to 10x slower than one (benchmarks/README.md).
    """
    count = threads or free_cores()
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count


@functools.lru_cache(maxsize=1)
def free_cores() -> int:
    """Cores this process may use minus the machine's load when first asked (at least one).

    Read once per process: later in a batch the load average counts this process's own work.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    return max(1, min(cores, round(cores - busy + 0.5)))
