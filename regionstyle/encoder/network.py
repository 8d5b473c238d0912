"""The feature-network wrapper shared by every architecture: named taps, input normalisation, geometry.

An encoder takes RGB in [0, 1] and returns a dict of feature maps, one per requested tap. It normalises the
input itself (ImageNet mean/std, or [-1, 1] for TensorFlow-trained weights), runs frozen in eval mode, and
is cut after the deepest tap so no work is spent on layers nobody reads.

Each tap also reports its *spatial geometry* (``spatial_ops``): the chain of convolutions, pools and pads
between the image and that layer. :mod:`regionstyle.encoder.guides` replays it on region masks, so a mask lands
exactly where the features it weights come from.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import torch
from torch import nn

from regionstyle.errors import BadInput

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# TensorFlow-trained networks take x / 127.5 - 1, i.e. mean 0.5 and std 0.5 on [0, 1] pixels.
SIGNED_MEAN = (0.5, 0.5, 0.5)
SIGNED_STD = (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class SpatialOp:
    """How one layer maps input positions to output positions.

    kind: "conv" or "pool" (a k x k window, fixed padding) or "same_pad" (TensorFlow SAME padding for the
        following k x k, stride-s window, whose size depends on the input size).
    padding: (top/bottom, left/right) fixed zero padding of a "conv"/"pool" window.
    """

    kind: str
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    ceil_mode: bool = False


@dataclass(frozen=True)
class EncoderInfo:
    """What ran, for logs and manifests: architecture, weights source and input convention."""

    name: str
    weights: str
    convention: str
    pretrained: bool


class TFSamePad(nn.Module):
    """Zero padding as TensorFlow's "SAME" does it for a following k x k, stride-s window.

    TensorFlow puts the odd pixel of padding at the bottom/right (torchvision pads symmetrically); weights
    trained one way drift when run the other way, so TF-trained checkpoints need this.
    """

    def __init__(self, kernel: int, stride: int) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad_h = same_padding(x.shape[-2], self.kernel, self.stride)
        pad_w = same_padding(x.shape[-1], self.kernel, self.stride)
        return nn.functional.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))


def same_padding(size: int, kernel: int, stride: int) -> int:
    """Total padding TensorFlow's SAME adds along one axis of length ``size``."""
    out = -(-size // stride)
    return max((out - 1) * stride + kernel - size, 0)


class FeatureEncoder(nn.Module):
    """A frozen feature network returning the activations of named taps.

    forward(image): image (N, 3, H, W) RGB in [0, 1] -> {tap: (N, C, h, w)} for every tap in ``taps``.
    """

    def __init__(self, *, body: nn.Sequential, taps: Mapping[str, str], mean: tuple[float, ...],
                 std: tuple[float, ...], info: EncoderInfo) -> None:
        super().__init__()
        deepest = max(int(path.split(".")[0]) for path in taps.values())
        self.body = body[: deepest + 1].eval().requires_grad_(False)
        self.taps = dict(taps)
        self.info = info
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))
        self._captured: dict[str, torch.Tensor] = {}
        modules = dict(self.body.named_modules())
        for tap, path in self.taps.items():
            modules[path].register_forward_hook(self._capture_hook(tap))
        with torch.no_grad():  # a dry run checks every tap fires and records its width
            probe = self.forward(torch.zeros(1, 3, 64, 64))
        missing = set(self.taps) - set(probe)
        if missing:
            raise BadInput(f"encoder {info.name}: taps {sorted(missing)} produced no output")
        self.tap_channels = {tap: int(f.shape[1]) for tap, f in probe.items()}

    def _capture_hook(self, tap: str):
        def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
            self._captured[tap] = output
        return hook

    def forward(self, image: torch.Tensor, taps: tuple[str, ...] | None = None) -> dict[str, torch.Tensor]:
        """Features of every tap, or only of ``taps`` (then the pass stops after the deepest of them)."""
        self._captured = {}
        wanted = self.taps if taps is None else {tap: self.taps[tap] for tap in taps}
        stop = max(int(path.split(".")[0]) for path in wanted.values())
        x = (image - self.mean) / self.std
        for index, module in enumerate(self.body):
            x = module(x)
            if index >= stop:
                break  # shallow plans (fine scales) skip the expensive deep layers entirely
        features, self._captured = self._captured, {}
        return {tap: features[tap] for tap in wanted}

    def spatial_ops(self, tap: str) -> tuple[SpatialOp, ...]:
        """The convolutions, pools and pads between the input image and ``tap``, in execution order."""
        target = self.taps[tap]
        ops: list[SpatialOp] = []
        seen_target = False
        for path, module in self.body.named_modules():
            inside = path == target or path.startswith(target + ".")
            if seen_target and not inside:
                break  # named_modules is depth-first: the tap's whole subtree has been visited
            seen_target = seen_target or inside
            ops.extend(_spatial_ops(module))
        return tuple(ops)

    def channels(self, tap: str) -> int:
        """Number of channels at ``tap``."""
        return self.tap_channels[tap]


def _pair(value: int | tuple[int, ...]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[-1]))


def _spatial_ops(module: nn.Module) -> list[SpatialOp]:
    ops = []
    if getattr(module, "antialias_blur", None) is not None:  # a 3x3 blur pre-hook (see mobilenet.py)
        ops.append(SpatialOp("conv", (3, 3), (1, 1), (1, 1)))
    pad = getattr(module, "tf_same_pad", None)  # a SAME pad attached as a pre-hook (see mobilenet.py)
    if isinstance(module, TFSamePad) or pad is not None:
        pad = pad or module
        ops.append(SpatialOp("same_pad", _pair(pad.kernel), _pair(pad.stride)))
    if isinstance(module, nn.Conv2d):
        ops.append(SpatialOp("conv", _pair(module.kernel_size), _pair(module.stride),
                             _pair(module.padding), _pair(module.dilation)))
    elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        ops.append(SpatialOp("pool", _pair(module.kernel_size), _pair(module.stride or module.kernel_size),
                             _pair(module.padding), ceil_mode=bool(module.ceil_mode)))
    return ops


def load_local_convention(weights_file: Path, *, architecture: str | None = None) -> dict:
    """The input convention a local state dict declares in a ``<name>.toml`` beside it, or {}.

    Keys read: ``input_range`` ([-1, 1] means TensorFlow-style scaling) and ``padding`` ("tf_same").
    Declared, never guessed: without a descriptor, torchvision's conventions are assumed.
    """
    descriptor = weights_file.with_suffix(".toml")
    if not descriptor.exists():  # a FIFO or folder there is refused by the reader, not ignored
        return {}
    from regionstyle.io.inputs import read_input_text
    from regionstyle.weights.inspect import check_conventions

    try:
        data = tomllib.loads(read_input_text(descriptor, what="weights descriptor"))
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"cannot read weights descriptor {descriptor}: {exc}") from None
    return check_conventions(data, descriptor, weights_file=weights_file, architecture=architecture)
