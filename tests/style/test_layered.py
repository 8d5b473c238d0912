"""Layered styles: the fine taps take the fine part's targets, the coarse taps the coarse part's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from regionstyle import optimize, pipeline
from regionstyle.config import make_config
from regionstyle.datatypes import LoadedImage
from regionstyle.encoder import LAYER_PLANS, LayerPlan
from regionstyle.optimize import ScaleWork, StyledRegion, build_problem
from regionstyle.rules import load_ruleset
from regionstyle.session import Session
from regionstyle.style.layered import merge_targets, split_taps
from regionstyle.style.targets import StyleSource

CPU = torch.device("cpu")


def _random_source(key: str, seed: int) -> StyleSource:
    image = torch.from_numpy(np.random.default_rng(seed).random((3, 40, 56), dtype=np.float32))
    return StyleSource(key=key, images=(image,), weights=(1.0,))


@pytest.mark.parametrize("name", sorted(LAYER_PLANS))
def test_the_split_is_the_shallower_half_of_each_plan(name: str) -> None:
    plan = LAYER_PLANS[name]
    taps = [tap for tap, _ in plan.style]
    assert plan.fine_taps == frozenset(taps[:len(taps) // 2]) and len(plan.fine_taps) >= 1
    fine, coarse = split_taps(tuple(taps), plan.fine_taps)
    assert fine + coarse == tuple(taps) and len(coarse) >= len(fine)
    if plan.fine is not None:  # the fine-scale sub-plan's taps are each fine or coarse as in the parent
        sub = tuple(tap for tap, _ in plan.fine.style)
        assert set(split_taps(sub, plan.fine_taps)[0]) == set(sub) & plan.fine_taps


def _problem(regions, tiny_encoder, plan: LayerPlan | None = None, fine_taps=None):
    encoder, own_plan = tiny_encoder
    content = torch.from_numpy(np.random.default_rng(9).random((3, 32, 48), dtype=np.float32))
    masks = torch.zeros(1, 32, 48)
    masks[0, 8:, :30] = 1.0
    config = make_config({}, device="cpu", precision="fp32")
    work = ScaleWork(content, masks, regions, encoder=encoder, plan=plan or own_plan, config=config, long_side=48,
                     target_cache={}, fine_taps=fine_taps)
    return build_problem(content, masks, regions, work=work)


def test_fine_taps_take_the_fine_style_and_coarse_taps_the_coarse_style(tiny_encoder) -> None:
    fine, coarse = _random_source("fine", 1), _random_source("coarse", 2)
    _, plan = tiny_encoder
    layered = _problem([StyledRegion("r", 0, fine, coarse=coarse)], tiny_encoder).regions[0].target
    alone = {key: _problem([StyledRegion("r", 0, source)], tiny_encoder).regions[0].target
             for key, source in (("fine", fine), ("coarse", coarse))}
    assert plan.fine_taps == {"relu1_1"}
    for tap, _ in plan.style:
        expected = alone["fine" if tap in plan.fine_taps else "coarse"].taps[tap].gram
        other = alone["coarse" if tap in plan.fine_taps else "fine"].taps[tap].gram
        assert torch.equal(layered.taps[tap].gram, expected)
        assert not torch.allclose(layered.taps[tap].gram, other, rtol=1e-2)  # the two styles really differ
    # colour moments are the fine part's
    assert torch.equal(layered.color_mean, alone["fine"].color_mean)
    assert torch.equal(layered.color_cov, alone["fine"].color_cov)


def test_a_fine_scale_sub_plan_keeps_its_parents_split(tiny_encoder) -> None:
    fine, coarse = _random_source("fine", 1), _random_source("coarse", 2)
    sub = LayerPlan(style=(("relu1_1", 1.0), ("relu2_1", 1.0)), content="relu2_1")  # its own split: relu1_1
    split = frozenset({"relu1_1", "relu2_1"})  # the parent's: both fine
    target = _problem([StyledRegion("r", 0, fine, coarse=coarse)], tiny_encoder, plan=sub,
                      fine_taps=split).regions[0].target
    alone = _problem([StyledRegion("r", 0, fine)], tiny_encoder, plan=sub).regions[0].target
    assert all(torch.equal(target.taps[tap].gram, alone.taps[tap].gram) for tap in ("relu1_1", "relu2_1"))


def test_merge_without_coarse_taps_is_the_fine_target(tiny_encoder) -> None:
    target = _problem([StyledRegion("r", 0, _random_source("fine", 1))], tiny_encoder).regions[0].target
    assert merge_targets(target, None) is target


def _scene(tmp_path: Path) -> tuple[np.ndarray, Path, Path]:
    rng = np.random.default_rng(0)
    pixels = np.zeros((48, 64, 3), np.float32)
    pixels[:20] = [0.4, 0.6, 0.9]
    pixels[20:] = [0.7, 0.5, 0.4]
    pixels = np.clip(pixels + rng.normal(0, 0.05, pixels.shape), 0, 1).astype(np.float32)
    labels = np.full((48, 64), 3, np.uint8)  # ade20k: 3 sky, 2 building
    labels[20:] = 2
    Image.fromarray(labels).save(tmp_path / "labels.png")
    Image.fromarray((rng.random((36, 52, 3)) * 255).astype(np.uint8)).save(tmp_path / "painting.png")
    return pixels, tmp_path / "labels.png", tmp_path / "painting.png"


def _captured(rules: str, tmp_path: Path, tiny_encoder, monkeypatch, **settings) -> tuple[list, list]:
    """Run the pipeline on the scene; returns each scale's (problem, start image)."""
    pixels, labels, _ = _scene(tmp_path)
    problems, starts = [], []

    def fake_scale(image, problem, encoder, *, config, iterations, report):
        problems.append(problem)
        starts.append(image.clone())
        return image

    monkeypatch.setattr(optimize, "run_scale", fake_scale)
    ruleset = load_ruleset(f'[segmentation]\nclasses = "ade20k"\n[map]\n{rules}\n')
    config = make_config(ruleset.defaults, iterations=2, device="cpu", precision="fp32", coarse_start=32,
                         **settings)
    pipeline.run(LoadedImage(pixels=pixels), ruleset, config, labels=labels,
                 session=Session(custom_encoder=tiny_encoder))
    return problems, starts


