"""Size limits before any model loads: the encoder's smallest usable side and the memory a run needs."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from regionstyle import limits
from regionstyle.config import make_config
from regionstyle.errors import BadInput, NumericalFailure
from regionstyle.optimize import schedule


def _runs_at(encoder, taps, side: int) -> bool:
    """Whether the encoder's forward pass gives every tap at least one position at side x side."""
    try:
        with torch.no_grad():
            features = encoder(torch.rand(1, 3, side, side), taps=tuple(taps))
    except RuntimeError:  # "Output size is too small"
        return False
    return all(min(f.shape[-2:]) >= 1 for f in features.values())


def test_smallest_side_of_the_tiny_encoder_matches_its_forward_pass(tiny_encoder):
    encoder, plan = tiny_encoder
    side = limits.smallest_side(encoder, plan.taps)
    assert _runs_at(encoder, plan.taps, side) and not _runs_at(encoder, plan.taps, side - 1)


@pytest.mark.parametrize("name", ["random", "mobilenet_v2"])
def test_registered_smallest_side_from_the_skeleton_matches_the_real_network(name):
    from regionstyle.encoder.build import load_encoder
    from regionstyle.encoder.registry import ENCODERS

    encoder, _ = load_encoder(name)
    side = limits.registered_smallest_side(name)  # built on the meta device: no weights
    taps = ENCODERS[name].plan.taps
    assert side == limits.smallest_side(encoder, taps)
    assert _runs_at(encoder, taps, side) and (side == 1 or not _runs_at(encoder, taps, side - 1))


def test_coarse_scales_thinner_than_the_encoder_are_left_out():
    plain = schedule(32, 600, coarse_start=150, iterations=90)
    assert [size for size, _ in plain] == [(8, 150), (16, 300), (32, 600)]
    kept = schedule(32, 600, coarse_start=150, iterations=90, min_side=16)
    assert [size for size, _ in kept] == [(16, 300), (32, 600)]  # 150 px long would be 8 px short
    assert kept[0][1] == 90  # the first scale kept gets the full iteration budget


def test_a_thin_photo_is_refused_with_the_limit_and_the_way_out():
    with pytest.raises(BadInput) as refused:
        limits.check_run((8, 10_000), make_config(encoder="random"), what="wide.png", device="cpu")
    message = str(refused.value)
    assert "10000x8" in message and "16 px the random encoder needs" in message and "crop" in message
    with pytest.raises(BadInput, match="give --size 400 or more"):
        limits.check_run((400, 16), make_config(encoder="random", size=64), what="tall.png", device="cpu")


def test_the_memory_limit_names_a_size_that_fits(monkeypatch):
    room = 3 * 2**30
    monkeypatch.setattr(limits, "available_memory", lambda device="cpu": room)
    config = make_config(encoder="vgg19", size=6000)
    with pytest.raises(BadInput) as refused:
        limits.check_run((750, 1000), config, what="photo.jpg", device="cpu")
    suggested = int(str(refused.value).split("give a smaller --size (about ")[1].split()[0])
    assert 16 <= suggested < 6000 and suggested % 16 == 0
    limits.check_run((750, 1000), make_config(encoder="vgg19", size=suggested), what="photo.jpg", device="cpu")


def test_tiled_scales_bound_the_memory_a_print_sized_run_needs():
    config = make_config()
    need = {side: limits.run_memory(side * 3 // 4, side, config, minimum=32, bytes_per_pixel=2800)
            for side in (1024, 2048, 4096)}
    # the largest piece optimised at once stops growing; only the full-size images the run keeps do
    assert need[4096] - need[2048] < 2 * (need[2048] - limits.BASE_BYTES)
    untiled = limits.BASE_BYTES + 4096 * 3072 * (2800 + limits.HELD_BYTES_PER_PIXEL)
    assert need[4096] < untiled / 5


def test_a_print_sized_style_image_needs_one_window_of_memory(tmp_path, monkeypatch):
    """The exemplar of a 4096 px run is read window by window, so memory that a whole 4096 px exemplar would
    overflow is enough; an exemplar small enough to be read whole still counts whole."""
    from PIL import Image

    import maskrules

    Image.new("RGB", (640, 480)).save(tmp_path / "painting.png")
    painting = maskrules.StyleRef(kind="image", name="p", image=tmp_path / "painting.png")
    per_pixel = limits.BYTES_PER_PIXEL["mobilenet_v2"]
    room = 6 * 2**30
    monkeypatch.setattr(limits, "available_memory", lambda device="cpu": room)
    assert limits.BASE_BYTES + 4096 * 3072 * per_pixel > room  # read whole, it would not fit
    limits.check_run((3072, 4096), make_config(size=4096), what="print.jpg", device="cpu", style_images=[painting])

    room = 2 * 2**30  # a 512 px run fits; its painting at scale 2 (1024x768, read whole) does not
    monkeypatch.setattr(limits, "available_memory", lambda device="cpu": room)
    assert limits.BASE_BYTES + 1024 * 768 * per_pixel > room
    with pytest.raises(BadInput, match="style image painting.png at scale = 2 needs about"):
        limits.check_run((384, 512), make_config(size=512), what="p.jpg", device="cpu",
                         style_images=[dataclasses.replace(painting, scale=2.0)])


def test_without_a_memory_figure_nothing_is_refused_for_memory(monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda device="cpu": None)
    limits.check_run((1000, 1000), make_config(encoder="random", size=16384), what="p", device="cpu")


def test_a_nan_loss_stops_the_run_at_the_first_evaluation(tiny_encoder):
    from regionstyle.optimize import StyledRegion, optimize
    from regionstyle.style.targets import StyleSource

    encoder, plan = tiny_encoder
    weight = encoder.body[0].weight
    saved = weight.detach().clone()
    content = torch.rand(3, 32, 32)
    source = StyleSource("noise", (torch.rand(3, 32, 32),), (1.0,))
    evaluations = []
    try:
        with torch.no_grad():
            weight.fill_(1e38)  # finite weights whose activations overflow
        with pytest.raises(NumericalFailure, match="evaluation 1 of the 32x32 px scale"):
            optimize(content, torch.ones(1, 32, 32), [StyledRegion("all", 0, source)], encoder=encoder, plan=plan,
                     config=make_config(iterations=5, coarse_start=32, precision="fp32"),
                     on_progress=evaluations.append)
    finally:
        with torch.no_grad():
            weight.copy_(saved)  # the fixture is shared by the session
    assert evaluations == []  # stopped before reporting (or stepping on) a non-finite loss
