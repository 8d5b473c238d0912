"""The one device check: what each refusal says, and cpu answered without torch."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from regionstyle.devices import resolve_device
from regionstyle.errors import BadInput


def test_cpu_and_auto_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("cpu") == "cpu" and resolve_device("auto") == "cpu"
    assert resolve_device("auto", keep_auto=True) == "auto"  # left to a runtime that picks its own


def test_keep_auto_still_checks_a_named_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(BadInput, match="CUDA is not available"):
        resolve_device("cuda", keep_auto=True)


def test_cpu_needs_no_torch():
    code = ("import sys; from regionstyle.devices import resolve_device; resolve_device('cpu'); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(("name", "available", "count", "message"), [
    ("gpu", True, 1, "unknown device 'gpu': expected auto, cpu, cuda, cuda:N or mps"),
    ("cuda", False, 0, r"device 'cuda' requested but CUDA is not available here; use the CPU \(--device cpu\)"),
    ("cuda:3", True, 2, r"device 'cuda:3': this machine has 2 CUDA device\(s\)"),
])
def test_a_device_this_machine_lacks_is_refused_with_the_fix(monkeypatch, name, available, count, message):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    with pytest.raises(BadInput, match=message):
        resolve_device(name)


def test_cuda_when_present_is_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("auto") == "cuda" and resolve_device("cuda:0") == "cuda:0"
