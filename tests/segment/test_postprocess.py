"""Pre/post-processing of segmenters: exact upsampled argmax, softmax layout, input preparation."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from regionstyle.errors import BadInput
from regionstyle.segment.conventions import InputConventions
from regionstyle.segment.postprocess import (
    dense_argmax,
    scores_to_segmentation,
    softmax_channels_first,
    source_index,
    upsampled_argmax,
)
from regionstyle.segment.preprocess import check_image, prepare_batch, working_size


def reference_argmax(scores_khw: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The obvious (memory-hungry) way: upsample every class map, then argmax."""
    return F.interpolate(scores_khw[None].double(), size=size, mode="bilinear", align_corners=False)[0].argmax(0)


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 12), w=st.integers(1, 12), k=st.integers(2, 7),
       out_h=st.integers(1, 40), out_w=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_upsampled_argmax_equals_full_interpolation(h, w, k, out_h, out_w, seed):
    gen = torch.Generator().manual_seed(seed)
    scores = torch.randn(k, h, w, generator=gen, dtype=torch.float64)
    expected = reference_argmax(scores, (out_h, out_w)).numpy()
    channels_last = np.ascontiguousarray(scores.permute(1, 2, 0).numpy())
    np.testing.assert_array_equal(upsampled_argmax(channels_last, (out_h, out_w), channel_axis=2), expected)
    np.testing.assert_array_equal(upsampled_argmax(scores.numpy(), (out_h, out_w), channel_axis=0), expected)
    np.testing.assert_array_equal(dense_argmax(scores, (out_h, out_w)).numpy(), expected)


def test_upsampled_argmax_on_blocky_maps():
    # Large uniform areas exercise the shortcut, the noise the mixed-cell path.
    gen = torch.Generator().manual_seed(3)
    coarse = torch.randn(5, 6, 7, generator=gen)
    scores = coarse.repeat_interleave(4, dim=1).repeat_interleave(3, dim=2)
    scores = scores + 0.01 * torch.randn(5, 24, 21, generator=gen)
    fast = upsampled_argmax(scores.double().numpy(), (297, 61), channel_axis=0)
    np.testing.assert_array_equal(fast, reference_argmax(scores, (297, 61)).numpy())
    np.testing.assert_array_equal(dense_argmax(scores.double(), (297, 61)).numpy(), fast)  # > one band


def test_source_index_matches_interpolate_weights():
    # Interpolating a ramp with the returned indices/weights reproduces F.interpolate exactly.
    ramp = np.arange(9, dtype=np.float64)
    i0, i1, frac = source_index(23, 9)
    ours = ramp[i0] * (1 - frac) + ramp[i1] * frac
    theirs = F.interpolate(torch.from_numpy(ramp).view(1, 1, 9), size=23, mode="linear", align_corners=False)
    np.testing.assert_allclose(ours, theirs.view(-1).numpy(), atol=1e-12)


@pytest.mark.parametrize("channel_axis", [0, 2])
def test_softmax_channels_first_for_both_layouts(channel_axis):
    scores = torch.randn(19, 37, 4)  # (K, h, w); 37 rows span several blocks
    given_scores = scores.numpy() if channel_axis == 0 else np.ascontiguousarray(scores.permute(1, 2, 0).numpy())
    probs = softmax_channels_first(given_scores, channel_axis=channel_axis)
    assert probs.shape == (19, 37, 4) and probs.dtype == np.float32
    np.testing.assert_allclose(probs, scores.softmax(0).numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(probs.sum(0), 1.0, atol=1e-5)


def test_ids_output_is_resized_like_pillow_nearest():
    ids = np.random.default_rng(0).integers(0, 5, size=(7, 9)).astype(np.int32)
    seg = scores_to_segmentation(ids, size=(30, 20), output="ids", channel_axis=-1,
                                 class_names=tuple("abcde"), vocabulary="custom", source="test")
    expected = np.asarray(Image.fromarray(ids.astype(np.uint8)).resize((20, 30), Image.NEAREST))
    np.testing.assert_array_equal(seg.labels, expected)
    assert seg.probs is None and seg.labels.dtype == np.int32


def test_logits_output_gives_full_size_labels_and_working_size_probs():
    scores = torch.randn(3, 6, 8)
    seg = scores_to_segmentation(scores, size=(13, 17), output="logits", channel_axis=0,
                                 class_names=("a", "b", "c"), vocabulary="custom", source="test")
    assert seg.labels.shape == (13, 17) and seg.labels.dtype == np.int32 and seg.probs.shape == (3, 6, 8)
    np.testing.assert_array_equal(seg.labels, reference_argmax(scores, (13, 17)).numpy())


def test_prepare_batch_normalises_lays_out_and_flips_channels():
    image = np.zeros((4, 6, 3), np.float32)
    image[..., 0], image[..., 2] = 1.0, 0.5
    nhwc = prepare_batch([image], InputConventions(layout="NHWC", channel_order="BGR", input_range=(-1.0, 1.0)))
    assert nhwc.shape == (1, 4, 6, 3)
    np.testing.assert_allclose(nhwc[0, 0, 0], [0.0, -1.0, 1.0])  # B, G, R in [-1, 1]
    mean_std = InputConventions(mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375))
    nchw = prepare_batch([image], mean_std)
    assert nchw.shape == (1, 3, 4, 6)
    np.testing.assert_allclose(nchw[0, :, 0, 0],
                               [(255 - 123.675) / 58.395, (0 - 116.28) / 57.12, (127.5 - 103.53) / 57.375],
                               rtol=1e-5)


