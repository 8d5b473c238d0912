"""What a built-in style is: its parameters, their checks, and the function that paints it.

A rules file may say ``building = { builtin = "mosaic", tile = 24, palette = "terracotta" }``; every value
arrives here as a TOML scalar and is checked against the style's :class:`ParamSpec` before anything is drawn,
so a typo fails with a message naming the style, the parameter and what was expected.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from regionstyle.errors import BadInput
from regionstyle.styles.palettes import palette_names

_TYPE_WORDS = {int: "an integer", float: "a number", str: "a string"}


@dataclass(frozen=True)
class ParamSpec:
    """One settable parameter of a built-in style.

    default: the value used when the rules file leaves it out.
    type: ``int``, ``float`` or ``str``; a float parameter also takes an integer, nothing takes a bool.
    doc: one line for ``--help`` style listings.
    bounds: inclusive (low, high) for numbers, or None.
    choices: the allowed strings for a ``str`` parameter, or None.
    """

    default: object
    type: type
    doc: str
    bounds: tuple[float, float] | None = None
    choices: tuple[str, ...] | None = None

    def expected(self) -> str:
        """What a valid value looks like, in words ("an integer in [4, 256]")."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        words = _TYPE_WORDS[self.type]
        if self.bounds is None:
            return words
        low, high = self.bounds
        if self.type is int:
            return f"{words} in [{int(low)}, {int(high)}]"
        return f"{words} in [{low:g}, {high:g}]"

    def coerce(self, value: object) -> object | None:
        """The value converted to ``type`` when it is valid, else None."""
        if isinstance(value, bool):
            return None  # True is an int to Python, never a tile size to a user
        if self.type is float and isinstance(value, int | float):
            value = float(value)
        if not isinstance(value, self.type):
            return None
        if self.choices is not None and value not in self.choices:
            return None
        if self.bounds is not None and not self.bounds[0] <= value <= self.bounds[1]:
            return None
        return value


@dataclass(frozen=True)
class BuiltinStyle:
    """A procedural style exemplar.

    render: ``render(*, height, width, seed, **params) -> float32 (H, W, 3) RGB in [0, 1]``, called with
        every parameter in ``params`` except ``seed`` already checked and filled with defaults.
    """

    name: str
    description: str
    params: Mapping[str, ParamSpec]
    render: Callable[..., np.ndarray]

    def resolve(self, given: Mapping[str, object]) -> dict[str, object]:
        """``given`` checked and completed with defaults; raises BadInput naming the style and parameter."""
        resolved = {key: spec.default for key, spec in self.params.items()}
        for key, value in given.items():
            spec = self.params.get(key)
            if spec is None:
                raise BadInput(self._unknown_param_message(key))
            checked = spec.coerce(value)
            if checked is None:
                raise BadInput(self._bad_value_message(key, spec, value))
            resolved[key] = checked
        return resolved

    def _unknown_param_message(self, key: object) -> str:
        names = sorted(self.params)
        return (f"built-in style {self.name!r} has no parameter {key!r}{did_you_mean(str(key), names)}; "
                f"its parameters: {', '.join(names)}")

    def _bad_value_message(self, key: str, spec: ParamSpec, value: object) -> str:
        got = f"{value!r} ({type(value).__name__})"
        hint = did_you_mean(value, spec.choices) if spec.choices and isinstance(value, str) else ""
        return f"built-in style {self.name!r}: parameter {key!r} expects {spec.expected()}, got {got}{hint}"


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the option closest to a mistyped ``word``, or "" if none is close."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def common_params(*, default_palette: str) -> dict[str, ParamSpec]:
    """The parameters every built-in style takes: ``palette``, ``scale`` and ``seed``.

    ``palette = "default"`` means ``default_palette``, the style's own colours.
    """
    return {
        "palette": ParamSpec(
            default="default",
            type=str,
            doc=f"named colour palette ('default' is {default_palette!r})",
            choices=("default", *palette_names()),
        ),
        "scale": ParamSpec(default=1.0, type=float, doc="texture scale: 2.0 paints features twice as large",
                           bounds=(0.25, 4.0)),
        "seed": ParamSpec(default=0, type=int, doc="random seed; overrides the seed of the run",
                          bounds=(0, 2**31 - 1)),
    }
