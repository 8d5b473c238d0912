"""The random encoder's Gabor first layer, and the measurements of benchmarks/quality.py (its judge)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from regionstyle.encoder import LAYER_PLANS, EncoderInfo, FeatureEncoder, build_encoder, load_encoder
from regionstyle.encoder.gabor import gabor_bank
from regionstyle.encoder.smoothing import SoftmaxEncoder, softmax_channels
from regionstyle.style.gram import masked_gram as torch_masked_gram
from tests.paths import BENCHMARKS



@pytest.fixture(scope="module")
def bench():
    """benchmarks/judge.py and benchmarks/quality.py (scripts, not a package) as modules."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module("judge"), importlib.import_module("quality")
    finally:
        sys.path.remove(str(BENCHMARKS))


def _bank(seed: int = 0, **options) -> torch.Tensor:
    return gabor_bank(32, kernel=11, generator=torch.Generator().manual_seed(seed), blobs=4, **options)


def test_gabor_bank_is_seeded_and_unit_norm():
    bank = _bank()
    assert bank.shape == (32, 3, 11, 11)
    assert torch.allclose(bank.flatten(1).norm(dim=1), torch.ones(32), atol=1e-5)
    assert torch.equal(bank, _bank())
    assert not torch.allclose(bank, _bank(seed=1))


def test_gabor_filters_ignore_flat_colour_and_blobs_do_not():
    bank = _bank()
    flat_response = bank.sum(dim=(2, 3))  # response to a uniform image of each primary colour
    assert flat_response[4:].abs().max() < 1e-5
    assert (flat_response[:4].abs().sum(dim=1) > 0.5).all()


def test_gabor_filters_are_band_pass_at_the_requested_wavelengths():
    bank = _bank(wavelengths=(4.0, 8.0))
    size = 64  # zero-padded spectrum: frequency resolution 1/64 cycles per pixel
    for kernel in bank[4:]:
        spectrum = torch.fft.fft2(kernel, s=(size, size)).abs().pow(2).sum(dim=0)
        peak = int(spectrum.argmax())
        fy, fx = np.fft.fftfreq(size)[peak // size], np.fft.fftfreq(size)[peak % size]
        wavelength = 1.0 / max(np.hypot(fx, fy), 1e-9)
        assert 4.0 / 1.35 <= wavelength <= 8.0 * 1.35  # the envelope broadens the band a little


def test_gabor_bank_rejects_even_kernels():
    with pytest.raises(ValueError, match="kernel = 4: expected an odd size"):
        gabor_bank(4, kernel=4, generator=torch.Generator())


def test_random_encoder_uses_the_gabor_first_layer_and_keeps_vgg_tap_names():
    encoder = build_encoder("random", taps=["relu1_1", "relu2_1"], seed=3)
    first = encoder.body[0]
    assert first.kernel_size == (11, 11) and first.padding == (5, 5)
    expected = gabor_bank(64, kernel=11, generator=torch.Generator().manual_seed(3)) * 2**0.5
    assert torch.allclose(first.weight, expected)
    features = encoder(torch.rand(1, 3, 48, 40))
    assert features["relu1_1"].shape[-2:] == (48, 40) and features["relu2_1"].shape[-2:] == (24, 20)


def test_softmax_channels_against_an_explicit_computation():
    features = torch.randn(2, 5, 3, 4, dtype=torch.float64) * 3
    expected = torch.exp(features / 0.5) / torch.exp(features / 0.5).sum(dim=1, keepdim=True)
    torch.testing.assert_close(softmax_channels(features, temperature=0.5), expected)
    # Per-position and shift-invariant: adding a constant at one position changes nothing there.
    shifted = features.clone()
    shifted[:, :, 1, 2] += 7.0
    torch.testing.assert_close(softmax_channels(shifted), softmax_channels(features))
    assert torch.autograd.gradcheck(lambda x: softmax_channels(x, temperature=2.0),
                                    (features.clone().requires_grad_(True),))


def test_softmax_channels_keeps_channels_last_so_the_objective_rows_stay_plain_views():
    features = torch.randn(1, 6, 5, 4).contiguous(memory_format=torch.channels_last)
    result = softmax_channels(features)
    assert result.is_contiguous(memory_format=torch.channels_last)
    rows = result[0].permute(1, 2, 0).reshape(-1, 6)  # what regionstyle.objective reads
    assert rows.is_contiguous()
    assert softmax_channels(torch.randn(1, 6, 5, 4)).is_contiguous()
    # Computed in the NHWC view, the values and gradients are those of the NCHW computation.
    plain = features.contiguous().double().requires_grad_(True)
    last = plain.detach().contiguous(memory_format=torch.channels_last).requires_grad_(True)
    weights = torch.rand(1, 6, 5, 4, dtype=torch.float64)
    (softmax_channels(plain, temperature=0.7) * weights).sum().backward()
    (softmax_channels(last, temperature=0.7) * weights).sum().backward()
    torch.testing.assert_close(softmax_channels(last, temperature=0.7), softmax_channels(plain, temperature=0.7))
    torch.testing.assert_close(last.grad, plain.grad)


def test_softmax_encoder_transforms_every_tap_and_keeps_geometry():
    torch.manual_seed(0)
    body = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Conv2d(6, 8, 3, padding=1), torch.nn.ReLU())
    options = dict(body=body, taps={"a": "1", "b": "4"}, mean=(0.5,) * 3, std=(0.25,) * 3,
                   info=EncoderInfo("tiny", "random", "test", False))
    plain = FeatureEncoder(**options)
    smooth = SoftmaxEncoder(**options, temperature=0.7)
    image = torch.rand(1, 3, 16, 12)
    raw, soft = plain(image), smooth(image)
    for tap in ("a", "b"):
        torch.testing.assert_close(soft[tap], softmax_channels(raw[tap], temperature=0.7))
        assert smooth.spatial_ops(tap) == plain.spatial_ops(tap)
    assert smooth.tap_channels == {"a": 6, "b": 8}
    with pytest.raises(ValueError, match="temperature = 0"):
        SoftmaxEncoder(**options, temperature=0)


