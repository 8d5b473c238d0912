"""Built-in procedural styles: registry, parameter checks, rendering contract and texture statistics.

Renders are tiny (at most 128 px) so the whole module runs in seconds. The statistical tests summarise an
exemplar the way the style losses do, by Gram matrices of conv features, here from a small random encoder
built in this module: the eight styles must be told apart by those statistics, and their parameters must
move the statistics the way their names promise.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from regionstyle.errors import BadInput
from regionstyle.styles import BUILTIN_STYLES, builtin_param_names, get_builtin, palette_names, render_builtin
from regionstyle.styles.palettes import luminance

NAMES = sorted(BUILTIN_STYLES)
COMMON = {"palette", "scale", "seed"}
# The parameter that sets each style's feature size, with a small and a large value.
FEATURE_SIZE = {
    "mosaic": ("tile", 8, 24),
    "pointillism": ("dot", 4, 12),
    "pencil": ("spacing", 4.0, 12.0),
    "stained-glass": ("cell", 16, 48),
    "oil": ("stroke", 6, 18),
    "woodcut": ("spacing", 4.0, 12.0),
}
SEEDS = (0, 1, 2)


def _render(name: str, size: int = 64, **params: object) -> np.ndarray:
    seed = int(params.pop("run_seed", 0))
    return render_builtin(name, height=size, width=size, params=params, seed=seed)


def _edge_energy(image: np.ndarray) -> float:
    """Mean squared luminance difference between neighbours, relative to the luminance variance.

    Dividing by the variance makes it a pure measure of how fine the texture is (the mean squared spatial
    frequency), untouched by styles that rebalance their contrast to keep a fixed mean tone.
    """
    lum = luminance(image).astype(np.float64)
    dy, dx = np.diff(lum, axis=0), np.diff(lum, axis=1)
    return float((np.mean(dy**2) + np.mean(dx**2)) / lum.var())


# --- registry ------------------------------------------------------------------------------------------


def test_registry_holds_exactly_the_eight_styles() -> None:
    assert set(BUILTIN_STYLES) == {
        "watercolor", "mosaic", "pointillism", "pencil", "ink-wash", "stained-glass", "oil", "woodcut",
    }
    for name, style in BUILTIN_STYLES.items():
        assert style.name == name
        assert style.description and "\n" not in style.description
        for key, spec in style.params.items():
            assert spec.coerce(spec.default) == spec.default, (name, key)  # every default is itself valid


def test_builtin_param_names_lists_common_and_own_parameters() -> None:
    names = builtin_param_names()
    assert names["mosaic"] == COMMON | {"tile"}
    assert names["pointillism"] == COMMON | {"dot"}
    assert names["pencil"] == COMMON | {"spacing"}
    assert names["stained-glass"] == COMMON | {"cell"}
    assert names["oil"] == COMMON | {"stroke"}
    assert names["woodcut"] == COMMON | {"spacing"}
    assert names["watercolor"] == COMMON | {"wetness"}
    assert names["ink-wash"] == COMMON | {"dryness"}
    assert all(isinstance(v, frozenset) for v in names.values())


def test_every_named_palette_is_accepted_by_every_style() -> None:
    for name in NAMES:
        assert set(BUILTIN_STYLES[name].params["palette"].choices) == {"default", *palette_names()}


# --- rendering contract --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_render_is_deterministic_float32_rgb_in_range(name: str) -> None:
    style = get_builtin(name)
    defaults = {k: s.default for k, s in style.params.items() if k != "seed"}
    first = style.render(height=48, width=40, seed=7, **defaults)  # bypasses the cache on purpose
    again = style.render(height=48, width=40, seed=7, **defaults)
    np.testing.assert_array_equal(first, again)
    cached = render_builtin(name, height=48, width=40, seed=7)
    np.testing.assert_array_equal(np.clip(first, 0, 1), cached)
    assert cached.dtype == np.float32 and cached.shape == (48, 40, 3)
    assert np.isfinite(cached).all() and cached.min() >= 0.0 and cached.max() <= 1.0
    assert cached.std() > 0.02  # a texture, not a flat fill


@pytest.mark.parametrize("name", NAMES)
def test_different_seeds_paint_different_exemplars(name: str) -> None:
    one, two = _render(name, run_seed=0), _render(name, run_seed=1)
    assert np.mean(np.abs(one - two)) > 0.02


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("size", [(1, 1), (2, 3), (31, 7), (17, 65)])
def test_any_size_including_odd_and_tiny(name: str, size: tuple[int, int]) -> None:
    image = render_builtin(name, height=size[0], width=size[1], seed=1)
    assert image.shape == (*size, 3) and image.dtype == np.float32
    assert np.isfinite(image).all() and image.min() >= 0.0 and image.max() <= 1.0


def test_extreme_parameters_stay_valid() -> None:
    for name in NAMES:
        for scale in (0.25, 4.0):
            image = _render(name, size=40, scale=scale)
            assert np.isfinite(image).all() and 0.0 <= image.min() and image.max() <= 1.0, (name, scale)


def test_callers_get_copies_and_cannot_corrupt_the_cache() -> None:
    first = render_builtin("mosaic", height=32, width=32, seed=5)
    expected = first.copy()
    first[:] = 0.0  # a writable copy
    np.testing.assert_array_equal(render_builtin("mosaic", height=32, width=32, seed=5), expected)


def test_seed_in_params_overrides_the_seed_argument() -> None:
    from_rules = render_builtin("woodcut", height=32, width=32, params={"seed": 9}, seed=1)
    np.testing.assert_array_equal(from_rules, render_builtin("woodcut", height=32, width=32, seed=9))


def test_integer_for_a_float_parameter_is_the_same_value() -> None:
    np.testing.assert_array_equal(_render("oil", size=32, scale=2), _render("oil", size=32, scale=2.0))


def test_palette_sets_the_colours() -> None:
    def chroma(image: np.ndarray) -> float:
        return float(np.mean(image.max(axis=2) - image.min(axis=2)))

    assert chroma(_render("mosaic", palette="mono")) < 0.08  # grey stones, warm grey grout
    assert chroma(_render("mosaic", palette="vivid")) > 0.3
    # Monochrome styles print in the palette's darkest colour: navy ink for "ocean".
    inked = _render("woodcut", palette="ocean")
    dark = inked[luminance(inked) < 0.2]
    assert dark[:, 2].mean() > dark[:, 0].mean() + 0.04
    assert not np.array_equal(_render("stained-glass"), _render("stained-glass", palette="pastel"))


# --- errors --------------------------------------------------------------------------------------------

_VALID = "ink-wash, mosaic, oil, pencil, pointillism, stained-glass, watercolor, woodcut"


def test_unknown_style_suggests_the_closest_name() -> None:
    with pytest.raises(BadInput) as caught:
        get_builtin("watercolour")
    assert str(caught.value) == (
        f"unknown built-in style 'watercolour' (did you mean 'watercolor'?); valid built-in styles: {_VALID}"
    )
    assert caught.value.exit_code == 2
    with pytest.raises(BadInput, match=r"^unknown built-in style 'cubism'; valid built-in styles: ink-wash,"):
        render_builtin("cubism", height=8, width=8)


def test_unknown_parameter_names_the_style_and_its_parameters() -> None:
    with pytest.raises(BadInput) as caught:
        render_builtin("mosaic", height=8, width=8, params={"tiles": 8})
    assert str(caught.value) == (
        "built-in style 'mosaic' has no parameter 'tiles' (did you mean 'tile'?); "
        "its parameters: palette, scale, seed, tile"
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tile": "big"}, "parameter 'tile' expects an integer in [4, 256], got 'big' (str)"),
        ({"tile": 2}, "parameter 'tile' expects an integer in [4, 256], got 2 (int)"),
        ({"tile": 8.5}, "parameter 'tile' expects an integer in [4, 256], got 8.5 (float)"),
        ({"tile": True}, "parameter 'tile' expects an integer in [4, 256], got True (bool)"),
        ({"scale": 9}, "parameter 'scale' expects a number in [0.25, 4], got 9 (int)"),
        ({"seed": -1}, "parameter 'seed' expects an integer in [0, 2147483647], got -1 (int)"),
    ],
)
def test_bad_value_says_what_was_expected(params: dict[str, object], message: str) -> None:
    with pytest.raises(BadInput) as caught:
        render_builtin("mosaic", height=8, width=8, params=params)
    assert str(caught.value) == f"built-in style 'mosaic': {message}"


def test_misspelt_palette_gets_a_suggestion() -> None:
    with pytest.raises(BadInput) as caught:
        render_builtin("mosaic", height=8, width=8, params={"palette": "terracota"})
    text = str(caught.value)
    assert text.startswith("built-in style 'mosaic': parameter 'palette' expects one of 'default', 'autumn',")
    assert text.endswith("got 'terracota' (str) (did you mean 'terracotta'?)")


@pytest.mark.parametrize(("height", "width"), [(0, 8), (8, -3), (8, 9000), (8.0, 8), (True, 8)])
def test_bad_size_is_refused(height: object, width: object) -> None:
    with pytest.raises(BadInput) as caught:
        render_builtin("pencil", height=height, width=width)  # type: ignore[arg-type]
    assert str(caught.value) == (
        "render_builtin: height and width must be integers in [1, 8192], "
        f"got height={height!r}, width={width!r}"
    )


def test_negative_seed_argument_is_refused() -> None:
    with pytest.raises(BadInput, match=r"^render_builtin: seed must be a non-negative integer, got -2$"):
        render_builtin("pencil", height=8, width=8, seed=-2)


# --- statistics ----------------------------------------------------------------------------------------


def _random_encoder() -> list[torch.nn.Conv2d]:
    """Three seeded random 3x3 conv layers (3 -> 16 -> 32 -> 32 channels, the last two with stride 2)."""
    generator = torch.Generator().manual_seed(1234)
    channels = (3, 16, 32, 32)
    layers = []
    for index, (c_in, c_out) in enumerate(itertools.pairwise(channels)):
        conv = torch.nn.Conv2d(c_in, c_out, 3, stride=1 if index == 0 else 2, padding=1, bias=False)
        with torch.no_grad():  # He initialisation keeps the activations' scale from layer to layer
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator) * (2.0 / (9 * c_in)) ** 0.5)
        layers.append(conv)
    return layers


def _grams(layers: list[torch.nn.Conv2d], image: np.ndarray) -> list[torch.Tensor]:
    """Per layer, the Gram matrix F F^T / N of the ReLU features, averaged over the 8 rotations and mirror
    images of the exemplar: a style is the same style whichever way its strokes happen to run."""
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None]
    x = (x - 0.45) / 0.25  # roughly zero-mean, unit-variance input, as a trained encoder expects
    views = [torch.rot90(v, k, (2, 3)) for v in (x, x.flip(3)) for k in range(4)]
    totals = [torch.zeros(layer.out_channels, layer.out_channels) for layer in layers]
    with torch.no_grad():
        for view in views:
            for index, layer in enumerate(layers):
                view = torch.relu(layer(view))
                features = view[0].flatten(1)
                totals[index] += features @ features.T / features.shape[1] / len(views)
    return totals


@pytest.fixture(scope="module")
def signatures() -> dict[tuple[str, int], torch.Tensor]:
    """Gram signature of every style and seed, each layer divided by that layer's mean Gram norm.

    Rendered at 128 px with ``scale = 0.5``: the texture of a 256 px exemplar at half the cost, enough
    strokes, tiles and panes for the statistics to mean something.
    """
    layers = _random_encoder()
    grams = {
        (name, seed): _grams(layers, render_builtin(name, height=128, width=128, seed=seed,
                                                    params={"scale": 0.5}))
        for name in NAMES
        for seed in SEEDS
    }
    norms = [np.mean([float(g[i].norm()) for g in grams.values()]) for i in range(len(layers))]
    return {key: torch.cat([g[i].flatten() / n for i, n in enumerate(norms)]) for key, g in grams.items()}


def test_styles_are_statistically_distinct(signatures: dict[tuple[str, int], torch.Tensor]) -> None:
    def distance(a: tuple[str, int], b: tuple[str, int]) -> float:
        return float((signatures[a] - signatures[b]).norm())

    same = {n: max(distance((n, s), (n, t)) for s, t in itertools.combinations(SEEDS, 2)) for n in NAMES}
    apart = {
        (one, two): min(distance((one, s), (two, t)) for s in SEEDS for t in SEEDS)
        for one, two in itertools.combinations(NAMES, 2)
    }
    closest, loosest = min(apart, key=apart.get), max(same, key=same.get)
    # The two most alike styles are still over 3x further apart than the two most different seeds of any
    # one style.
    assert apart[closest] > 3.0 * same[loosest], (closest, apart[closest], loosest, same[loosest])


@pytest.mark.parametrize("name", NAMES)
def test_larger_scale_paints_coarser_texture(name: str) -> None:
    def energy(scale: float) -> float:
        return sum(_edge_energy(_render(name, size=128, scale=scale, run_seed=s)) for s in SEEDS)

    assert energy(1.0) < 0.9 * energy(0.5)


@pytest.mark.parametrize("name", sorted(FEATURE_SIZE))
def test_feature_size_parameter_coarsens_the_texture(name: str) -> None:
    key, small, large = FEATURE_SIZE[name]

    def energy(value: float) -> float:
        return sum(_edge_energy(_render(name, size=96, run_seed=s, **{key: value})) for s in SEEDS)

    assert energy(large) < 0.75 * energy(small)


def test_dryness_breaks_ink_strokes_into_streaks() -> None:
    def energy(dryness: float) -> float:
        return sum(_edge_energy(_render("ink-wash", size=96, run_seed=s, dryness=dryness)) for s in SEEDS)

    assert energy(1.0) > 1.3 * energy(0.0)


def test_wetness_softens_watercolour_edges() -> None:
    def energy(wetness: float) -> float:
        return sum(_edge_energy(_render("watercolor", size=96, run_seed=s, wetness=wetness)) for s in SEEDS)

    assert energy(1.0) < 0.95 * energy(0.0)
