"""torchvision DeepLabV3 (ResNet-50 / ResNet-101 / MobileNetV3-Large) with ``COCO_WITH_VOC_LABELS_V1`` weights.

Pascal VOC's 21 classes (background, person, car, bus, dog ...): no sky, building, tree or road; rules about
scenery need the ``ade20k`` or ``cityscapes`` backends.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from regionstyle.weights import torch_hub
from regionstyle.segment.base import SegmenterInfo
from regionstyle.segment.conventions import IMAGENET_MEAN, IMAGENET_STD, InputConventions

if TYPE_CHECKING:
    from regionstyle.segment.torch_model import TorchSegmenter
    from maskrules import SegmentationSpec

# torchvision's own eval transform for these weights: shorter side 520, ImageNet mean/std.
DEEPLAB_CONVENTIONS = InputConventions(short_side=520, mean=IMAGENET_MEAN, std=IMAGENET_STD)
_BUILDERS = {
    "deeplabv3_resnet50": "deeplabv3_resnet50",
    "deeplabv3_resnet101": "deeplabv3_resnet101",
    "deeplabv3_mobilenet_v3_large": "deeplabv3_mobilenet_v3_large",
}


def build_deeplab(info: SegmenterInfo, *, device: str = "cpu", weights: str | Path | None = None,
                  spec: SegmentationSpec | None = None, download: bool | None = None) -> TorchSegmenter:
    """The torchvision network named ``info.weights`` with its checkpoint (cache, local file or download)."""
    import torchvision.models.segmentation as tv_seg
    from maskrules import get_vocabulary

    from regionstyle.segment.torch_model import TorchSegmenter, load_into  # torch loads with a torch backend only

    vocabulary = get_vocabulary(info.vocabulary)
    state = torch_hub.load_state_dict(info.weights, local_file=weights, download=download)
    # weights=None everywhere: nothing may download behind our back; aux_loss to match the checkpoint keys.
    network = getattr(tv_seg, _BUILDERS[info.name])(
        weights=None, weights_backbone=None, num_classes=len(vocabulary.classes), aux_loss=True)
    load_into(network, state, what=info.name)
    return TorchSegmenter(name=info.name, network=network, vocabulary=vocabulary,
                          conventions=conventions_with_spec(DEEPLAB_CONVENTIONS, spec),
                          source=f"torchvision:{info.name}", device=device,
                          forward=lambda out: out["out"])


def conventions_with_spec(base: InputConventions, spec: SegmentationSpec | None) -> InputConventions:
    """A built-in model's conventions with the one override that makes sense for it: ``input_size``."""
    size = getattr(spec, "input_size", None) if spec is not None else None
    return base.with_overrides({"input_size": size}) if size else base
