"""The [segmentation] and [defaults] tables: plain settings, checked and made absolute."""

from __future__ import annotations

from pathlib import PurePath

from maskrules import values as v
from maskrules.model import Defaults, SegmentationSpec
from maskrules.errors import RuleError
from maskrules.vocab import get_vocabulary, load_class_list

MODEL_EXTENSIONS = frozenset({".tflite", ".onnx", ".pt", ".pth", ".ts", ".ckpt", ".safetensors", ".bin"})
COLOR_MODES = ("style", "preserve", "match")
_CLASS_LIST_EXTENSIONS = frozenset({".txt", ".csv", ".names", ".labels"})
_SEGMENTATION_KEYS = frozenset({"model", "labels", "classes", "min_area", "input_size", "input_layout",
                                "channel_order", "input_range", "mean", "std", "output"})
_CHOICES = {"input_layout": ("NHWC", "NCHW"), "channel_order": ("RGB", "BGR"),
            "output": ("logits", "probs", "ids")}


def _looks_like_path(text: str, extensions: frozenset[str]) -> bool:
    return "/" in text or "\\" in text or PurePath(text).suffix.lower() in extensions


def parse_segmentation(ctx: v.Context, raw: object) -> SegmentationSpec:
    """Read [segmentation]; files it names are resolved against the rules file and must exist."""
    table = v.table(ctx, ("segmentation",), raw, _SEGMENTATION_KEYS)
    at = lambda key: ("segmentation", key)  # noqa: E731 - a short key-path builder
    fields: dict = {key: v.string(ctx, at(key), table[key], choices=choices)
                    for key, choices in _CHOICES.items() if key in table}
    if "model" in table:
        model = v.string(ctx, at("model"), table["model"])
        if _looks_like_path(model, MODEL_EXTENSIONS):
            fields.update(model="file", model_file=v.file_path(ctx, at("model"), model, what="model file"))
        else:
            fields["model"] = model
    if "labels" in table:
        fields["labels"] = v.file_path(ctx, at("labels"), table["labels"], what="label map")
    if "classes" in table:
        fields.update(_classes(ctx, table["classes"]))
    if "min_area" in table:
        fields["min_area"] = v.number(ctx, at("min_area"), table["min_area"], low=0.0, high=1.0, high_open=True)
    if "input_size" in table:
        fields["input_size"] = v.numbers(ctx, at("input_size"), table["input_size"], count=2, integers=True, low=1)
    if "input_range" in table:
        lo, hi = v.numbers(ctx, at("input_range"), table["input_range"], count=2)
        if not lo < hi:
            ctx.fail(at("input_range"), f"expected [low, high] with low < high, got {table['input_range']}")
        fields["input_range"] = (lo, hi)
    if "input_range" in table and ("mean" in table or "std" in table):
        ctx.fail(at("input_range"), "give either input_range or mean/std, not both")
    for key, low_open in (("mean", False), ("std", True)):
        if key in table:
            fields[key] = v.numbers(ctx, at(key), table[key], count=3, low=None if key == "mean" else 0.0,
                                    low_open=low_open)
    return SegmentationSpec(**fields)


def _classes(ctx: v.Context, value: object) -> dict:
    """``classes`` names a built-in vocabulary or a class-list file (relative to the rules file)."""
    at = ("segmentation", "classes")
    text = v.string(ctx, at, value)
    if not _looks_like_path(text, _CLASS_LIST_EXTENSIONS):
        try:
            vocab = get_vocabulary(text)
            return {"classes": vocab.name, "vocabulary": vocab}
        except RuleError as exc:
            if not _is_file(ctx, text):  # an extension-less class-list file is still accepted
                ctx.fail(at, exc.message.replace(" (valid:", " (a class-list file path, or one of:"))
    path = v.file_path(ctx, at, text, what="class list")
    try:
        vocab = load_class_list(path)
    except RuleError as exc:
        ctx.fail(at, f"{path}: {exc.message}")
    return {"classes_file": path, "vocabulary": vocab}


def _is_file(ctx: v.Context, text: str) -> bool:
    try:
        return (ctx.base_dir / text).is_file()
    except (OSError, ValueError):
        return False


_FLOATS = ("style_weight", "content_weight", "tv_weight", "feather")
_CHOICE_DEFAULTS = {"optimizer": ("lbfgs", "adam"), "color": COLOR_MODES,
                    "mask_mode": ("simple", "inside", "soft")}
_DEFAULT_KEYS = frozenset({"size", "iterations", "seed", "encoder", "encoder_weights", "scales", "device",
                           "preview", *_FLOATS, *_CHOICE_DEFAULTS})


def parse_defaults(ctx: v.Context, raw: object) -> Defaults:
    """Read [defaults]; every key is optional and unknown keys are errors."""
    table = v.table(ctx, ("defaults",), raw, _DEFAULT_KEYS)
    at = lambda key: ("defaults", key)  # noqa: E731 - a short key-path builder
    fields: dict = {}
    for key, value in table.items():
        if key in ("size", "iterations"):
            fields[key] = v.integer(ctx, at(key), value, minimum=1)
        elif key == "seed":
            fields[key] = v.integer(ctx, at(key), value)
        elif key in _FLOATS:
            fields[key] = v.number(ctx, at(key), value, low=0.0)
        elif key in _CHOICE_DEFAULTS:
            fields[key] = v.string(ctx, at(key), value, choices=_CHOICE_DEFAULTS[key])
        elif key in ("encoder", "device"):
            fields[key] = v.string(ctx, at(key), value)
        elif key == "encoder_weights":
            fields[key] = v.file_path(ctx, at(key), value, what="encoder weights")
        elif key == "scales":
            fields[key] = v.numbers(ctx, at(key), value, integers=True, low=1)
        else:  # preview
            fields[key] = v.boolean(ctx, at(key), value)
    return Defaults(**fields)
