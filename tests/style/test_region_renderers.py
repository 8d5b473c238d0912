"""Built-in styles rendered from a region's own pixels (regionstyle.styles.region).

Every renderer gets the same contract tests (shape, range, determinism, nothing read from outside the
region), then each style a property its name promises and that a wrong implementation would break: tiles
that each carry the colour beneath them and sit in grout, panes of one colour in lead, dots of the photo's
colours, hatching that darkens with the photo and runs along its edges ...
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from regionstyle.errors import BadInput
from regionstyle.styles import BUILTIN_STYLES
from regionstyle.styles.palettes import PALETTES
from regionstyle.styles.region import REGION_RENDERERS, fields, render_region, tones
from regionstyle.styles.region.frame import fill_outside
from regionstyle.styles.region.superpixels import adaptive_cells, connected_cells

NAMES = sorted(REGION_RENDERERS)
LUMA = np.asarray([0.2126, 0.7152, 0.0722], np.float32)


def _photo(height: int = 72, width: int = 96, seed: int = 0) -> np.ndarray:
    """Four coloured blocks split off-grid, a dark diagonal band and a little noise: edges to follow."""
    rng = np.random.default_rng(seed)
    pixels = np.empty((height, width, 3), np.float32)
    pixels[:, :] = [0.8, 0.35, 0.25]
    pixels[: height // 2 + 3, width // 2 + 5:] = [0.2, 0.45, 0.8]
    pixels[height // 2 + 3:, : width // 2 + 5] = [0.3, 0.7, 0.3]
    ys, xs = np.mgrid[0:height, 0:width]
    pixels[np.abs(ys - 0.6 * xs - 10) < 4] = [0.1, 0.1, 0.12]
    return np.clip(pixels + rng.normal(0, 0.02, pixels.shape), 0, 1).astype(np.float32)


def _mask(height: int = 72, width: int = 96) -> np.ndarray:
    """An ellipse covering most of the frame, feathered like the pipeline's region masks."""
    ys, xs = np.mgrid[0:height, 0:width]
    inside = ((ys - height / 2) / (0.42 * height)) ** 2 + ((xs - width / 2) / (0.45 * width)) ** 2 < 1
    return cv2.GaussianBlur(inside.astype(np.float32), (0, 0), 1.5)


def _small(name: str) -> dict[str, object]:
    """Parameters for features that fit a 96 px test image several times."""
    return {"mosaic": {"tile": 8}, "stained-glass": {"cell": 12}, "pointillism": {"dot": 4},
            "oil": {"stroke": 4}, "pencil": {"spacing": 4.0}, "woodcut": {"spacing": 4.0}}.get(name, {})


# --- contract ------------------------------------------------------------------------------------------


def test_every_builtin_style_has_a_region_renderer() -> None:
    assert set(REGION_RENDERERS) == set(BUILTIN_STYLES)


@pytest.mark.parametrize("name", NAMES)
def test_shape_range_and_determinism(name: str) -> None:
    photo, mask = _photo(), _mask()
    first = render_region(name, photo, mask, params=_small(name), seed=3)
    again = render_region(name, photo, mask, params=_small(name), seed=3)
    assert first.shape == photo.shape and first.dtype == np.float32
    assert np.isfinite(first).all() and first.min() >= 0.0 and first.max() <= 1.0
    np.testing.assert_array_equal(first, again)
    other = render_region(name, photo, mask, params=_small(name), seed=4)
    assert np.abs(other - first).mean() > 1e-3  # the seed matters (jitter, strokes, dots, grain)
    assert first[mask > 0.5].std() > 0.03  # a picture, not a flat fill


@pytest.mark.parametrize("name", NAMES)
def test_pixels_outside_the_region_are_never_read(name: str) -> None:
    photo, mask = _photo(), _mask()
    changed = photo.copy()
    outside = mask <= 0.5
    changed[outside] = np.random.default_rng(9).random((int(outside.sum()), 3), dtype=np.float32)
    np.testing.assert_array_equal(render_region(name, photo, mask, params=_small(name), seed=1),
                                  render_region(name, changed, mask, params=_small(name), seed=1))


