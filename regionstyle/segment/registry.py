"""The segmenter registry (a plain dict), building by name or path, and the ``auto`` choice.

Each entry names its checkpoint (a :class:`~regionstyle.weights.WeightSpec`); ``regionstyle weights list``
reads them from here. The bundled DeepLabV3 (ADE20K) needs no download and is what ``auto`` runs unless a
larger cached model knows the rules' classes at least as well.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from regionstyle.weights import SEGMENTER_OPTION, hf_checkpoint, status, torchvision_checkpoint
from regionstyle.weights.bundled import BUNDLED_SEGMENTER, bundled_folder
from regionstyle.errors import BadInput
from regionstyle.devices import resolve_device
from regionstyle.segment.base import Segmenter, SegmenterInfo
from regionstyle.segment.deeplab import build_deeplab
from regionstyle.segment.smp_hub import build_segformer

if TYPE_CHECKING:
    from maskrules import SegmentationSpec

log = logging.getLogger(__name__)

LABEL_MAP_SUFFIXES = (".png", ".tif", ".tiff", ".bmp", ".webp")


_DEEPLAB_ENUM = "torchvision.models.segmentation.DeepLabV3_{}_Weights.COCO_WITH_VOC_LABELS_V1"
# SegFormer checkpoints of segmentation-models-pytorch on the Hugging Face hub (collection smp-hub/segformer).
_SEGFORMER = {"ade20k": ("ADE20K scene parsing, 150 classes", "512x512-ade-160k", "ade20k-150"),
              "cityscapes": ("Cityscapes street scenes, 19 classes", "1024x1024-city-160k", "cityscapes")}
_SEGFORMER_MB = (15, 55, 110, 189, 257, 339)


def _deeplab(name: str, what: str, enum_part: str, file_name: str, approx_mb: float,
             aliases: tuple[str, ...] = ()) -> SegmenterInfo:
    description = f"torchvision DeepLabV3 {what}, Pascal VOC classes (no sky/building/tree/road)"
    weights = torchvision_checkpoint(name, _DEEPLAB_ENUM.format(enum_part), file_name, f"DeepLabV3 {what}, "
                                     "Pascal VOC classes (torchvision)", approx_mb=approx_mb,
                                     local_option=SEGMENTER_OPTION)
    return SegmenterInfo(name, description, "voc", weights, build_deeplab, aliases, size=approx_mb)


def _segformer(dataset: str, depth: int) -> SegmenterInfo:
    what, suffix, vocabulary = _SEGFORMER[dataset]
    suffix = "640x640-ade-160k" if (dataset, depth) == ("ade20k", 5) else suffix  # B5 ADE20K: 640x640
    name = f"{dataset}-b{depth}"
    weights = hf_checkpoint(name, f"smp-hub/segformer-b{depth}-{suffix}",
                            f"SegFormer-B{depth} {what} (segmentation-models-pytorch hub)", approx_mb=_SEGFORMER_MB[depth])
    # B2 is the default of its family: the accuracy/speed middle ground (ADE20K mIoU ~46, ~25M parameters).
    return SegmenterInfo(name, f"SegFormer-B{depth} {what} (smp hub)", vocabulary, weights, build_segformer,
                         (dataset,) if depth == 2 else (), size=_SEGFORMER_MB[depth])


def _build_bundled(info: SegmenterInfo, *, device: str = "cpu", weights: str | Path | None = None,
                   spec: SegmentationSpec | None = None, download: bool | None = None) -> Segmenter:
    from regionstyle.segment.model_file import ModelFileSegmenter

    if weights is not None:
        raise BadInput(f"{info.name} is the bundled model: it takes no --segmenter-weights; name a model file "
                       "instead (model = \"path/to/model.tflite\")")
    import maskrules

    # Its conventions are fixed by its own model.toml; of the rules' [segmentation], only a working size applies.
    own = maskrules.SegmentationSpec(input_size=spec.input_size if spec is not None else None)
    return ModelFileSegmenter(bundled_folder(BUNDLED_SEGMENTER), spec=own, device=device, name=info.name)


BUNDLED = SegmenterInfo(BUNDLED_SEGMENTER.name, "DeepLabV3 MobileNetV2, ADE20K scene parsing, 150 classes "
                        "(bundled, TFLite; no download)", "ade20k", BUNDLED_SEGMENTER, _build_bundled,
                        ("bundled",), size=BUNDLED_SEGMENTER.approx_mb)
REGISTRY: dict[str, SegmenterInfo] = {
    info.name: info
    for info in (
        BUNDLED,
        _deeplab("deeplabv3_resnet50", "ResNet-50", "ResNet50", "deeplabv3_resnet50_coco-cd0a2569.pth", 161,
                 ("deeplabv3",)),
        _deeplab("deeplabv3_resnet101", "ResNet-101", "ResNet101", "deeplabv3_resnet101_coco-586e9e4e.pth", 233),
        _deeplab("deeplabv3_mobilenet_v3_large", "MobileNetV3-Large", "MobileNet_V3_Large",
                 "deeplabv3_mobilenet_v3_large-fc3c493d.pth", 42),
        *(_segformer(dataset, depth) for dataset in ("ade20k", "cityscapes") for depth in range(6)),
    )
}
_ALIASES = {alias: info.name for info in REGISTRY.values() for alias in info.aliases}


def list_segmenters() -> list[SegmenterInfo]:
    """Every registered segmenter (aliases are listed on their target's ``aliases``)."""
    return list(REGISTRY.values())


def get_segmenter_info(name: str) -> SegmenterInfo:
    """A registered segmenter by name or alias; a miss lists the valid names."""
    info = REGISTRY.get(_ALIASES.get(name, name))
    if info is None:
        names = sorted([*REGISTRY, *_ALIASES])
        raise BadInput(f"unknown segmenter {name!r}; known: {', '.join(names)}; or give a model file "
                       f"(.onnx, .tflite, a folder with model.toml) or a label map (.png)")
    return info


def build_segmenter(name_or_path: str, *, device: str = "cpu", weights: str | Path | None = None,
                    spec: SegmentationSpec | None = None, download: bool | None = None) -> Segmenter:
    """A ready segmenter: a registered name or alias, a model file / folder / model.toml, or a label map.

    weights: a local checkpoint file or folder for registered models (instead of the caches).
    spec: the rules' [segmentation] table; gives a model file's conventions and classes, a label map's
        classes, and ``input_size`` for registered models.
    download: fetch registered weights that are not cached (None: on first use, unless downloads are off).
    """
    name = str(name_or_path).strip()
    if name == "file" and spec is not None and spec.model_file is not None:
        name = str(spec.model_file)
    if name == "auto":
        raise BadInput("model 'auto' must be resolved first: call choose_segmenter(class names) and build "
                       "the segmenter it names")
    if name in REGISTRY or name in _ALIASES:
        info = get_segmenter_info(name)
        log.debug("building segmenter %s (weights %s) on %s", info.name, weights or info.weights, device)
        where = resolve_device(device, keep_auto=info is BUNDLED)  # the bundled model is a TFLite file
        return info.builder(info, device=where, weights=weights, spec=spec, download=download)
    if not _looks_like_path(name):
        get_segmenter_info(name)  # raises, listing the valid names
    if weights is not None:
        raise BadInput(f"weights={str(weights)!r} only applies to registered segmenters, not to {name}")
    return _build_from_path(Path(name).expanduser(), device=resolve_device(device, keep_auto=True), spec=spec)


def _looks_like_path(name: str) -> bool:
    path = Path(name).expanduser()
    return path.exists() or "/" in name or "\\" in name or path.suffix.lower() in (
        ".onnx", ".tflite", ".toml", *LABEL_MAP_SUFFIXES)


def _build_from_path(path: Path, *, device: str, spec: SegmentationSpec | None) -> Segmenter:
    from regionstyle.segment.label_map import LabelMapSegmenter
    from regionstyle.segment.model_file import ModelFileSegmenter

    if path.suffix.lower() in LABEL_MAP_SUFFIXES:
        classes = spec and (spec.vocabulary or spec.classes_file or spec.classes)
        if not classes:
            raise BadInput(f"label map {path} needs its classes: a vocabulary name (ade20k, ade20k-150, "
                           f"cityscapes, voc) or a class list file, as classes in [segmentation]")
        return LabelMapSegmenter(path, classes=classes)
    return ModelFileSegmenter(path, spec=spec, device=device)


def choose_segmenter(class_names: Iterable[str]) -> tuple[str, str]:
    """(segmenter name, a human-readable reason) for ``model = "auto"``.

    Only segmenters that run without a download take part: the bundled DeepLabV3 and any registered model
    whose checkpoint is cached. The one whose vocabulary knows the most of the rules' class names wins; on a
    tie, the larger (more accurate) model. A model that is not cached is never chosen here: naming it
    (``model = "ade20k-b2"``) downloads it.
    """
    import maskrules

    names = [n for n in dict.fromkeys(class_names) if n != "*"]
    available = [info for info in REGISTRY.values() if status.is_cached(info.weights)]
    missing = maskrules.missing_by_vocabulary(names, list(dict.fromkeys(i.vocabulary for i in available)))
    chosen = min(available, key=lambda info: (len(missing[info.vocabulary]), -info.size))
    return chosen.name, _reason(chosen, names, missing[chosen.vocabulary], len(available))


def _reason(chosen: SegmenterInfo, names: list[str], missing: tuple[str, ...], candidates: int) -> str:
    if not names:
        cover = "the rules name no classes"
    elif not missing:
        cover = f"it knows every class the rules name ({', '.join(names)})"
    else:
        cover = (f"it knows the most of the rules' class names ({len(names) - len(missing)} of {len(names)}; "
                 f"not {', '.join(missing)})")
    others = ("the only segmenter available without a download" if candidates == 1 else
              f"the best fit of the {candidates} segmenters available without a download")
    return f"{chosen.name} ({chosen.description}): {cover}; {others}"
