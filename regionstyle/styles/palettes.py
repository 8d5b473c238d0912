"""Named colour palettes for the built-in styles.

A palette is a handful of sRGB colours. Styles use them in two ways: colourful styles draw every tile,
dot or stroke from the palette, and monochrome ones (pencil, ink-wash, woodcut) take the darkest colour as
their ink and a paper tinted by the lightest. ``"default"`` is not a palette of its own: each style maps
it to the palette it looks best in.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

_HEX: dict[str, tuple[str, ...]] = {
    "autumn": ("#8c1c13", "#c44900", "#e88d14", "#f2c14e", "#6b7f2a", "#4a2c17"),
    "earth": ("#8a4b2a", "#b5772f", "#d9b26f", "#7d8a5a", "#4c3b2f", "#e8dcc2"),
    "forest": ("#1e3d2b", "#355e3b", "#6b8e4e", "#a3b18a", "#5c4033", "#d8d3a8"),
    "impression": ("#2d4fa3", "#58a6dc", "#2f8a4a", "#a3c94a", "#f2d04b", "#ef8a3c", "#e27fa6"),
    "jewel": ("#9b111e", "#0f52ba", "#1a8f4a", "#ffbf00", "#7b2d8e", "#e0561b"),
    "meadow": ("#2a4d9b", "#3d8fc4", "#5d9c4a", "#c9a227", "#b04a2f", "#c2587a"),
    "mono": ("#141414", "#555555", "#9a9a9a", "#d0d0d0", "#f4f1ea"),
    "ocean": ("#0b2545", "#13496b", "#1c7c8c", "#48b5b0", "#9ad9cf", "#e8e2c8"),
    "pastel": ("#f4a6b7", "#b8a9e3", "#9fd8c1", "#a7c7e7", "#f7e08f", "#f6c49a"),
    "sepia": ("#2b1a0e", "#5e3b1f", "#8f643b", "#bf9566", "#e3cfa7", "#f5ecd9"),
    "starry": ("#0d1b4c", "#1f4e9c", "#3f86c9", "#f2cf3a", "#e8892b", "#2f6b5e", "#eef2d8"),
    "sunset": ("#2d1b4e", "#7a2a6b", "#d1495b", "#f28b30", "#fac05e", "#355c8a"),
    "terracotta": ("#b3502d", "#d98b4f", "#e8c99b", "#6e3b23", "#5d6b5a", "#f1e6d0"),
    "vivid": ("#e02020", "#f5c400", "#1f5fd6", "#20a040", "#f07800", "#8a2be2"),
}


def _to_rgb(hex_colours: tuple[str, ...]) -> np.ndarray:
    rgb = [[int(h[i : i + 2], 16) / 255.0 for i in (1, 3, 5)] for h in hex_colours]
    array = np.asarray(rgb, dtype=np.float32)
    array.flags.writeable = False
    return array


PALETTES: MappingProxyType[str, np.ndarray] = MappingProxyType({k: _to_rgb(v) for k, v in _HEX.items()})


def palette_names() -> tuple[str, ...]:
    """Every named palette, sorted (``"default"`` excluded: it is per style)."""
    return tuple(sorted(PALETTES))


def get_palette(name: str, *, default: str) -> np.ndarray:
    """Colours of palette ``name``: float32 (N, 3) sRGB in [0, 1]; ``"default"`` means ``default``."""
    return PALETTES[default if name == "default" else name]


def luminance(colours: np.ndarray) -> np.ndarray:
    """Rec. 709 luma of (..., 3) sRGB colours, shape (...)."""
    return colours @ np.asarray([0.2126, 0.7152, 0.0722], dtype=np.float32)


def ink_and_paper(colours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ink, paper) for monochrome styles: the darkest colour, and warm white tinted by the lightest.

    The paper stays light whatever the palette so that the style keeps its contrast.
    """
    order = np.argsort(luminance(colours))
    warm_white = np.asarray([0.96, 0.94, 0.89], dtype=np.float32)
    paper = 0.65 * warm_white + 0.35 * colours[order[-1]]
    return colours[order[0]].copy(), paper.astype(np.float32)


def even_shares(logits: np.ndarray, weights: np.ndarray, *, rounds: int = 40) -> np.ndarray:
    """Pick a colour per item by ``argmax(logits + bias)``, with a per-colour bias tuned so that every
    colour covers about the same total weight (area) while each item still leans to its likely colours.

    logits: float (N, K) preferences of N items (panes, strokes) for K colours; weights: float (N,) >= 0.
    Returns int64 (N,). A few dozen rounds of raising the bias of under-used colours, like the price
    adjustments of an auction, bring every share to within a few percent of 1/K.
    """
    count = logits.shape[1]
    bias = np.zeros(count)
    total = max(float(weights.sum()), 1e-9)
    for step in np.linspace(0.5, 0.02, rounds):
        choice = np.argmax(logits + bias, axis=1)
        share = np.bincount(choice, weights=weights, minlength=count) / total
        bias -= step * np.log(share * count + 0.05)
    return np.argmax(logits + bias, axis=1)


def stratified_choice(rng: np.random.Generator, rows: int, cols: int, n_colours: int) -> np.ndarray:
    """Palette indices for a (rows, cols) grid of cells, every colour once in each small block of cells.

    The grid is cut into blocks of 2 x ceil(n/2) cells and each block gets its own shuffle of the palette,
    so any window a few cells wide shows all colours in nearly equal shares and no colour pattern repeats.
    Returns int64 (rows, cols).
    """
    block_w = -(-n_colours // 2)
    per_block = 2 * block_w
    grid_r, grid_c = -(-rows // 2), -(-cols // block_w)
    shuffles = rng.permuted(np.tile(np.arange(per_block) % n_colours, (grid_r * grid_c, 1)), axis=1)
    r, c = np.mgrid[0:rows, 0:cols]
    block = (r // 2) * grid_c + c // block_w
    return shuffles[block, (r % 2) * block_w + c % block_w]


def balanced_choice(rng: np.random.Generator, n_colours: int, count: int) -> np.ndarray:
    """``count`` palette indices using every colour equally often, in random order.

    Drawing tiles or cells with plain ``rng.integers`` lets one colour dominate a small exemplar by chance;
    equal shares keep the colour statistics (and so the Gram matrices) alike from seed to seed.
    """
    repeats = -(-count // n_colours)
    return rng.permutation(np.tile(np.arange(n_colours), repeats))[:count]
