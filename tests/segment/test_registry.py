"""The segmenter registry, name lookup, and the ``auto`` choice."""

from __future__ import annotations

import pytest

from regionstyle.weights import hf_hub
from regionstyle.errors import BadInput
from regionstyle.segment import build_segmenter, choose_segmenter, get_segmenter_info, list_segmenters


@pytest.fixture(autouse=True)
def empty_caches(offline_caches):
    return offline_caches


def test_registry_names_aliases_and_vocabularies_line_up():
    infos = {info.name: info for info in list_segmenters()}
    assert {"deeplabv3-ade20k", "deeplabv3_resnet50", "deeplabv3_resnet101", "deeplabv3_mobilenet_v3_large"} <= set(infos)
    assert {f"{d}-b{i}" for d in ("ade20k", "cityscapes") for i in range(6)} <= set(infos)
    assert get_segmenter_info("deeplabv3").name == "deeplabv3_resnet50"
    assert get_segmenter_info("bundled").name == "deeplabv3-ade20k"
    assert get_segmenter_info("ade20k").name == "ade20k-b2"
    assert get_segmenter_info("cityscapes").name == "cityscapes-b2"
    for info in infos.values():
        assert info.vocabulary in ("ade20k", "voc", "ade20k-150", "cityscapes")
        assert info.weights.name == info.name and info.size > 0


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(BadInput) as info:
        build_segmenter("deeplab3")
    message = str(info.value)
    assert "unknown segmenter 'deeplab3'" in message
    assert "bundled, cityscapes" in message and "deeplabv3-ade20k" in message and "ade20k-b0" in message
    assert "label map (.png)" in message


def test_auto_must_be_resolved_and_missing_paths_are_reported():
    with pytest.raises(BadInput, match="call choose_segmenter"):
        build_segmenter("auto")
    with pytest.raises(BadInput, match="model file not found: .*nowhere/model.tflite"):
        build_segmenter("nowhere/model.tflite")


def test_cuda_is_refused_when_absent(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(BadInput, match="device 'cuda' requested but CUDA is not available"):
        build_segmenter("deeplabv3_mobilenet_v3_large", device="cuda")


def _cache_snapshot(caches, repo):
    snapshot = caches / "hf" / "hub" / ("models--" + repo.replace("/", "--"))
    (snapshot / "snapshots" / "abc").mkdir(parents=True)
    for file_name in hf_hub.HF_FILES:
        (snapshot / "snapshots" / "abc" / file_name).write_text("{}")
    (snapshot / "refs").mkdir()
    (snapshot / "refs" / "main").write_text("abc")


def test_auto_runs_the_bundled_model_when_nothing_is_cached():
    name, reason = choose_segmenter(["sky", "building", "tree", "*"])
    assert name == "deeplabv3-ade20k"
    assert "knows every class the rules name (sky, building, tree)" in reason
    assert "the only segmenter available without a download" in reason


def test_auto_never_picks_a_model_that_would_download():
    # dog and tvmonitor are Pascal VOC classes only, but no VOC model is cached: the bundled one runs anyway.
    name, reason = choose_segmenter(["dog", "tvmonitor"])
    assert name == "deeplabv3-ade20k" and "not dog, tvmonitor" in reason


def test_auto_prefers_a_larger_cached_model_that_fits_as_well(empty_caches):
    _cache_snapshot(empty_caches, "smp-hub/segformer-b0-512x512-ade-160k")
    name, reason = choose_segmenter(["sky", "building"])
    assert name == "ade20k-b0" and "best fit of the 2 segmenters available without a download" in reason


def test_auto_prefers_the_model_that_knows_more_classes_over_a_larger_one(empty_caches):
    _cache_snapshot(empty_caches, "smp-hub/segformer-b5-1024x1024-city-160k")  # 339 MB, Cityscapes classes
    assert choose_segmenter(["sky", "car"])[0] == "cityscapes-b5"  # both know sky and car: the larger wins
    assert choose_segmenter(["sky", "painting"])[0] == "deeplabv3-ade20k"  # only ADE20K knows painting
