"""Properties of the multi-style optimiser, with a tiny random encoder (fast, no weights)."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from regionstyle import optimize as optimize_module
from regionstyle.config import TransferConfig
from regionstyle.encoder import LayerPlan
from regionstyle.style.gram import gram, masked_gram
from regionstyle.optimize import StyledRegion, optimize, schedule
from regionstyle.objective import ENCODER_CONTEXT
from regionstyle.style.targets import StyleSource


def _stripes(size: int = 64) -> torch.Tensor:
    x = torch.arange(size).float()
    wave = 0.5 + 0.5 * torch.sin(x / 2.0)
    image = torch.stack([wave[None, :].expand(size, size), 0.2 * torch.ones(size, size),
                         1 - wave[None, :].expand(size, size)])
    return image


def _blobs(size: int = 64) -> torch.Tensor:
    g = torch.Generator().manual_seed(3)
    noise = torch.rand(1, 3, size // 8, size // 8, generator=g)
    return torch.nn.functional.interpolate(noise, size=(size, size), mode="bicubic")[0].clamp(0, 1)


def _problem():
    g = torch.Generator().manual_seed(0)
    content = (0.5 + 0.1 * torch.randn(3, 48, 64, generator=g)).clamp(0, 1)
    masks = torch.zeros(2, 48, 64)
    masks[0, :, :32] = 1
    masks[1, :, 32:] = 1
    regions = [StyledRegion("left", 0, StyleSource("stripes", (_stripes(),), (1.0,))),
               StyledRegion("right", 1, StyleSource("blobs", (_blobs(),), (1.0,)))]
    return content, masks, regions


def _run(tiny_encoder, **overrides):
    encoder, plan = tiny_encoder
    content, masks, regions = _problem()
    config = TransferConfig(iterations=40, coarse_start=64, seed=0, precision="fp32", **overrides)
    seen = []
    result = optimize(content, masks, regions, encoder=encoder, plan=plan, config=config,
                      on_progress=seen.append)
    return result, seen, (content, masks, regions)


def test_loss_falls_and_progress_is_reported(tiny_encoder):
    result, seen, _ = _run(tiny_encoder)
    totals = [step.losses["total"] for step in seen]
    assert totals[-1] < 0.5 * totals[0]
    assert all(math.isfinite(t) for t in totals)
    assert seen[-1].iteration == seen[-1].iterations and seen[-1].eta >= 0
    assert result.shape == (3, 48, 64) and 0 <= result.min() and result.max() <= 1


def test_same_seed_same_image(tiny_encoder):
    first, _, _ = _run(tiny_encoder)
    second, _, _ = _run(tiny_encoder)
    assert torch.equal(first, second)


def test_each_region_ends_closer_to_its_own_style(tiny_encoder):
    encoder, plan = tiny_encoder
    result, _, (content, masks, regions) = _run(tiny_encoder)
    for tap, _ in plan.style:
        with torch.no_grad():
            features = encoder(result[None])[tap][0]
            targets = [gram(encoder(r.source.images[0][None])[tap][0]) for r in regions]
            small = torch.nn.functional.interpolate(masks[None], size=features.shape[-2:], mode="area")[0]
        for index in range(2):
            own = masked_gram(features, small[index])
            distances = [torch.mean((own - t) ** 2).item() for t in targets]
            assert distances[index] < distances[1 - index], (tap, index, distances)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_the_result_is_a_plain_image_whatever_the_optimiser_moved(tiny_encoder, optimizer):
    """L-BFGS moves a pyramid, Adam the pixels themselves: either way the result carries no gradient."""
    result, _, _ = _run(tiny_encoder, optimizer=optimizer, learning_rate=0.05)
    assert not result.requires_grad and result.grad_fn is None
    result.numpy()  # what the pipeline does with it


def test_adam_also_lowers_the_loss(tiny_encoder):
    _, seen, _ = _run(tiny_encoder, optimizer="adam", learning_rate=0.05)
    assert seen[-1].losses["total"] < seen[0].losses["total"]


def test_finer_scales_above_the_threshold_read_only_the_fine_plans_taps(tiny_encoder, monkeypatch):
    """The coarsest scale optimises every layer; a finer one above FINE_ABOVE stops at the fine plan's taps."""
    encoder, plan = tiny_encoder
    fine = LayerPlan(style=(("relu1_1", 1.0),), content="relu1_1", style_weight=plan.style_weight)
    original = type(encoder).forward
    read = []

    def recording(self, image, taps=None):
        features = original(self, image, taps)
        if image.requires_grad:  # the optimised pixels, not a style or content target
            read.append((image.shape[-1], frozenset(features)))
        return features

    monkeypatch.setattr(type(encoder), "forward", recording)
    monkeypatch.setattr(optimize_module, "FINE_ABOVE", 40)
    content, masks, regions = _problem()
    config = TransferConfig(iterations=6, scales=(32,), seed=0, precision="fp32")
    optimize(content, masks, regions, encoder=encoder, plan=dataclasses.replace(plan, fine=fine), config=config)
    by_width = {width: {taps for w, taps in read if w == width} for width, _ in read}
    seen = 2 * ENCODER_CONTEXT  # the mirrored border the encoder sees around the image
    assert by_width == {32 + seen: {frozenset({"relu1_1", "relu2_1", "relu3_1"})}, 64 + seen: {frozenset({"relu1_1"})}}


