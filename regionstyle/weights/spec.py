"""What a pretrained checkpoint is: a small description the registries hold and the loaders read.

The segmenter and encoder registries own their checkpoints (``SegmenterInfo.weights``,
``EncoderEntry.weights``); this package only knows how to find, fetch, verify and load one.
"""

from __future__ import annotations

from dataclasses import dataclass

# Which option supplies a local file, named in the offline message.
ENCODER_OPTION = "--encoder-weights"
SEGMENTER_OPTION = "--segmenter-weights"


@dataclass(frozen=True)
class WeightSpec:
    """One known checkpoint.

    kind: "torch_hub" (a torchvision checkpoint, cached where torch hub caches it), "hf_hub" (a Hugging Face
        hub repo, as segmentation-models-pytorch publishes its models) or "bundled" (shipped in the package).
    torchvision_enum: dotted path of a torchvision weights enum member; its ``url`` is the download source
        and its file name (which embeds the first hex digits of the file's sha256) the cache file name.
    file_name: that enum's file name, written down so that looking in the caches needs no torchvision import
        (which takes seconds); tests/weights keeps it equal to torchvision's.
    hf_repo: the Hugging Face hub repo id, for ``kind == "hf_hub"``.
    local_option: the command-line option that supplies a local file instead.
    """

    name: str
    kind: str
    description: str
    torchvision_enum: str = ""
    file_name: str = ""
    hf_repo: str = ""
    approx_mb: float = 0.0
    local_option: str = ENCODER_OPTION


def torchvision_checkpoint(name: str, enum: str, file_name: str, description: str, *, approx_mb: float,
                           local_option: str = ENCODER_OPTION) -> WeightSpec:
    """A torchvision checkpoint, e.g. ``("vgg19", "torchvision.models.VGG19_Weights.IMAGENET1K_V1",
    "vgg19-dcbb9e9d.pth", ...)``."""
    return WeightSpec(name, "torch_hub", description, torchvision_enum=enum, file_name=file_name,
                      approx_mb=approx_mb, local_option=local_option)


def hf_checkpoint(name: str, repo: str, description: str, *, approx_mb: float,
                  local_option: str = SEGMENTER_OPTION) -> WeightSpec:
    """A Hugging Face hub checkpoint (``config.json`` + ``model.safetensors``)."""
    return WeightSpec(name, "hf_hub", description, hf_repo=repo, approx_mb=approx_mb, local_option=local_option)
