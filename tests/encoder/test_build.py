"""Encoders: tap names and shapes, weights through the real loading code, the two MobileNetV2 conventions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision

from regionstyle.encoder import LAYER_PLANS, SoftmaxEncoder, build_encoder, load_encoder
from regionstyle.encoder.vgg import vgg_layer_names
from regionstyle.errors import BadInput, WeightsUnavailable
from tests.paths import SAMPLES

MOBILENET = "models/mobilenet_v2_imagenet_quant/torchvision_state_dict.pt"


@pytest.fixture()
def empty_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("REGIONSTYLE_HOME", str(tmp_path / "home"))
    return tmp_path


def test_vgg19_layer_names_follow_gatys():
    names = vgg_layer_names(torchvision.models.vgg19(weights=None).features)
    assert names["conv1_1"] == "0" and names["relu1_1"] == "1" and names["pool1"] == "4"
    assert names["conv4_2"] == "21" and names["relu4_2"] == "22" and names["relu5_4"] == "35"
    assert names["pool5"] == "36"


def test_encoder_is_cut_after_the_deepest_tap_and_reports_shapes():
    encoder = build_encoder("random", taps=["relu1_1", "relu3_1"])
    assert len(encoder.body) == 12  # up to relu3_1 (index 11)
    features = encoder(torch.rand(2, 3, 40, 56))
    assert features["relu1_1"].shape == (2, 64, 40, 56)
    assert features["relu3_1"].shape == (2, 256, 10, 14)
    assert encoder.channels("relu3_1") == 256
    assert not any(p.requires_grad for p in encoder.parameters())


def test_random_encoder_is_seeded():
    image = torch.rand(1, 3, 32, 32)
    a = build_encoder("random", taps=["relu2_1"], seed=1)(image)["relu2_1"]
    b = build_encoder("random", taps=["relu2_1"], seed=1)(image)["relu2_1"]
    c = build_encoder("random", taps=["relu2_1"], seed=2)(image)["relu2_1"]
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(BadInput, match="choose from auto, vgg19"):
        build_encoder("resnet")
    with pytest.raises(BadInput, match="has no layer"):
        build_encoder("random", taps=["relu9_9"])


def test_missing_vgg_weights_give_an_actionable_error(empty_caches):
    with pytest.raises(WeightsUnavailable) as info:
        build_encoder("vgg19")
    message = str(info.value)
    assert "vgg19-dcbb9e9d.pth" in message and "regionstyle weights fetch vgg19" in message
    assert "--encoder-weights" in message and "https://download.pytorch.org/models/" in message


def test_auto_runs_the_bundled_mobilenet_when_vgg19_is_not_cached(empty_caches):
    encoder, why = load_encoder("auto", taps=["stem"])
    assert encoder.info.name == "mobilenet_v2" and encoder.info.pretrained and encoder.info.convention == "tf"
    assert "bundled MobileNetV2" in why and "regionstyle weights fetch vgg19" in why
    assert isinstance(encoder, SoftmaxEncoder)  # the plan's feature transform is applied


def test_auto_runs_vgg19_when_its_weights_are_cached(empty_caches):
    torch.save(torchvision.models.vgg19(weights=None).state_dict(), _torch_cache(empty_caches) / "vgg19-dcbb9e9d.pth")
    encoder, why = load_encoder("auto", taps=["relu1_1"])
    assert encoder.info.name == "vgg19" and encoder.info.pretrained and "cached" in why


def test_the_random_encoder_runs_only_when_named(empty_caches):
    encoder, why = load_encoder("random", taps=["relu1_1"])
    assert encoder.info.name == "random" and not encoder.info.pretrained and why == "named in the settings"


@pytest.mark.parametrize("make, looks_like", [
    (lambda: torchvision.models.resnet18(weights=None).state_dict(), "do not fit the mobilenet_v2"),
    (lambda: torchvision.models.vgg19(weights=None).state_dict(), "do not fit the mobilenet_v2"),
    (lambda: torch.zeros(3), "holds a Tensor, not a state dict"),
    (lambda: [1, 2, 3], "holds a list, not a state dict"),
    (lambda: {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v
              for k, v in torchvision.models.mobilenet_v2(weights=None).state_dict().items()}, "NaN"),
])
def test_weights_that_do_not_fit_are_one_clear_line(empty_caches, make, looks_like):
    path = empty_caches / "weights.pth"
    torch.save(make(), path)
    with pytest.raises(BadInput, match=looks_like) as info:
        build_encoder("mobilenet_v2", weights_file=path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def _torch_cache(root):
    folder = root / "torch" / "hub" / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_cached_weights_load_through_the_real_code(empty_caches):
    state = torchvision.models.vgg16(weights=None).state_dict()
    cache = empty_caches / "home" / "checkpoints"
    cache.mkdir(parents=True)
    torch.save(state, cache / "vgg16-397923af.pth")
    encoder = build_encoder("vgg16", taps=["relu1_1"])
    assert encoder.info.pretrained
    torch.testing.assert_close(encoder.body[0].weight, state["features.0.weight"])


def test_local_weights_file_is_used_and_a_missing_one_is_bad_input(empty_caches):
    path = empty_caches / "mine.pth"
    torch.save(torchvision.models.vgg16(weights=None).state_dict(), path)
    assert build_encoder("vgg16", taps=["relu1_1"], weights_file=path).info.weights == str(path)
    with pytest.raises(BadInput, match="not found"):
        build_encoder("vgg16", weights_file=empty_caches / "nope.pth")


def _reference_stem(state: dict, image: torch.Tensor, *, tf_padding: bool) -> torch.Tensor:
    """MobileNetV2's stem computed by hand: pad, conv, batch norm (eval), ReLU6."""
    x = image * 2 - 1
    x = F.pad(x, (0, 1, 0, 1)) if tf_padding else F.pad(x, (1, 1, 1, 1))
    x = F.conv2d(x, state["features.0.0.weight"], stride=2)
    bn = {k: state[f"features.0.1.{k}"] for k in ("weight", "bias", "running_mean", "running_var")}
    x = (x - bn["running_mean"][:, None, None]) / torch.sqrt(bn["running_var"][:, None, None] + 1e-5)
    return (x * bn["weight"][:, None, None] + bn["bias"][:, None, None]).clamp(0, 6)


