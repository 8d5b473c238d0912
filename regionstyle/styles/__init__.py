"""Built-in procedural styles: exemplar images painted from code, so ``sky = "watercolor"`` works offline.

The style losses summarise an exemplar by Gram matrices of its features, which keep texture and palette and
forget layout; so each style paints a stationary texture (the same strokes, grain and colours everywhere)
rather than a picture. Use :func:`render_builtin`; the registry is a plain dict, :data:`BUILTIN_STYLES`.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from regionstyle.errors import BadInput
from regionstyle.styles import (
    ink_wash,
    mosaic,
    oil,
    pencil,
    pointillism,
    stained_glass,
    watercolor,
    woodcut,
)
from regionstyle.styles.palettes import PALETTES, palette_names
from regionstyle.styles.spec import BuiltinStyle, ParamSpec, did_you_mean

__all__ = [
    "BUILTIN_STYLES",
    "PALETTES",
    "BuiltinStyle",
    "ParamSpec",
    "builtin_param_names",
    "get_builtin",
    "palette_names",
    "render_builtin",
]

logger = logging.getLogger(__name__)

MAX_SIDE = 8192  # an exemplar larger than this is a mistake (and ~800 MB of float32)

BUILTIN_STYLES: dict[str, BuiltinStyle] = {
    module.STYLE.name: module.STYLE
    for module in (watercolor, mosaic, pointillism, pencil, ink_wash, stained_glass, oil, woodcut)
}


def get_builtin(name: str) -> BuiltinStyle:
    """The built-in style called ``name``; a miss raises BadInput listing the valid names."""
    style = BUILTIN_STYLES.get(name)
    if style is not None:
        return style
    hint = did_you_mean(str(name), BUILTIN_STYLES)
    valid = ", ".join(sorted(BUILTIN_STYLES))
    raise BadInput(f"unknown built-in style {name!r}{hint}; valid built-in styles: {valid}")


def builtin_param_names() -> dict[str, frozenset[str]]:
    """For each built-in style, the parameter names a rules file may set (for the rule parser)."""
    return {name: frozenset(style.params) for name, style in BUILTIN_STYLES.items()}


def render_builtin(
    name: str,
    *,
    height: int,
    width: int,
    params: Mapping[str, object] = MappingProxyType({}),
    seed: int = 0,
) -> np.ndarray:
    """Paint the exemplar of built-in style ``name``: float32 (height, width, 3) RGB in [0, 1].

    params: values from the rules file, checked against the style's ParamSpecs (BadInput names the style
        and parameter on a mistake); a ``seed`` among them overrides the ``seed`` argument.
    The result is cached per (style, params, size, seed); each call returns a fresh writable copy.
    """
    style = get_builtin(name)
    _check_size(height, width)
    resolved = style.resolve(params)
    from_rules = resolved.pop("seed")
    run_seed = from_rules if "seed" in params else seed
    if isinstance(run_seed, bool) or not isinstance(run_seed, int) or run_seed < 0:
        raise BadInput(f"render_builtin: seed must be a non-negative integer, got {run_seed!r}")
    key = tuple(sorted(resolved.items()))
    return _render_cached(style.name, key, height, width, run_seed).copy()


def _check_size(height: object, width: object) -> None:
    def ok(side: object) -> bool:
        return isinstance(side, int) and not isinstance(side, bool) and 1 <= side <= MAX_SIDE

    if not (ok(height) and ok(width)):
        raise BadInput(
            f"render_builtin: height and width must be integers in [1, {MAX_SIDE}], "
            f"got height={height!r}, width={width!r}"
        )


@functools.lru_cache(maxsize=8)  # 8 exemplars of 1024 px are ~100 MB
def _render_cached(
    name: str, key: tuple[tuple[str, object], ...], height: int, width: int, seed: int
) -> np.ndarray:
    start = time.perf_counter()
    image = BUILTIN_STYLES[name].render(height=height, width=width, seed=seed, **dict(key))
    if image.shape != (height, width, 3):
        raise AssertionError(f"style {name!r} painted shape {image.shape}, expected {(height, width, 3)}")
    image = np.clip(image, 0.0, 1.0).astype(np.float32)
    image.flags.writeable = False  # the cache's copy; callers get their own
    logger.debug("painted %s %s at %dx%d seed %d in %.3f s", name, key, height, width, seed,
                 time.perf_counter() - start)
    return image