@pytest.mark.shared
def test_the_pipeline_encoder_for_mobilenet_compares_softmaxed_features(shared_data):
    path = shared_data / "models" / "mobilenet_v2_imagenet_quant" / "torchvision_state_dict.pt"
    temperature = LAYER_PLANS["mobilenet_v2"].softmax_temperature
    assert temperature is not None
    encoder, why = load_encoder("mobilenet_v2", weights_file=path)
    # build_encoder alone: the network as it is (blurred before its strides as the plan says, not softmaxed)
    raw = build_encoder("mobilenet_v2", weights_file=path, antialias=LAYER_PLANS["mobilenet_v2"].antialias)
    assert isinstance(encoder, SoftmaxEncoder) and type(raw) is FeatureEncoder and why == "named in the settings"
    image = torch.rand(1, 3, 64, 64)
    torch.testing.assert_close(encoder(image)["b4_expand"],
                               softmax_channels(raw(image)["b4_expand"], temperature=temperature))


def test_judge_masked_gram_matches_the_library_gram(bench):
    judge, _ = bench
    features = np.random.default_rng(0).random((6, 5, 4)).astype(np.float32)  # (h, w, C)
    mask = (np.random.default_rng(1).random((6, 5)) > 0.4).astype(np.float32)
    expected = torch_masked_gram(torch.from_numpy(features).permute(2, 0, 1), torch.from_numpy(mask))
    assert np.allclose(judge.masked_gram(features, mask), expected.numpy(), rtol=1e-5)
    assert judge.masked_gram(features, np.zeros((6, 5), np.float32)) is None


def test_style_distance_is_relative_and_zero_on_identity(bench):
    judge, _ = bench
    target = {"a": np.eye(3) * 2.0, "b": np.ones((2, 2))}
    candidate = {"a": np.eye(3), "b": np.ones((2, 2))}
    assert judge.style_distance(target, target) == 0.0
    assert judge.style_distance(candidate, target) == pytest.approx((0.25 + 0.0) / 2)
    scaled = {k: 10 * v for k, v in candidate.items()}
    assert judge.style_distance(scaled, {k: 10 * v for k, v in target.items()}) == pytest.approx(0.125)


