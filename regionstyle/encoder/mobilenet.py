"""MobileNetV2 (torchvision architecture) with taps on its expanded ReLU6 activations.

Two input conventions exist for the same architecture and are declared, never guessed:
- ``torchvision``: ImageNet mean/std, symmetric padding (torchvision's own weights);
- ``tf``: pixels in [-1, 1] and TensorFlow SAME padding on the five stride-2 3x3 convolutions
  (TensorFlow-trained weights converted to torchvision's layout, e.g. the shared TF-slim checkpoint).
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from regionstyle.encoder.network import TFSamePad

# Blocks whose depthwise 3x3 convolution has stride 2 (features[0] is the stride-2 stem).
STRIDE2_BLOCKS = (2, 4, 7, 14)


def mobilenet_layer_names() -> dict[str, str]:
    """Tap names -> module paths in ``features``: ``stem``, ``b{i}`` (block output), ``b{i}_expand``.

    ``b{i}_expand`` is block i's 1x1 expansion after ReLU6: the widest, most texture-rich activation of
    the block, at the resolution the block starts from.
    """
    names = {"stem": "0"}
    for block in range(1, 18):
        names[f"b{block}"] = str(block)
        if block >= 2:
            names[f"b{block}_expand"] = f"{block}.conv.0"
    names["head"] = "18"
    return names


def build_mobilenet_v2(*, state_dict: dict | None, tf_same_padding: bool, antialias: bool = False) -> nn.Sequential:
    """MobileNetV2 ``features`` with the given weights (strict), SAME padding for TF weights, and
    (``antialias``) a blur before the strided depthwise convolutions (:func:`_blur_before_strides`)."""
    import torchvision  # here, not at the top: importing it takes seconds (it loads torch._dynamo)

    model = torchvision.models.mobilenet_v2(weights=None)
    if state_dict is not None:
        model.load_state_dict(state_dict, strict=True)
    features = model.eval().features
    fold_batch_norms(features)
    _activations_out_of_place(features)
    if antialias:  # first, so the blur runs before the SAME pad (pre-hooks run in registration order)
        _blur_before_strides(features)
    if tf_same_padding:
        _use_tf_same_padding(features)
    return features


@torch.no_grad()
def fold_batch_norms(features: nn.Sequential) -> None:
    """Fold every (convolution, eval-mode BatchNorm) pair into the convolution, in place.

    The network is frozen, so BatchNorm is a fixed per-channel affine map: folding it is exact (to float
    rounding) and saves its forward and backward passes on every evaluation (about 5% of a run at 512 px).
    The BatchNorm becomes an Identity, so module paths (and tap names) stay torchvision's.
    """
    for module in features.modules():
        children = list(module.named_children())
        for (_, conv), (name, norm) in zip(children, children[1:]):
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
                bias = conv.bias if conv.bias is not None else torch.zeros_like(norm.running_mean)
                conv.weight.mul_(scale.view(-1, 1, 1, 1))
                conv.bias = nn.Parameter(norm.bias + (bias - norm.running_mean) * scale, requires_grad=False)
                setattr(module, name, nn.Identity())


def _activations_out_of_place(features: nn.Sequential) -> None:
    """Make every ReLU6 write a new tensor: under autograd an in-place ReLU6 first clones its input, two
    passes over memory for one (same gradients; a forward+backward pass at 512 px took 0.55 s against 0.66 s,
    one thread, measured under load)."""
    for module in features.modules():
        if isinstance(module, nn.ReLU6):
            module.inplace = False


def _use_tf_same_padding(features: nn.Sequential) -> None:
    """Swap the five stride-2 3x3 convolutions for (SAME pad, unpadded conv), keeping module paths.

    The pad runs as a forward pre-hook rather than as an extra module so that state-dict keys and tap
    paths stay identical to torchvision's; ``SpatialOp`` geometry sees it through ``same_pad`` marker.
    """
    convs = [features[0][0]] + [features[block].conv[1][0] for block in STRIDE2_BLOCKS]
    for conv in convs:
        conv.padding = (0, 0)
        pad = TFSamePad(conv.kernel_size[0], conv.stride[0])
        conv.register_forward_pre_hook(lambda _m, inputs, pad=pad: (pad(inputs[0]),))
        # A plain attribute, not a submodule: the geometry walk must see the pad once, before the conv.
        conv.__dict__["tf_same_pad"] = pad


class AntialiasBlur(nn.Module):
    """A [1, 2, 1] x [1, 2, 1] / 16 blur of every channel, edges replicated: the low-pass filter of
    anti-aliased downsampling (Zhang, "Making Convolutional Networks Shift-Invariant Again", ICML 2019)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # In float32 outside autocast: a bfloat16 depthwise convolution took 50x longer on a CPU without
        # native bfloat16 (1.2 s against 24 ms for block 2's input at 512 px, forward and backward).
        with torch.autocast(x.device.type, enabled=False):
            wide = x.float()
            kernel = _blur_kernel(wide.device)[None, None].expand(wide.shape[1], 1, 3, 3)
            padded = nn.functional.pad(wide, (1, 1, 1, 1), mode="replicate")
            return nn.functional.conv2d(padded, kernel, groups=wide.shape[1]).to(x.dtype)


@functools.lru_cache(maxsize=8)
def _blur_kernel(device: torch.device) -> torch.Tensor:
    """The (3, 3) blur, made once per device. The blur is a hook, not a submodule, so ``.to(device)`` never
    moves a kernel it holds; a copy to the GPU at every forward would wait for it each time, and a CUDA graph
    cannot hold that copy at all."""
    taps = torch.tensor([1.0, 2.0, 1.0], device=device)
    return (taps[:, None] * taps[None, :]) / 16


def _blur_before_strides(features: nn.Sequential) -> None:
    """Blur the input of the four strided depthwise convolutions (blocks 2, 4, 7 and 14).

    A stride-2 convolution samples every other position, so detail finer than two pixels of its input
    folds into false patterns; optimised against such features, the image grows pixel speckle, a dot grid
    and staircase edges. Blurred first, the taps behind them see strokes rather than pixel phases: on the
    ten shared photos at 512 px skies and buildings came out nearer their paintings with longer, smoother
    strokes (benchmarks/README.md). The stem's input, the image itself, is left sharp: blurring it too
    made the style stronger still but lost a fifth of the photo's structure.
    Like the SAME pad, the blur runs as a forward pre-hook and is recorded as a plain attribute, so module
    paths stay torchvision's and the geometry walk (``spatial_ops``) sees it once, before the conv.
    """
    for block in STRIDE2_BLOCKS:
        conv = features[block].conv[1][0]
        blur = AntialiasBlur()
        conv.register_forward_pre_hook(lambda _m, inputs, blur=blur: (blur(inputs[0]),))
        conv.__dict__["antialias_blur"] = blur
