"""Paintings read by their detail: flat stretches count little in a style's statistics."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

import maskrules
from regionstyle.style.exemplars import DETAIL_FLOOR, detail_weights, style_source
from regionstyle.style.targets import StyleSource, resize_long_side, style_target


def half_flat_painting(height: int = 96, width: int = 128) -> torch.Tensor:
    """(3, H, W): beige paper on the left half, blue-and-white stripes on the right."""
    gen = np.random.default_rng(0)
    image = np.empty((3, height, width), np.float32)
    image[:, :, : width // 2] = np.array([0.85, 0.8, 0.65])[:, None, None] + gen.normal(0, 0.004, (3, height, width // 2))
    stripes = np.arange(width // 2) % 2
    image[:, :, width // 2:] = np.where(stripes, 0.95, 0.1)[None, None, :] * np.array([0.6, 0.8, 1.0])[:, None, None]
    return torch.from_numpy(image.clip(0, 1))


def test_flat_paper_sits_at_the_floor_and_marks_count_fully():
    weights = detail_weights(half_flat_painting())
    assert weights.min() >= DETAIL_FLOOR and weights.max() <= 1.0
    assert weights[:, :56].max() == DETAIL_FLOOR  # the paper, away from where the stripes begin
    assert weights[:, 72:].min() == 1.0


def test_a_paintings_target_leans_to_its_marks(tmp_path, tiny_encoder):
    """The style target of a half-flat painting is nearer its striped half's than an even reading is."""
    encoder, plan = tiny_encoder
    taps = tuple(t for t, _ in plan.style)
    painting = half_flat_painting()
    path = tmp_path / "painting.png"
    Image.fromarray((painting.numpy().transpose(1, 2, 0) * 255).round().astype(np.uint8)).save(path)
    ref = maskrules.StyleRef(kind="image", name="p", image=path)
    read = style_source(ref, color_mode="style", content=torch.zeros(3, 8, 8), mask=torch.ones(8, 8))
    image = read.images[0]
    striped = torch.zeros(image.shape[1:])
    striped[:, 64:] = 1.0

    def target(masks):
        source = StyleSource(key=str(masks), images=(image,), weights=(1.0,), masks=masks)
        return style_target(source, encoder, taps, content_long_side=128, device=torch.device("cpu"))

    def distance(a, b):
        return sum(float((a.taps[t].gram - b.taps[t].gram).norm() / b.taps[t].gram.norm()) for t in taps)

    marks = target((striped,))
    detailed = style_target(read, encoder, taps, content_long_side=128, device=torch.device("cpu"))
    even = target((None,))
    assert distance(detailed, marks) < 0.5 * distance(even, marks)


def test_a_painting_is_read_no_finer_than_the_detail_side(tiny_encoder):
    """Past ``detail_side`` an exemplar is the painting at that size, enlarged: one-pixel stripes (a
    scan's canvas and JPEG grain, which MobileNetV2's optimiser meets with speckle) are not asked for. Up to
    it, the reading is exactly as without it."""
    encoder, plan = tiny_encoder
    taps = tuple(t for t, _ in plan.style)
    painting = half_flat_painting()  # 128 px wide, stripes one pixel apart
    source = StyleSource(key="stripes", images=(painting,), weights=(1.0,))
    cpu = torch.device("cpu")

    def target(long_side, detail_side):
        return style_target(source, encoder, taps, content_long_side=long_side, device=cpu, detail_side=detail_side)

    def gram_gap(a, b):
        return max(float((a.taps[t].gram - b.taps[t].gram).norm() / b.taps[t].gram.norm()) for t in taps)

    enlarged = torch.nn.functional.interpolate(
        torch.nn.functional.interpolate(painting[None], size=(48, 64), mode="bilinear", antialias=True),
        size=(96, 128), mode="bilinear", antialias=True)[0]
    by_hand = style_target(StyleSource(key="by hand", images=(enlarged,), weights=(1.0,)), encoder, taps,
                           content_long_side=128, device=cpu)
    assert gram_gap(target(128, 64), by_hand) < 1e-5
    assert gram_gap(target(128, None), by_hand) > 0.05  # the stripes are what changed
    assert gram_gap(target(64, 64), target(64, None)) == 0.0


def test_a_painting_smaller_than_the_detail_side_is_enlarged_in_one_step():
    """A painting that is already no larger than ``detail_side`` has no finer detail to leave out: it is
    enlarged straight to the size asked for, not by way of ``detail_side`` (two bilinear steps blur twice)."""
    painting = half_flat_painting(48, 64)  # 64 px wide: one-pixel stripes on its right half
    one_step = resize_long_side(painting, 256)
    assert torch.equal(resize_long_side(painting, 256, detail_side=96), one_step)
    two_steps = resize_long_side(resize_long_side(painting, 96), 256)
    assert float((two_steps - one_step).abs().max()) > 0.05  # what the detour did to the stripes
    larger = resize_long_side(painting, 128)  # past the detail side it still goes by way of it
    assert torch.equal(resize_long_side(larger, 256, detail_side=96),
                       resize_long_side(resize_long_side(larger, 96), 256))


def test_every_scale_of_a_plan_reads_paintings_alike():
    """Scales past FINE_ABOVE (a 1024 px output's finest) use a plan's ``fine`` sub-plan: a detail side set
    on the plan alone would leave exactly the scales it is for unchanged."""
    from regionstyle.encoder.plans import LAYER_PLANS

    for name, plan in LAYER_PLANS.items():
        assert plan.fine is None or plan.fine.detail_side == plan.detail_side, name
    assert LAYER_PLANS["mobilenet_v2"].detail_side is not None
