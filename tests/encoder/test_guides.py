"""Per-layer mask propagation: sizes match the features, and ``inside`` never leaks a style gradient."""

from __future__ import annotations

import pytest
import torch

from regionstyle.encoder import EncoderInfo, FeatureEncoder, build_encoder
from regionstyle.encoder.mobilenet import build_mobilenet_v2, mobilenet_layer_names
from regionstyle.style.gram import gram_distance, masked_gram
from regionstyle.encoder.guides import MASK_MODES, layer_masks, output_size


@pytest.fixture(scope="module")
def random_vgg():
    return build_encoder("random", seed=0)


def _mobilenet(antialias: bool) -> FeatureEncoder:
    torch.manual_seed(0)
    body = build_mobilenet_v2(state_dict=None, tf_same_padding=True, antialias=antialias)
    taps = {name: mobilenet_layer_names()[name] for name in ("stem", "b2_expand", "b4_expand", "b7_expand")}
    return FeatureEncoder(body=body, taps=taps, mean=(0.5,) * 3, std=(0.5,) * 3,
                          info=EncoderInfo("mobilenet_v2", "random", "tf", False))


@pytest.fixture(scope="module", params=[False, True], ids=["sharp", "antialiased"])
def tf_mobilenet(request):
    return _mobilenet(antialias=request.param)


@pytest.mark.parametrize("mode", MASK_MODES)
@pytest.mark.parametrize("size", [(37, 53), (64, 48)])
def test_propagated_masks_have_the_feature_sizes(random_vgg, tf_mobilenet, mode, size):
    for encoder in (random_vgg, tf_mobilenet):
        image = torch.rand(1, 3, *size)
        features = encoder(image)
        masks = layer_masks(torch.ones(2, *size), encoder, encoder.taps, mode=mode)
        for tap, feature in features.items():
            assert masks[tap].shape[-2:] == feature.shape[-2:], (encoder.info.name, tap)
            assert output_size(encoder.spatial_ops(tap), size) == tuple(feature.shape[-2:])


@pytest.mark.parametrize("mode", MASK_MODES)
def test_a_full_mask_stays_full_the_frame_is_not_a_boundary(random_vgg, mode):
    masks = layer_masks(torch.ones(1, 40, 40), random_vgg, random_vgg.taps, mode=mode)
    for tap, mask in masks.items():
        torch.testing.assert_close(mask, torch.ones_like(mask), msg=tap)


def test_inside_erodes_more_than_soft_and_soft_more_than_nothing(random_vgg):
    mask = torch.zeros(1, 64, 64)
    mask[:, :, :32] = 1
    inside = layer_masks(mask, random_vgg, ["relu3_1"], mode="inside")["relu3_1"]
    soft = layer_masks(mask, random_vgg, ["relu3_1"], mode="soft")["relu3_1"]
    assert inside.sum() < soft.sum() <= mask.sum() / 16 + 1e-4
    assert set(inside.unique().tolist()) <= {0.0, 1.0}


def _style_gradient(encoder, mask_mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    image = torch.rand(1, 3, 48, 64, requires_grad=True)
    region = torch.zeros(48, 64)
    region[8:40, 10:44] = 1
    features = encoder(image)
    per_layer = layer_masks(region[None], encoder, features, mode=mask_mode)
    loss = sum(gram_distance(masked_gram(f[0], per_layer[tap][0]), torch.zeros(f.shape[1], f.shape[1]))
               for tap, f in features.items() if per_layer[tap].sum() > 0)
    loss.backward()
    return image.grad[0].abs().sum(0), region


def test_inside_masks_never_leak_style_gradient_outside_the_region(random_vgg, tiny_encoder):
    for encoder in (random_vgg, tiny_encoder[0]):
        grad, region = _style_gradient(encoder, "inside")
        assert grad[region == 0].max().item() == 0.0
        assert grad[region == 1].max().item() > 0.0


def test_inside_masks_keep_the_antialiasing_blur_inside_the_region():
    # The blur before each strided convolution widens what every later feature sees by a pixel of its
    # input; the mask geometry must count it, or the style gradient would reach past the region.
    encoder = _mobilenet(antialias=True)
    grad, region = _style_gradient(encoder, "inside")
    assert grad[region == 0].max().item() == 0.0
    assert grad[region == 1].max().item() > 0.0
    # One 3x3 step more per blur on the way: block 2's before b4_expand, blocks 2 and 4's before b7_expand.
    sharp = _mobilenet(antialias=False)
    for tap, blurs in (("b4_expand", 1), ("b7_expand", 2)):
        assert len(encoder.spatial_ops(tap)) == len(sharp.spatial_ops(tap)) + blurs


def test_simple_masks_do_leak_which_is_why_inside_exists(random_vgg):
    grad, region = _style_gradient(random_vgg, "simple")
    assert grad[region == 0].max().item() > 0.0
