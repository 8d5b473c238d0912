"""Turning rules-file [defaults] and command-line/API options into one TransferConfig.

Precedence: an explicit option (CLI flag, ``stylize(...)`` keyword) beats the rules' [defaults], which beat
TransferConfig's own defaults. ``None`` always means "not given".
"""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from regionstyle.datatypes import TransferConfig
from regionstyle.errors import BadInput

# [defaults] key -> TransferConfig field, where the names differ.
_RENAMED = {"size": "long_side"}
PREVIEW_LONG_SIDE = 384
PREVIEW_ITERATIONS = 60
_CHOICES = {"optimizer": ("lbfgs", "adam"), "mask_mode": ("simple", "inside", "soft"),
            "precision": ("auto", "fp32", "bf16")}
INIT_CHOICES = ("content", "noise")  # or the path of an image to start from


def make_config(defaults: Any = None, **options: Any) -> TransferConfig:
    """Merge a maskrules ``Defaults`` (or None) with keyword options into a validated TransferConfig."""
    values: dict[str, Any] = {}
    names = {f.name for f in fields(TransferConfig)}
    for source in (_defaults_dict(defaults), options):
        for key, value in source.items():
            key = _RENAMED.get(key, key)
            if value is None:
                continue
            if key not in names:
                raise BadInput(f"unknown setting {key!r}; known: {', '.join(sorted(names))}")
            values[key] = str(value) if key == "encoder_weights" else value
    config = replace(TransferConfig(), **values)
    if config.preview:
        config = replace(config, long_side=min(config.long_side or PREVIEW_LONG_SIDE, PREVIEW_LONG_SIDE),
                         iterations=min(config.iterations, PREVIEW_ITERATIONS),
                         coarse_start=min(config.coarse_start, PREVIEW_LONG_SIDE // 2))
    validate(config)
    return config


def _defaults_dict(defaults: Any) -> dict[str, Any]:
    if defaults is None:
        return {}
    values = {f.name: getattr(defaults, f.name) for f in fields(defaults)}
    scales = values.pop("scales", None)
    if scales:  # an explicit list of scales: its smallest is where the coarse-to-fine schedule starts
        values["coarse_start"] = min(scales)
    return values


def validate(config: TransferConfig) -> None:
    """Raise BadInput naming the setting, the value and what is expected."""
    for key, choices in _CHOICES.items():
        if getattr(config, key) not in choices:
            raise BadInput(f"{key} = {getattr(config, key)!r}: expected one of {', '.join(choices)}")
    if config.init not in INIT_CHOICES and not Path(config.init).is_file():
        raise BadInput(f"init = {config.init!r}: expected content, noise, or the path of an existing image")
    positive = {"iterations": config.iterations, "coarse_start": config.coarse_start,
                "long_side": config.long_side or 1}
    for key, value in positive.items():
        if not isinstance(value, int) or value <= 0:
            raise BadInput(f"{key} = {value!r}: expected a positive whole number")
    for key in ("content_weight", "tv_weight", "color_weight", "feather", "learning_rate"):
        if getattr(config, key) < 0:
            raise BadInput(f"{key} = {getattr(config, key)!r}: expected a number >= 0")


def working_size(size: tuple[int, int], config: TransferConfig) -> tuple[int, int]:
    """(height, width) to stylise at: the input's own size unless ``long_side`` is set."""
    height, width = size
    if config.long_side is None or config.long_side == max(height, width):
        return size
    factor = config.long_side / max(height, width)
    return max(1, round(height * factor)), max(1, round(width * factor))
