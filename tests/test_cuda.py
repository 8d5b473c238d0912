"""On a CUDA GPU: the defaults pick it, the models live on it, and the pipeline's promises hold there too.

Skipped without CUDA (CI has none); run on a GPU machine with ``pytest tests/test_cuda.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from regionstyle import pipeline
from regionstyle.config import make_config
from regionstyle.datatypes import LoadedImage
from regionstyle.rules import load_ruleset
from regionstyle.session import Session, resolve_device
from regionstyle.style import gram as gram_stats
from tests.paths import SAMPLES
from tests.scenes import RULES, three_region_scene

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")

def _run(tmp_path, device, *, session, **options):
    pixels, labels, label_file = three_region_scene(tmp_path, scale=2)
    ruleset = load_ruleset(RULES)
    # optimize_builtins: the built-ins go through the optimiser, which is what runs on the GPU.
    config = make_config(ruleset.defaults, iterations=12, device=device, optimize_builtins=True, **options)
    return pixels, labels, pipeline.run(LoadedImage(pixels=pixels), ruleset, config, labels=label_file,
                                        session=session)


def test_auto_is_cuda_and_the_bundled_encoder_runs_there():
    assert resolve_device("auto").type == "cuda"
    network, _, why = Session().encoder(make_config(encoder="auto"), resolve_device("auto"))
    assert next(network.parameters()).device.type == "cuda"
    assert "MobileNetV2" in why or "mobilenet" in why.lower()


@pytest.mark.parametrize("options", [dict(precision="fp32"), dict(precision="bf16"),
                                     dict(precision="bf16", style_loss="w2"),
                                     dict(precision="bf16", style_loss="sliced"),
                                     dict(precision="fp32", mask_mode="inside", style_loss="sliced")],
                         ids=["fp32", "bf16", "w2", "sliced", "inside"])
def test_keep_region_is_bit_identical_and_styled_regions_change_on_cuda(tmp_path, tiny_encoder, options):
    pixels, labels, result = _run(tmp_path, "cuda", session=Session(custom_encoder=tiny_encoder), **options)
    tree = labels == 5
    assert np.array_equal(result.image[tree], pixels[tree])
    for cls in (3, 2):
        region = labels == cls
        assert np.abs(result.image[region] - pixels[region]).mean() > 0.02
    assert np.isfinite(result.image).all() and result.image.dtype == np.float32


def test_cuda_and_cpu_give_the_same_picture(tmp_path, tiny_encoder):
    """fp32 on both: the GPU's result differs from the CPU's far less than either differs from the photo."""
    encoder, plan = tiny_encoder
    _, _, on_cpu = _run(tmp_path, "cpu", session=Session(custom_encoder=(encoder.cpu(), plan)), precision="fp32")
    pixels, _, on_gpu = _run(tmp_path, "cuda", session=Session(custom_encoder=tiny_encoder), precision="fp32")
    encoder.cpu()  # the session fixture is shared with CPU tests
    change = np.abs(on_cpu.image - pixels).mean()
    assert np.abs(on_gpu.image - on_cpu.image).mean() < 0.25 * change


def test_bundled_models_stylise_a_sample_on_cuda():
    """No label map: the bundled segmenter labels the sample, the bundled encoder stylises it on the GPU."""
    photo = np.asarray(Image.open(SAMPLES / "st_basils_cathedral.jpg").convert("RGB"), np.float32) / 255
    ruleset = load_ruleset('[map]\nsky = "watercolor"\nbuilding = "mosaic"\n')
    config = make_config(ruleset.defaults, size=192, iterations=10, optimize_builtins=True)
    result = pipeline.run(LoadedImage(pixels=photo), ruleset, config, session=Session())
    assert result.report["encoder"]["choice"] and np.isfinite(result.image).all()
    styled = result.masks.masks[[i for i, s in enumerate(result.masks.styled) if s]].sum(axis=0) > 0.99
    assert styled.any() and np.abs(result.image[styled] - result.photo[styled]).mean() > 0.02


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_masked_style_gradient_stays_inside_the_mask_on_cuda(dtype):
    features = torch.randn(16, 24, 24, device="cuda", requires_grad=True)
    mask = torch.zeros(24, 24, device="cuda")
    mask[:, :10] = 1
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        gram = gram_stats.masked_gram(features.to(dtype), mask.to(dtype))
        loss = gram_stats.gram_distance(gram.float(), torch.eye(16, device="cuda"))
    loss.backward()
    assert features.grad[:, :, 10:].abs().max() == 0
    assert features.grad[:, :, :10].abs().max() > 0
