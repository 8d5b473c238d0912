"""SegFormer scene models (ADE20K-150, Cityscapes-19) from segmentation-models-pytorch's hub checkpoints.

The checkpoint folder (``config.json`` + ``model.safetensors``, as ``smp.from_pretrained`` fetches it) comes
from :mod:`regionstyle.weights`. The network is built here from the config with ``encoder_weights=None``:
smp's default ("imagenet") would download encoder weights behind the user's back.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from regionstyle.weights import hf_hub
from regionstyle.errors import BadInput
from regionstyle.segment.base import SegmenterInfo
from regionstyle.segment.conventions import IMAGENET_MEAN, IMAGENET_STD, InputConventions
from regionstyle.segment.deeplab import conventions_with_spec

if TYPE_CHECKING:
    import torch

    from regionstyle.segment.torch_model import TorchSegmenter

    from maskrules import SegmentationSpec

log = logging.getLogger(__name__)

# The checkpoints' own eval transform: a plain resize to the training crop, ImageNet mean/std.
_TRAIN_SIZE = {"ade20k": (512, 512), "cityscapes": (1024, 1024)}
_CLASSES = {"ade20k": 150, "cityscapes": 19}


def segformer_conventions(info: SegmenterInfo) -> InputConventions:
    """Input conventions of a SegFormer checkpoint (``ade20k-b5`` was trained at 640x640)."""
    dataset = info.name.rsplit("-", 1)[0]
    size = (640, 640) if info.name == "ade20k-b5" else _TRAIN_SIZE[dataset]
    return InputConventions(size=size, mean=IMAGENET_MEAN, std=IMAGENET_STD)


def default_config(weights_name: str) -> dict:
    """The init config of a checkpoint, for a bare weights file that came without its ``config.json``.

    Follows the SegFormer paper: a 256-channel decoder for B0/B1, 768 for B2-B5.
    """
    dataset, depth = weights_name.rsplit("-", 1)
    return {"_model_class": "Segformer", "encoder_name": f"mit_{depth}",
            "decoder_segmentation_channels": 256 if depth in ("b0", "b1") else 768,
            "classes": _CLASSES[dataset]}


def build_segformer(info: SegmenterInfo, *, device: str = "cpu", weights: str | Path | None = None,
                    spec: SegmentationSpec | None = None, download: bool | None = None) -> TorchSegmenter:
    """The SegFormer behind ``info.weights``, loaded from a local file/folder, the caches or a download."""
    from maskrules import get_vocabulary

    from regionstyle.segment.torch_model import TorchSegmenter, load_into  # torch loads with a torch backend only

    checkpoint = hf_hub.load_hf_checkpoint(info.weights, local_file=weights, download=download)
    network = network_from_config(checkpoint.config or default_config(info.name))
    load_into(network, checkpoint.state_dict, what=f"{info.name} ({checkpoint.path})")
    return TorchSegmenter(name=info.name, network=network, vocabulary=get_vocabulary(info.vocabulary),
                          conventions=_multiple_of_32(conventions_with_spec(segformer_conventions(info), spec)),
                          source=f"smp:{info.weights.hf_repo}", device=device)


def _multiple_of_32(conventions: InputConventions) -> InputConventions:
    """SegFormer's four stride-2 stages need sides divisible by 32: round a requested size up."""
    size = conventions.size
    if size is None or (size[0] % 32 == 0 and size[1] % 32 == 0):
        return conventions
    rounded = tuple(-(-side // 32) * 32 for side in size)
    log.warning("input_size %s rounded up to %s: SegFormer needs multiples of 32", list(size), list(rounded))
    return replace(conventions, size=rounded)


def network_from_config(config: dict) -> torch.nn.Module:
    """An smp model from a hub ``config.json`` dict, never downloading encoder weights."""
    import segmentation_models_pytorch as smp

    kwargs = {key: value for key, value in config.items() if not key.startswith("_")}
    class_name = config.get("_model_class", "Segformer")
    model_class = getattr(smp, class_name, None)
    if model_class is None:
        raise BadInput(f"checkpoint config names an unknown segmentation-models-pytorch model {class_name!r}")
    try:
        return model_class(**{**kwargs, "encoder_weights": None})
    except (TypeError, ValueError, KeyError) as exc:
        raise BadInput(f"checkpoint config does not describe a {class_name}: {exc}") from exc
