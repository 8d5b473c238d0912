"""The segmenter registry, name lookup, and the ``auto`` choice."""

from __future__ import annotations

import pytest

from regionstyle import weights as weight_store
from regionstyle.errors import BadInput
from regionstyle.segment import build_segmenter, choose_segmenter, get_segmenter_info, list_segmenters


@pytest.fixture(autouse=True)
def empty_caches(offline_caches):
    return offline_caches


def test_registry_names_aliases_and_weights_line_up():
    infos = {info.name: info for info in list_segmenters()}
    assert {"deeplabv3_resnet50", "deeplabv3_resnet101", "deeplabv3_mobilenet_v3_large"} <= set(infos)
    assert {f"{d}-b{i}" for d in ("ade20k", "cityscapes") for i in range(6)} <= set(infos)
    assert get_segmenter_info("deeplabv3").name == "deeplabv3_resnet50"
    assert get_segmenter_info("ade20k").name == "ade20k-b2"
    assert get_segmenter_info("cityscapes").name == "cityscapes-b2"
    for info in infos.values():
        spec = weight_store.get_spec(info.weights)  # every segmenter's checkpoint is known to weights.py
        assert info.vocabulary in ("voc", "ade20k-150", "cityscapes")
        if spec.kind == "hf_hub":
            assert spec.hf_repo.startswith("smp-hub/segformer-b")
    assert weight_store.get_spec("ade20k-b5").hf_repo == "smp-hub/segformer-b5-640x640-ade-160k"
    assert weight_store.get_spec("cityscapes").hf_repo == "smp-hub/segformer-b2-1024x1024-city-160k"
    assert weight_store.torchvision_url(weight_store.get_spec("deeplabv3")).endswith(
        "deeplabv3_resnet50_coco-cd0a2569.pth")


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(BadInput) as info:
        build_segmenter("deeplab3")
    message = str(info.value)
    assert "unknown segmenter 'deeplab3'" in message
    assert "deeplabv3, deeplabv3_mobilenet_v3_large" in message and "ade20k-b0" in message
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


def test_auto_prefers_a_scene_vocabulary_that_knows_every_name():
    name, reason = choose_segmenter(["sky", "building", "tree", "*"])
    assert name == "ade20k-b2"
    assert "knows every class the rules name (sky, building, tree)" in reason
    assert "regionstyle weights fetch ade20k-b2" in reason


def test_auto_falls_back_to_voc_for_voc_only_names():
    name, reason = choose_segmenter(["dog", "person"])
    assert name == "deeplabv3_resnet50" and "vocabulary voc" in reason


def test_auto_with_no_full_cover_says_what_is_missing():
    name, reason = choose_segmenter(["sky", "unicorn"])
    assert name == "ade20k-b2" and "it lacks unicorn" in reason


def test_auto_prefers_a_cached_family_and_size(empty_caches):
    # person is known to all three families; only a small cityscapes checkpoint is cached.
    snapshot = empty_caches / "hf" / "hub" / "models--smp-hub--segformer-b0-1024x1024-city-160k"
    (snapshot / "snapshots" / "abc").mkdir(parents=True)
    for file_name in weight_store.HF_FILES:
        (snapshot / "snapshots" / "abc" / file_name).write_text("{}")
    (snapshot / "refs").mkdir()
    (snapshot / "refs" / "main").write_text("abc")
    name, reason = choose_segmenter(["person", "car"])
    assert name == "cityscapes-b0" and reason.endswith("its weights are cached")
    assert choose_segmenter(["person", "car"], prefer_cached=False)[0] == "ade20k-b2"


def test_a_label_map_wins(tmp_path):
    name, reason = choose_segmenter(["sky"], label_map=tmp_path / "labels.png")
    assert name == str(tmp_path / "labels.png") and "wins over any model" in reason
