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
import json
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
    # Which option supplies a local file, for the offline message ("--encoder-weights", "--segmenter-weights").
    local_option: str = "--encoder-weights"


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

SEGMENTER_OPTION = "--segmenter-weights"
_DEEPLAB_ENUM = "torchvision.models.segmentation.DeepLabV3_{}_Weights.COCO_WITH_VOC_LABELS_V1"
# SegFormer checkpoints of segmentation-models-pytorch on the Hugging Face hub (collection smp-hub/segformer).
_SEGFORMER_REPOS = {
    "ade20k": ("ADE20K, 150 classes", "512x512-ade-160k", (15, 55, 110, 189, 257, 339)),
    "cityscapes": ("Cityscapes, 19 classes", "1024x1024-city-160k", (15, 55, 110, 189, 257, 339)),
}


def _segformer_specs() -> list[WeightSpec]:
    specs = []
    for dataset, (what, suffix, sizes) in _SEGFORMER_REPOS.items():
        for depth, approx_mb in enumerate(sizes):
            # The one ADE20K B5 checkpoint was trained at 640x640.
            repo_suffix = "640x640-ade-160k" if (dataset, depth) == ("ade20k", 5) else suffix
            specs.append(WeightSpec(
                f"{dataset}-b{depth}", "hf_hub", f"SegFormer-B{depth} {what} (segmentation-models-pytorch hub)",
                hf_repo=f"smp-hub/segformer-b{depth}-{repo_suffix}", approx_mb=approx_mb,
                local_option=SEGMENTER_OPTION))
    return specs


WEIGHTS.update({
    spec.name: spec
    for spec in (
        WeightSpec("deeplabv3_resnet50", "torch_hub", "DeepLabV3 ResNet-50, Pascal VOC classes (torchvision)",
                   torchvision_enum=_DEEPLAB_ENUM.format("ResNet50"), approx_mb=161,
                   local_option=SEGMENTER_OPTION),
        WeightSpec("deeplabv3_resnet101", "torch_hub", "DeepLabV3 ResNet-101, Pascal VOC classes (torchvision)",
                   torchvision_enum=_DEEPLAB_ENUM.format("ResNet101"), approx_mb=233,
                   local_option=SEGMENTER_OPTION),
        WeightSpec("deeplabv3_mobilenet_v3_large", "torch_hub",
                   "DeepLabV3 MobileNetV3-Large, Pascal VOC classes (torchvision)",
                   torchvision_enum=_DEEPLAB_ENUM.format("MobileNet_V3_Large"), approx_mb=42,
                   local_option=SEGMENTER_OPTION),
        *_segformer_specs(),
    )
})
# Short names users type; each maps to the checkpoint a segmenter of that name uses by default.
WEIGHT_ALIASES: dict[str, str] = {
    "deeplabv3": "deeplabv3_resnet50",
    "ade20k": "ade20k-b2",
    "cityscapes": "cityscapes-b2",
}


def get_spec(name: str) -> WeightSpec:
    """Look a checkpoint up by name; a miss lists the valid names."""
    try:
        return WEIGHTS[WEIGHT_ALIASES.get(name, name)]
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
    if spec.kind == "hf_hub":
        return fetch_hf(spec.name, progress=progress)
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
        f"or pass a local file with {spec.local_option} PATH"
        + ("; or use a model file (--model PATH.tflite|.onnx) or a label map (--labels PATH.png)."
           if spec.local_option == SEGMENTER_OPTION else ".")
    )


ProgressCallback = Callable[[int, int], None]


# ---- Hugging Face hub checkpoints (segmentation-models-pytorch) -------------------------------------------

HF_FILES = ("config.json", "model.safetensors")
_TRUE = {"1", "on", "yes", "true"}


@dataclass(frozen=True)
class HubCheckpoint:
    """A loaded hub checkpoint: the model's init config (None when a bare weights file came without one)."""

    config: dict | None
    state_dict: dict
    path: Path


