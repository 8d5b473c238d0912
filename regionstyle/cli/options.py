"""Command-line options derived from the settings schema, and the global options every command takes.

Each setting of :data:`regionstyle.config.SETTINGS` marked ``cli`` becomes ``--name`` on ``apply`` and
``batch``, checked by the schema's own checker (so ``--size 5`` and ``[defaults] size = 5`` are refused in
the same words). ``--device``, ``--seed``, ``--quiet``, ``--json`` and ``--debug`` work before the command
(``regionstyle --seed 7 apply ...``) and after it (``regionstyle apply ... --seed 7``); after wins.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import click

from maskrules import BadValue
from regionstyle import config


class SettingType(click.ParamType):
    """A click type that checks a value with the schema's rule for one setting."""

    def __init__(self, setting: config.Setting) -> None:
        self.setting = setting
        self.name = setting.rule.kind

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return config.checked(self.setting.name, _parse(value, self.setting.rule.kind))
        except BadValue as problem:
            self.fail(str(problem), param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str | None:
        rule = self.setting.rule
        if self.setting.metavar:
            return self.setting.metavar
        return "[" + "|".join(rule.choices) + "]" if rule.choices else rule.kind.upper()


def _parse(text: str, kind: str) -> Any:
    """Command-line text -> the TOML-like value the checker expects (unparsable text stays text, so the
    checker says what was expected)."""
    for number_type in {"int": (int,), "float": (int, float)}.get(kind, ()):
        try:
            return number_type(text)
        except ValueError:
            continue
    return text


def _setting_option(setting: config.Setting) -> Callable:
    if setting.rule.kind == "bool":
        return click.option(setting.option, setting.name, is_flag=True, default=None, help=setting.help)
    default = "" if setting.default is None else f" [default: {setting.default}]"
    text = setting.help if "[default" in setting.help else setting.help + default
    return click.option(setting.option, setting.name, type=SettingType(setting), default=None, help=text)


def stacked(options: Sequence[Callable]) -> Callable[[Callable], Callable]:
    """One decorator applying click ``options`` so that --help lists them in the given order."""
    def add(command: Callable) -> Callable:
        for option in reversed(options):
            command = option(command)
        return command
    return add


def transfer_options(command: Callable) -> Callable:
    """Every command-line setting of the schema as an option (the value None means "not given")."""
    for setting in reversed([s for s in config.SETTINGS if s.cli and s.name not in ("device", "seed")]):
        command = _setting_option(setting)(command)
    return command


def setting_options(*names: str) -> Callable[[Callable], Callable]:
    """The schema's options for the settings ``names`` only (``serve`` takes a few of them)."""
    def add(command: Callable) -> Callable:
        for name in reversed(names):
            command = _setting_option(config.BY_NAME[name])(command)
        return command
    return add


def global_options(command: Callable) -> Callable:
    """--device, --seed, --quiet, --json and --debug after the command name too; merged into ``ctx.obj``."""
    @functools.wraps(command)
    def merged(*args: Any, device: str | None, seed: int | None, quiet: bool | None, as_json: bool | None,
               debug: bool | None, **kwargs: Any) -> Any:
        g = click.get_current_context().obj
        g.override(device=device, seed=seed, quiet=quiet, json=as_json, debug=debug)
        return command(*args, **kwargs)

    for decorator in reversed(_GLOBAL_OPTIONS):
        merged = decorator(merged)
    return merged


_GLOBAL_OPTIONS = [
    _setting_option(config.BY_NAME["device"]),
    _setting_option(config.BY_NAME["seed"]),
    click.option("--quiet", "-q", is_flag=True, default=None, help="No progress bars or notes; errors only."),
    click.option("--json", "as_json", is_flag=True, default=None, help="Machine-readable JSON on stdout."),
    click.option("--debug", is_flag=True, default=None, help="Show tracebacks and debug logs."),
]


def global_option_decorators() -> Callable:
    """The global options as one decorator, for the command group itself."""
    def apply(command: Callable) -> Callable:
        for decorator in reversed(_GLOBAL_OPTIONS):
            command = decorator(command)
        return command
    return apply
