"""The [segmentation] and [defaults] tables, and the rules that check transfer settings wherever they appear."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from types import MappingProxyType

from maskrules import values as v
from maskrules.model import SegmentationSpec
from maskrules.errors import RuleError
from maskrules.vocab import get_vocabulary, load_class_list

MODEL_EXTENSIONS = frozenset({".tflite", ".onnx", ".pt", ".pth", ".ts", ".ckpt", ".safetensors", ".bin"})
_CLASS_LIST_EXTENSIONS = frozenset({".txt", ".csv", ".names", ".labels"})
_SEGMENTATION_KEYS = frozenset({"model", "labels", "masks", "classes", "min_area", "input_size", "input_layout",
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
    if "masks" in table:
        fields["masks"] = _folder(ctx, at("masks"), table["masks"])
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


def _folder(ctx: v.Context, path: tuple[str, str], value: object) -> Path:
    """A folder relative to the rules file, made absolute; it must exist."""
    text = v.string(ctx, path, value)
    folder = Path(os.path.abspath(ctx.base_dir / text)) if "\0" not in text else None
    if folder is None or not _exists_as_folder(folder):
        ctx.fail(path, f"folder of region masks not found: {folder or repr(text)} (paths are relative to the "
                       "rules file; write one with --masks DIR)")
    return folder


def _exists_as_folder(folder: Path) -> bool:
    try:
        return folder.is_dir()
    except (OSError, ValueError):
        return False


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


@dataclass(frozen=True)
class SettingRule:
    """How the value of one transfer setting is checked, wherever it is written.

    regionstyle's settings schema (``regionstyle.config``) hands these to the parser, as it hands over its
    built-in style names: maskrules stays standard-library only and knows no setting by itself.

    kind: "int", "float", "str", "bool", "file" (an existing file, relative to the rules file) or "ints"
        (a non-empty array of integers).
    choices: the allowed strings of a "str" setting (empty: any non-empty string); with ``file_choice``,
        a value outside ``choices`` is read as a file path instead (``init = "start.png"``).
    low, high: inclusive bounds of numbers (``low_open``: low itself excluded).
    pattern, pattern_hint: a regular expression a "str" value must match in full, and what it means.
    per_rule: also settable on a single rule (``[[rule]]`` tables and inline [map] tables).
    """

    kind: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    pattern: str = ""
    pattern_hint: str = ""
    file_choice: bool = False
    what: str = "file"
    per_rule: bool = False


def check_setting(rule: SettingRule, value: object, *, base_dir: Path) -> object:
    """The checked value (paths made absolute), or :class:`~maskrules.values.BadValue` saying what is wrong."""
    if rule.kind == "int":
        low = None if rule.low is None else int(rule.low) + (1 if rule.low_open else 0)
        return v.check_integer(value, minimum=low, maximum=None if rule.high is None else int(rule.high))
    if rule.kind == "float":
        return v.check_number(value, low=rule.low, high=rule.high, low_open=rule.low_open)
    if rule.kind == "bool":
        return v.check_boolean(value)
    if rule.kind == "ints":
        return tuple(sorted(set(v.check_numbers(value, integers=True, low=rule.low, high=rule.high))))
    if rule.kind == "file" or (rule.file_choice and value not in rule.choices):
        return v.check_file(value, base_dir=base_dir, what=rule.what)
    text = v.check_string(value, choices=rule.choices or None)
    if rule.pattern and not re.fullmatch(rule.pattern, text):
        raise v.BadValue(f"expected {rule.pattern_hint}, got {text!r}")
    return text


def parse_defaults(ctx: v.Context, raw: object, settings: Mapping[str, SettingRule] | None) -> Mapping[str, object]:
    """Read [defaults]: every key is optional; with ``settings``, unknown keys and bad values are errors.

    Without ``settings`` (maskrules used on its own) any key is taken, its value unchecked beyond TOML.
    """
    table = v.table(ctx, ("defaults",), raw, None if settings is None else settings)
    if settings is None:
        return MappingProxyType(dict(table))
    checked = {}
    for key, value in table.items():
        try:
            checked[key] = check_setting(settings[key], value, base_dir=ctx.base_dir)
        except v.BadValue as problem:
            rule = settings[key]
            hint = " (paths are relative to the rules file)" if rule.kind == "file" or rule.file_choice else ""
            ctx.fail(("defaults", key), f"{problem}{hint}")
    return MappingProxyType(checked)
