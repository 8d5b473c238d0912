"""Typed reading of TOML values: each helper returns a clean Python value or raises a located RuleError.

TOML booleans are Python ints, and TOML allows inf, nan and integers of any size; the helpers here
refuse all three wherever a number is expected, so nothing odd reaches the pipeline.
"""

from __future__ import annotations

import math
import os
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import NoReturn

from maskrules.errors import RuleError
from maskrules.locate import key_lines, line_of
from maskrules.names import KeyPath, did_you_mean, join_key


class Context:
    """What every check needs to report a mistake: the file (for messages and relative paths) and text."""

    def __init__(self, text: str, source: str | Path | None) -> None:
        self.text = text
        self.source = source
        self._lines: dict[str, int] | None = None

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in the rules file are resolved against (cwd without a file)."""
        return Path(os.path.abspath(Path(self.source).parent if self.source is not None else "."))

    def line(self, path: KeyPath) -> int | None:
        if self._lines is None:
            self._lines = key_lines(self.text)
        return line_of(self._lines, path)

    def fail(self, path: KeyPath, message: str) -> NoReturn:
        raise RuleError(message, path=self.source, line=self.line(path), key_path=join_key(path))


def describe(value: object) -> str:
    """Short TOML-flavoured description of a value for "expected ..., got ..." messages."""
    kinds = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             dict: "a table"}
    if isinstance(value, list):
        return f"an array of {len(value)} item{'' if len(value) == 1 else 's'}"
    shown = repr(value) if isinstance(value, (bool, int, float, str)) else ""
    return kinds.get(type(value), type(value).__name__) + (f" ({shown[:40]})" if shown else "")


def table(ctx: Context, path: KeyPath, value: object, allowed: Collection[str] | None = None) -> dict:
    """A TOML table, optionally with only ``allowed`` keys (an unknown key gets a suggestion)."""
    if not isinstance(value, dict):
        ctx.fail(path, f"expected a table, got {describe(value)}")
    for key in value if allowed is not None else ():
        if key not in allowed:
            ctx.fail(path + (key,), f"unknown key '{key}'{did_you_mean(key, allowed)}"
                                    f" (valid: {', '.join(sorted(allowed))})")
    return value


class BadValue(ValueError):
    """A value that fails a check; ``str(error)`` is the "expected ..., got ..." message.

    The pure ``check_*`` functions raise it, so that regionstyle can check command-line and API values
    with the very same words as rules-file values; the located helpers below turn it into a RuleError
    that names the file, line and key path.
    """


def check_string(value: object, *, choices: Collection[str] | None = None) -> str:
    """A non-empty string, optionally one of ``choices``."""
    if not isinstance(value, str) or not value.strip():
        raise BadValue(f"expected a non-empty string, got {describe(value)}")
    if choices is not None and value not in choices:
        raise BadValue(f"expected one of {', '.join(repr(c) for c in choices)}, got '{value}'"
                       f"{did_you_mean(value, choices)}")
    return value


def check_integer(value: object, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (not a boolean) in [minimum, maximum] and within 64 bits."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadValue(f"expected an integer, got {describe(value)}")
    if abs(value) >= 2**63:
        raise BadValue(f"integer out of range: {value}")
    if minimum is not None and maximum is not None and not minimum <= value <= maximum:
        raise BadValue(f"expected an integer in [{minimum}, {maximum}], got {value}")
    if minimum is not None and value < minimum:
        raise BadValue(f"expected an integer >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise BadValue(f"expected an integer <= {maximum}, got {value}")
    return value


def check_number(value: object, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False) -> float:
    """A finite number (integers accepted) within [low, high]; ``*_open`` makes a bound exclusive."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
        raise BadValue(f"expected a finite number, got {describe(value)}")
    number_ = float(value)
    too_low = low is not None and (number_ <= low if low_open else number_ < low)
    too_high = high is not None and (number_ >= high if high_open else number_ > high)
    if too_low or too_high:
        raise BadValue(f"expected a number {_range(low, high, low_open, high_open)}, got {value}")
    return number_


