"""regionstyle.weights.download against a real HTTP server on 127.0.0.1 (tests/local_http.py); never the internet."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from pathlib import Path

import pytest

from regionstyle.weights import download
from regionstyle.errors import WeightsUnavailable
from tests.local_http import local_server, refused_url

SIZE = 300_000  # several read chunks (64 KiB), so progress and resuming have something to show


@pytest.fixture
def payload() -> bytes:
    return random.Random(0).randbytes(SIZE)


@pytest.fixture
def server(monkeypatch):
    monkeypatch.delenv(download.OFFLINE_VARIABLE, raising=False)
    with local_server() as running:
        yield running


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(folder: Path) -> list[str]:
    """Files in ``folder`` besides the (empty, deliberately kept) lock files."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock"))


def test_full_sha256_match(server, payload, tmp_path):
    url = server.serve("/models/tiny.bin", payload)
    path = download.download_file(url, tmp_path / "cache" / "tiny.bin", sha256=sha256(payload))
    assert path == tmp_path / "cache" / "tiny.bin" and path.read_bytes() == payload
    assert leftovers(path.parent) == ["tiny.bin"]


def test_hash_prefix_from_a_torchvision_style_name(server, payload, tmp_path):
    name = f"tiny-{sha256(payload)[:8]}.pth"
    url = server.serve(f"/models/{name}", payload)
    prefix = download.hash_prefix_in_name(name)
    assert prefix == sha256(payload)[:8]
    assert download.download_file(url, tmp_path / name, hash_prefix=prefix).read_bytes() == payload


@pytest.mark.parametrize("which", ["sha256", "hash_prefix"])
def test_hash_mismatch_leaves_nothing_behind(server, payload, tmp_path, which):
    url = server.serve("/tiny.bin", payload)
    server.mode = "wrong_bytes"
    expected = {"sha256": sha256(payload)} if which == "sha256" else {"hash_prefix": sha256(payload)[:8]}
    with pytest.raises(WeightsUnavailable, match="failed its hash check") as info:
        download.download_file(url, tmp_path / "tiny.bin", **expected)
    assert url in str(info.value) and sha256(payload)[:8] in str(info.value)
    assert leftovers(tmp_path) == []


def test_interrupted_transfer_keeps_its_bytes_and_the_next_call_resumes(server, payload, tmp_path):
    url = server.serve("/tiny.bin", payload)
    server.mode, server.cut_after = "cut", 100_000
    with pytest.raises(WeightsUnavailable, match="100000 bytes are kept") as info:
        download.download_file(url, tmp_path / "tiny.bin", sha256=sha256(payload))
    assert url in str(info.value) and str(tmp_path / "tiny.bin") in str(info.value)
    assert leftovers(tmp_path) == ["tiny.bin.partial"]
    assert (tmp_path / "tiny.bin.partial").read_bytes() == payload[:100_000]

    server.mode = "normal"
    calls = []
    path = download.download_file(url, tmp_path / "tiny.bin", sha256=sha256(payload),
                                  on_progress=lambda done, total: calls.append((done, total)))
    assert path.read_bytes() == payload and leftovers(tmp_path) == ["tiny.bin"]
    assert [seen.headers.get("Range") for seen in server.gets()] == [None, "bytes=100000-"]
    assert calls[0] == (100_000, SIZE) and calls[-1] == (SIZE, SIZE)


def test_server_ignoring_range_restarts_from_zero(server, payload, tmp_path):
    url = server.serve("/tiny.bin", payload)
    (tmp_path / "tiny.bin.partial").write_bytes(payload[:50_000])
    server.mode = "ignore_range"
    calls = []
    path = download.download_file(url, tmp_path / "tiny.bin", sha256=sha256(payload),
                                  on_progress=lambda done, total: calls.append(done))
    # Appending the 200's whole body to the kept bytes would give 350 000 bytes and a hash failure.
    assert path.read_bytes() == payload
    assert server.gets()[0].headers.get("Range") == "bytes=50000-"
    assert calls[0] == 0 and calls[-1] == SIZE


