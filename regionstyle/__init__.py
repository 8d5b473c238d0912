"""regionstyle: semantic, region-aware neural style transfer.

Kept light on purpose: importing the package loads no torch, so ``regionstyle --help`` stays fast.
The public Python API (``stylize``) lives in :mod:`regionstyle.pipeline` and is loaded lazily.
"""

from __future__ import annotations

from regionstyle.version import __version__

__all__ = ["__version__", "stylize", "stylize_many"]


def __getattr__(name: str):
    # Lazy so that `import regionstyle` stays cheap; the pipeline pulls in torch.
    if name in ("stylize", "stylize_many"):
        from regionstyle import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'regionstyle' has no attribute {name!r}")
