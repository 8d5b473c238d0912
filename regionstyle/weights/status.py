"""What ``regionstyle weights list`` and ``fetch`` need: the cache state of any checkpoint, and fetching it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from regionstyle.weights import hf_hub, torch_hub
from regionstyle.weights.bundled import bundled_file
from regionstyle.weights.download import ProgressCallback
from regionstyle.weights.spec import WeightSpec


@dataclass(frozen=True)
class WeightStatus:
    """One row of ``regionstyle weights list``: what is known, whether and where it is cached, where from."""

    name: str
    kind: str
    description: str
    cached: bool
    path: Path | None
    size_bytes: int | None
    source: str
    approx_mb: float


def cached_path(spec: WeightSpec) -> Path | None:
    """Where ``spec`` is on disk (the package itself for bundled models), or None. Never downloads."""
    if spec.kind == "bundled":
        return bundled_file(spec)
    if spec.kind == "hf_hub":
        snapshot = hf_hub.hf_cached_snapshot(spec)
        return snapshot / hf_hub.HF_FILES[1] if snapshot else None
    return torch_hub.cached_file(spec)


def is_cached(spec: WeightSpec) -> bool:
    """Whether ``spec`` can be loaded without a download."""
    return cached_path(spec) is not None


def status(specs: Iterable[WeightSpec]) -> list[WeightStatus]:
    """A row per checkpoint; reads the caches only, never the network."""
    return [_row(spec) for spec in specs]


def _row(spec: WeightSpec) -> WeightStatus:
    path = cached_path(spec)
    source = {"bundled": "the regionstyle package", "hf_hub": f"https://huggingface.co/{spec.hf_repo}"}.get(
        spec.kind) or torch_hub.torchvision_url(spec)
    size = path.resolve().stat().st_size if path else None
    return WeightStatus(spec.name, spec.kind, spec.description, path is not None, path, size, source, spec.approx_mb)


def fetch(spec: WeightSpec, *, on_progress: ProgressCallback | None = None, progress: bool = True) -> Path:
    """Download ``spec`` into its cache unless it is there already; the cached file or snapshot folder."""
    if spec.kind == "bundled":
        return bundled_file(spec)
    if spec.kind == "hf_hub":
        return hf_hub.fetch_hf(spec, progress=progress)
    return torch_hub.fetch(spec, on_progress=on_progress)