def test_freed_memory_is_kept_while_scales_run_and_released_after_each(tiny_encoder, monkeypatch):
    """The allocator keeps freed activations for the next evaluation (regionstyle.native_memory) from before
    the first evaluation, and each scale ends by giving them back."""
    events = []
    monkeypatch.setattr(optimize_module, "keep_freed_memory", lambda: events.append("keep"))
    monkeypatch.setattr(optimize_module, "release_freed_memory", lambda: events.append("release"))
    original = optimize_module.run_scale
    monkeypatch.setattr(optimize_module, "run_scale",
                        lambda *args, **kwargs: events.append("scale") or original(*args, **kwargs))
    _run(tiny_encoder, scales=(32,))
    assert events == ["keep", "scale", "release", "scale", "release"]


def test_schedule_doubles_sizes_and_thins_iterations():
    steps = schedule(768, 1024, coarse_start=256, iterations=200)
    assert [size for size, _ in steps] == [(192, 256), (384, 512), (768, 1024)]
    assert [its for _, its in steps] == [200, 67, 22]
    assert schedule(100, 120, coarse_start=256, iterations=30) == [((100, 120), 30)]


def test_pooled_gathers_give_the_per_region_loss_and_gradient(tiny_encoder):
    """One gather per layer for all regions (their soft borders overlap, so some positions are read twice)
    computes what each region's own gather computes."""
    import dataclasses

    from regionstyle.objective import evaluate
    from regionstyle.optimize import ScaleWork

    encoder, plan = tiny_encoder
    content, masks, regions = _problem()
    ramp = torch.linspace(0, 1, 64).clamp(0.3, 0.7).sub(0.3).div(0.4)  # overlapping soft border
    masks = torch.stack([1 - ramp, ramp])[:, None, :].expand(2, 48, 64).contiguous()
    masks[:, :8] = 0  # and a strip of neither, so every layer gathers
    work = ScaleWork(content, masks, regions, encoder=encoder, plan=plan,
                     config=TransferConfig(precision="fp32"), long_side=64, target_cache=None)
    pooled = work.problem()
    assert pooled.gathers and all(s.span for t in pooled.regions for s in t.layers.values() if s.positions is not None)
    own = dataclasses.replace(pooled, gathers={})
    results = []
    for problem in (pooled, own):
        image = _blobs()[:, :48].clone()[None].requires_grad_(True)
        loss, terms = evaluate(image, problem, encoder)
        loss.backward()
        results.append((terms["style"], image.grad))
    assert results[0][0] > 0 and math.isclose(results[0][0], results[1][0], rel_tol=1e-5)
    torch.testing.assert_close(results[0][1], results[1][1], rtol=1e-4, atol=1e-7)


def test_the_lightest_positions_left_out_hold_at_most_their_share_of_the_weight():
    from regionstyle.objective import weighty_positions

    g = torch.Generator().manual_seed(1)
    weights = torch.rand(5000, generator=g) ** 8  # many near-zero weights, as a softmax's tails
    weights[::7] = 0
    kept = weighty_positions(weights, share=0.01)
    dropped = torch.ones(5000, dtype=torch.bool)
    dropped[kept] = False
    assert torch.all(kept[1:] > kept[:-1])  # ascending: gathers read memory in order
    assert float(weights[dropped].sum()) <= 0.01 * float(weights.sum())
    assert float(weights[kept].min()) >= float(weights[dropped].max())
    assert int(dropped.sum()) > 2000  # the zeros (715) and the light tail both went
    assert len(weighty_positions(torch.full((100,), 0.3), share=0.01)) == 99  # diffuse: 1% of 100 equal ones