def hf_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` is set, read now (huggingface_hub itself reads it only at import)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def hf_hub_cache() -> Path:
    """The Hugging Face hub cache folder, honouring ``HF_HUB_CACHE``, ``HF_HOME`` and ``XDG_CACHE_HOME`` now."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "huggingface" / "hub"


def hf_cache_candidates() -> list[Path]:
    """Hub caches to search, most specific first: ``$REGIONSTYLE_HOME/huggingface``, then the standard one."""
    home = regionstyle_home()
    return ([home / "huggingface"] if home else []) + [hf_hub_cache()]


def hf_cached_snapshot(spec: WeightSpec) -> Path | None:
    """The cached snapshot folder holding both ``HF_FILES`` of ``spec``, or None. Never touches the network."""
    from huggingface_hub import try_to_load_from_cache

    for cache in hf_cache_candidates():
        found = [try_to_load_from_cache(spec.hf_repo, name, cache_dir=cache) for name in HF_FILES]
        if all(isinstance(path, str) for path in found):
            return Path(found[-1]).parent
    return None


def fetch_hf(name: str, *, progress: bool = True) -> Path:
    """Download a hub checkpoint's ``HF_FILES`` into the first hub cache and verify their sha256; the snapshot."""
    spec = get_spec(name)
    cached = hf_cached_snapshot(spec)
    if cached is not None:
        return cached
    target = hf_cache_candidates()[0]
    if hf_offline():
        raise WeightsUnavailable(_hf_offline_message(spec, target, reason="HF_HUB_OFFLINE is set"))
    try:
        paths = [_hf_download(spec.hf_repo, file_name, target, progress=progress) for file_name in HF_FILES]
    except Exception as exc:  # network, auth or disk trouble becomes one actionable message
        raise WeightsUnavailable(_hf_offline_message(spec, target, reason=f"download failed: {exc}")) from exc
    for path in paths:
        _verify_hf_blob(path)
    return paths[-1].parent


def _hf_download(repo: str, file_name: str, cache: Path, *, progress: bool) -> Path:
    # The same two files smp.from_pretrained(repo) fetches, into the same cache layout, so either finds them.
    from huggingface_hub import hf_hub_download
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    was_disabled = are_progress_bars_disabled()
    if not progress:
        disable_progress_bars()
    try:
        return Path(hf_hub_download(repo, file_name, cache_dir=cache))
    finally:
        if not progress and not was_disabled:
            enable_progress_bars()


def _verify_hf_blob(path: Path) -> None:
    """Large (LFS) hub files are stored under their sha256; check the bytes against that name."""
    import hashlib

    blob = path.resolve()
    if len(blob.name) != 64 or not all(c in "0123456789abcdef" for c in blob.name):
        return  # small git files are named by a git hash, which the hub already checks
    digest = hashlib.sha256()
    with blob.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != blob.name:
        blob.unlink()
        raise WeightsUnavailable(f"downloaded file {path} failed its sha256 check and was removed; fetch it again")


def load_hf_checkpoint(name: str, *, local_file: str | Path | None = None,
                       download: bool = False) -> HubCheckpoint:
    """A hub checkpoint from ``local_file`` (a folder with ``HF_FILES``, or one weights file), the caches, or
    (if allowed) a download. Weights load as data only: safetensors, or ``torch.load(weights_only=True)``."""
    spec = get_spec(name)
    if local_file is not None:
        path = Path(local_file).expanduser()
        if not path.exists():
            raise BadInput(f"weights file or folder not found: {path}")
    else:
        path = hf_cached_snapshot(spec)
        if path is None and not download:
            raise WeightsUnavailable(_hf_offline_message(spec, hf_cache_candidates()[0]))
        path = path or fetch_hf(spec.name)
    weights = path / HF_FILES[1] if path.is_dir() else path
    config_file = (path if path.is_dir() else path.parent) / HF_FILES[0]
    log.info("loading %s weights from %s", spec.name, weights)
    config = json.loads(config_file.read_text()) if config_file.is_file() else None
    return HubCheckpoint(config=config, state_dict=_read_weights(weights), path=weights)


def _read_weights(path: Path) -> dict:
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        import torch

        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise BadInput(f"cannot load weights file {path}: {exc}") from exc


def _hf_offline_message(spec: WeightSpec, cache: Path, *, reason: str = "not cached") -> str:
    folder = "models--" + spec.hf_repo.replace("/", "--")
    return (
        f"{spec.description} weights unavailable ({reason}). Expected Hugging Face hub repo {spec.hf_repo} "
        f"(files {', '.join(HF_FILES)}) in the cache {cache / folder}. Ways out: run "
        f"`regionstyle weights fetch {spec.name}` on a machine with internet and copy its folder {folder} "
        f"into {cache} (or point HF_HUB_CACHE / REGIONSTYLE_HOME at a copy); or pass a local folder or "
        f"file with {spec.local_option} PATH (config.json + model.safetensors); or use a model file "
        f"(--model PATH.tflite|.onnx) or a label map (--labels PATH.png)."
    )


# ---- status for `regionstyle weights list` ----------------------------------------------------------------


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


def weights_status() -> list[WeightStatus]:
    """Every known checkpoint with its cache state; reads the caches only, never the network."""
    return [_status(spec) for spec in WEIGHTS.values()]


def _status(spec: WeightSpec) -> WeightStatus:
    if spec.kind == "hf_hub":
        snapshot = hf_cached_snapshot(spec)
        path = snapshot / HF_FILES[1] if snapshot else None
        source = f"https://huggingface.co/{spec.hf_repo}"
    else:
        path = cached_file(spec)
        source = torchvision_url(spec)
    size = path.resolve().stat().st_size if path else None
    return WeightStatus(spec.name, spec.kind, spec.description, path is not None, path, size, source,
                        spec.approx_mb)


def is_cached(name: str) -> bool:
    """Whether a checkpoint (by name or alias) is in one of the caches; never touches the network."""
    spec = get_spec(name)
    return (hf_cached_snapshot(spec) if spec.kind == "hf_hub" else cached_file(spec)) is not None
