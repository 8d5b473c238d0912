"""Checkpoints in regionstyle.weights: hub caches, status rows, fetch offline, hash checks, bundled files."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest
import torch

from regionstyle.cli.tools import known_weights
from regionstyle.errors import WeightsUnavailable
from regionstyle.segment.registry import REGISTRY, get_segmenter_info
from regionstyle.weights import cache, hf_hub, status, torch_hub
from regionstyle.weights.bundled import BUNDLED_ENCODER, BUNDLED_SEGMENTER, bundled_file


def spec(name):
    return get_segmenter_info(name).weights


def fake_snapshot(cache, repo, payload: bytes = b"weights"):
    folder = cache / ("models--" + repo.replace("/", "--"))
    snapshot = folder / "snapshots" / "c0ffee"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text('{"_model_class": "Segformer"}')
    (snapshot / "model.safetensors").write_bytes(payload)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text("c0ffee")
    return snapshot


@pytest.fixture
def env(offline_caches, monkeypatch):
    """The monkeypatch of a test whose caches are empty and whose hub is offline."""
    return monkeypatch


def test_hub_cache_follows_the_environment_at_call_time(env, tmp_path):
    assert cache.hf_hub_cache() == tmp_path / "hf" / "hub"
    env.setenv("HF_HUB_CACHE", str(tmp_path / "elsewhere"))
    assert cache.hf_hub_cache() == tmp_path / "elsewhere"
    env.setenv("REGIONSTYLE_HOME", str(tmp_path / "project"))
    assert cache.hf_cache_candidates() == [tmp_path / "project" / "huggingface", tmp_path / "elsewhere"]


def test_status_reports_cached_rows_with_size_and_source(env, tmp_path):
    fake_snapshot(tmp_path / "hf" / "hub", "smp-hub/segformer-b0-512x512-ade-160k", b"x" * 1234)
    torch_file = torch_hub.cache_candidates(spec("deeplabv3_resnet101"))[-1]
    torch_file.parent.mkdir(parents=True)
    torch_file.write_bytes(b"y" * 99)
    rows = {row.name: row for row in status.status(known_weights().values())}
    assert rows["ade20k-b0"].cached and rows["ade20k-b0"].size_bytes == 1234
    assert rows["ade20k-b0"].source == "https://huggingface.co/smp-hub/segformer-b0-512x512-ade-160k"
    assert rows["deeplabv3_resnet101"].cached and rows["deeplabv3_resnet101"].size_bytes == 99
    assert rows["deeplabv3_resnet101"].path == torch_file
    assert not rows["ade20k-b2"].cached and rows["ade20k-b2"].path is None
    assert status.is_cached(spec("ade20k-b0")) and not status.is_cached(spec("ade20k"))
    assert rows["deeplabv3-ade20k"].cached and rows["deeplabv3-ade20k"].kind == "bundled"
    assert rows["mobilenet_v2"].cached and rows["vgg19"].cached is False


def test_project_cache_is_searched_first(env, tmp_path):
    env.setenv("REGIONSTYLE_HOME", str(tmp_path / "project"))
    snapshot = fake_snapshot(tmp_path / "project" / "huggingface", "smp-hub/segformer-b2-1024x1024-city-160k")
    assert hf_hub.hf_cached_snapshot(spec("cityscapes")) == snapshot


def test_the_repository_folder_is_huggingface_hubs_own():
    from huggingface_hub.file_download import repo_folder_name

    for info in REGISTRY.values():
        if info.weights.hf_repo:
            assert hf_hub.repo_folder(info.weights.hf_repo) == repo_folder_name(repo_id=info.weights.hf_repo,
                                                                                repo_type="model")


def test_an_empty_cache_is_answered_without_importing_huggingface_hub(env, tmp_path):
    """Every automatic segmenter choice asks about each hub model: importing huggingface_hub to learn that
    nothing is cached cost 0.28 s of a 5 s preview. A cached snapshot is still found (the test above)."""
    code = ("import sys; from regionstyle.segment.registry import REGISTRY; "
            "from regionstyle.weights import hf_hub; "
            "found = [hf_hub.hf_cached_snapshot(i.weights) for i in REGISTRY.values() if i.weights.hf_repo]; "
            "print(found.count(None), len(found), 'huggingface_hub' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    missing, total, imported = result.stdout.split()
    assert int(total) > 0 and missing == total and imported == "False"


def test_fetch_offline_is_one_actionable_error(env, tmp_path):
    with pytest.raises(WeightsUnavailable) as info:
        status.fetch(spec("ade20k-b1"))  # fetch() dispatches hub entries too
    message = str(info.value)
    assert "HF_HUB_OFFLINE is set" in message and "smp-hub/segformer-b1-512x512-ade-160k" in message
    assert "regionstyle weights fetch ade20k-b1" in message


def test_fetch_returns_an_existing_snapshot_without_network(env, tmp_path):
    snapshot = fake_snapshot(tmp_path / "hf" / "hub", "smp-hub/segformer-b3-512x512-ade-160k")
    assert status.fetch(spec("ade20k-b3")) == snapshot


def test_download_failure_becomes_weights_unavailable(env, monkeypatch):
    import huggingface_hub

    env.delenv("HF_HUB_OFFLINE")
    env.delenv("REGIONSTYLE_OFFLINE")
    env.setattr(hf_hub, "check_reachable", lambda url: None)  # the probe is tested against a real server elsewhere

    def unreachable(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", unreachable)
    with pytest.raises(WeightsUnavailable, match="download failed: network is unreachable"):
        hf_hub.fetch_hf(spec("cityscapes-b0"), progress=False)


def test_corrupt_lfs_blob_is_detected_and_removed(tmp_path):
    payload = b"model bytes"
    blob = tmp_path / "blobs" / hashlib.sha256(payload).hexdigest()
    blob.parent.mkdir()
    blob.write_bytes(payload)
    hf_hub.verify_blob(blob)  # intact: no error
    blob.write_bytes(b"tampered")
    with pytest.raises(WeightsUnavailable, match="failed its sha256 check"):
        hf_hub.verify_blob(blob)
    assert not blob.exists()


def test_hub_checkpoint_loads_safetensors_and_config(env, tmp_path):
    from safetensors.torch import save_file

    snapshot = fake_snapshot(tmp_path / "hf" / "hub", "smp-hub/segformer-b4-512x512-ade-160k")
    save_file({"w": torch.arange(3.0)}, str(snapshot / "model.safetensors"))
    checkpoint = hf_hub.load_hf_checkpoint(spec("ade20k-b4"))
    assert checkpoint.config == {"_model_class": "Segformer"}
    assert torch.equal(checkpoint.state_dict["w"], torch.arange(3.0))


def test_fetch_downloads_both_files_into_the_cache_and_checks_the_lfs_hash(env, monkeypatch, tmp_path):
    import huggingface_hub

    env.delenv("HF_HUB_OFFLINE")
    env.delenv("REGIONSTYLE_OFFLINE")
    env.setattr(hf_hub, "check_reachable", lambda url: None)
    calls = []

    def fake_download(repo, file_name, *, cache_dir, endpoint=None):
        """Mimic huggingface_hub's layout: blobs/<sha256> for LFS files, symlinked from the snapshot."""
        calls.append((repo, file_name, cache_dir))
        payload = b"{}" if file_name == "config.json" else b"safetensors bytes"
        folder = cache_dir / ("models--" + repo.replace("/", "--"))
        name = "0" * 40 if file_name == "config.json" else hashlib.sha256(payload).hexdigest()
        (folder / "blobs").mkdir(parents=True, exist_ok=True)
        (folder / "blobs" / name).write_bytes(payload)
        link = folder / "snapshots" / "abc" / file_name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(folder / "blobs" / name)
        (folder / "refs").mkdir(exist_ok=True)
        (folder / "refs" / "main").write_text("abc")
        return str(link)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    snapshot = status.fetch(spec("cityscapes-b1"), progress=False)
    assert [c[1] for c in calls] == ["config.json", "model.safetensors"]
    assert calls[0][0] == "smp-hub/segformer-b1-1024x1024-city-160k" and calls[0][2] == tmp_path / "hf" / "hub"
    assert snapshot == hf_hub.hf_cached_snapshot(spec("cityscapes-b1"))
    assert status.fetch(spec("cityscapes-b1")) == snapshot and len(calls) == 2  # cached: no second download


