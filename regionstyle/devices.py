"""Which device a run asks for (``auto``, ``cpu``, ``cuda``, ``cuda:N``, ``mps``), checked against this machine.

One check for every stage that takes a device. ``cpu`` is answered without loading torch: a run of laid-in
built-ins never loads it (a model file's runtime resolves ``auto`` itself, see regionstyle.segment.registry).
"""

from __future__ import annotations

from regionstyle.errors import BadInput

_FIX = "use the CPU (--device cpu)"


def resolve_device(name: str, *, keep_auto: bool = False) -> str:
    """``auto`` = CUDA when present, else CPU; anything else must be a device this machine has (as torch
    spells it, e.g. ``cuda:0``). Refused with BadInput rather than failing later.

    keep_auto: return ``auto`` as it is, for a stage that picks its own device (a model file's runtime:
    onnxruntime takes CUDA when it has it, TFLite runs on the CPU), so nothing loads torch only to ask.
    """
    if name == "cpu" or (keep_auto and name == "auto"):
        return name
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise BadInput(f"unknown device {name!r}: expected auto, cpu, cuda, cuda:N or mps ({exc})") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise BadInput(f"device {name!r} requested but CUDA is not available here; {_FIX}")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise BadInput(f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise BadInput(f"device {name!r} requested but MPS is not available here; {_FIX}")
    return str(device)
