"""Hostile weights files (``--encoder-weights``) and the descriptors beside them."""

from __future__ import annotations

import functools
import pickle

import pytest
import torch

from tests.hostile import plant
from tests.hostile.harness import Case, cli, run_case, table

MNV2 = "apply photo.png rules.toml -o out.png --encoder mobilenet_v2 --encoder-weights w.pt"


@functools.lru_cache(maxsize=1)
def _mobilenet_state() -> dict[str, torch.Tensor]:
    import torchvision

    torch.manual_seed(0)
    return torchvision.models.mobilenet_v2().state_dict()


def saved(value_of) -> plant.Setup:
    """w.pt holding ``value_of(mobilenet_state_dict)`` (torch.save)."""
    def run(ws) -> None:
        torch.save(value_of({k: v.clone() for k, v in _mobilenet_state().items()}), ws / "w.pt")
    return run


def keys_like(*names: str) -> plant.Setup:
    """w.pt with the key names of another architecture (tiny tensors: only the names matter)."""
    return saved(lambda _: {name: torch.zeros(2) for name in names})


def changed(key: str, value) -> plant.Setup:
    def edit(state):
        state[key] = value(state[key])
        return state
    return saved(edit)


def without(key: str) -> plant.Setup:
    return saved(lambda state: {k: v for k, v in state.items() if k != key})


class _RunsCode:
    """A pickle that would create a file when loaded by a plain, unsafe ``pickle.load``."""

    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def code_pickle(ws) -> None:
    (ws / "w.pt").write_bytes(pickle.dumps({"features.0.0.weight": _RunsCode()}))


def with_descriptor(text: str) -> plant.Setup:
    return plant.steps(saved(lambda state: state), plant.data("w.toml", text))


def weights(id: str, setup, says: str, *, command: str = MNV2, exit: int = 2) -> Case:
    return Case(id, cli(command), exit, says, setup)


CASES = table("weights", [
    weights("tensor", saved(lambda _: torch.zeros(3)), "holds a Tensor, not a state dict"),
    weights("list", saved(lambda state: list(state.values())), "holds a list"),
    weights("empty-dict", saved(lambda _: {}), "empty state dict"),
    weights("strings", saved(lambda _: {"conv.weight": "not a tensor"}), "not tensors"),
    weights("training-checkpoint", saved(lambda state: {"state_dict": state, "epoch": 7}), "'state_dict' entry"),
    weights("resnet", keys_like("conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "fc.weight"),
            "looks like a ResNet state dict"),
    weights("vgg", keys_like("features.0.weight", "features.0.bias", "classifier.0.weight"),
            "looks like a VGG state dict"),
    weights("mobilenet-for-vgg19", saved(lambda state: state), "looks like a MobileNetV2 state dict",
            command="apply photo.png rules.toml -o out.png --encoder vgg19 --encoder-weights w.pt"),
    weights("data-parallel-prefix", saved(lambda state: {f"module.{k}": v for k, v in state.items()}),
            "strip that prefix"),
    weights("wrong-shape", changed("features.0.0.weight", lambda v: torch.zeros(16, 3, 3, 3)), "size mismatch"),
    weights("missing-key", without("features.18.1.running_var"), "Missing key"),
    weights("nan", changed("features.2.conv.0.0.weight", lambda v: torch.full_like(v, float("nan"))),
            "hold NaN or infinite values"),
    weights("inf", changed("features.5.conv.1.0.weight", lambda v: torch.full_like(v, float("inf"))),
            "hold NaN or infinite values"),
    # Finite but absurd: every activation overflows, so the loss does; caught at the first evaluation.
    weights("overflowing", saved(lambda state: {k: v.fill_(1e37) if k.endswith("conv.2.weight") else v
                                                for k, v in state.items()}),
            "the loss became non-finite at evaluation 1", exit=1),
    weights("pickle-runs-code", code_pickle, "cannot load weights file"),
    weights("garbage", plant.data("w.pt", b"\x80\x04garbage" * 100), "cannot load weights file"),
    weights("empty-file", plant.data("w.pt", b""), "cannot load weights file"),
    weights("zip-without-data", plant.data("w.pt", b"PK\x03\x04" + b"\0" * 60), "cannot load weights file"),
    weights("fifo", plant.fifo("w.pt"), "not a regular file"),
    weights("dev-zero", None, "not a regular file",
            command="apply photo.png rules.toml -o out.png --encoder mobilenet_v2 --encoder-weights /dev/zero"),
    weights("link-loop", plant.link("w.pt", "w.pt"), "not found"),
    # The descriptor beside the weights (w.toml): checked field by field.
    weights("descriptor-syntax", with_descriptor("padding = \n"), "cannot read weights descriptor"),
    weights("descriptor-padding-number", with_descriptor("padding = 3\n"), "padding must be"),
    weights("descriptor-padding-unknown", with_descriptor('padding = "valid"\n'), "padding must be"),
    weights("descriptor-range", with_descriptor("input_range = [0, 255]\n"), "input_range must be"),
    weights("descriptor-range-nan", with_descriptor("input_range = [nan, 1.0]\n"), "input_range must be"),
    weights("descriptor-typo", with_descriptor('paddding = "tf_same"\n'), "did you mean 'padding'"),
    weights("descriptor-architecture", with_descriptor('architecture = "vgg19"\n'), "for 'vgg19'"),
    weights("descriptor-other-file", with_descriptor('file = "other.pt"\n'), "describes 'other.pt'"),
    weights("descriptor-source-number", with_descriptor("source = 12\n"), "source must be text"),
    weights("descriptor-fifo", plant.steps(saved(lambda state: state), plant.fifo("w.toml")), "not a regular file"),
    weights("descriptor-binary", plant.steps(saved(lambda state: state), plant.data("w.toml", b"\xff\xfe\x00x")),
            "not UTF-8 text"),
])


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_hostile_weights(case: Case, tmp_path) -> None:
    run_case(case, tmp_path)