def test_a_layered_rule_in_the_pipeline(tmp_path, tiny_encoder, monkeypatch) -> None:
    painting = tmp_path / "painting.png"
    fine_rule = 'building = { builtin = "mosaic", tile = 6 }'
    layered, layered_starts = _captured(f'building = {{ layers = {{ fine = {{ builtin = "mosaic", tile = 6 }}, '
                                        f'coarse = "{painting}" }} }}', tmp_path, tiny_encoder, monkeypatch)
    # Optimised, not laid in as rendered, so that it has a start at every scale to compare with.
    fine, fine_starts = _captured(fine_rule, tmp_path, tiny_encoder, monkeypatch, optimize_builtins=True)
    coarse, coarse_starts = _captured(f'building = "{painting}"', tmp_path, tiny_encoder, monkeypatch)
    _, plan = tiny_encoder
    assert len(layered) == len(fine) == len(coarse) == 2  # two scales: 32 and 64 px
    for with_layers, alone_fine, alone_coarse in zip(layered, fine, coarse):
        got, want_fine, want_coarse = (p.regions[0].target for p in (with_layers, alone_fine, alone_coarse))
        for tap, _ in plan.style:
            want = want_fine if tap in plan.fine_taps else want_coarse
            assert torch.equal(got.taps[tap].gram, want.taps[tap].gram)
    # The start is the fine part's rendering (mosaic), not the painting's recoloured photo.
    assert torch.equal(layered_starts[0], fine_starts[0]) and not torch.equal(layered_starts[0], coarse_starts[0])
    # At the finer scale the rendering is not laid back whole over the building (that erased the coarse
    # part's work), only its detail; the sky, styled by neither rule, starts the same in both.
    # The second scale is the scene's own 48x64: building rows 20-47, sky 0-19 (compared clear of the border).
    assert not torch.equal(layered_starts[1][..., 28:, :], fine_starts[1][..., 28:, :])
    assert torch.equal(layered_starts[1][..., :12, :], fine_starts[1][..., :12, :])


def _blobs(seed: int, size: int = 64) -> torch.Tensor:
    """(1, 3, size, size) smooth colour blobs: no detail finer than about 16 px."""
    coarse = torch.rand(1, 3, size // 16, size // 16, generator=torch.Generator().manual_seed(seed))
    return torch.nn.functional.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)


def _grout(size: int = 64) -> torch.Tensor:
    """(1, 3, size, size) grey tiles with one-pixel dark joints every 6 px: all detail."""
    tiles = torch.full((1, 3, size, size), 0.6)
    tiles[..., ::6, :] = 0.1
    tiles[..., :, ::6] = 0.1
    return tiles


def test_a_detail_lay_in_keeps_the_coarse_image_and_takes_the_renderings_fine_detail() -> None:
    image, rendering = _blobs(1), _grout()
    weight = torch.zeros(64, 64)
    weight[:, 32:] = 1.0
    laid = optimize._lay_in_detail(image, (rendering[0], weight), (64, 64), sigma=2.0)
    assert torch.equal(laid[..., :, :24], image[..., :, :24])  # no weight (and out of the blur's reach)
    inside = (..., slice(None), slice(40, None))
    # The joints show where the rendering has them ...
    joints = laid[inside][..., ::6, :].mean() - laid[inside][..., 3::6, 3::6].mean()
    assert joints < -0.2
    # ... while the blobs underneath stay: blurred, the result is much closer to the image than the
    # rendering laid whole (the blob colours would be gone) is.
    blur = lambda x: torch.nn.functional.avg_pool2d(x, 6)
    whole = optimize._lay_in(image, (rendering[0], weight), (64, 64))
    kept = (blur(laid[inside]) - blur(image[inside])).abs().mean()
    assert kept < 0.25 * (blur(whole[inside]) - blur(image[inside])).abs().mean()


def test_a_detail_lay_in_of_a_rendering_without_detail_changes_nothing_much() -> None:
    image, flat = _blobs(2), torch.full((3, 64, 64), 0.5)
    laid = optimize._lay_in_detail(image, (flat, torch.ones(64, 64)), (64, 64), sigma=2.0)
    # The blobs have no detail of their own either: nothing is taken away or added.
    assert (laid - image).abs().max() < 0.05
