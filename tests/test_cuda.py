"""On a CUDA GPU: the defaults pick it, the models live on it, and the pipeline's promises hold there too.

Skipped without CUDA (CI has none); run on a GPU machine with ``pytest tests/test_cuda.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from regionstyle import pipeline
from regionstyle.config import make_config
from regionstyle.datatypes import LoadedImage
from regionstyle.rules import load_ruleset
from regionstyle.optimize import eager_evaluation
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


def _mobilenet_problem(style_loss: str = "gram"):
    """The bundled MobileNetV2 on the GPU (its blur kernels too) and a two-region scale problem with edges."""
    from regionstyle.optimize import ScaleWork, StyledRegion
    from regionstyle.style.targets import StyleSource

    device = torch.device("cuda")
    config = make_config(encoder="auto", precision="fp32", edge_weight=10.0)
    encoder, plan, _ = Session().encoder(config, device)
    g = torch.Generator().manual_seed(0)
    content = torch.rand(3, 12, 16, generator=g)
    content = torch.nn.functional.interpolate(content[None], size=(96, 128), mode="bicubic")[0].clamp(0, 1)
    masks = torch.zeros(2, 96, 128)
    masks[0, :40], masks[1, 40:] = 1, 1
    textures = [torch.rand(3, 128, 128, generator=g) for _ in range(2)]
    regions = [StyledRegion(f"r{i}", i, StyleSource(f"t{i}", (texture,), (1.0,)), style_loss=style_loss)
               for i, texture in enumerate(textures)]
    work = ScaleWork(content.to(device), masks.to(device), regions, encoder=encoder, plan=plan, config=config,
                     long_side=128, target_cache=None)
    return work.problem(), encoder, content.to(device)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_graphed_evaluation_gives_the_eager_loss_and_gradient(precision):
    """The first call warms up and captures; later ones replay the graph on new pixels. Each gives what an
    eager evaluation of the same pixels gives (bfloat16: within its rounding)."""
    from regionstyle.cuda_graph import GraphedEvaluation
    from regionstyle.optimize import autocast_dtype

    problem, encoder, content = _mobilenet_problem()
    assert problem.edges is not None
    dtype = autocast_dtype(precision, content.device)
    eager = eager_evaluation(problem, encoder, dtype)
    graphed = GraphedEvaluation(problem, encoder, autocast_dtype=dtype, fallback=eager)
    tolerance = 1e-4 if precision == "fp32" else 2e-2
    totals = []
    for step in range(3):
        pixels = (content + 0.2 * step * torch.rand_like(content)).clamp(0, 1)[None]
        graph_pixels, eager_pixels = pixels.clone().requires_grad_(True), pixels.clone().requires_grad_(True)
        loss, terms = graphed(graph_pixels)
        eager_loss, eager_terms = eager(eager_pixels)
        assert graphed.graph is not None and not graphed.failed
        assert abs(float(loss) - float(eager_loss.detach())) <= tolerance * float(eager_loss.detach())
        for name, value in eager_terms.items():
            assert abs(terms[name] - value) <= tolerance * abs(value) + 1e-7, name
        gap = (graph_pixels.grad - eager_pixels.grad).norm() / eager_pixels.grad.norm()
        assert gap < tolerance * 10
        totals.append(float(loss))
    assert len(set(totals)) == 3  # each replay computed its own pixels' loss


def test_a_capture_that_fails_leaves_the_scale_to_eager_evaluations(monkeypatch):
    """A read-back during capture (what w2 and sliced do) makes capture fail: a warning, then eager."""
    from regionstyle import cuda_graph

    problem, encoder, content = _mobilenet_problem()
    real = cuda_graph.loss_terms

    def reads_back(*args, **kwargs):
        terms = real(*args, **kwargs)
        float(terms["total"].detach())  # a synchronisation, illegal while a stream is captured
        return terms

    monkeypatch.setattr(cuda_graph, "loss_terms", reads_back)
    eager = eager_evaluation(problem, encoder, None)
    graphed = cuda_graph.GraphedEvaluation(problem, encoder, autocast_dtype=None, fallback=eager)
    for step in range(2):
        pixels = (content + 0.1 * step)[None].clamp(0, 1)
        graph_pixels, eager_pixels = pixels.clone().requires_grad_(True), pixels.clone().requires_grad_(True)
        loss, _ = graphed(graph_pixels)
        eager_loss, _ = eager(eager_pixels)
        assert graphed.failed and graphed.graph is None
        assert math.isclose(float(loss.detach()), float(eager_loss.detach()), rel_tol=1e-5)
        # The first step's gradient is the warm-up's, run on a side stream: float32 sums in another order
        # (one element of 36,864 off by 3e-7 on an H200, 2026-11-27), so the floor scales with the gradient.
        scale = float(eager_pixels.grad.abs().max())
        torch.testing.assert_close(graph_pixels.grad, eager_pixels.grad, rtol=1e-4, atol=1e-4 * scale)


@pytest.mark.parametrize("style_loss", ["gram", "sliced"])
def test_the_pipeline_replays_gram_scales_as_graphs(tmp_path, tiny_encoder, monkeypatch, style_loss):
    replays = []
    real = torch.cuda.CUDAGraph.replay
    monkeypatch.setattr(torch.cuda.CUDAGraph, "replay", lambda graph: replays.append(1) or real(graph))
    _run(tmp_path, "cuda", session=Session(custom_encoder=tiny_encoder), precision="bf16", style_loss=style_loss)
    assert (len(replays) > 10) == (style_loss == "gram")


@pytest.mark.parametrize("bundled", [True, False], ids=["mobilenet", "other"])
def test_cudnn_is_off_while_mobilenet_optimises_and_as_it_was_after(tmp_path, tiny_encoder, monkeypatch, bundled):
    """cuDNN's first call per input size cost seconds with MobileNetV2 (benchmarks/README.md)."""
    from regionstyle import optimize

    seen = []
    real = optimize.build_problem
    monkeypatch.setattr(optimize, "build_problem",
                        lambda *a, **k: seen.append(torch.backends.cudnn.enabled) or real(*a, **k))
    session = Session() if bundled else Session(custom_encoder=tiny_encoder)
    _run(tmp_path, "cuda", session=session, precision="bf16", encoder="auto")
    assert seen and set(seen) == {not bundled}
    assert torch.backends.cudnn.enabled


def test_the_pixel_pyramid_on_cuda_gives_the_cpus_levels_and_image():
    """L-BFGS moves the pyramid's levels on the GPU: the decomposition with a border band is the CPU's, and
    composes back to the image; the projection keeps it in [0, 1]."""
    from regionstyle.pyramid import PixelPyramid, border_weight

    generator = torch.Generator().manual_seed(5)
    image = torch.rand(1, 3, 96, 128, generator=generator) * 1.4 - 0.2
    masks = [torch.zeros(96, 128), torch.zeros(96, 128)]
    masks[0][:40], masks[1][40:] = 1, 1
    on_cpu = PixelPyramid(image, levels=3, coarse_weight=border_weight(masks, band=4))
    on_gpu = PixelPyramid(image.cuda(), levels=3,
                          coarse_weight=border_weight([mask.cuda() for mask in masks], band=4))
    for cpu_level, gpu_level in zip(on_cpu.variables, on_gpu.variables):
        torch.testing.assert_close(gpu_level.cpu(), cpu_level, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(on_gpu.image().cpu(), image, atol=1e-5, rtol=1e-5)
    clamped = on_gpu.clamp_()
    assert clamped.device.type == "cuda" and clamped.min() >= 0 and clamped.max() <= 1