@pytest.mark.parametrize("name", NAMES)
def test_a_tiny_region_and_an_empty_mask_still_render(name: str) -> None:
    photo = _photo()
    speck = np.zeros(photo.shape[:2], np.float32)
    speck[30:33, 40:42] = 1.0
    for mask in (speck, np.zeros_like(speck)):
        image = render_region(name, photo, mask, params=_small(name), seed=0)
        assert image.shape == photo.shape and np.isfinite(image).all()


def test_seed_in_params_overrides_the_seed_argument() -> None:
    photo, mask = _photo(), _mask()
    np.testing.assert_array_equal(render_region("mosaic", photo, mask, params={"seed": 5, "tile": 8}, seed=1),
                                  render_region("mosaic", photo, mask, params={"tile": 8}, seed=5))


def test_bad_inputs_say_what_was_expected() -> None:
    photo, mask = _photo(), _mask()
    with pytest.raises(BadInput, match=r"^render_region: mask must be \(H, W\) = \(72, 96\)"):
        render_region("oil", photo, mask[:10])
    with pytest.raises(BadInput, match=r"photo must be \(H, W, 3\) RGB, got shape \(72, 96\)"):
        render_region("oil", photo[..., 0], mask)
    with pytest.raises(BadInput, match="has no parameter 'tiles'"):
        render_region("mosaic", photo, mask, params={"tiles": 8})


def test_fill_outside_keeps_the_inside_and_extrapolates_smoothly() -> None:
    photo, support = _photo(), _mask() > 0.5
    filled = fill_outside(photo, support)
    np.testing.assert_array_equal(filled[support], photo[support])
    # Outside, every colour lies within the range of the colours inside (an average of them).
    assert (filled[~support] >= photo[support].min(axis=0) - 1e-5).all()
    assert (filled[~support] <= photo[support].max(axis=0) + 1e-5).all()


def test_connected_cells_are_connected_and_not_tiny() -> None:
    rng = np.random.default_rng(0)
    ids = cv2.resize(rng.integers(0, 6, (6, 8)).astype(np.uint8), (64, 48), interpolation=cv2.INTER_NEAREST)
    ids = ids.astype(np.int32)
    ids[rng.random(ids.shape) < 0.02] = 7  # specks: pieces of one pixel
    cells = connected_cells(ids, min_area=20)
    for cell in np.unique(cells):
        pieces, _ = cv2.connectedComponents((cells == cell).astype(np.uint8), connectivity=4)
        assert pieces == 2  # background + exactly one piece
        assert (cells == cell).sum() >= 20


def test_a_named_palette_pulls_the_colours_toward_it() -> None:
    photo, mask = _photo(), _mask()
    inside = mask > 0.9

    def distance_to(palette: np.ndarray, image: np.ndarray) -> float:
        pixels = image[inside]
        return float(np.sqrt(((pixels[:, None] - palette[None]) ** 2).sum(-1)).min(axis=1).mean())

    for name in ("mosaic", "stained-glass", "pointillism", "oil", "watercolor"):
        own = render_region(name, photo, mask, params=_small(name))
        tinted = render_region(name, photo, mask, params={**_small(name), "palette": "ocean"})
        assert distance_to(PALETTES["ocean"], tinted) < 0.8 * distance_to(PALETTES["ocean"], own), name


# --- style by style ------------------------------------------------------------------------------------


def _tiles(image: np.ndarray, inside: np.ndarray, grout_luma: float = 0.45) -> tuple[np.ndarray, int]:
    """Connected pieces of non-grout, non-dark pixels inside the region (grout is grey and darker)."""
    luma = image @ LUMA
    chroma = image.max(axis=-1) - image.min(axis=-1)
    stone = inside & ~((chroma < 0.06) & (luma < grout_luma))
    count, pieces = cv2.connectedComponents(stone.astype(np.uint8), connectivity=4)
    return pieces, count - 1


