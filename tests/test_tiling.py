"""Tiles for print-resolution scales: centres cover the image exactly once; margins stay inside it."""

from __future__ import annotations

import numpy as np
import torch
import pytest

from regionstyle.style.gram import gram, masked_gram
from regionstyle.tiling import windows


@pytest.mark.parametrize("size", [(3072, 4096), (1000, 1000), (300, 2000), (100, 90)])
@pytest.mark.parametrize("shifted", [False, True])
def test_centres_cover_every_pixel_once_and_margins_stay_in_the_image(size, shifted):
    tiles = windows(size, tile=768, margin=64, shifted=shifted)
    cover = np.zeros(size, np.int32)
    for window in tiles:
        top, left, bottom, right = window.inner
        cover[top:bottom, left:right] += 1
        outer = window.outer
        assert 0 <= outer[0] <= top and 0 <= outer[1] <= left and bottom <= outer[2] <= size[0] and right <= outer[3] <= size[1]
        assert top - outer[0] in (0, 64) or outer[0] == 0
        rows, cols = window.inner_in_outer()
        assert (rows.stop - rows.start, cols.stop - cols.start) == (bottom - top, right - left)
        assert min(bottom - top, right - left) >= min(768 // 4, *size)  # no slivers
    assert (cover == 1).all()


def test_the_shifted_grid_puts_its_joins_inside_the_first_grids_tiles():
    first = {w.inner[1] for w in windows((800, 4096), tile=1024, margin=0)} - {0}
    second = {w.inner[1] for w in windows((800, 4096), tile=1024, margin=0, shifted=True)} - {0}
    assert first and second and not first & second
    assert all(min(abs(a - b) for b in first) >= 256 for a in second)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        windows((10, 10), tile=0, margin=1)


@pytest.fixture()
def small_tiles(monkeypatch):
    """Tiles of 32 px with 16 px margins (multiples of the tiny encoder's stride 4) above 2000 pixels."""
    from regionstyle import optimize
    from regionstyle.style import targets

    monkeypatch.setattr(optimize, "TILE", 32)
    monkeypatch.setattr(targets, "EXEMPLAR_TILE", 32)
    for module in (optimize, targets):
        monkeypatch.setattr(module, "MARGIN", 16)
        monkeypatch.setattr(module, "needs_tiles", lambda size, full=None: size[0] * size[1] > 2000)


def _painting(height: int, width: int) -> torch.Tensor:
    noise = torch.rand(1, 3, height // 6, width // 6, generator=torch.Generator().manual_seed(5))
    return torch.nn.functional.interpolate(noise, size=(height, width), mode="bicubic")[0].clamp(0, 1)


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("loss", ["gram", "w2"])
def test_an_exemplar_read_in_windows_has_the_statistics_of_the_whole(tiny_encoder, small_tiles, masked, loss):
    from regionstyle.style import targets

    encoder, plan = tiny_encoder
    region = None
    if masked:
        region = torch.zeros(80, 100)
        region[10:70, 20:90] = 1.0
    source = targets.StyleSource("p", (_painting(80, 100),), (1.0,), masks=(region,) if masked else ())
    taps = tuple(tap for tap, _ in plan.style)

    def target():
        return targets.style_target(source, encoder, taps, content_long_side=100, device=torch.device("cpu"),
                                    loss=loss)

    tiled = target()
    targets.needs_tiles = lambda size, full=None: False  # the same image in one piece (monkeypatch restores it)
    single = target()
    for tap in taps:
        for name in ("gram", "mean", "cov_sqrt"):
            if hasattr(single.taps[tap], name):
                expected, got = getattr(single.taps[tap], name), getattr(tiled.taps[tap], name)
                assert torch.allclose(got, expected, rtol=1e-3, atol=1e-5), (tap, name)


def _two_region_problem(height: int = 72, width: int = 96):
    from regionstyle.optimize import StyledRegion
    from regionstyle.style.targets import StyleSource

    content = _painting(height, width) * 0.3 + 0.35
    masks = torch.zeros(2, height, width)
    masks[0, : height // 2] = 1
    masks[1, height // 2:] = 1
    regions = [StyledRegion("top", 0, StyleSource("a", (_painting(64, 64),), (1.0,))),
               StyledRegion("bottom", 1, StyleSource("b", (1 - _painting(64, 64),), (1.0,)))]
    return content, masks, regions


def test_a_tiled_scale_refines_every_window_into_one_texture_per_region(tiny_encoder, small_tiles):
    from regionstyle.config import TransferConfig
    from regionstyle.optimize import optimize

    encoder, plan = tiny_encoder
    content, masks, regions = _two_region_problem()
    config = TransferConfig(iterations=30, scales=(48,), seed=0, precision="fp32")
    seen = []
    result = optimize(content, masks, regions, encoder=encoder, plan=plan, config=config, on_progress=seen.append)
    finest = [step for step in seen if step.scale == step.scales]
    assert finest and finest[-1].iteration == finest[-1].iterations  # progress counts every window's work
    first_pass = windows((72, 96), tile=32, margin=16)
    assert len(first_pass) > 4
    # every window was optimised: no window of the result equals the start image upsampled
    change = (result - content).abs().mean(0)
    for window in first_pass:
        top, left, bottom, right = window.inner
        assert float(change[top:bottom, left:right].mean()) > 0.01, window
    # the windows add up to one texture per region: each half ends closer to its own style than the other's
    with torch.no_grad():
        features = encoder(result[None])["relu2_1"][0]
        small = torch.nn.functional.interpolate(masks[None], size=features.shape[-2:], mode="area")[0]
        styles = [gram(encoder(r.source.images[0][None])["relu2_1"][0]) for r in regions]
    for index in range(2):
        distances = [float(torch.mean((masked_gram(features, small[index]) - t) ** 2)) for t in styles]
        assert distances[index] < distances[1 - index], (index, distances)

def test_a_window_leaves_out_the_regions_it_barely_holds(tiny_encoder):
    from regionstyle.config import TransferConfig
    from regionstyle.optimize import ScaleWork
    from regionstyle.tiling import Window

    encoder, plan = tiny_encoder
    content, masks, regions = _two_region_problem()
    work = ScaleWork(content, masks, regions, encoder=encoder, plan=plan, config=TransferConfig(precision="fp32"),
                     long_side=96, target_cache=None)
    assert [t.name for t in work.problem().regions] == ["top", "bottom"]
    inside_top = Window((0, 0, 32, 96), (0, 0, 32, 96))
    assert [t.name for t in work.problem(inside_top).regions] == ["top"]
    assert work.problem(inside_top).content_target.shape[-2:] != work.problem().content_target.shape[-2:]


def test_a_print_sized_run_tiles_every_scale_larger_than_a_window():
    from regionstyle.tiling import MARGIN, PRINT_ABOVE, TILE, needs_tiles

    window = (TILE + 2 * MARGIN) ** 2
    scale = (768, 1024)
    assert window < scale[0] * scale[1] and not needs_tiles(scale)
    assert not needs_tiles(scale, full=(1536, 2048))  # a 2048 px run optimises its 1024 px scale whole
    assert needs_tiles(scale, full=(3072, 4096)) and 3072 * 4096 > PRINT_ABOVE
    assert not needs_tiles((384, 512), full=(3072, 4096))
