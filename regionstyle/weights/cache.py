"""Where checkpoints are cached: the project's own cache, torch hub's and Hugging Face's.

Environment variables are read at call time, never at import, so a test (or a user's shell) can point
them elsewhere at any moment.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_TRUE = {"1", "on", "yes", "true"}


def regionstyle_home() -> Path | None:
    """The project-level cache root from ``REGIONSTYLE_HOME``, or None when unset."""
    value = os.environ.get("REGIONSTYLE_HOME")
    return Path(value).expanduser() if value else None


def torch_hub_checkpoints() -> Path:
    """torch hub's checkpoint folder (honours ``TORCH_HOME``), where torchvision caches weights.

    Once torch is loaded, torch hub says (a program may have called ``torch.hub.set_dir``); before, the same
    rule as ``torch.hub.get_dir`` is applied here, so that checking the caches does not load torch.
    """
    torch = sys.modules.get("torch")
    if torch is not None:
        import torch.hub

        return Path(torch.hub.get_dir()) / "checkpoints"
    xdg = os.environ.get("XDG_CACHE_HOME", "~/.cache")
    return Path(os.environ.get("TORCH_HOME", os.path.join(xdg, "torch"))).expanduser() / "hub" / "checkpoints"


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


def env_flag(name: str) -> bool:
    """Whether an on/off environment variable is on ("1", "true", "yes", "on"), read now."""
    return os.environ.get(name, "").strip().lower() in _TRUE


def hf_endpoint() -> str | None:
    """``HF_ENDPOINT`` (a hub mirror) read now, or None for the default hub; huggingface_hub reads it only at
    import, so a value set later (a test's local server, a mirror chosen at run time) needs passing on."""
    return os.environ.get("HF_ENDPOINT", "").strip().rstrip("/") or None
