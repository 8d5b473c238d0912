"""Pretrained weights: the ONLY package that knows caches, URLs, hashes, downloads and bundled files.

The registries (:mod:`regionstyle.encoder`, :mod:`regionstyle.segment`) say which checkpoint a model uses
(a :class:`WeightSpec`); this package finds it, fetches it and loads it:

- :mod:`~regionstyle.weights.bundled`: the models shipped in the package (the offline defaults);
- :mod:`~regionstyle.weights.torch_hub`: torchvision checkpoints in torch hub's cache;
- :mod:`~regionstyle.weights.hf_hub`: Hugging Face hub checkpoints (segmentation-models-pytorch);
- :mod:`~regionstyle.weights.download`: resumable, hash-checked downloads; ``REGIONSTYLE_OFFLINE=1``
  switches every download off;
- :mod:`~regionstyle.weights.status`: cache state for ``regionstyle weights list`` and ``fetch``.

A checkpoint that is not cached is downloaded on first use, unless downloads are off; then the error
names the file expected, where it comes from and the ways out. Checkpoints load as data only
(``weights_only=True`` or safetensors).
"""

from regionstyle.weights.spec import ENCODER_OPTION, SEGMENTER_OPTION, WeightSpec, hf_checkpoint, torchvision_checkpoint

__all__ = ["ENCODER_OPTION", "SEGMENTER_OPTION", "WeightSpec", "hf_checkpoint", "torchvision_checkpoint"]