def test_every_registered_segmenter_names_a_checkpoint_that_weights_can_describe():
    for info in REGISTRY.values():
        assert info.weights.kind in ("bundled", "torch_hub", "hf_hub"), info.name
        if info.weights.kind == "hf_hub":
            assert info.weights.hf_repo.startswith("smp-hub/segformer-b")
        if info.weights.kind == "torch_hub":
            assert torch_hub.torchvision_url(info.weights).startswith("https://download.pytorch.org/")
    assert spec("ade20k-b5").hf_repo == "smp-hub/segformer-b5-640x640-ade-160k"
    assert spec("cityscapes").hf_repo == "smp-hub/segformer-b2-1024x1024-city-160k"
    assert torch_hub.torchvision_url(spec("deeplabv3")).endswith("deeplabv3_resnet50_coco-cd0a2569.pth")


def test_bundled_models_are_in_the_package_with_licence_and_provenance():
    for bundled in (BUNDLED_SEGMENTER, BUNDLED_ENCODER):
        model = bundled_file(bundled)
        assert model.is_file() and model.stat().st_size > 1_000_000
        for name in ("LICENSE", "PROVENANCE.md", "model.toml"):
            assert (model.parent / name).is_file(), (bundled.name, name)
        assert "Apache License" in (model.parent / "LICENSE").read_text()
        assert hashlib.sha256(model.read_bytes()).hexdigest() in (model.parent / "PROVENANCE.md").read_text()


def test_offline_torch_checkpoint_is_one_actionable_error(env):
    with pytest.raises(WeightsUnavailable) as info:
        torch_hub.load_state_dict(spec("deeplabv3_resnet101"))
    message = str(info.value)
    assert "deeplabv3_resnet101_coco" in message and "regionstyle weights fetch deeplabv3_resnet101" in message
    assert "--segmenter-weights" in message


def test_written_down_file_names_are_torchvisions_own():
    """Cache lookups use the specs' file names (no torchvision import); they must be the enum URLs' names."""
    from regionstyle.encoder.registry import ENCODERS

    specs = [info.weights for info in REGISTRY.values()] + [entry.weights for entry in ENCODERS.values()]
    torchvision_specs = [s for s in specs if s is not None and s.kind == "torch_hub"]
    assert len(torchvision_specs) == 5
    for weights in torchvision_specs:
        assert weights.file_name == torch_hub.torchvision_url(weights).rsplit("/", 1)[-1], weights.name
