"""Model files (``.onnx`` / ``.tflite``) and their ``model.toml`` descriptors.

A descriptor beside the model declares what the file cannot: the class list and the input conventions::

    file = "model.tflite"
    classes = "labels.txt"       # a class list file beside it, or a vocabulary name ("ade20k", "voc" ...)
    input_size = [513, 513]      # height, width
    input_layout = "NHWC"
    channel_order = "RGB"
    input_range = [-1.0, 1.0]    # or mean = [...], std = [...]
    output = "logits"            # or "probs", "ids"

Settings in the rules' ``[segmentation]`` table (or on the command line) override the descriptor.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from regionstyle.errors import BadInput
from regionstyle.io.inputs import input_file, read_input_text
from regionstyle.segment.conventions import InputConventions

if TYPE_CHECKING:
    from maskrules import SegmentationSpec, Vocabulary

log = logging.getLogger(__name__)

MODEL_SUFFIXES = (".onnx", ".tflite")
DESCRIPTOR_NAME = "model.toml"
_CONVENTION_KEYS = ("input_size", "input_layout", "channel_order", "input_range", "mean", "std", "output")


@dataclass(frozen=True)
class ModelDescriptor:
    """Where a model file is and how to run it.

    classes: a class list file, a vocabulary name or a loaded Vocabulary (from the rules), or None when
        neither descriptor nor spec gave one.
    conventions: declared settings only (keys of ``_CONVENTION_KEYS``); missing ones come from the model.
    """

    model_path: Path
    name: str
    classes: Vocabulary | Path | str | None
    conventions: dict[str, Any]
    descriptor_path: Path | None = None


def find_model(path: str | Path) -> tuple[Path, Path | None]:
    """(model file, descriptor or None) for a model file, a ``model.toml`` or a folder holding them."""
    path = Path(path).expanduser()
    if not path.exists():
        raise BadInput(f"model file not found: {path}")
    if path.is_dir():
        return find_model(_model_in_folder(path))
    if path.suffix == ".toml":
        data = _read_toml(path)
        if "file" not in data:
            raise BadInput(f"{path}: the descriptor needs file = \"<model file beside it>\"")
        model = path.parent / str(data["file"])
        if not model.exists():
            raise BadInput(f"{path}: file = {data['file']!r} but {model} does not exist")
        return input_file(model, what="model file"), path
    if path.suffix.lower() not in MODEL_SUFFIXES:
        raise BadInput(f"{path}: not a model file; expected one of {', '.join(MODEL_SUFFIXES)} or a model.toml")
    return input_file(path, what="model file"), _descriptor_beside(path)


def _model_in_folder(folder: Path) -> Path:
    if (folder / DESCRIPTOR_NAME).is_file():
        return folder / DESCRIPTOR_NAME
    models = sorted(p for p in folder.iterdir() if p.suffix.lower() in MODEL_SUFFIXES)
    if len(models) != 1:
        raise BadInput(f"{folder}: expected a {DESCRIPTOR_NAME} or exactly one model file, found "
                       f"{[p.name for p in models] or 'none'}")
    return models[0]


def _descriptor_beside(model: Path) -> Path | None:
    for candidate in (model.with_suffix(".toml"), model.parent / DESCRIPTOR_NAME):
        if candidate.is_file():
            described = _read_toml(candidate).get("file")
            if described is None or described == model.name:
                return candidate
    return None


def read_descriptor(path: str | Path, *, spec: SegmentationSpec | None = None) -> ModelDescriptor:
    """The descriptor of a model path, with ``spec`` settings (those not None) taking precedence."""
    model, descriptor = find_model(path)
    data = _read_toml(descriptor) if descriptor else {}
    base = descriptor.parent if descriptor else model.parent
    conventions = {key: data[key] for key in _CONVENTION_KEYS if key in data}
    classes = data.get("classes")
    if spec is not None:
        conventions.update({key: getattr(spec, key) for key in _CONVENTION_KEYS
                            if getattr(spec, key, None) is not None})
        classes = spec.vocabulary or spec.classes_file or spec.classes or classes
    if isinstance(classes, (str, Path)) and (base / classes).is_file():
        classes = base / classes
    InputConventions().with_overrides(conventions)  # validate early, naming the bad key
    log.debug("model %s: descriptor %s, conventions %s", model, descriptor, conventions)
    return ModelDescriptor(model_path=model, name=str(data.get("name", model.name)), classes=classes,
                           conventions=conventions, descriptor_path=descriptor)


def _read_toml(path: Path) -> dict[str, Any]:
    text = read_input_text(path, what="model descriptor")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"cannot read model descriptor {path}: {exc}") from None
