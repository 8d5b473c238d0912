"""Hugging Face hub checkpoints (segmentation-models-pytorch publishes its models there).

Both files of a checkpoint (``config.json`` + ``model.safetensors``) are fetched with huggingface_hub into
the standard hub cache, exactly as ``smp.from_pretrained(repo)`` would, so either finds the other's
downloads; huggingface_hub resumes interrupted transfers and shows progress itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from regionstyle.errors import BadInput, WeightsUnavailable
from regionstyle.weights.cache import hf_cache_candidates, hf_endpoint
from regionstyle.weights.download import check_reachable, downloads_allowed
from regionstyle.weights.spec import WeightSpec

log = logging.getLogger(__name__)

HF_FILES = ("config.json", "model.safetensors")


@dataclass(frozen=True)
class HubCheckpoint:
    """A loaded hub checkpoint: the model's init config (None when a bare weights file came without one)."""

    config: dict | None
    state_dict: dict
    path: Path


def repo_folder(repo: str) -> str:
    """The folder a hub cache keeps a model repository in (huggingface_hub's layout; a test keeps the two
    equal)."""
    return "models--" + repo.replace("/", "--")


def hf_cached_snapshot(spec: WeightSpec) -> Path | None:
    """The cached snapshot folder holding both ``HF_FILES`` of ``spec``, or None. Never touches the network.

    A cache without the repository's folder holds none of it: that is answered without importing
    huggingface_hub (0.28 s, paid by every run that picks its segmenter automatically)."""
    caches = [cache for cache in hf_cache_candidates() if (cache / repo_folder(spec.hf_repo)).is_dir()]
    if not caches:
        return None
    from huggingface_hub import try_to_load_from_cache

    for cache in caches:
        found = [try_to_load_from_cache(spec.hf_repo, name, cache_dir=cache) for name in HF_FILES]
        if all(isinstance(path, str) for path in found):
            return Path(found[-1]).parent
    return None


def fetch_hf(spec: WeightSpec, *, progress: bool = True) -> Path:
    """Download a hub checkpoint's ``HF_FILES`` into the first hub cache and verify their sha256; the snapshot."""
    cached = hf_cached_snapshot(spec)
    if cached is not None:
        return cached
    target = hf_cache_candidates()[0]
    if not downloads_allowed(hugging_face=True):
        raise WeightsUnavailable(offline_message(spec, target, reason="downloads are turned off: "
                                                 "REGIONSTYLE_OFFLINE or HF_HUB_OFFLINE is set"))
    # huggingface_hub alone retries a refused connection for ~23 s; one probe says so at once.
    check_reachable(f"{hf_endpoint() or 'https://huggingface.co'}/{spec.hf_repo}/resolve/main/{HF_FILES[0]}")
    try:
        paths = [_hf_download(spec.hf_repo, file_name, target, progress=progress) for file_name in HF_FILES]
    except Exception as exc:  # network, auth or disk trouble becomes one actionable message
        raise WeightsUnavailable(offline_message(spec, target, reason=f"download failed: {exc}")) from exc
    for path in paths:
        verify_blob(path)
    return paths[-1].parent


def _hf_download(repo: str, file_name: str, cache: Path, *, progress: bool) -> Path:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    was_disabled = are_progress_bars_disabled()
    if not progress:
        disable_progress_bars()
    try:
        return Path(hf_hub_download(repo, file_name, cache_dir=cache, endpoint=hf_endpoint()))
    finally:
        if not progress and not was_disabled:
            enable_progress_bars()


def verify_blob(path: Path) -> None:
    """Large (LFS) hub files are stored under their sha256; check the bytes against that name."""
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


def load_hf_checkpoint(spec: WeightSpec, *, local_file: str | Path | None = None, download: bool | None = None,
                       progress: bool = True) -> HubCheckpoint:
    """A hub checkpoint from ``local_file`` (a folder with ``HF_FILES``, or one weights file), the caches, or
    a download on first use (``download=None``: unless switched off). Weights load as data only."""
    if local_file is not None:
        path = Path(local_file).expanduser()
        if not path.exists():
            raise BadInput(f"weights file or folder not found: {path}")
    else:
        path = hf_cached_snapshot(spec)
        allowed = downloads_allowed(hugging_face=True) if download is None else download
        if path is None and not allowed:
            raise WeightsUnavailable(offline_message(spec, hf_cache_candidates()[0]))
        path = path or fetch_hf(spec, progress=progress)
    weights = path / HF_FILES[1] if path.is_dir() else path
    config_file = (path if path.is_dir() else path.parent) / HF_FILES[0]
    log.info("loading %s weights from %s", spec.name, weights)
    config = _read_config(config_file) if config_file.is_file() else None
    return HubCheckpoint(config=config, state_dict=_read_weights(weights), path=weights)


def _read_config(path: Path) -> dict:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot read checkpoint config {path}: {exc}") from exc
    if not isinstance(config, dict):
        raise BadInput(f"checkpoint config {path} is not a JSON object")
    return config


def _read_weights(path: Path) -> dict:
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as exc:  # safetensors raises its own error types for damaged files
            raise BadInput(f"cannot load weights file {path}: {exc}") from exc
    from regionstyle.weights.torch_hub import read_torch_file

    return read_torch_file(path)


def offline_message(spec: WeightSpec, cache: Path, *, reason: str = "not cached") -> str:
    folder = "models--" + spec.hf_repo.replace("/", "--")
    return (
        f"{spec.description} weights unavailable ({reason}). Expected Hugging Face hub repo {spec.hf_repo} "
        f"(files {', '.join(HF_FILES)}) in the cache {cache / folder}. Ways out: allow downloads on a machine "
        f"with internet, or run `regionstyle weights fetch {spec.name}` there and copy its folder {folder} "
        f"into {cache} (or point HF_HUB_CACHE / REGIONSTYLE_HOME at a copy); or pass a local folder or "
        f"file with {spec.local_option} PATH (config.json + model.safetensors); or use the bundled segmenter "
        f"(model = \"auto\"), a model file (--model PATH.tflite|.onnx) or a label map (--labels PATH.png)."
    )
