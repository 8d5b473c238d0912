"""Hugging Face checkpoints through the real huggingface_hub client, against a fake hub on 127.0.0.1.

The fake hub answers what ``hf_hub_download`` asks of huggingface.co: ``HEAD /{repo}/resolve/main/{file}``
with ``X-Repo-Commit`` and an ETag (the git hash of a small file), or, for a large (LFS) file, a 302 to a
second server (the CDN) with ``X-Linked-Etag`` (the sha256) and ``X-Linked-Size``; then a GET of the file.
Nothing here reaches the internet: ``HF_ENDPOINT`` points at the fake hub, read by regionstyle.weights.cache at
call time.
"""

from __future__ import annotations

import hashlib
import time

import pytest
import torch

from tests.local_http import local_server, refused_url
from regionstyle.segment.registry import REGISTRY
from regionstyle.weights import cache, download, hf_hub
from regionstyle.errors import WeightsUnavailable

NAME = "ade20k-b0"
SPEC = REGISTRY[NAME].weights
COMMIT = "c0ffee" * 6 + "c0ff"  # a 40-digit commit hash


@pytest.fixture
def hub(offline_caches, monkeypatch):
    """A fake hub and CDN serving ``NAME``'s config.json and a real (small) model.safetensors."""
    import huggingface_hub.constants
    from safetensors.torch import save

    # conftest turns the hub off for every test (huggingface_hub reads HF_HUB_OFFLINE once, at import).
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.delenv(download.OFFLINE_VARIABLE, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    tensors = {"w": torch.arange(50_000, dtype=torch.float32)}  # 200 KB: several read chunks
    weights = save(tensors)
    sha = hashlib.sha256(weights).hexdigest()
    repo = SPEC.hf_repo
    with local_server() as server, local_server() as cdn:
        server.serve(f"/{repo}/resolve/main/config.json", b'{"_model_class": "Segformer"}',
                     headers={"X-Repo-Commit": COMMIT, "ETag": '"' + "1" * 40 + '"'})
        blob = cdn.serve(f"/repos/{sha}", weights)
        server.serve(f"/{repo}/resolve/main/model.safetensors", b"", status=302,
                     headers={"Location": blob, "X-Repo-Commit": COMMIT, "X-Linked-Etag": f'"{sha}"',
                              "X-Linked-Size": str(len(weights))})
        monkeypatch.setenv("HF_ENDPOINT", server.root)
        yield server, cdn, tensors, sha


def test_fetch_downloads_into_the_cache_smp_reads(hub, tmp_path):
    from huggingface_hub import hf_hub_download

    server, cdn, tensors, sha = hub
    snapshot = hf_hub.fetch_hf(SPEC, progress=False)
    assert snapshot == tmp_path / "hf" / "hub" / ("models--" + SPEC.hf_repo.replace(
        "/", "--")) / "snapshots" / COMMIT
    assert (snapshot / "model.safetensors").resolve().name == sha
    # the reachability probe, then config.json (HEAD, GET), then the LFS file (HEAD, redirected to the CDN)
    assert [seen.method for seen in server.requests] == ["HEAD", "HEAD", "GET", "HEAD"]
    assert [seen.path for seen in cdn.gets()] == [f"/repos/{sha}"]
    checkpoint = hf_hub.load_hf_checkpoint(SPEC)
    assert checkpoint.config == {"_model_class": "Segformer"} and torch.equal(checkpoint.state_dict["w"], tensors["w"])
    # What smp.from_pretrained does on an offline machine: resolve both files from the cache alone.
    for file_name in hf_hub.HF_FILES:
        found = hf_hub_download(SPEC.hf_repo, file_name, cache_dir=tmp_path / "hf" / "hub",
                                local_files_only=True)
        assert found == str(snapshot / file_name)
    requests = len(server.requests) + len(cdn.requests)
    assert hf_hub.fetch_hf(SPEC) == snapshot
    assert len(server.requests) + len(cdn.requests) == requests  # cached: no network at all


def test_corrupt_blob_fails_the_sha256_check_and_a_later_fetch_repairs_it(hub):
    server, cdn, tensors, sha = hub
    cdn.mode = "wrong_bytes"  # huggingface_hub itself does not check the bytes of a plain HTTP download
    with pytest.raises(WeightsUnavailable, match="failed its sha256 check"):
        hf_hub.fetch_hf(SPEC, progress=False)
    assert hf_hub.hf_cached_snapshot(SPEC) is None
    cdn.mode = "normal"
    snapshot = hf_hub.fetch_hf(SPEC, progress=False)
    assert torch.equal(hf_hub.load_hf_checkpoint(SPEC).state_dict["w"], tensors["w"])
    assert (snapshot / "model.safetensors").resolve().name == sha


def test_a_transfer_cut_once_is_retried_by_the_client_within_the_same_call(hub):
    """huggingface_hub retries a broken transfer itself (after 1 s). It resumes only whole 10 MB read chunks
    (its chunk size), so this 200 KB file starts over; and it never resumes across calls (its temporary file is
    unique to one call and deleted on failure)."""
    server, cdn, tensors, sha = hub
    cdn.mode, cdn.cut_after, cdn.then = "cut", 80_000, "normal"
    hf_hub.fetch_hf(SPEC, progress=False)
    assert [seen.headers.get("Range") for seen in cdn.gets()] == [None, None]
    assert torch.equal(hf_hub.load_hf_checkpoint(SPEC).state_dict["w"], tensors["w"])


def test_offline_hub_makes_no_request(hub, monkeypatch):
    server, cdn, _, _ = hub
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert not download.downloads_allowed(hugging_face=True)
    with pytest.raises(WeightsUnavailable, match="HF_HUB_OFFLINE is set"):
        hf_hub.fetch_hf(SPEC, progress=False)
    assert server.requests == [] and cdn.requests == []


def test_unreachable_hub_is_reported_at_once_by_a_probe(hub, monkeypatch):
    """hf_hub_download alone takes ~23 s (five retries) on a refused connection; the probe fails at once."""
    with refused_url("") as root:
        monkeypatch.setenv("HF_ENDPOINT", root)
        repo = SPEC.hf_repo
        started = time.monotonic()
        with pytest.raises(WeightsUnavailable, match="cannot reach"):
            download.check_reachable(f"{cache.hf_endpoint()}/{repo}/resolve/main/config.json", timeout=2)
        assert time.monotonic() - started < 2