def test_working_size_keeps_aspect_for_short_side_and_obeys_fixed_size():
    assert working_size((1314, 1920), InputConventions(short_side=520)) == (520, 760)
    assert working_size((1314, 1920), InputConventions(size=(513, 513), short_side=520)) == (513, 513)
    assert working_size((10, 20), InputConventions()) == (10, 20)


def test_prepare_batch_downscales_with_antialiasing():
    # A 1-pixel checkerboard averages to grey when shrunk 4x, instead of aliasing to black or white.
    board = (np.indices((64, 64)).sum(0) % 2).astype(np.float32)
    image = np.repeat(board[..., None], 3, axis=2)
    small = prepare_batch([image], InputConventions(size=(16, 16)))
    np.testing.assert_allclose(small, 0.5, atol=0.02)


@pytest.mark.parametrize("size", [(16, 16), (40, 41), (90, 75)])
def test_prepare_batch_resizes_as_torch_s_antialiased_bilinear_does(size):
    """Pillow's resampling (no torch needed) against the F.interpolate it replaced, shrinking and enlarging."""
    image = np.random.default_rng(3).random((57, 63, 3), dtype=np.float32)
    ours = prepare_batch([image], InputConventions(size=size))
    theirs = F.interpolate(torch.from_numpy(image).permute(2, 0, 1)[None], size=size, mode="bilinear",
                           align_corners=False, antialias=True)
    assert ours.shape == (1, 3, *size)
    np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-4)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((4, 4), np.float32), "expected a float32 (H, W, 3) RGB array, got (4, 4)"),
    (np.zeros((4, 4, 3), np.uint8), "expected float pixels in [0, 1], got dtype uint8"),
])
def test_check_image_says_what_it_got(bad, message):
    with pytest.raises(BadInput, match=re.escape(message)):
        check_image(bad)


def test_conventions_validate_with_key_names():
    with pytest.raises(BadInput, match="input_layout: expected one of NCHW, NHWC, got 'NWHC'"):
        InputConventions().with_overrides({"input_layout": "nwhc"})
    with pytest.raises(BadInput, match="mean and std must be given together"):
        InputConventions(mean=(0.5, 0.5, 0.5))
    scaled = InputConventions(mean=(127.5,) * 3, std=(127.5,) * 3).scaled_mean_std()
    assert scaled == ((0.5,) * 3, (0.5,) * 3)


def test_device_path_matches_the_cpu_path():
    # The CUDA branch (dense banded interpolation, torch softmax) run here on CPU tensors.
    from regionstyle.segment.postprocess import _on_device

    scores = torch.randn(7, 30, 20)
    cpu = scores_to_segmentation(scores, size=(200, 90), output="logits", channel_axis=0,
                                 class_names=tuple("abcdefg"), vocabulary="custom", source="t")
    dev = _on_device(scores.permute(1, 2, 0), size=(200, 90), output="logits", channel_axis=2,
                     class_names=tuple("abcdefg"), vocabulary="custom", source="t")
    assert (dev.labels == cpu.labels).mean() > 0.9999
    np.testing.assert_allclose(dev.probs, cpu.probs, atol=1e-6)
