"""Semantic matching: a ``match`` style reads the matching part of its painting, or all of it below 2%."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import maskrules
from regionstyle import optimize, pipeline
from regionstyle.config import make_config
from regionstyle.datatypes import LoadedImage, Segmentation
from regionstyle.rules import load_ruleset
from regionstyle.session import Session
from regionstyle.style import matching
from regionstyle.style.exemplars import detail_weights, exemplar
from regionstyle.style.targets import StyleSource, style_target

ADE = maskrules.get_vocabulary("ade20k")
SKY, BUILDING, TREE = 3, 2, 5


class FakeSegmenter:
    """Labels a painting: its first ``sky_pixels`` pixels (row by row) sky, the rest building (ade20k ids);
    counts its calls."""

    def __init__(self, sky_pixels: int) -> None:
        self.sky_pixels, self.calls = sky_pixels, 0

    def segment(self, images):
        self.calls += 1
        labels = np.full(images[0].shape[:2], BUILDING, np.int32)
        labels.reshape(-1)[:self.sky_pixels] = SKY
        return [Segmentation(labels=labels, class_names=ADE.classes, vocabulary="ade20k", source="fake")]


def _scene(tmp_path: Path) -> tuple[np.ndarray, Path, Path]:
    rng = np.random.default_rng(0)
    pixels = np.clip(rng.normal(0.5, 0.1, (48, 64, 3)), 0, 1).astype(np.float32)
    labels = np.full((48, 64), SKY, np.uint8)
    labels[20:] = BUILDING
    Image.fromarray(labels).save(tmp_path / "labels.png")
    painting = np.zeros((50, 40, 3), np.uint8)  # a blue, smooth top over a red, noisy bottom
    painting[:] = (rng.random((50, 40, 3)) * 255).astype(np.uint8)
    painting[:25] = (40, 60, 200) + (rng.random((25, 40, 3)) * 30).astype(np.uint8)
    Image.fromarray(painting).save(tmp_path / "painting.png")
    return pixels, tmp_path / "labels.png", tmp_path / "painting.png"


def _run(rules: str, tmp_path: Path, tiny_encoder, monkeypatch, session: Session):
    """The pipeline on the scene with the optimiser stubbed; returns (each scale's problem, the result)."""
    pixels, labels, _ = _scene(tmp_path)
    problems = []

    def fake_scale(image, problem, encoder, *, config, iterations, report):
        problems.append(problem)
        return image

    monkeypatch.setattr(optimize, "run_scale", fake_scale)
    ruleset = load_ruleset(f'[segmentation]\nclasses = "ade20k"\n{rules}\n')
    config = make_config(ruleset.defaults, iterations=2, device="cpu", precision="fp32", coarse_start=64)
    result = pipeline.run(LoadedImage(pixels=pixels), ruleset, config, labels=labels, session=session)
    return problems, result


def _expected(painting: Path, mask: torch.Tensor | None, tiny_encoder, long_side: int, crop=None):
    encoder, plan = tiny_encoder
    leaf = maskrules.StyleRef(kind="image", name="p", image=painting, crop=crop)
    image = exemplar(leaf)
    weights = detail_weights(image) if mask is None else mask  # a fallback reads the whole painting's detail
    source = StyleSource(key="independent", images=(image,), weights=(1.0,), masks=(weights,))
    return style_target(source, encoder, tuple(t for t, _ in plan.style), content_long_side=long_side,
                        device=torch.device("cpu"))


@pytest.mark.parametrize("match", ['"sky"', "true", '"heavens"'])
def test_the_target_is_that_of_the_paintings_matching_part(tmp_path, tiny_encoder, monkeypatch, match) -> None:
    painting = tmp_path / "painting.png"
    segmenter = FakeSegmenter(sky_pixels=800)
    rules = f'[groups]\nheavens = ["sky"]\n[map]\nsky = {{ image = "{painting}", match = {match} }}'
    problems, result = _run(rules, tmp_path, tiny_encoder, monkeypatch, Session(custom_encoder=tiny_encoder,
                                                                                custom_segmenter=segmenter))
    sky = torch.zeros(50, 40)
    sky[:20] = 1.0
    got = problems[-1].regions[0].target
    part, whole = (_expected(painting, mask, tiny_encoder, 64) for mask in (sky, None))
    for tap in got.taps:
        assert torch.allclose(got.taps[tap].gram, part.taps[tap].gram, rtol=1e-5, atol=1e-7)
        assert not torch.allclose(got.taps[tap].gram, whole.taps[tap].gram, rtol=1e-2)
    assert torch.allclose(got.color_mean, part.color_mean, atol=1e-6)
    row = result.report["matches"]["sky"][0]
    assert row["used"] == "matched part" and row["share"] == pytest.approx(20 / 50)


@pytest.mark.parametrize("crop", [None, (0.0, 0.2, 1.0, 1.0)], ids=["whole", "cropped"])
def test_a_painting_label_map_is_used_instead_of_the_segmenter(tmp_path, tiny_encoder, monkeypatch, crop) -> None:
    """``labels`` on the painting: its sky (the top 20 of 50 rows) is read from the user's map, drawn at twice
    the painting's size, cropped as the painting is; the segmenter (which finds no sky) never runs."""
    painting = tmp_path / "painting.png"
    painted = np.full((100, 80), BUILDING, np.uint8)
    painted[:40] = SKY
    Image.fromarray(painted).save(tmp_path / "painting_labels.png")
    segmenter = FakeSegmenter(sky_pixels=0)
    crop_key = "" if crop is None else f", crop = {list(crop)}"
    rules = (f'[map]\nsky = {{ image = "{painting}", match = "sky", labels = "{tmp_path / "painting_labels.png"}"'
             f'{crop_key} }}')
    problems, result = _run(rules, tmp_path, tiny_encoder, monkeypatch,
                            Session(custom_encoder=tiny_encoder, custom_segmenter=segmenter))
    rows = 50 if crop is None else 40  # the crop cuts the top 10 rows, half of the sky
    sky = torch.zeros(rows, 40)
    sky[:20 - (50 - rows)] = 1.0
    got, want = problems[-1].regions[0].target, _expected(painting, sky, tiny_encoder, 64, crop=crop)
    assert all(torch.allclose(got.taps[t].gram, want.taps[t].gram, rtol=1e-5, atol=1e-7) for t in got.taps)
    assert segmenter.calls == 0
    row = result.report["matches"]["sky"][0]
    assert row["share"] == pytest.approx((20 - (50 - rows)) / rows) and row["labels"] == "painting_labels.png"
    if crop is None:  # explain names the map, so a user sees that theirs was read
        from regionstyle.cli.explain import render

        pixels, labels, _ = _scene(tmp_path)
        report, _, _ = pipeline.explain(pixels, load_ruleset(f'[segmentation]\nclasses = "ade20k"\n{rules}\n'),
                                        labels=labels, device="cpu", session=Session(custom_segmenter=segmenter))
        assert "match sky: 40.0% of painting.png (by the label map painting_labels.png) is used" in render(report)


def test_match_true_takes_the_regions_own_classes(tmp_path, tiny_encoder, monkeypatch) -> None:
    painting = tmp_path / "painting.png"
    rules = f'[map]\nbuilding = {{ image = "{painting}", match = true }}'
    problems, result = _run(rules, tmp_path, tiny_encoder, monkeypatch,
                            Session(custom_encoder=tiny_encoder, custom_segmenter=FakeSegmenter(sky_pixels=800)))
    building = torch.zeros(50, 40)
    building[20:] = 1.0
    got, want = problems[-1].regions[0].target, _expected(painting, building, tiny_encoder, 64)
    assert all(torch.allclose(got.taps[t].gram, want.taps[t].gram, rtol=1e-5, atol=1e-7) for t in got.taps)
    assert result.report["matches"]["building"][0]["share"] == pytest.approx(30 / 50)


@pytest.mark.parametrize(("sky_pixels", "falls_back"), [(0, True), (30, True), (40, False)])  # of 2000: 0, 1.5, 2%
def test_below_two_percent_the_whole_painting_is_used_with_a_warning(tmp_path, tiny_encoder, monkeypatch, caplog,
                                                                     sky_pixels, falls_back) -> None:
    painting = tmp_path / "painting.png"
    rules = f'[styles]\nstarry = {{ image = "{painting}", match = "sky" }}\n[map]\nsky = "starry"'
    session = Session(custom_encoder=tiny_encoder, custom_segmenter=FakeSegmenter(sky_pixels=sky_pixels))
    with caplog.at_level(logging.WARNING, logger="regionstyle.style.matching"):
        problems, result = _run(rules, tmp_path, tiny_encoder, monkeypatch, session)
    share = sky_pixels / 2000
    assert (share < matching.MIN_SHARE) == falls_back
    got = problems[-1].regions[0].target
    mask = None if falls_back else (torch.arange(2000) < sky_pixels).float().reshape(50, 40)
    want = _expected(painting, mask, tiny_encoder, 64)
    assert all(torch.allclose(got.taps[t].gram, want.taps[t].gram, rtol=1e-5, atol=1e-7) for t in got.taps)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    if falls_back:
        assert warnings == [f"style 'starry': 'sky' covers {share:.1%} of painting.png (under 2%); using the "
                            "whole painting instead"]
        assert result.report["matches"]["sky"][0]["used"] == "whole painting"
    else:
        assert not warnings


def test_a_session_segments_each_painting_once(tmp_path, tiny_encoder, monkeypatch) -> None:
    painting = tmp_path / "painting.png"
    segmenter = FakeSegmenter(sky_pixels=800)
    session = Session(custom_encoder=tiny_encoder, custom_segmenter=segmenter)
    rules = (f'[map]\nsky = {{ image = "{painting}", match = "sky" }}\n'
             f'building = {{ blend = {{ "{painting}" = 1, mosaic = 1 }} }}\n'
             f'tree = {{ layers = {{ fine = "oil", coarse = {{ image = "{painting}", match = true }} }} }}')
    for _ in range(2):
        _run(rules, tmp_path, tiny_encoder, monkeypatch, session)
    assert segmenter.calls == 1 and len(session.paintings) == 1


def test_matched_leaves_are_found_through_blends_and_layers(tmp_path) -> None:
    (tmp_path / "p.png").write_bytes(b"")
    ruleset = load_ruleset(f'[styles]\nm = {{ image = "{tmp_path / "p.png"}", match = "sky" }}\n'
                           '[map]\nsky = { layers = { fine = "oil", coarse = { blend = { m = 1, pencil = 1 } } } }\n'
                           f'tree = "{tmp_path / "p.png"}"\n')
    assert [leaf.name for leaf in matching.matched_leaves(ruleset.rules[0].style)] == ["m"]
    assert matching.matched_leaves(ruleset.rules[1].style) == []


def test_explain_says_which_share_of_the_painting_each_region_reads(tmp_path, monkeypatch) -> None:
    pixels, labels, painting = _scene(tmp_path)
    ruleset = load_ruleset(f'[segmentation]\nclasses = "ade20k"\n[map]\n'
                           f'sky = {{ image = "{painting}", match = "sky" }}\nbuilding = "oil"\n')
    session = Session(custom_segmenter=FakeSegmenter(sky_pixels=40))
    report, _, _ = pipeline.explain(pixels, ruleset, labels=labels, device="cpu", session=session)
    rows = {row["region"]: row for row in report["regions"]}
    assert rows["sky"]["matches"] == [{"style": "painting.png", "painting": "painting.png", "match": ["sky"],
                                       "share": 0.02, "used": "matched part", "labels": None}]
    assert "matches" not in rows["building"]
    from regionstyle.cli.explain import render

    assert "match sky: 2.0% of painting.png is used" in render(report)
    fallback, _, _ = pipeline.explain(pixels, ruleset, labels=labels, device="cpu",
                                      session=Session(custom_segmenter=FakeSegmenter(sky_pixels=39)))
    assert "match sky: 1.9% of painting.png under 2%: the whole painting is used" in render(fallback)
