"""How a segmentation network wants its input and what its output means: one frozen description.

Built-in backends fill it from what their checkpoints were trained with; model files from their ``model.toml``
descriptor, overridden by the rules' ``[segmentation]`` table or command-line options.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from regionstyle.config import MAX_SIDE
from regionstyle.errors import BadInput

LAYOUTS = ("NCHW", "NHWC")
CHANNEL_ORDERS = ("RGB", "BGR")
OUTPUTS = ("logits", "probs", "ids")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class InputConventions:
    """Pre- and post-processing of one network.

    size: fixed (height, width) the image is resized to, or None to keep the aspect ratio (see short_side).
    short_side: resize so the shorter side has this many pixels (used when size is None; None = no resize).
    layout: "NCHW" or "NHWC" for the input tensor (the output is read in the same layout when it can be).
    channel_order: "RGB" or "BGR".
    input_range: pixels in [0, 1] are mapped linearly onto (low, high) when mean/std are not given.
    mean, std: per-channel normalisation ``(x - mean) / std`` of pixels in [0, 1]; values given on the
        0..255 scale (any value above 1) are divided by 255.
    output: "logits" (scores, softmax gives probabilities), "probs" (already probabilities) or "ids".
    """

    size: tuple[int, int] | None = None
    short_side: int | None = None
    layout: str = "NCHW"
    channel_order: str = "RGB"
    input_range: tuple[float, float] = (0.0, 1.0)
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    output: str = "logits"

    def __post_init__(self) -> None:
        _check_choice("input_layout", self.layout, LAYOUTS)
        _check_choice("channel_order", self.channel_order, CHANNEL_ORDERS)
        _check_choice("output", self.output, OUTPUTS)
        if self.size is not None and (len(self.size) != 2 or min(self.size) < 1 or max(self.size) > MAX_SIDE):
            raise BadInput(f"input_size: expected [height, width], integers in [1, {MAX_SIDE}], got {list(self.size)}")
        if self.short_side is not None and not 1 <= self.short_side <= MAX_SIDE:
            raise BadInput(f"short_side: expected an integer in [1, {MAX_SIDE}], got {self.short_side}")
        _check_numbers("input_range", self.input_range, count=2)
        if self.input_range[0] >= self.input_range[1]:
            raise BadInput(f"input_range: expected [low, high] with low < high, got {list(self.input_range)}")
        if (self.mean is None) != (self.std is None):
            raise BadInput("mean and std must be given together")
        if self.mean is not None:
            _check_numbers("mean", self.mean, count=3)
            _check_numbers("std", self.std, count=3)
            if min(self.std) <= 0:
                raise BadInput(f"std: expected positive values, got {list(self.std)}")
        if self.size is not None:  # the model's input and its class scores, allocated per image
            from regionstyle.limits import SEGMENT_BYTES_PER_PIXEL, check_memory

            check_memory(self.size[0] * self.size[1], bytes_per_pixel=SEGMENT_BYTES_PER_PIXEL,
                         what=f"a model input of {self.size[1]}x{self.size[0]} px (input_size)",
                         fix="check input_size in the model's model.toml")

    def scaled_mean_std(self) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
        """(mean, std) on the [0, 1] pixel scale, or None when the input range is used instead."""
        if self.mean is None or self.std is None:
            return None
        scale = 255.0 if max(*self.mean, *self.std) > 1.0 else 1.0
        return tuple(m / scale for m in self.mean), tuple(s / scale for s in self.std)

    def with_overrides(self, values: dict[str, Any]) -> InputConventions:
        """A copy with the given keys (descriptor or spec names) replaced; None values are ignored."""
        changes = {_FIELD_FOR_KEY.get(key, key): _coerce(key, value)
                   for key, value in values.items() if value is not None}
        unknown = sorted(set(changes) - set(_FIELDS))
        if unknown:
            raise BadInput(f"unknown model convention(s) {unknown}; known: {sorted(_FIELD_FOR_KEY)}")
        return replace(self, **changes)


_FIELD_FOR_KEY = {
    "input_size": "size", "short_side": "short_side", "input_layout": "layout",
    "channel_order": "channel_order", "input_range": "input_range", "mean": "mean", "std": "std",
    "output": "output",
}
_FIELDS = set(_FIELD_FOR_KEY.values())


def _coerce(key: str, value: Any) -> Any:
    if key == "input_size":
        if not isinstance(value, (list, tuple)) or not all(_is_int(v) for v in value):
            raise BadInput(f"input_size: expected [height, width] as integers, got {value!r}")
        return tuple(value)
    if key == "short_side" and not _is_int(value):
        raise BadInput(f"short_side: expected an integer, got {value!r}")
    if key in ("input_range", "mean", "std"):
        try:
            return tuple(float(v) for v in value)
        except (TypeError, ValueError, OverflowError):
            raise BadInput(f"{key}: expected a list of numbers, got {value!r}") from None
    if key in ("input_layout", "channel_order"):
        return str(value).upper()
    return str(value).lower() if key == "output" else value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_numbers(key: str, values: tuple[float, ...], *, count: int) -> None:
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise BadInput(f"{key}: expected {count} finite numbers, got {list(values)}")


def _check_choice(key: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise BadInput(f"{key}: expected one of {', '.join(choices)}, got {value!r}")
