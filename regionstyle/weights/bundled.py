"""The models shipped inside the package: they make the default path work offline, on a fresh install.

- the segmenter: DeepLabV3 MobileNetV2 trained on ADE20K (TFLite, 2.4 MB), run by ai-edge-litert;
- the encoder: MobileNetV2 ImageNet weights (float16 safetensors, 7.1 MB) with TensorFlow conventions.

Each folder holds the model, a ``model.toml`` describing it, its ``LICENSE`` and ``PROVENANCE.md``.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from regionstyle.errors import BadInput
from regionstyle.weights.spec import WeightSpec

BUNDLED_SEGMENTER = WeightSpec(
    "deeplabv3-ade20k", "bundled", "DeepLabV3 MobileNetV2, ADE20K scene classes (bundled, TFLite)", approx_mb=2.4)
BUNDLED_ENCODER = WeightSpec(
    "mobilenet_v2", "bundled", "MobileNetV2 ImageNet features (bundled, TF-slim weights)", approx_mb=7.1)
_FOLDERS = {BUNDLED_SEGMENTER.name: "deeplabv3_mnv2_ade20k", BUNDLED_ENCODER.name: "mobilenet_v2_imagenet"}


def bundled_folder(spec: WeightSpec) -> Path:
    """The package folder holding a bundled model and its ``model.toml``."""
    folder = Path(str(resources.files("regionstyle.weights") / "bundled" / _FOLDERS[spec.name]))
    if not (folder / "model.toml").is_file():
        raise BadInput(f"the bundled model {spec.name} is missing from {folder}: reinstall regionstyle")
    return folder


def bundled_file(spec: WeightSpec) -> Path:
    """The model file a bundled folder's ``model.toml`` names."""
    folder = bundled_folder(spec)
    descriptor = tomllib.loads((folder / "model.toml").read_text(encoding="utf-8"))
    return folder / descriptor["file"]


def load_bundled_encoder() -> tuple[dict, dict]:
    """The bundled encoder's float32 state dict and its declared conventions (``input_range``, ``padding``)."""
    from safetensors.torch import load_file

    path = bundled_file(BUNDLED_ENCODER)
    conventions = tomllib.loads((path.parent / "model.toml").read_text(encoding="utf-8"))
    state = {key: value.float() if value.is_floating_point() else value for key, value in load_file(str(path)).items()}
    return state, conventions
