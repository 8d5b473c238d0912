"""torchvision checkpoints: cached where torch hub caches them, fetched from torchvision's own URLs.

Where a checkpoint is looked for, in order: a local file the user names (``--encoder-weights``,
``--segmenter-weights``); ``$REGIONSTYLE_HOME/checkpoints/<file>``; torch hub's cache
``$TORCH_HOME/hub/checkpoints/<file>`` (where torchvision itself caches, so each finds the other's files).
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from regionstyle.errors import BadInput, WeightsUnavailable
from regionstyle.weights.cache import regionstyle_home, torch_hub_checkpoints
from regionstyle.weights.inspect import check_state_dict
from regionstyle.weights.download import ProgressCallback, download_file, downloads_allowed
from regionstyle.weights.spec import SEGMENTER_OPTION, WeightSpec

log = logging.getLogger(__name__)


def torchvision_url(spec: WeightSpec) -> str:
    """The download URL of a torchvision weights enum member, read from torchvision itself."""
    module_name, enum_name, member = spec.torchvision_enum.rsplit(".", 2)
    enum = getattr(importlib.import_module(module_name), enum_name)
    return getattr(enum, member).url


def cache_candidates(spec: WeightSpec) -> list[Path]:
    """Every path where ``spec`` may be cached, most specific first (the last is torch hub's own)."""
    file_name = spec.file_name or torchvision_url(spec).rsplit("/", 1)[-1]
    home = regionstyle_home()
    places = [home / "checkpoints"] if home else []
    places.append(torch_hub_checkpoints())
    return [place / file_name for place in places]


def cached_file(spec: WeightSpec) -> Path | None:
    """The first cached checkpoint file of ``spec``, or None."""
    return next((path for path in cache_candidates(spec) if path.is_file()), None)


def fetch(spec: WeightSpec, *, on_progress: ProgressCallback | None = None) -> Path:
    """Download ``spec`` into torch hub's cache (resumable, hash-checked) unless it is cached already."""
    cached = cached_file(spec)
    if cached is not None:
        return cached
    target = cache_candidates(spec)[-1]
    # torchvision file names carry the first hex digits of the file's sha256 (vgg19-dcbb9e9d.pth).
    hash_prefix = target.stem.rsplit("-", 1)[-1]
    try:
        download_file(torchvision_url(spec), target, hash_prefix=hash_prefix, on_progress=on_progress)
    except WeightsUnavailable as exc:
        raise WeightsUnavailable(offline_message(spec, target, reason=str(exc))) from exc
    return target


def load_state_dict(spec: WeightSpec, *, local_file: str | Path | None = None, download: bool | None = None,
                    on_progress: ProgressCallback | None = None) -> dict:
    """The state dict of ``spec``: from ``local_file``, the caches, or a download on first use.

    download: None = allowed unless downloads are switched off (``REGIONSTYLE_OFFLINE=1``).
    Always ``torch.load(..., weights_only=True)``: a checkpoint is data, never code.
    """
    path = Path(local_file).expanduser() if local_file else cached_file(spec)
    if local_file and not path.exists():
        raise BadInput(f"weights file not found: {path}")
    if path is None:
        allowed = downloads_allowed() if download is None else download
        if not allowed:
            raise WeightsUnavailable(offline_message(spec, cache_candidates(spec)[-1]))
        path = fetch(spec, on_progress=on_progress)
    return read_torch_file(path)


def read_torch_file(path: Path) -> dict:
    """A state dict from a torch file, loaded as data only; BadInput naming the file when it is not one."""
    import torch

    from regionstyle.io.inputs import input_file

    input_file(path, what="weights file")  # torch.load would block on a FIFO and read /dev/zero forever
    log.info("loading weights from %s", path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for files that are not checkpoints
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise BadInput(f"cannot load weights file {path} (not a torch checkpoint of plain tensors): "
                       f"{first[:200]}") from None
    return check_state_dict(state, path)


def offline_message(spec: WeightSpec, expected: Path, *, reason: str = "not cached") -> str:
    url = torchvision_url(spec)
    return (
        f"{spec.description} weights unavailable ({reason}). Expected file: {expected} "
        f"(from {url}). Ways out: allow downloads (unset REGIONSTYLE_OFFLINE) on a machine with internet, or "
        f"run `regionstyle weights fetch {spec.name}` there and copy that file into the same path here "
        f"(or into $REGIONSTYLE_HOME/checkpoints/); or pass a local file with {spec.local_option} PATH"
        + ("; or use the bundled segmenter (model = \"auto\"), a model file (--model PATH.tflite|.onnx) or a "
           "label map (--labels PATH.png)." if spec.local_option == SEGMENTER_OPTION else
           "; or use the bundled encoder (--encoder auto or mobilenet_v2).")
    )
