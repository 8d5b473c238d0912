"""Feature networks for the style and content losses.

- :mod:`~regionstyle.encoder.registry`: every encoder by name, its checkpoint and layer plan (no torch);
- :mod:`~regionstyle.encoder.plans`: which taps feed the style and content losses;
- :mod:`~regionstyle.encoder.build`: ``load_encoder`` (what the pipeline calls; resolves ``auto``) and
  ``build_encoder``;
- :mod:`~regionstyle.encoder.network`: the wrapper with named taps and their spatial geometry;
- :mod:`~regionstyle.encoder.guides`: region masks pushed through each tap's geometry;
- architectures: :mod:`~regionstyle.encoder.vgg` (+ :mod:`~regionstyle.encoder.gabor` for the random
  one), :mod:`~regionstyle.encoder.mobilenet`; :mod:`~regionstyle.encoder.smoothing` (softmax features).

Importing this package loads no torch: the torch-backed names below load on first use.
"""

from __future__ import annotations

from importlib import import_module

from regionstyle.encoder.plans import LAYER_PLANS, LayerPlan
from regionstyle.encoder.registry import ENCODER_NAMES, ENCODERS, EncoderEntry

_LAZY = {
    "build_encoder": "build", "load_encoder": "build", "resolve_auto": "build",
    "FeatureEncoder": "network", "EncoderInfo": "network", "SpatialOp": "network",
    "SoftmaxEncoder": "smoothing", "softmax_channels": "smoothing",
}

__all__ = ["ENCODERS", "ENCODER_NAMES", "LAYER_PLANS", "EncoderEntry", "LayerPlan", *_LAZY]


def __getattr__(name: str):
    # torch-backed parts load on first use, so the CLI can read the registry without importing torch.
    if name in _LAZY:
        return getattr(import_module(f"regionstyle.encoder.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'regionstyle.encoder' has no attribute {name!r}")