def test_stale_partial_longer_than_the_file_gets_416_and_starts_over(server, payload, tmp_path):
    url = server.serve("/tiny.bin", payload)
    (tmp_path / "tiny.bin.partial").write_bytes(b"\0" * (SIZE + 10))
    path = download.download_file(url, tmp_path / "tiny.bin", sha256=sha256(payload))
    assert path.read_bytes() == payload
    assert [seen.headers.get("Range") for seen in server.gets()] == [f"bytes={SIZE + 10}-", None]


@pytest.mark.parametrize("value", ["1", "true", " YES "])
def test_offline_variable_makes_no_request_at_all(server, payload, tmp_path, monkeypatch, value):
    url = server.serve("/tiny.bin", payload)
    monkeypatch.setenv(download.OFFLINE_VARIABLE, value)
    assert not download.downloads_allowed()
    with pytest.raises(WeightsUnavailable, match="REGIONSTYLE_OFFLINE is set") as info:
        download.download_file(url, tmp_path / "tiny.bin")
    assert str(tmp_path / "tiny.bin") in str(info.value)
    assert server.requests == [] and leftovers(tmp_path) == []


def test_a_cached_file_is_returned_offline_too(server, payload, tmp_path, monkeypatch):
    url = server.serve("/tiny.bin", payload)
    (tmp_path / "tiny.bin").write_bytes(payload)
    monkeypatch.setenv(download.OFFLINE_VARIABLE, "1")
    assert download.download_file(url, tmp_path / "tiny.bin") == tmp_path / "tiny.bin"
    assert server.requests == []