def test_soft_masks_everywhere_above_zero_are_gathered_and_keep_the_style_inside(tiny_encoder):
    """A segmentation network's probabilities give each region a trace of weight everywhere: its statistics
    still read only where it has weight, and its style gradient stays there."""
    from regionstyle.objective import evaluate
    from regionstyle.optimize import ScaleWork

    encoder, plan = tiny_encoder
    content, masks, regions = _problem()
    masks = masks * (1 - 2e-4) + 1e-4  # probabilities: no position is exactly 0 for either region
    work = ScaleWork(content, masks, regions[:1], encoder=encoder, plan=plan,
                     config=TransferConfig(precision="fp32", content_weight=0.0, tv_weight=0.0, color_weight=0.0,
                                           edge_weight=0.0),
                     long_side=64, target_cache=None)
    problem = work.problem()
    supports = problem.regions[0].layers.values()
    assert supports and all(s.positions is not None for s in supports)
    image = _blobs()[:, :48].clone()[None].requires_grad_(True)
    loss, _ = evaluate(image, problem, encoder)
    loss.backward()
    gradient = image.grad[0].abs().sum(0)
    # the tiny encoder's receptive field reaches a few pixels past the region's own half (columns < 32)
    assert float(gradient[:, :28].sum()) > 0 and float(gradient[:, 52:].sum()) == 0.0


def _edge_problem(tiny_encoder, edge_weight: float, region_weights=(None, None), right_window: bool = False):
    """A photo with a bright window in the left half and flat grey in the right half (or a second window)."""
    from regionstyle.optimize import ScaleWork

    encoder, plan = tiny_encoder
    content, masks, regions = _problem()
    content = torch.full_like(content, 0.5)
    content[:, 12:36, 8:24] = 0.9
    if right_window:
        content[:, 12:36, 40:56] = 0.1
    regions = [dataclasses.replace(region, edge_weight=weight) for region, weight in zip(regions, region_weights)]
    work = ScaleWork(content, masks, regions, encoder=encoder, plan=plan,
                     config=TransferConfig(precision="fp32", edge_weight=edge_weight), long_side=64,
                     target_cache=None)
    return work.problem(), content


def test_no_edge_term_is_built_when_every_edge_weight_is_zero(tiny_encoder):
    problem, _ = _edge_problem(tiny_encoder, 0.0)
    assert problem.edges is None
    problem, _ = _edge_problem(tiny_encoder, 0.0, region_weights=(5.0, None))
    assert problem.edges is not None


def test_the_edge_term_holds_edges_and_leaves_flat_parts_free(tiny_encoder):
    from regionstyle.objective import evaluate

    problem, content = _edge_problem(tiny_encoder, 10.0)
    # the photo itself keeps every edge: no edge loss
    assert evaluate(content[None].clone(), problem, tiny_encoder[0])[1]["edges"] < 1e-9
    # the edge term alone: no style, content, smoothing or colour
    edges_only = dataclasses.replace(problem, regions=(), content_weights=problem.content_weights * 0,
                                     weights=dataclasses.replace(problem.weights, tv=0.0))
    g = torch.Generator().manual_seed(1)
    image = (content + 0.2 * torch.rand(content.shape, generator=g))[None].requires_grad_(True)
    loss, terms = evaluate(image, edges_only, tiny_encoder[0])
    assert terms["edges"] > 0 and math.isclose(terms["total"], terms["edges"], rel_tol=1e-6)
    loss.backward()
    grad = image.grad[0].abs().sum(0)
    # the window's edges pull; the flat right half, where the photo has no edge, is left free
    assert grad[:, 32:].max() == 0 < grad[10:38, 6:26].max()


def test_the_edge_term_sees_a_one_pixel_checkerboard_along_an_edge(tiny_encoder):
    """Pooled luminance averaged a checkerboard away, so the style gradient could park its energy there
    unseen (a coloured pixel speckle in VGG19-shaped skies); the term now counts it where it holds edges."""
    from regionstyle.objective import evaluate

    problem, content = _edge_problem(tiny_encoder, 10.0)
    rows, columns = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    checkerboard = 0.05 * (((rows + columns) % 2) * 2 - 1).float()
    speckled = content.clone()
    speckled[:, 8:40, 4:28] += checkerboard[8:40, 4:28]  # around the window, where the term holds edges
    assert evaluate(speckled[None], problem, tiny_encoder[0])[1]["edges"] > 1e-3