def _range(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if high is None:
        return f"{'>' if low_open else '>='} {low:g}"
    if low is None:
        return f"{'<' if high_open else '<='} {high:g}"
    return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def _finite(value: int | float) -> bool:
    return abs(value) < 1e300 if isinstance(value, int) else math.isfinite(value)


def check_numbers(value: object, *, count: int | None = None, integers: bool = False,
                  low: float | None = None, high: float | None = None, low_open: bool = False) -> tuple:
    """A non-empty array of numbers (``count`` of them when given), each checked like a single one.

    integers: require integers; ``low`` and ``high`` are then inclusive.
    """
    if not isinstance(value, (list, tuple)) or not value or (count is not None and len(value) != count):
        want = f"an array of {count}" if count is not None else "a non-empty array of"
        raise BadValue(f"expected {want} {'integers' if integers else 'numbers'}, got {describe(value)}")
    if integers:
        minimum = int(low) if low is not None else None
        maximum = int(high) if high is not None else None
        return tuple(check_integer(item, minimum=minimum, maximum=maximum) for item in value)
    return tuple(check_number(item, low=low, high=high, low_open=low_open) for item in value)


def check_boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise BadValue(f"expected true or false, got {describe(value)}")
    return value


def check_file(value: object, *, base_dir: Path, what: str) -> Path:
    """A path (relative to ``base_dir``) made absolute; it must be an existing regular file."""
    text = str(value) if isinstance(value, Path) else check_string(value)
    resolved = Path(os.path.abspath(base_dir / text)) if "\0" not in text else None
    try:
        exists = resolved is not None and resolved.is_file()
        special = not exists and resolved is not None and resolved.exists()
    except (OSError, ValueError):  # names too long or otherwise unusable for this file system
        exists = special = False
    if special:  # a folder, a FIFO, a device: reading one blocks or never ends
        kind = "a folder" if resolved.is_dir() else "not a regular file (a FIFO, socket or device?)"
        raise BadValue(f"{what} {resolved} is {kind}; give a file")
    if not exists:
        shown = str(resolved) if resolved is not None else repr(text)
        raise BadValue(f"{what} not found: {shown}")
    return resolved


def _located(ctx: Context, path: KeyPath, check, *args, **kwargs):
    try:
        return check(*args, **kwargs)
    except BadValue as problem:
        ctx.fail(path, str(problem))


def string(ctx: Context, path: KeyPath, value: object, *, choices: Collection[str] | None = None) -> str:
    """A non-empty string, optionally one of ``choices``."""
    return _located(ctx, path, check_string, value, choices=choices)


def integer(ctx: Context, path: KeyPath, value: object, *, minimum: int | None = None) -> int:
    """An integer (not a boolean) >= ``minimum``."""
    return _located(ctx, path, check_integer, value, minimum=minimum)


def number(ctx: Context, path: KeyPath, value: object, *, low: float | None = None,
           high: float | None = None, low_open: bool = False, high_open: bool = False) -> float:
    """A finite number (integers accepted) within [low, high]; ``*_open`` makes a bound exclusive."""
    return _located(ctx, path, check_number, value, low=low, high=high, low_open=low_open, high_open=high_open)


def numbers(ctx: Context, path: KeyPath, value: object, *, count: int | None = None,
            integers: bool = False, low: float | None = None, low_open: bool = False) -> tuple:
    """A non-empty array of numbers, see :func:`check_numbers`."""
    return _located(ctx, path, check_numbers, value, count=count, integers=integers, low=low, low_open=low_open)


def boolean(ctx: Context, path: KeyPath, value: object) -> bool:
    return _located(ctx, path, check_boolean, value)


def file_path(ctx: Context, path: KeyPath, value: object, *, what: str) -> Path:
    """A path relative to the rules file, made absolute; the file must exist."""
    try:
        return check_file(value, base_dir=ctx.base_dir, what=what)
    except BadValue as problem:
        ctx.fail(path, f"{problem} (paths are relative to the rules file)")


def strings(ctx: Context, path: KeyPath, value: object) -> tuple[str, ...]:
    """One string or a non-empty array of strings."""
    items: Iterable[object] = [value] if isinstance(value, str) else value if isinstance(value, list) else ()
    items = list(items)
    if not items:
        ctx.fail(path, f"expected a string or a non-empty array of strings, got {describe(value)}")
    return tuple(string(ctx, path, item) for item in items)