@pytest.mark.shared
def test_shared_mobilenet_loads_with_its_declared_tf_convention(shared_data):
    path = shared_data / MOBILENET
    encoder = build_encoder("mobilenet_v2", weights_file=path)
    assert encoder.info.convention == "tf" and encoder.info.pretrained
    image = torch.rand(1, 3, 64, 96)
    state = torch.load(path, weights_only=True)
    stem = encoder(image)["stem"][0]
    torch.testing.assert_close(stem, _reference_stem(state, image, tf_padding=True)[0], atol=1e-4, rtol=1e-4)
    symmetric = _reference_stem(state, image, tf_padding=False)[0]
    assert (stem - symmetric).abs().max() > 1e-2  # the two conventions really differ
    assert set(encoder(image)) == set(LAYER_PLANS["mobilenet_v2"].taps)


def test_folding_batch_norms_keeps_mobilenet_features():
    from regionstyle.encoder.mobilenet import build_mobilenet_v2

    torch.manual_seed(0)
    reference = torchvision.models.mobilenet_v2(weights=None)
    for module in reference.modules():  # statistics far from the identity, so a wrong fold would show
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-1, 1)
    folded = build_mobilenet_v2(state_dict=reference.state_dict(), tf_same_padding=False)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    image = torch.rand(1, 3, 64, 80)
    with torch.no_grad():
        torch.testing.assert_close(folded(image), reference.eval().features(image), atol=1e-4, rtol=1e-4)


def test_mobilenet_activations_write_new_tensors_and_gradients_match_torchvisions():
    """In-place ReLU6 under autograd clones its input first; out of place gives the same gradients."""
    from regionstyle.encoder.mobilenet import build_mobilenet_v2

    torch.manual_seed(1)
    reference = torchvision.models.mobilenet_v2(weights=None).eval()
    built = build_mobilenet_v2(state_dict=reference.state_dict(), tf_same_padding=False)
    relus = [m for m in built.modules() if isinstance(m, torch.nn.ReLU6)]
    assert relus and not any(m.inplace for m in relus)
    gradients = []
    for network in (reference.features, built):
        image = torch.rand(1, 3, 64, 48, generator=torch.Generator().manual_seed(2)).requires_grad_(True)
        network[:8](image).square().mean().backward()
        gradients.append(image.grad)
    torch.testing.assert_close(gradients[1], gradients[0], atol=1e-5, rtol=1e-4)


def _gram(features: torch.Tensor) -> torch.Tensor:
    rows = features[0].flatten(1)
    return rows @ rows.T / rows.shape[1]


def test_antialiasing_steadies_mobilenet_statistics_under_small_shifts():
    # A stride-2 convolution aliases: moving the photo by a pixel or two changes what its deeper layers
    # report, so the optimiser can meet their statistics with pixel-phase patterns. Blurred before the
    # strides, the statistics of the bundled network move much less (measured: 35-60% less at these taps).
    from PIL import Image

    pixels = torch.from_numpy(np.asarray(Image.open(SAMPLES / "toronto_skyline.jpg").convert("RGB"), np.float32))
    photo = (pixels / 255).permute(2, 0, 1)[None]
    change = {}
    for antialias in (False, True):
        encoder = build_encoder("mobilenet_v2", taps=["b7_expand", "b14_expand"], antialias=antialias)
        width = photo.shape[-1] - 8
        still = {tap: _gram(f) for tap, f in encoder(photo[..., :width]).items()}
        shifted = [encoder(photo[..., shift:shift + width]) for shift in (1, 2, 3)]
        change[antialias] = {tap: max(float((_gram(f[tap]) - still[tap]).norm() / still[tap].norm())
                                      for f in shifted) for tap in still}
    for tap in ("b7_expand", "b14_expand"):
        assert change[True][tap] < 0.8 * change[False][tap], (tap, change)
        assert change[True][tap] > 0.0  # a shift still moves them: the photo is not blurred away


def test_antialiasing_is_a_mobilenet_option_only():
    with pytest.raises(ValueError, match="MobileNetV2"):
        build_encoder("random", antialias=True)
    assert LAYER_PLANS["mobilenet_v2"].antialias and not LAYER_PLANS["vgg19"].antialias