def test_a_region_s_own_edge_weight_sets_the_term_in_its_part_only(tiny_encoder):
    from regionstyle.optimize import EDGE_POOL

    both, _ = _edge_problem(tiny_encoder, 2.0, right_window=True)
    left_only, _ = _edge_problem(tiny_encoder, 2.0, region_weights=(8.0, 0.0), right_window=True)
    left = 32 // EDGE_POOL  # cells are EDGE_POOL px: the left region's are the columns before this
    ratio = left_only.edges.weights[:, :left] / both.edges.weights[:, :left].clamp_min(1e-12)
    assert torch.allclose(ratio[both.edges.weights[:, :left] > 0], torch.tensor(4.0))
    assert left_only.edges.weights[:, left:].abs().max() == 0 < both.edges.weights[:, left:].max()


def test_only_a_gram_scale_on_a_gpu_is_replayed_as_a_cuda_graph(tiny_encoder, monkeypatch):
    """w2 and sliced read their weights back to drop empty rows, which a graph cannot hold; a CPU has none."""
    from regionstyle import cuda_graph

    problem, _ = _edge_problem(tiny_encoder, 10.0)
    cuda = torch.device("cuda")
    assert cuda_graph.capturable(problem, cuda) and not cuda_graph.capturable(problem, torch.device("cpu"))
    for loss in ("w2", "sliced"):
        mixed = dataclasses.replace(problem, regions=(problem.regions[0], dataclasses.replace(
            problem.regions[1], target=dataclasses.replace(problem.regions[1].target, loss=loss))))
        assert not cuda_graph.capturable(mixed, cuda)
    monkeypatch.setattr(cuda_graph, "ENABLED", False)
    assert not cuda_graph.capturable(problem, cuda)


def test_the_edge_term_holds_only_the_magnitude_where_two_styles_meet(tiny_encoder):
    """Along a border between two styles (a skyline) only the edge's magnitude is held, not its sign; the
    same edge between two regions of one style is held whole, and so is a window's inside a region."""
    from regionstyle.optimize import EDGE_POOL, STYLE_BORDER_CELLS, ScaleWork

    encoder, plan = tiny_encoder
    content, masks, regions = _problem()
    content = torch.full_like(content, 0.6)
    content[:, :, 32:] = 0.2  # the region border is a luminance edge
    content[:, 12:36, 8:20] = 0.9  # a window in the left region
    weights = {}
    for case, pair in (("two styles", regions), ("one style", [regions[0], dataclasses.replace(
            regions[1], source=regions[0].source)])):
        work = ScaleWork(content, masks, pair, encoder=encoder, plan=plan,
                         config=TransferConfig(precision="fp32", edge_weight=10.0), long_side=64, target_cache=None)
        edges = work.problem().edges  # cells of EDGE_POOL px, the border at pixel column 32
        weights[case] = (edges.weights, edges.magnitude_weights)
    column = 32 // EDGE_POOL
    border = slice(column - STYLE_BORDER_CELLS, column + STYLE_BORDER_CELLS)
    window = slice(12 // EDGE_POOL, 36 // EDGE_POOL), slice(6 // EDGE_POOL, 22 // EDGE_POOL)
    signed, magnitude = weights["two styles"]
    assert signed[:, border].max() == 0 < magnitude[:, column - 1:column + 1].min()  # its strength, not its sign
    assert signed[window].max() > 0 and magnitude[window].max() == 0  # the window's edges, whole
    assert weights["one style"][0][:, column - 1:column + 1].min() > 0 and weights["one style"][1] is None


def test_without_iterations_set_the_encoder_plan_decides_them(tiny_encoder):
    encoder, plan = tiny_encoder
    content, masks, regions = _problem()
    counts = {}
    for name, config, layer_plan in [
            ("plan", TransferConfig(coarse_start=64, precision="fp32"), dataclasses.replace(plan, iterations=12)),
            ("config", TransferConfig(coarse_start=64, precision="fp32", iterations=15),
             dataclasses.replace(plan, iterations=12))]:
        seen = []
        optimize(content, masks, regions, encoder=encoder, plan=layer_plan, config=config, on_progress=seen.append)
        counts[name] = seen[0].iterations
    assert counts == {"plan": 12, "config": 15}


def test_the_encoder_sees_a_mirrored_border_and_only_the_image_counts():
    from regionstyle.objective import with_context

    image = torch.arange(2 * 6 * 7, dtype=torch.float32).reshape(1, 2, 6, 7)
    seen = with_context(image, 3)
    assert seen.shape == (1, 2, 12, 13)
    torch.testing.assert_close(seen[..., 3:-3, 3:-3], image)
    torch.testing.assert_close(seen[..., 3:-3, 2], image[..., :, 1])  # mirrored about the edge pixel
    assert with_context(image, 6) is image  # too small to mirror that far: as is
