"""How a segmentation network wants its input and what its output means: one frozen description.

Built-in backends fill it from what their checkpoints were trained with; model files from their ``model.toml``
descriptor, overridden by the rules' ``[segmentation]`` table or command-line options.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

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
        if self.size is not None and (len(self.size) != 2 or min(self.size) < 1):
            raise BadInput(f"input_size: expected [height, width] of positive integers, got {list(self.size)}")
        if (self.mean is None) != (self.std is None):
            raise BadInput("mean and std must be given together")
        if self.std is not None and min(self.std) <= 0:
            raise BadInput(f"std: expected positive values, got {list(self.std)}")

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
    if key in ("input_size", "input_range", "mean", "std"):
        try:
            return tuple(int(v) if key == "input_size" else float(v) for v in value)
        except (TypeError, ValueError):
            raise BadInput(f"{key}: expected a list of numbers, got {value!r}") from None
    if key in ("input_layout", "channel_order"):
        return str(value).upper()
    return str(value).lower() if key == "output" else value


def _check_choice(key: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise BadInput(f"{key}: expected one of {', '.join(choices)}, got {value!r}")
