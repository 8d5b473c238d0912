"""Softmax smoothing of feature activations before they are compared (after Wang, Li & Vasconcelos 2021).

Wang et al. (CVPR 2021, "Rethinking and Improving the Robustness of Image Style Transfer") found that
non-VGG networks stylise poorly because a few peaky activations dominate their Gram matrices, and that a
softmax transformation of the activations fixes much of it. Their softmax runs over a whole feature map,
which would couple the regions of one image (a region's statistics would depend on its neighbours'
activations); here it runs over the channels at each position, which keeps every position's features
local, so region masks keep their meaning.

On the shared photos with MobileNetV2 (benchmarks/quality.py), it keeps markedly more of each styled
region's structure (windows stay on stylised buildings) while every building and sky still judges
nearest to its own painting; see benchmarks/README.md for the numbers.
"""

from __future__ import annotations

import torch

from typing import Mapping

from torch import nn

from regionstyle.encoder.network import EncoderInfo, FeatureEncoder


def softmax_channels(features: torch.Tensor, *, temperature: float = 1.0) -> torch.Tensor:
    """softmax(features / temperature) over the channel axis (dim 1) at each position.

    features: (N, C, H, W), any range -> (N, C, H, W), positive, summing to 1 over the channels at each
    position. Values are of order 1 / C; they are not scaled back to order 1, because every term that
    reads features is a relative error (:mod:`regionstyle.objective`), which a constant factor leaves
    unchanged (tests/style/test_losses.py checks it for each loss), while multiplying by C cost two
    passes over each tap per evaluation: the multiply and its backward, 5 million values each at 512 px.
    The result keeps a channels-last input channels-last: the objective reads features as (H*W, C) row
    views, and torch's softmax returns NCHW, whose transposed rows crashed oneDNN's bfloat16 matmul
    (SIGFPE, one thread, 512 px). A channels-last map is taken softmax over its last axis in its NHWC
    view, which needs no layout copy.
    """
    scaled = features if temperature == 1.0 else features / temperature
    if features.dim() == 4 and features.is_contiguous(memory_format=torch.channels_last):
        return torch.softmax(scaled.permute(0, 2, 3, 1), dim=-1).permute(0, 3, 1, 2)
    return torch.softmax(scaled, dim=1)


class SoftmaxEncoder(FeatureEncoder):
    """A FeatureEncoder whose taps return :func:`softmax_channels` of the network's activations.

    Style targets, the style loss and the content loss all read the encoder, so they all see the same
    transformed features; taps, channels and spatial geometry are the wrapped network's.
    """

    temperature: float = 1.0  # the class default serves the dry run inside FeatureEncoder.__init__

    def __init__(self, *, body: nn.Sequential, taps: Mapping[str, str], mean: tuple[float, ...],
                 std: tuple[float, ...], info: EncoderInfo, temperature: float) -> None:
        if temperature <= 0:
            raise ValueError(f"softmax temperature = {temperature}: expected a number > 0")
        super().__init__(body=body, taps=taps, mean=mean, std=std, info=info)
        self.temperature = temperature

    def forward(self, image: torch.Tensor, taps: tuple[str, ...] | None = None) -> dict[str, torch.Tensor]:
        features = super().forward(image, taps)
        return {tap: softmax_channels(value, temperature=self.temperature) for tap, value in features.items()}
