"""What stays loaded across images: encoders, segmenters and style targets, and the device and threads.

One :class:`Session` serves a batch, a web editor or a ``stylize_many`` stream, so models and style targets
(per style, scale and encoder) are built once.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import time
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
    two torch threads ran up to 10x slower than one (benchmarks/README.md). OpenMP's wait policy is left
    to the user: idle threads that sleep at once (``OMP_WAIT_POLICY=PASSIVE``) wake too late for the
    thousands of small parallel regions of an evaluation: a 512 px paintings run took 100 s with two such
    threads, 57 s with libgomp's default short spin, 84 s on one thread.
    """
    count = threads or free_cores()
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count


@functools.lru_cache(maxsize=1)
def free_cores() -> int:
    """Cores this process may use minus those busy with other work when first asked (at least one).

    Read once per process: later in a batch the machine counts this process's own work.
    """
    return _cores_left(busy_cores())


def _cores_left(others_busy: float) -> int:
    """Cores this process may use minus ``others_busy`` (at least one): a core over half busy is taken."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, math.floor(cores - others_busy + 0.5)))


# How often ThreadBalance looks again: a few hundred scheduler ticks, and a small share of a scale.
BALANCE_INTERVAL_S = 2.0


class ThreadBalance:
    """Keeps the automatic thread count (``threads = 0``) fair while a run goes on.

    free_cores() looks once, at the start; two runs started together may both find the CPU free. Then four
    threads spin against each other on two cores: two 512 px runs with two threads each took 162 s apiece,
    against 47 s for one alone (benchmarks/README.md). :meth:`check`, called at every evaluation, looks at
    most every BALANCE_INTERVAL_S at what the other processes used since the last look (the machine's busy
    time minus this process's own CPU time) and sets the threads to the cores they leave.
    """

    def __init__(self) -> None:
        try:
            self.last: tuple[float, tuple[int, int], float] | None = self._sample()
        except (OSError, ValueError, IndexError):  # no /proc/stat (not Linux): keep what free_cores chose
            self.last = None

    @staticmethod
    def _sample() -> tuple[float, tuple[int, int], float]:
        return time.monotonic(), _cpu_ticks(), time.process_time()

    def check(self) -> int | None:
        """Sets and returns a new thread count where other work's share changed; None otherwise."""
        if self.last is None or time.monotonic() - self.last[0] < BALANCE_INTERVAL_S:
            return None
        try:
            sample = self._sample()
        except (OSError, ValueError, IndexError):
            return None
        (then, ticks_then, own_then), self.last = self.last, sample
        now, ticks, own = sample
        machine_busy = _cores_busy_between(ticks_then, ticks)
        if machine_busy is None or now <= then:
            return None
        others = max(0.0, machine_busy - (own - own_then) / (now - then))
        count = _cores_left(others)
        if count == torch.get_num_threads():
            return None
        torch.set_num_threads(count)
        return count


# How long busy_cores watches the CPUs: long enough for a few scheduler ticks per core (100 Hz), short
# enough not to show in a 5 s preview.
CPU_SAMPLE_S = 0.15


def busy_cores() -> float:
    """How many of the machine's CPUs other work keeps busy right now.

    On Linux from /proc/stat over CPU_SAMPLE_S (this process sleeps meanwhile, so counts nothing). The
    1-minute load average is the fallback elsewhere: it lags, so a job that ended a minute ago still
    counts (measured: every benchmark after the first started at load ~1 and took one thread of two).
    """
    try:
        first = _cpu_ticks()
        time.sleep(CPU_SAMPLE_S)
        second = _cpu_ticks()
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0]
        except OSError:
            return 0.0
    return _cores_busy_between(first, second) or 0.0


def _cores_busy_between(first: tuple[int, int], second: tuple[int, int]) -> float | None:
    """CPUs' worth of busy time between two :func:`_cpu_ticks` readings (None: no tick passed)."""
    busy, total = second[0] - first[0], second[1] - first[1]
    return (os.cpu_count() or 1) * busy / total if total > 0 else None


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from the first line of /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # user .. steal; guest time is already inside user
    return total - idle, total
