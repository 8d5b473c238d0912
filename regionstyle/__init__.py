"""regionstyle: semantic, region-aware neural style transfer.

    import regionstyle
    out = regionstyle.stylize(Image.open("photo.jpg"), "rules.toml", size=512)        # in memory
    regionstyle.stylize_file("photo.jpg", "rules.toml", "out.png")                  # file to file

Kept light on purpose: importing the package loads no torch, so ``regionstyle --help`` stays fast; the API
below loads on first use.
"""

from __future__ import annotations

from importlib import import_module

from regionstyle.version import __version__

_LAZY = {"stylize": "api", "stylize_many": "api", "Session": "session", "stylize_file": "files",
         "OutputOptions": "files", "TransferConfig": "config", "make_config": "config"}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    # Lazy so that `import regionstyle` stays cheap; the pipeline pulls in torch.
    if name in _LAZY:
        return getattr(import_module(f"regionstyle.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'regionstyle' has no attribute {name!r}")
