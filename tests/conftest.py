"""Shared fixtures: offline hubs, the real data folder beside the project, tiny random encoders."""

from __future__ import annotations

import os

# huggingface_hub reads this once, when first imported: it must be set before anything imports it.
os.environ["HF_HUB_OFFLINE"] = "1"
# No test may reach for the internet: downloads on first use are switched off (tests that download
# serve the file themselves on 127.0.0.1 and switch it back on).
os.environ["REGIONSTYLE_OFFLINE"] = "1"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tests.paths import SHARED_DATA  # noqa: E402


def pytest_configure(config) -> None:
    # Tiny tensors gain nothing from threads, and on a 2-core machine shared with other jobs torch's
    # thread pool oversubscribes the cores (a 64x64 forward went from 0.01 s to 1 s).
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the project; tests that need it skip with a reason where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (it sits beside the project in CI)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_encoder():
    """A seeded random three-level conv encoder with VGG-style tap names, and its layer plan."""
    import torch
    from torch import nn

    from regionstyle.encoder import EncoderInfo, FeatureEncoder, LayerPlan

    torch.manual_seed(0)
    body = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
    )
    taps = {"relu1_1": "1", "relu2_1": "6", "relu3_1": "9", "relu1_2": "3"}
    encoder = FeatureEncoder(body=body, taps=taps, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25),
                             info=EncoderInfo("tiny", "random(seed=0)", "test", pretrained=False))
    plan = LayerPlan(style=(("relu1_1", 1.0), ("relu2_1", 1.0), ("relu3_1", 1.0)), content="relu2_1",
                     style_weight=100.0)
    return encoder, plan


@pytest.fixture()
def offline_caches(tmp_path, monkeypatch) -> Path:
    """Empty torch-hub, Hugging Face and project caches under tmp_path, with the hub offline."""
    for var in ("REGIONSTYLE_HOME", "HF_HUB_CACHE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path
