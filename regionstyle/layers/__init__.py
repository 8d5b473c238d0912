"""Results for photo editors: a layered file (PSD) and region masks as PNGs that can be edited and fed back.

- :mod:`~regionstyle.layers.stack`: per-layer pixels and 8-bit alphas whose composite is the flat output.
- :mod:`~regionstyle.layers.psd`: the stack as a PSD (psd-tools): photo at the bottom, one masked layer
  per styled region, named after its rule and style.
- :mod:`~regionstyle.layers.maskfiles`: one PNG per region (read back by :mod:`regionstyle.segment.mask_folder`).
- :mod:`~regionstyle.layers.result`: both, from a :class:`~regionstyle.datatypes.StylizeResult`.

:mod:`regionstyle.files` writes them (``OutputOptions(layers=..., masks=...)``), for apply, batch and serve.
"""

from regionstyle.layers.stack import LayerStack, build_stack, composite

__all__ = ["LayerStack", "build_stack", "composite"]