def test_mosaic_tiles_carry_the_colour_beneath_them_in_grout() -> None:
    photo, mask = _photo(), _mask()
    image = render_region("mosaic", photo, mask, params={"tile": 8})
    inside = cv2.erode((mask > 0.5).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    pieces, count = _tiles(image, inside)
    grout = inside & (pieces == 0)
    assert 0.08 < grout.mean() / inside.mean() < 0.45  # grout lines, but not a grout field
    area = inside.sum()
    assert area / 64 / 3 < count < 2.5 * area / 16  # roughly one tile per 8 x 8 (or 4 x 4 where detailed)
    medians, errors = [], []
    for piece in range(1, count + 1):
        where = pieces == piece
        if where.sum() < 12:
            continue
        medians.append(np.median(image[where], axis=0))
        errors.append(np.abs(medians[-1] - photo[where].mean(axis=0)).max())
    # Every stone is the photo's colour beneath it (give or take its own small variation) ...
    assert np.median(errors) < 0.12
    # ... and nearly every stone has a colour of its own, as many colours as tiles.
    distinct = len({tuple(np.round(m * 50).astype(int)) for m in medians})
    assert distinct > 0.7 * len(medians)


def test_mosaic_tiles_follow_an_off_grid_edge() -> None:
    photo = np.full((64, 96, 3), 0.85, np.float32)
    photo[:, 37:] = [0.15, 0.3, 0.7]  # a vertical edge that no 8 px grid line meets
    mask = np.ones((64, 96), np.float32)
    image = render_region("mosaic", photo, mask, params={"tile": 8})
    pieces, count = _tiles(image, np.ones((64, 96), bool), grout_luma=0.42)
    straddling = 0
    for piece in range(1, count + 1):
        where = pieces == piece
        left = where[:, :37].sum() / where.sum()
        straddling += 0.15 < left < 0.85
    assert straddling <= 0.05 * count


def test_stained_glass_panes_are_one_colour_in_dark_lead() -> None:
    photo, mask = _photo(), _mask()
    image = render_region("stained-glass", photo, mask, params={"cell": 12})
    inside = cv2.erode((mask > 0.5).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    lead = inside & (image @ LUMA < 0.12)
    assert 0.08 < lead.sum() / inside.sum() < 0.4
    count, panes = cv2.connectedComponents((inside & ~lead).astype(np.uint8), connectivity=4)
    spreads = [image[panes == k].std(axis=0).max() for k in range(1, count) if (panes == k).sum() >= 15]
    assert len(spreads) >= 10 and np.median(spreads) < 0.05
    # Glass is purer than the photo it was cut from.
    def saturation(pixels: np.ndarray) -> float:
        return float((pixels.max(-1) - pixels.min(-1)).mean())
    panes_only = inside & ~lead
    assert saturation(image[panes_only]) > 1.2 * saturation(photo[panes_only])


def test_pointillism_dots_take_the_colours_of_the_photo_beneath() -> None:
    photo = np.empty((64, 96, 3), np.float32)
    photo[:, :48] = [0.85, 0.25, 0.2]
    photo[:, 48:] = [0.2, 0.3, 0.85]
    image = render_region("pointillism", photo, np.ones((64, 96), np.float32), params={"dot": 5})
    left, right = image[:, 4:40].reshape(-1, 3), image[:, 56:92].reshape(-1, 3)
    assert left[:, 0].mean() > left[:, 2].mean() + 0.3  # red dots over the red half
    assert right[:, 2].mean() > right[:, 0].mean() + 0.3  # blue dots over the blue half
    luma = left @ LUMA  # a lighter ground shows between the dots (0.24 above the median)
    assert np.quantile(luma, 0.95) - np.median(luma) > 0.15
    # Dots are dots: their colours vary from dot to dot even over a flat colour.
    assert left.std(axis=0).max() > 0.03


def test_pointillism_leaves_no_white_squiggles_on_a_dark_wall() -> None:
    """The ground between the dots is the region's own colour lightened, not bare cream: on dark brick the
    cream gaps read as white squiggles (1.6% of the pixels near white; none now), while the dots still
    vary (luma std 0.10)."""
    brick = np.full((64, 96, 3), [0.45, 0.2, 0.15], np.float32)
    image = render_region("pointillism", brick, np.ones((64, 96), np.float32), params={"dot": 5}, seed=0)
    assert (image.min(axis=-1) > 0.8).mean() < 0.002 and (image @ LUMA).std() > 0.06


def _wall_with_windows(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A cream wall with rows of 5x8 px dark windows (Tübingen's at 1024 px), and where they are."""
    photo = np.full((height, width, 3), [0.85, 0.78, 0.6], np.float32)
    windows = np.zeros((height, width), bool)
    for top in range(12, height - 12, 18):
        for left in range(12, width - 12, 16):
            windows[top:top + 8, left:left + 5] = True
    photo[windows] = [0.15, 0.15, 0.18]
    return photo, windows


def test_pointillism_keeps_windows_smaller_than_its_dots() -> None:
    """Dots 7 px over 5 px windows: the windows must still read darker than the wall. Sampled from a photo
    blurred over 0.3 dot and without the small dots where the form is missed, the contrast was 0.21 (the
    photo's 0.63); now 0.38-0.39 over three seeds."""
    photo, windows = _wall_with_windows(96, 144)
    luma = render_region("pointillism", photo, np.ones(windows.shape, np.float32), seed=0) @ LUMA
    assert luma[~windows].mean() - luma[windows].mean() > 0.32


def test_ink_wash_puts_a_dab_on_each_window() -> None:
    """Washes cut from a photo simplified over ~30 px paint a row of 5x8 px windows over as bare wall, leaving
    only brush lines around them (contrast 0.32-0.34 over three seeds); a dab of ink on each small dark mark
    gives 0.47-0.48, and the wall keeps its tone."""
    photo, windows = _wall_with_windows(192, 288)
    luma = render_region("ink-wash", photo, np.ones(windows.shape, np.float32), seed=0) @ LUMA
    assert luma[~windows].mean() - luma[windows].mean() > 0.42
    assert luma[~windows].mean() > 0.8


def test_stained_glass_keeps_windows_smaller_than_its_panes() -> None:
    """Panes of 32 px, cut to 16 where the wall has detail: the 5x8 px windows fell inside them (contrast
    0.10 of the photo's 0.63). A third, quarter-size pane where a half-size one still has detail holds them."""
    photo, windows = _wall_with_windows(192, 288)
    luma = render_region("stained-glass", photo, np.ones(windows.shape, np.float32), seed=0) @ LUMA
    assert luma[~windows].mean() - luma[windows].mean() > 0.3


@pytest.mark.parametrize("seed", [0, 1])
def test_adaptive_cells_cut_only_where_there_is_detail(seed: int) -> None:
    """More levels cut the wall with windows into more, smaller cells; the plain wall keeps its cells."""
    photo, _ = _wall_with_windows(96, 144)
    photo[:, 72:] = photo[0, 0]  # the right half plain

    def cells(levels: int) -> tuple[int, int]:
        ids = adaptive_cells(photo, photo @ LUMA, size=32.0, compactness=0.45, jitter=0.7, levels=levels,
                             rng=np.random.default_rng(seed))
        return len(np.unique(ids[:, :64])), len(np.unique(ids[:, 80:]))

    (windows_1, plain_1), (windows_3, plain_3) = cells(1), cells(3)
    assert windows_3 >= 2 * windows_1 and plain_3 == plain_1


def test_oil_keeps_windows_narrower_than_its_strokes() -> None:
    """Strokes 4-17 px wide over 5 px windows: with three layers painting from a photo blurred over half a
    stroke, strokes that ran on across the windows' edges, the contrast was 0.15 (the photo's 0.63); with
    a layer of narrower strokes, a finer blur and strokes that stop at another colour, 0.41 (three seeds)."""
    photo, windows = _wall_with_windows(192, 288)
    luma = render_region("oil", photo, np.ones(windows.shape, np.float32), seed=0) @ LUMA
    assert luma[~windows].mean() - luma[windows].mean() > 0.35  # 0.23-0.32 without any one of the three


def _ink(image: np.ndarray) -> np.ndarray:
    return 1.0 - image @ LUMA


def test_pencil_puts_more_graphite_where_the_photo_is_darker() -> None:
    ramp = np.tile(np.linspace(0.95, 0.05, 96, dtype=np.float32), (64, 1))
    photo = np.repeat(ramp[..., None], 3, axis=2)
    image = render_region("pencil", photo, np.ones((64, 96), np.float32), params={"spacing": 4.0})
    thirds = [_ink(image)[8:-8, start:start + 24].mean() for start in (4, 36, 68)]
    assert thirds[0] + 0.05 < thirds[1] < thirds[2] - 0.05


@pytest.mark.parametrize(("stripes", "along"), [("horizontal", 1), ("vertical", 0)])
def test_pencil_hatching_runs_along_the_edges(stripes: str, along: int) -> None:
    ys, xs = np.mgrid[0:80, 0:80]
    coordinate = ys if stripes == "horizontal" else xs
    photo = np.repeat((0.55 + 0.15 * ((coordinate // 16) % 2))[..., None], 3, axis=2).astype(np.float32)
    image = render_region("pencil", photo, np.ones((80, 80), np.float32), params={"spacing": 4.0})
    ink = _ink(image)[8:-8, 8:-8]
    change = [np.abs(np.diff(ink, axis=axis)).mean() for axis in (0, 1)]
    # Lines along the edges vary little along their own direction and a lot across it.
    assert change[1 - along] > 1.5 * change[along]


def test_woodcut_is_black_and_white_and_lighter_where_the_photo_is() -> None:
    ramp = np.tile(np.linspace(0.95, 0.05, 96, dtype=np.float32), (64, 1))
    photo = np.repeat(ramp[..., None], 3, axis=2)
    image = render_region("woodcut", photo, np.ones((64, 96), np.float32), params={"spacing": 4.0})
    luma = image @ LUMA
    assert ((luma < 0.2) | (luma > 0.75)).mean() > 0.75  # printed: ink or paper, few greys
    assert luma[8:-8, 4:28].mean() > luma[8:-8, 68:92].mean() + 0.3


def _clear_sky(height: int = 96, width: int = 160) -> np.ndarray:
    """A clear blue sky: a saturated blue gradient of luma about 0.44, rounded to 8 bits, a little noise."""
    t = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    sky = (np.float32([0.22, 0.42, 0.78]) * (1 - t) + np.float32([0.3, 0.5, 0.82]) * t) * np.ones((1, width, 1))
    noise = np.random.default_rng(0).normal(0, 0.01, sky.shape)
    return np.clip(np.round(sky * 255) / 255 + noise, 0, 1).astype(np.float32)


def test_a_saturated_colour_reads_lighter_than_a_grey_of_its_luma() -> None:
    blue = np.float32([0.25, 0.45, 0.8])
    grey = np.full(3, blue @ LUMA, np.float32)  # the same luma
    assert tones.value(blue) > tones.value(grey) + 0.08  # Helmholtz-Kohlrausch: 0.62 against 0.51
    greys = tones.value(np.repeat(np.linspace(0, 1, 11, dtype=np.float32)[:, None], 3, axis=1))
    assert np.all(np.diff(greys) > 0) and greys[0] == 0 and abs(greys[-1] - 1) < 1e-3


def test_a_clear_blue_sky_is_drawn_light_not_inked_black() -> None:
    """Judged by luma, a clear sky (0.44) was a dark tone: the woodcut inked it solid black (no paper at all)
    and the pencil hatched it to a mean of 0.52. Drawn by its perceived lightness, it is a mid tone."""
    sky = _clear_sky()
    woodcut = render_region("woodcut", sky, np.ones(sky.shape[:2], np.float32), seed=0) @ LUMA
    pencil = render_region("pencil", sky, np.ones(sky.shape[:2], np.float32), seed=0) @ LUMA
    assert (woodcut > 0.5).mean() > 0.15 and woodcut.mean() > 0.2
    assert pencil.mean() > 0.65


def test_a_flat_noisy_region_has_no_edges_but_its_outline() -> None:
    """Edge thresholds are quantiles of the region's own gradients; in a flat region those are noise, and
    1,587 specks became edges (pencil contours, ink brush lines, woodcut outlines over a clear sky)."""
    flat = np.clip(0.5 + np.random.default_rng(1).normal(0, 0.01, (96, 160)), 0, 1).astype(np.float32)
    support = np.zeros((96, 160), bool)
    support[8:-8, 8:-8] = True
    edges = fields.edge_map(flat, support, sigma=1.5, keep=0.08)
    assert not (edges & ~fields.outline(support)).any() and fields.outline(support).sum() > 0
    step = flat.copy()
    step[:, 80:] += 0.05  # a faint but real edge is still found
    assert (fields.edge_map(step, support, sigma=1.5, keep=0.08)[12:-12, 78:83]).mean() > 0.15


def test_ink_wash_leaves_a_clear_sky_pale_and_unlined() -> None:
    """By luma and with noise for edges, a clear sky came out a mid-grey wash (mean 0.55) crossed by brush
    lines (13-14% of it darker than 0.3); by perceived lightness and real edges only, a pale wash."""
    luma = render_region("ink-wash", _clear_sky(), np.ones((96, 160), np.float32), seed=0) @ LUMA
    assert (luma < 0.3).mean() < 0.01 and luma.mean() > 0.7


def test_woodcut_lines_run_level_where_no_edge_runs() -> None:
    """A flat, noisy grey has no edge to follow: its carved lines run level, as a cutter cuts a sky
    (vertical / horizontal luminance change 2.9-3.0 over three seeds; 1.7 when noise chose the direction)."""
    flat = np.full((128, 192, 3), 0.5, np.float32) + np.random.default_rng(1).normal(0, 0.02, (128, 192, 3))
    luma = render_region("woodcut", np.clip(flat, 0, 1).astype(np.float32), np.ones((128, 192), np.float32),
                         seed=0) @ LUMA
    assert np.abs(np.diff(luma, axis=0)).mean() > 2.4 * np.abs(np.diff(luma, axis=1)).mean()


def test_a_sky_beside_a_tower_is_cut_level_up_to_the_tower() -> None:
    """A clear sky whose blue darkens toward a corner, beside a tower of vertical ribs, in one region: the
    sky's faint gradient and the tower's blurred-out votes cut the sky in diagonal and vertical patches
    (Tübingen, Big Ben, St Basil's at 768 px). Only an area with edges of its own may leave the level line
    (sky 20-140 px from the tower, vertical / horizontal luminance change over three seeds: 17-23 now,
    0.3-1.0 before)."""
    ys, xs = np.mgrid[0:128, 0:192].astype(np.float32)
    fade = (ys + xs) / (128 + 192)  # darker toward the bottom right, a luma step of 0.13 across
    photo = (np.float32([0.3, 0.5, 0.85]) - 0.15 * fade[..., None]).astype(np.float32)
    photo = np.round(photo * 255) / 255 + np.random.default_rng(2).normal(0, 0.005, photo.shape)
    ribs = 0.15 + 0.2 * ((xs[:, 140:] // 5) % 2)
    photo[:, 140:] = ribs[..., None]
    luma = render_region("woodcut", np.clip(photo, 0, 1).astype(np.float32), np.ones((128, 192), np.float32),
                         seed=0) @ LUMA
    for sky in (luma[4:-4, :60], luma[4:-4, 60:120]):
        assert np.abs(np.diff(sky, axis=0)).mean() > 5 * np.abs(np.diff(sky, axis=1)).mean()


def test_ink_wash_grades_with_the_photo_and_leaves_highlights_as_paper() -> None:
    ramp = np.tile(np.linspace(0.95, 0.05, 96, dtype=np.float32), (64, 1))
    photo = np.repeat(ramp[..., None], 3, axis=2)
    image = render_region("ink-wash", photo, np.ones((64, 96), np.float32))
    ink = _ink(image)[8:-8]
    bands = [ink[:, start:start + 16].mean() for start in (2, 28, 52, 78)]
    assert all(a < b for a, b in zip(bands, bands[1:]))
    assert bands[0] < 0.15  # the lightest quarter is (nearly) bare paper


def test_watercolor_is_lighter_than_the_photo_with_darker_wash_edges() -> None:
    photo = np.full((64, 96, 3), [0.25, 0.45, 0.7], np.float32)
    photo[:, 48:] = [0.7, 0.4, 0.3]
    image = render_region("watercolor", photo, np.ones((64, 96), np.float32), params={"wetness": 0.3})
    luma = image @ LUMA
    assert luma.mean() > (photo @ LUMA).mean() + 0.05  # transparent pigment over white paper
    assert image[:, :40, 2].mean() > image[:, :40, 0].mean()  # the blue wash is still blue
    # Pigment pools at the wash edge: the darker wash is darker next to the edge than in its middle.
    darker = 0 if (image[:, :40] @ LUMA).mean() < (image[:, 56:] @ LUMA).mean() else 1
    edge = luma[8:-8, 42:47] if darker == 0 else luma[8:-8, 49:54]
    middle = luma[8:-8, 16:32] if darker == 0 else luma[8:-8, 64:80]
    assert edge.mean() < middle.mean() - 0.02


def test_a_smooth_sky_gets_no_wash_edges() -> None:
    """A clear sky's gradient, rounded to 8 bits as photos are, has no wash edge to pool pigment at; scaled
    to full strength, its rounding steps drew dark contour lines across every clear sky (fine-scale
    luminance std 0.030 against 0.010 without them)."""
    t = np.linspace(0, 1, 96, dtype=np.float32)[:, None, None]
    sky = (np.float32([0.25, 0.45, 0.8]) * (1 - t) + np.float32([0.45, 0.62, 0.88]) * t) * np.ones((1, 160, 1))
    sky = (np.round(sky * 255) / 255).astype(np.float32)
    luma = render_region("watercolor", sky, np.ones((96, 160), np.float32), seed=0) @ LUMA
    assert (luma - cv2.GaussianBlur(luma, (0, 0), 3)).std() < 0.018


def test_oil_strokes_carry_the_photo_colours_and_a_lit_relief() -> None:
    photo = np.empty((64, 96, 3), np.float32)
    photo[:, :48] = [0.85, 0.3, 0.2]
    photo[:, 48:] = [0.2, 0.35, 0.8]
    image = render_region("oil", photo, np.ones((64, 96), np.float32), params={"stroke": 6})
    assert image[:, 4:40, 0].mean() > image[:, 4:40, 2].mean() + 0.2
    assert image[:, 56:92, 2].mean() > image[:, 56:92, 0].mean() + 0.2
    # Strokes are lit through their relief: light and shade inside a flat colour.
    assert (image[:, 4:40] @ LUMA).std() > 0.02


def _tile_count(height: int, width: int) -> int:
    """Mosaic tiles (grout-bounded light cells) of a flat photo rendered at (height, width)."""
    photo = np.full((height, width, 3), 0.7, np.float32)
    image = render_region("mosaic", photo, np.ones((height, width), np.float32), seed=0)
    tiles = (image @ LUMA > 0.45).astype(np.uint8)
    return cv2.connectedComponents(tiles, connectivity=4)[0] - 1


def test_print_sizes_keep_the_feature_size_of_a_1024_px_render_relative_to_the_photo():
    """Twice the photo, the same number of tiles (not four times as many); below 1024 px tiles stay pixels."""
    at_1024, at_2048 = _tile_count(128, 1024), _tile_count(256, 2048)
    assert 0.7 < at_2048 / at_1024 < 1.4
    at_256, at_512 = _tile_count(32, 256), _tile_count(64, 512)
    assert 2.8 < at_512 / at_256 < 5.5  # pixel-sized tiles: four times the area, about four times the tiles


@pytest.mark.parametrize("name", ["mosaic", "woodcut", "watercolor"])
def test_above_the_render_limit_a_photo_gets_its_shrunk_rendering_enlarged(name: str) -> None:
    """A print-size photo is rendered at RENDER_SIDE_LIMIT and enlarged: shrunk back, it is the rendering of
    the shrunk photo (a full-size render lays its tiles and lines out anew, far from it), and it is still
    the photo's size and range."""
    from regionstyle.styles.region import RENDER_SIDE_LIMIT

    height, width = 48, 2 * RENDER_SIDE_LIMIT  # long but thin: cheap, and the long side decides
    photo = cv2.resize(_photo(), (width, height), interpolation=cv2.INTER_LINEAR)
    mask = np.ones((height, width), np.float32)
    image = render_region(name, photo, mask, seed=2)
    assert image.shape == (height, width, 3) and image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    half = (RENDER_SIDE_LIMIT, height // 2)
    at_limit = render_region(name, cv2.resize(photo, half, interpolation=cv2.INTER_AREA),
                             np.ones(half[::-1], np.float32), seed=2)
    assert np.abs(cv2.resize(image, half, interpolation=cv2.INTER_AREA) - at_limit).mean() < 0.015