def test_downloads_allowed_reads_the_environment_at_call_time(monkeypatch):
    monkeypatch.setenv(download.OFFLINE_VARIABLE, "0")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert download.downloads_allowed()  # HF_HUB_OFFLINE concerns the Hugging Face hub only
    assert not download.downloads_allowed(hugging_face=True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert download.downloads_allowed(hugging_face=True)
    monkeypatch.setenv(download.OFFLINE_VARIABLE, "on")
    assert not download.downloads_allowed() and not download.downloads_allowed(hugging_face=True)


def test_connection_refused_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv(download.OFFLINE_VARIABLE, raising=False)
    with refused_url() as url:
        started = time.monotonic()
        with pytest.raises(WeightsUnavailable) as info:
            download.download_file(url, tmp_path / "tiny.bin", timeout=2)
    assert time.monotonic() - started < 2
    message = str(info.value)
    assert url in message and str(tmp_path / "tiny.bin") in message and "REGIONSTYLE_OFFLINE=1" in message
    assert "refused" in message.lower() and "bytes are kept" not in message
    assert leftovers(tmp_path) == []


def test_a_hanging_server_times_out(server, payload, tmp_path):
    url = server.serve("/tiny.bin", payload)
    server.mode = "hang"
    started = time.monotonic()
    with pytest.raises(WeightsUnavailable, match="timed out"):
        download.download_file(url, tmp_path / "tiny.bin", timeout=0.3)
    assert time.monotonic() - started < 2


def test_an_unwritable_cache_is_one_clear_error(server, payload, tmp_path):
    url = server.serve("/tiny.bin", payload)
    (tmp_path / "blocker").write_text("a file where the cache folder should be")
    with pytest.raises(WeightsUnavailable, match="could not write .*blocker.* writable"):
        download.download_file(url, tmp_path / "blocker" / "tiny.bin")
    assert server.requests == []


def test_http_error_names_the_status(server, tmp_path):
    with pytest.raises(WeightsUnavailable, match="answered HTTP 404 Not Found"):
        download.download_file(server.root + "/missing.bin", tmp_path / "missing.bin")


def test_progress_is_monotone_and_ends_at_the_total(server, payload, tmp_path):
    url = server.serve("/tiny.bin", payload)
    calls = []
    download.download_file(url, tmp_path / "tiny.bin", on_progress=lambda done, total: calls.append((done, total)))
    done = [d for d, _ in calls]
    assert calls[0] == (0, SIZE) and calls[-1] == (SIZE, SIZE)
    assert done == sorted(done) and len(set(done)) == len(done) >= 1 + SIZE // download.CHUNK_BYTES
    assert {total for _, total in calls} == {SIZE}


def test_a_cached_destination_is_not_fetched_again(server, payload, tmp_path):
    url = server.serve("/tiny.bin", payload)
    first = download.download_file(url, tmp_path / "tiny.bin")
    assert download.download_file(url, tmp_path / "tiny.bin") == first
    assert len(server.gets()) == 1


def test_two_concurrent_downloads_of_one_file_take_turns(server, payload, tmp_path):
    url = server.serve("/tiny.bin", payload)
    server.mode = "slow"  # 0.4 s per transfer: without the lock the two would overlap
    start = threading.Barrier(2)
    results, errors = [], []

    def fetch() -> None:
        start.wait()
        try:
            results.append(download.download_file(url, tmp_path / "tiny.bin", sha256=sha256(payload)))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert errors == [] and results == [tmp_path / "tiny.bin"] * 2
    assert (tmp_path / "tiny.bin").read_bytes() == payload
    assert len(server.gets()) == 1  # the second found the first one's file once the lock was free


def test_a_killed_download_leaves_no_lock_held_and_the_next_one_resumes(server, payload, tmp_path):
    """SIGKILL (a crash, a closed laptop): the OS drops the lock, the partial file stays, the next call resumes."""
    import os
    import subprocess
    import sys

    url = server.serve("/tiny.bin", payload)
    server.mode = "slow"
    partial = tmp_path / "tiny.bin.partial"
    code = f"from regionstyle.weights.download import download_file; download_file({url!r}, {str(tmp_path / 'tiny.bin')!r})"
    env = {**os.environ, "PYTHONPATH": str(Path(download.__file__).parents[2])}
    child = subprocess.Popen([sys.executable, "-c", code], env=env)
    deadline = time.monotonic() + 5
    while not (partial.is_file() and partial.stat().st_size) and time.monotonic() < deadline:
        time.sleep(0.01)
    child.kill()  # SIGKILL: no finally block, no cleanup of any kind runs in the child
    child.wait(timeout=5)
    kept = partial.stat().st_size
    assert 0 < kept < SIZE and not (tmp_path / "tiny.bin").exists()

    server.mode = "normal"
    finished = []
    resume = threading.Thread(target=lambda: finished.append(download.download_file(url, tmp_path / "tiny.bin")))
    resume.start()
    resume.join(timeout=5)  # a lock still held by the dead child would block here
    assert finished and finished[0].read_bytes() == payload
    assert server.gets()[-1].headers.get("Range") == f"bytes={kept}-"


def test_bad_hash_arguments_are_refused_before_any_request(server, tmp_path):
    url = server.serve("/tiny.bin", b"x")
    for bad in ({"sha256": "abc"}, {"hash_prefix": "xyz"}):
        with pytest.raises(ValueError, match="expected a 64-digit hex sha256"):
            download.download_file(url, tmp_path / "tiny.bin", **bad)
    assert server.requests == []


def test_hash_prefix_in_name_follows_torch_hub():
    assert download.hash_prefix_in_name("vgg19-dcbb9e9d.pth") == "dcbb9e9d"
    assert download.hash_prefix_in_name("deeplabv3_mobilenet_v3_large-fc3c493d.pth") == "fc3c493d"
    assert download.hash_prefix_in_name("config.json") is None
    assert download.hash_prefix_in_name("model-.pth") is None


# ---- torchvision and regionstyle share one cache file ------------------------------------------------------


@pytest.fixture
def torch_home(tmp_path, monkeypatch) -> Path:
    for var in ("REGIONSTYLE_HOME", download.OFFLINE_VARIABLE):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch"


def test_vgg19_destination_is_the_file_torchvision_uses(torch_home):
    import torch.hub
    from torchvision.models import VGG19_Weights

    from regionstyle.encoder.registry import ENCODERS
    from regionstyle.weights import torch_hub

    url = VGG19_Weights.IMAGENET1K_V1.url
    destination = download.torch_hub_destination(url)
    assert destination == Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]
    assert destination == torch_home / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    assert download.hash_prefix_in_name(destination.name) == "dcbb9e9d"
    assert torch_hub.cache_candidates(ENCODERS["vgg19"].weights) == [destination]


