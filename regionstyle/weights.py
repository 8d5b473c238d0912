"""Pretrained weights: the ONLY module that knows URLs, caches, hashes and the offline story.

Where a checkpoint is looked for, in order:
1. a local file the user names (``--encoder-weights PATH``, ``weights = "..."`` in the rules);
2. ``$REGIONSTYLE_HOME/checkpoints/<file>`` when ``REGIONSTYLE_HOME`` is set (a project-level cache);
3. torch hub's cache, ``$TORCH_HOME/hub/checkpoints/<file>`` (where torchvision itself caches).
Hugging Face hub checkpoints (segmentation-models-pytorch) live in the Hugging Face cache
(``HF_HOME`` / ``HF_HUB_CACHE``). Environment variables are read at call time, never at import.

Nothing downloads unless asked (``fetch`` / ``download=True``); offline with nothing cached, the error
names the model, the file expected, the cache path and the ways out.
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from regionstyle.errors import BadInput, WeightsUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WeightSpec:
    """One known checkpoint.

    torchvision_enum: dotted path of a torchvision weights enum member; its ``url`` is the download source
        and the file name (which embeds torchvision's sha256 prefix) is the cache file name.
    hf_repo: a Hugging Face hub repo id (segmentation-models-pytorch checkpoints), for ``kind == "hf_hub"``.
    """

    name: str
    kind: str  # "torch_hub" or "hf_hub"
    description: str
    torchvision_enum: str = ""
    hf_repo: str = ""
    approx_mb: float = 0.0


WEIGHTS: dict[str, WeightSpec] = {
    spec.name: spec
    for spec in (
        WeightSpec("vgg19", "torch_hub", "VGG19 ImageNet features (torchvision)",
                   torchvision_enum="torchvision.models.VGG19_Weights.IMAGENET1K_V1", approx_mb=548),
        WeightSpec("vgg16", "torch_hub", "VGG16 ImageNet features (torchvision)",
                   torchvision_enum="torchvision.models.VGG16_Weights.IMAGENET1K_V1", approx_mb=528),
        WeightSpec("mobilenet_v2", "torch_hub", "MobileNetV2 ImageNet (torchvision)",
                   torchvision_enum="torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V1", approx_mb=14),
    )
}


def get_spec(name: str) -> WeightSpec:
    """Look a checkpoint up by name; a miss lists the valid names."""
    try:
        return WEIGHTS[name]
    except KeyError:
        raise BadInput(f"unknown weights {name!r}; known: {', '.join(sorted(WEIGHTS))}") from None


def regionstyle_home() -> Path | None:
    """The project-level cache root from ``REGIONSTYLE_HOME``, or None when unset."""
    value = os.environ.get("REGIONSTYLE_HOME")
    return Path(value).expanduser() if value else None


def torch_hub_checkpoints() -> Path:
    """torch hub's checkpoint folder (honours ``TORCH_HOME``), where torchvision caches weights."""
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def torchvision_url(spec: WeightSpec) -> str:
    """The download URL of a torchvision weights enum member, read from torchvision itself."""
    module_name, enum_name, member = spec.torchvision_enum.rsplit(".", 2)
    enum = getattr(importlib.import_module(module_name), enum_name)
    return getattr(enum, member).url


def cache_candidates(spec: WeightSpec) -> list[Path]:
    """Every path where a torch-hub checkpoint of ``spec`` may be cached, most specific first."""
    file_name = torchvision_url(spec).rsplit("/", 1)[-1]
    home = regionstyle_home()
    places = [home / "checkpoints"] if home else []
    places.append(torch_hub_checkpoints())
    return [place / file_name for place in places]


def cached_file(spec: WeightSpec) -> Path | None:
    """The first cached checkpoint file of ``spec``, or None."""
    return next((path for path in cache_candidates(spec) if path.is_file()), None)


def fetch(name: str, *, progress: bool = True) -> Path:
    """Download a torch-hub checkpoint into the cache (verifying torchvision's hash prefix)."""
    import torch.hub

    spec = get_spec(name)
    if spec.kind != "torch_hub":
        raise BadInput(f"{name!r} is a Hugging Face hub checkpoint; fetch it with fetch_hf({name!r})")
    target = cache_candidates(spec)[0]
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    url = torchvision_url(spec)
    # torchvision file names carry the first hex digits of the file's sha256 (vgg19-dcbb9e9d.pth).
    hash_prefix = target.stem.rsplit("-", 1)[-1]
    try:
        torch.hub.download_url_to_file(url, str(target), hash_prefix=hash_prefix, progress=progress)
    except Exception as exc:  # any network or hash failure becomes one actionable message
        raise WeightsUnavailable(_offline_message(spec, target, reason=f"download failed: {exc}")) from exc
    return target


def load_state_dict(name: str, *, local_file: str | Path | None = None, download: bool = False) -> dict:
    """The state dict of a torch-hub checkpoint: from ``local_file``, the caches, or (if allowed) a download.

    Always ``torch.load(..., weights_only=True)``: a checkpoint is data, never code.
    """
    import torch

    spec = get_spec(name)
    path = Path(local_file).expanduser() if local_file else cached_file(spec)
    if local_file and not path.is_file():
        raise BadInput(f"weights file not found: {path}")
    if path is None:
        if not download:
            raise WeightsUnavailable(_offline_message(spec, cache_candidates(spec)[-1]))
        path = fetch(name)
    log.info("loading %s weights from %s", name, path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise BadInput(f"cannot load weights file {path}: {exc}") from exc


def _offline_message(spec: WeightSpec, expected: Path, *, reason: str = "not cached") -> str:
    url = torchvision_url(spec)
    return (
        f"{spec.description} weights unavailable ({reason}). Expected file: {expected} "
        f"(from {url}). Ways out: run `regionstyle weights fetch {spec.name}` on a machine with internet "
        f"and copy that file into the same path here (or into $REGIONSTYLE_HOME/checkpoints/); "
        f"or pass a local file with --encoder-weights PATH."
    )


ProgressCallback = Callable[[int, int], None]