def test_colour_distance_is_the_gaussian_wasserstein_distance(bench):
    _, quality = bench
    rng = np.random.default_rng(0)
    base = rng.normal(size=(20000, 3))
    shift = np.array([3.0, -4.0, 0.0])
    assert quality.colour_distance(base, base) == pytest.approx(0.0, abs=1e-6)
    assert quality.colour_distance(base + shift, base) == pytest.approx(5.0, rel=1e-6)
    # Isotropic Gaussians with standard deviations a and b: W2^2 = 3 (a - b)^2.
    wide = base * 3.0
    expected = np.sqrt(np.trace(np.cov(wide.T)) + np.trace(np.cov(base.T))
                       - 2 * 3.0 * np.trace(np.cov(base.T)))
    assert quality.colour_distance(wide, base) == pytest.approx(expected, rel=1e-3)
    assert expected == pytest.approx(np.sqrt(3 * 4.0), rel=0.05)


def test_structure_kept_is_one_for_the_photo_minus_one_for_its_negative_zero_for_noise(bench):
    _, quality = bench
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:64, 0:64] / 64.0
    photo = np.stack([np.sin(6 * xx) * 0.4 + 0.5, np.cos(5 * yy) * 0.4 + 0.5, xx * 0.8 + 0.1], axis=-1)
    mask = np.zeros((64, 64), np.float32)
    mask[8:56, 8:56] = 1
    assert quality.structure_kept(photo, photo, mask) == pytest.approx(1.0)
    assert quality.structure_kept(1.0 - photo, photo, mask) == pytest.approx(-1.0)
    noise = rng.random((64, 64, 3)).astype(np.float32)
    assert abs(quality.structure_kept(noise, photo, mask)) < 0.15


def test_fine_grain_sees_a_checkerboard_not_smooth_strokes_nor_what_lies_outside(bench):
    _, quality = bench
    yy, xx = np.mgrid[0:64, 0:64]
    strokes = np.repeat((0.5 + 0.3 * np.sin(xx / 5.0 + yy / 9.0))[..., None], 3, axis=2).astype(np.float32)
    speckled = strokes + 0.05 * (((yy + xx) % 2) * 2 - 1)[..., None]
    mask = np.zeros((64, 64), np.float32)
    mask[16:48, 16:48] = 1
    assert quality.fine_grain(strokes, mask) < 0.005 < quality.fine_grain(speckled, mask)
    outside_only = strokes.copy()
    outside_only[:12] = speckled[:12]  # speckle beyond the region and its inset
    assert quality.fine_grain(outside_only, mask) == quality.fine_grain(strokes, mask)
    assert np.isnan(quality.fine_grain(strokes, np.zeros_like(mask)))


@pytest.mark.shared
def test_the_judge_recognises_a_painting_from_half_of_it(bench, shared_data):
    """The judge is only worth its numbers if a painting's own half is nearer to it than to the others."""
    judge_module, quality = bench
    judge = judge_module.Judge(shared_data / "models" / "mobilenet_v1_imagenet_quant" / "model.tflite")
    paintings = {p.stem: quality.read_rgb(p) for p in sorted((shared_data / "styles").glob("*.jpg"))}
    references = {name: judge_module.grams(judge.features(image), None) for name, image in paintings.items()}
    for name in ("vangogh_starry_night", "klimt_adele_bloch_bauer_i", "hokusai_great_wave"):
        image = paintings[name]
        half = judge_module.grams(judge.features(image[:, : image.shape[1] // 2]), None)
        distances = {other: judge_module.style_distance(half, ref) for other, ref in references.items()}
        assert min(distances, key=distances.get) == name


@pytest.mark.shared
def test_rules_for_tubingen_style_water_and_keep_trees(bench, shared_data):
    _, quality = bench
    rules = quality.rules_for("tubingen_neckarfront")
    assert 'sky = "starry"' in rules and 'building = "klimt"' in rules
    assert 'water = "wave"' in rules and 'trees = "keep"' in rules
