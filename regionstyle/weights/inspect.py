"""What a weights file holds, in words: for messages when a file does not fit the network asked for.

``--encoder-weights resnet18.pth`` for MobileNetV2 should say "this looks like a ResNet state dict", not
dump 300 missing keys. The guess reads key names only (torchvision's module naming), never values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from regionstyle.errors import BadInput

# (architecture, a key fragment only its torchvision state dicts have), most specific first.
_SIGNATURES = (
    ("MobileNetV2", ".conv.0.0.weight"),
    ("MobileNetV3", ".block.0.0.weight"),
    ("EfficientNet", ".block.0.0.weight"),
    ("ResNet", "layer1.0.conv1.weight"),
    ("DenseNet", "denseblock1"),
    ("Inception", "Conv2d_1a_3x3"),
    ("ViT", "encoder.layers"),
    ("ConvNeXt", ".block.0.weight"),
    ("SegFormer", "segformer."),
    ("VGG", "features.0.weight"),
)
# Training checkpoints often wrap the weights: {"state_dict": {...}, "epoch": 7, "optimizer": {...}}.
_WRAPPERS = ("state_dict", "model", "model_state_dict", "net", "params", "weights")


def check_state_dict(state: Any, path: object) -> dict:
    """``state`` if it is a mapping of names to tensors; else BadInput saying what the file holds instead."""
    import torch

    if not isinstance(state, Mapping):
        raise BadInput(f"weights file {path} holds a {type(state).__name__}, not a state dict (names -> tensors)")
    if not state:
        raise BadInput(f"weights file {path} holds an empty state dict")
    wrapper = next((key for key in _WRAPPERS if isinstance(state.get(key), Mapping)), None)
    odd = [key for key, value in state.items() if not isinstance(key, str) or not isinstance(value, torch.Tensor)]
    if odd:
        hint = (f"; its {wrapper!r} entry may hold the weights: save that entry alone" if wrapper is not None
                else "")
        raise BadInput(f"weights file {path} is not a plain state dict: {len(odd)} of its {len(state)} entries "
                       f"are not tensors (e.g. {str(odd[0])[:60]!r}){hint}")
    return dict(state)


def describe(state: Mapping[str, Any]) -> str:
    """A few words on a state dict: the architecture its key names suggest, its size, an example key."""
    keys = list(state)
    prefix = _shared_prefix(keys)
    stripped = [key[len(prefix):] for key in keys]
    arch = next((name for name, fragment in _SIGNATURES if any(fragment in key for key in stripped)), None)
    count = sum(int(getattr(value, "numel", lambda: 0)()) for value in state.values())
    words = f"a {arch} state dict" if arch else "a state dict of no architecture known here"
    words += f" ({len(keys)} tensors, {count / 1e6:.1f}M values, e.g. {keys[0]!r})" if keys else " (empty)"
    if prefix:
        words += f"; every key starts with {prefix!r} (saved from a wrapper: strip that prefix)"
    return words


def _shared_prefix(keys: list[str]) -> str:
    """A wrapper prefix every key carries ("module." from DataParallel, "model."), or ""."""
    for prefix in ("module.", "model.", "encoder.", "backbone."):
        if keys and all(key.startswith(prefix) for key in keys):
            return prefix
    return ""


# The keys a weights descriptor (``weights.toml`` beside ``weights.pt``) may hold, and what each must be.
CONVENTION_KEYS = {
    "architecture": "the network the weights are for, e.g. \"mobilenet_v2\"",
    "file": "the weights file it describes (its name)",
    # The only declared range the encoders implement; left out, ImageNet mean/std apply.
    "input_range": "[-1.0, 1.0] (pixels mapped onto [-1, 1], as TensorFlow-trained weights take them) or left out",
    "padding": "\"tf_same\" (TensorFlow SAME padding) or \"symmetric\" (torchvision's)",
}
_NOTE_KEYS = ("source", "license", "description", "name", "notes", "url")


def check_conventions(data: Mapping[str, Any], descriptor: object, *, weights_file: object,
                      architecture: str | None = None) -> dict:
    """A weights descriptor checked field by field; BadInput naming the file, the key and what it must be."""
    from pathlib import Path

    from maskrules.names import did_you_mean

    def bad(key: str, got: Any) -> BadInput:
        return BadInput(f"weights descriptor {descriptor}: {key} must be {CONVENTION_KEYS[key]}, got {got!r}")

    for key in data:
        if key not in CONVENTION_KEYS and key not in _NOTE_KEYS:
            raise BadInput(f"weights descriptor {descriptor}: unknown key {key!r}{did_you_mean(key, CONVENTION_KEYS)}"
                           f"; known: {', '.join(CONVENTION_KEYS)} (and notes: {', '.join(_NOTE_KEYS)})")
    for key in ("architecture", "file", "padding", *_NOTE_KEYS):
        if key in data and not isinstance(data[key], str):
            raise (bad(key, data[key]) if key in CONVENTION_KEYS else
                   BadInput(f"weights descriptor {descriptor}: {key} must be text, got {data[key]!r}"))
    if data.get("padding", "symmetric") not in ("tf_same", "symmetric"):
        raise bad("padding", data["padding"])
    if "input_range" in data:
        value = data["input_range"]
        numbers = isinstance(value, list) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        if not numbers or [float(v) for v in value] != [-1.0, 1.0]:
            raise bad("input_range", value)
    if architecture is not None and data.get("architecture", architecture) != architecture:
        raise BadInput(f"weights descriptor {descriptor} says the weights are for {data['architecture']!r}, "
                       f"but they were given for {architecture}: choose --encoder {data['architecture']}, or "
                       "other weights")
    if "file" in data and data["file"] != Path(str(weights_file)).name:
        raise BadInput(f"weights descriptor {descriptor} describes {data['file']!r}, not {Path(str(weights_file)).name}")
    return dict(data)
