"""VGG19 / VGG16 feature stacks with Gatys-style layer names, pretrained or seeded-random."""

from __future__ import annotations

import math

import torch
from torch import nn

from regionstyle.encoder.gabor import gabor_bank

# torchvision's layer configurations: "E" is VGG19, "D" is VGG16.
VGG_CONFIGS = {"vgg19": "E", "vgg16": "D"}
# The random encoder's first convolution: 11 x 11, wide enough for Gabor filters of 3.5-12 px wavelength.
RANDOM_FIRST_KERNEL = 11


def vgg_layer_names(features: nn.Sequential) -> dict[str, str]:
    """Map Gatys-style names (conv1_1, relu1_1, pool1, conv1_2 ...) to indices in ``features``."""
    names: dict[str, str] = {}
    block, layer = 1, 1
    for index, module in enumerate(features):
        if isinstance(module, nn.Conv2d):
            names[f"conv{block}_{layer}"] = str(index)
        elif isinstance(module, nn.ReLU):
            names[f"relu{block}_{layer}"] = str(index)
            layer += 1
        elif isinstance(module, nn.MaxPool2d):
            names[f"pool{block}"] = str(index)
            block, layer = block + 1, 1
    return names


def build_vgg(arch: str, *, state_dict: dict | None, seed: int = 0) -> nn.Sequential:
    """The ``features`` stack of a torchvision VGG, with pretrained weights or a seeded random init.

    ReLUs are made out-of-place: a tap on a conv output must not be overwritten by the ReLU after it.
    """
    # Only the convolutional stack is built: the classifier (~120M parameters) is never used.
    import torchvision  # here, not at the top: importing it takes seconds (it loads torch._dynamo)

    features = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs[VGG_CONFIGS[arch]])
    if state_dict is not None:
        prefix = "features."
        features.load_state_dict({k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)},
                                 strict=True)
    else:
        # Same module index and tap names as VGG's 3x3 conv1_1; only the window grows (geometry follows).
        features[0] = nn.Conv2d(3, 64, RANDOM_FIRST_KERNEL, padding=RANDOM_FIRST_KERNEL // 2)
        init_random_texture_filters(features, seed=seed)
    for module in features:
        if isinstance(module, nn.ReLU):
            module.inplace = False
    return features


def init_random_texture_filters(features: nn.Sequential, *, seed: int) -> None:
    """Seeded random weights that keep texture statistics alive through depth.

    First convolution: a Gabor bank (oriented band-pass filters in luminance and opponent colours plus a
    few colour blobs, see :mod:`regionstyle.encoder.gabor`), so the style loss sees strokes rather than
    pixel noise. Deeper convolutions: zero-mean filters (no response to flat colour, like learned
    texture detectors) with He scaling (activation variance roughly constant from layer to layer, so
    every tapped layer contributes). Biases zero. Random VGG-style networks can carry texture this way
    (He, Wang & Hopcroft 2016; Ustyuzhaninov et al. 2017).
    """
    generator = torch.Generator().manual_seed(seed)
    convs = [module for module in features if isinstance(module, nn.Conv2d)]
    first = convs[0]
    with torch.no_grad():
        # sqrt(2) = the norm a He-scaled random filter has, so the next layers see the usual scale.
        first.weight.copy_(gabor_bank(first.out_channels, kernel=first.kernel_size[0], generator=generator)
                           * math.sqrt(2.0))
        first.bias.zero_()
    for module in convs[1:]:
        fan_in = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
        weight = torch.randn(module.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5
        weight -= weight.mean(dim=(1, 2, 3), keepdim=True)
        with torch.no_grad():
            module.weight.copy_(weight)
            module.bias.zero_()
