"""The segmenter registry (a plain dict), building by name or path, and the ``auto`` choice."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from regionstyle import weights as weight_store
from regionstyle.errors import BadInput
from regionstyle.segment.base import Segmenter, SegmenterInfo, resolve_device
from regionstyle.segment.deeplab import build_deeplab
from regionstyle.segment.smp_hub import build_segformer

if TYPE_CHECKING:
    from maskrules import SegmentationSpec

log = logging.getLogger(__name__)

LABEL_MAP_SUFFIXES = (".png", ".tif", ".tiff", ".bmp", ".webp")


def _deeplab(name: str, what: str, aliases: tuple[str, ...] = ()) -> SegmenterInfo:
    return SegmenterInfo(name, f"torchvision DeepLabV3 {what}, Pascal VOC classes (no sky/building/tree/road)",
                         "voc", name, build_deeplab, aliases)


def _segformer(dataset: str, depth: int) -> SegmenterInfo:
    default = depth == 2  # B2: the accuracy/speed middle ground (ADE20K mIoU ~46, ~25M parameters)
    what = "ADE20K scene parsing, 150 classes" if dataset == "ade20k" else "Cityscapes street scenes, 19 classes"
    vocabulary = "ade20k-150" if dataset == "ade20k" else "cityscapes"
    return SegmenterInfo(f"{dataset}-b{depth}", f"SegFormer-B{depth} {what} (smp hub)", vocabulary,
                         f"{dataset}-b{depth}", build_segformer, (dataset,) if default else ())


REGISTRY: dict[str, SegmenterInfo] = {
    info.name: info
    for info in (
        _deeplab("deeplabv3_resnet50", "ResNet-50", ("deeplabv3",)),
        _deeplab("deeplabv3_resnet101", "ResNet-101"),
        _deeplab("deeplabv3_mobilenet_v3_large", "MobileNetV3-Large"),
        *(_segformer(dataset, depth) for dataset in ("ade20k", "cityscapes") for depth in range(6)),
    )
}
_ALIASES = {alias: info.name for info in REGISTRY.values() for alias in info.aliases}
# What ``auto`` tries, in order of preference: scene vocabularies first (they know sky, building, road ...).
_AUTO_FAMILIES = {
    "ade20k": ("ade20k-b2", "ade20k-b0", "ade20k-b1", "ade20k-b3", "ade20k-b4", "ade20k-b5"),
    "cityscapes": ("cityscapes-b2", "cityscapes-b0", "cityscapes-b1", "cityscapes-b3", "cityscapes-b4",
                   "cityscapes-b5"),
    "deeplabv3": ("deeplabv3_resnet50", "deeplabv3_mobilenet_v3_large", "deeplabv3_resnet101"),
}


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
                    spec: SegmentationSpec | None = None, download: bool = False) -> Segmenter:
    """A ready segmenter: a registered name or alias, a model file / folder / model.toml, or a label map.

    weights: a local checkpoint file or folder for registered models (instead of the caches).
    spec: the rules' [segmentation] table; gives a model file's conventions and classes, a label map's
        classes, and ``input_size`` for registered models.
    download: allow fetching registered weights that are not cached.
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
        return info.builder(info, device=resolve_device(device), weights=weights, spec=spec, download=download)
    if not _looks_like_path(name):
        get_segmenter_info(name)  # raises, listing the valid names
    if weights is not None:
        raise BadInput(f"weights={str(weights)!r} only applies to registered segmenters, not to {name}")
    return _build_from_path(Path(name).expanduser(), device=resolve_device(device), spec=spec)


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


def choose_segmenter(class_names: Iterable[str], *, label_map: str | Path | None = None,
                     prefer_cached: bool = True) -> tuple[str, str]:
    """(segmenter name or label-map path, a human-readable reason) for ``model = "auto"``.

    A label map wins over any model. Otherwise the first family (ade20k, cityscapes, deeplabv3) whose
    vocabulary knows every class name, preferring one whose weights are cached (and, within a family,
    a cached size over the default one); with no full cover, the family that knows the most names.
    """
    if label_map is not None:
        return str(label_map), f"a label map was given ({label_map}); it wins over any model"
    import maskrules

    names = [n for n in dict.fromkeys(class_names) if n != "*"]
    vocabularies = {family: REGISTRY[variants[0]].vocabulary for family, variants in _AUTO_FAMILIES.items()}
    missing = maskrules.missing_by_vocabulary(names, list(dict.fromkeys(vocabularies.values())))
    ranked = sorted(_AUTO_FAMILIES, key=lambda f: (len(missing[vocabularies[f]]),
                                                   not (prefer_cached and _cached_variant(f))))
    family = ranked[0]
    chosen = (prefer_cached and _cached_variant(family)) or _AUTO_FAMILIES[family][0]
    return chosen, _reason(chosen, names, missing[vocabularies[family]])


def _cached_variant(family: str) -> str | None:
    return next((v for v in _AUTO_FAMILIES[family] if weight_store.is_cached(REGISTRY[v].weights)), None)


def _reason(chosen: str, names: list[str], missing: tuple[str, ...]) -> str:
    info = REGISTRY[chosen]
    if not names:
        cover = "is the default (the rules name no classes)"
    elif not missing:
        cover = f"knows every class the rules name ({', '.join(names)})"
    else:
        cover = (f"knows the most class names ({len(names) - len(missing)} of {len(names)}); it lacks "
                 f"{', '.join(missing)}")
    weights = ("its weights are cached" if weight_store.is_cached(info.weights) else
               f"its weights are not cached yet (run `regionstyle weights fetch {info.weights}`)")
    return f"{chosen} ({info.description}, vocabulary {info.vocabulary}) {cover}; {weights}"