def test_torchvision_and_regionstyle_find_each_others_downloads(server, torch_home, monkeypatch):
    """Served from 127.0.0.1 under torchvision's real file name: what one downloads, the other loads."""
    import torch
    import torchvision
    from torchvision.models import MobileNet_V2_Weights

    from regionstyle.weights import torch_hub, torchvision_checkpoint

    torch.manual_seed(0)
    state = torchvision.models.mobilenet_v2().state_dict()
    file_name = MobileNet_V2_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[-1]
    source = torch_home.parent / "served.pth"
    torch.save(state, source)
    url = server.serve(f"/models/{file_name}", source.read_bytes())

    # regionstyle downloads into torch hub's cache ...
    ours = download.download_file(url, download.torch_hub_destination(url), sha256=sha256(source.read_bytes()))
    # No file name written down: the cache lookup reads it from the enum's URL.
    torchvision_mobilenet = torchvision_checkpoint("mobilenet_v2", "torchvision.models.MobileNet_V2_Weights."
                                                   "IMAGENET1K_V1", "", "MobileNetV2", approx_mb=14)
    assert torch_hub.cached_file(torchvision_mobilenet) == ours
    # ... and torchvision loads that file without asking the network (any download attempt fails the test).
    with monkeypatch.context() as patch:
        patch.setattr(torch.hub, "download_url_to_file", lambda *a, **k: pytest.fail(f"downloaded {a}"))
        model = torchvision.models.mobilenet_v2(weights=MobileNet_V2_Weights.IMAGENET1K_V1)
    assert all(torch.equal(model.state_dict()[key], value) for key, value in state.items())

    # The other way round: torch.hub's own downloader fills the path regionstyle looks at, and
    # regionstyle then makes no request of its own.
    other = server.serve("/other/resnet-0123abcd.pth", source.read_bytes())
    torch.hub.load_state_dict_from_url(other, progress=False, check_hash=False, weights_only=True)
    gets = len(server.gets())
    assert (torch_home / "hub" / "checkpoints" / "resnet-0123abcd.pth").is_file()
    assert download.download_file(other, download.torch_hub_destination(other)).is_file()
    assert len(server.gets()) == gets


def test_check_reachable_fails_fast_without_network_and_passes_on_any_answer(server, tmp_path):
    with refused_url() as url:
        started = time.monotonic()
        with pytest.raises(WeightsUnavailable, match="cannot reach .*refused.*REGIONSTYLE_OFFLINE=1"):
            download.check_reachable(url, timeout=2)
        assert time.monotonic() - started < 2
    download.check_reachable(server.root + "/missing.bin")  # 404: the network works
    big = server.serve("/big.bin", b"x" * 1000)
    server.serve("/moved.bin", b"", status=302, headers={"Location": big})
    download.check_reachable(server.root + "/moved.bin")  # a redirect answers too, and is not followed
    assert [(seen.method, seen.path) for seen in server.requests] == [("HEAD", "/missing.bin"),
                                                                      ("HEAD", "/moved.bin")]


def test_download_bar_starts_at_the_resumed_bytes_and_ends_at_the_total(server, payload, tmp_path):
    import io

    from regionstyle.cli.progress import DownloadBar

    url = server.serve("/tiny.bin", payload)
    (tmp_path / "tiny.bin.partial").write_bytes(payload[:100_000])
    screen = io.StringIO()
    with DownloadBar(label="tiny.bin", enabled=True, file=screen) as bar:
        download.download_file(url, tmp_path / "tiny.bin", on_progress=bar)
        assert (bar.bar.n, bar.bar.total) == (SIZE, SIZE)
    shown = screen.getvalue()
    assert "tiny.bin" in shown and "97.7k/293k" in shown  # KiB; tqdm redraws at most every 0.1 s, so not the end
