"""The command group, its global options and error reporting.

The ``regionstyle.cli`` package is the only place that imports click, prints, or draws progress bars.

Heavy imports (torch, the pipeline) happen inside command bodies so ``regionstyle --help`` stays fast.
Every error the library raises on purpose becomes one clean line on stderr and an exit code: 2 for bad
input (files, images, rules, options), 1 for failures at run time; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import click

from regionstyle.version import __version__
from regionstyle.cli import options
from regionstyle.errors import RegionStyleError

IMAGE = click.Path(exists=True, dir_okay=False, path_type=Path)
OUTPUT = click.Path(dir_okay=False, path_type=Path)


@dataclass
class Globals:
    """Options every command takes, before or after its name (after wins: see :meth:`override`)."""

    device: str | None
    seed: int | None
    quiet: bool
    json: bool
    debug: bool

    def override(self, **given: Any) -> None:
        """Take the values given after the command name (None = not given there)."""
        for name, value in given.items():
            if value is not None:
                setattr(self, name, value)
        _configure_logging(self)

    def settings(self) -> dict[str, Any]:
        """The global options that are transfer settings (for make_config; None = not given)."""
        return {"device": self.device, "seed": self.seed}


class CliError(click.ClickException):
    """A one-line error with the exit code of the library error behind it."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@contextmanager
def reported_errors(g: Globals) -> Iterator[None]:
    """Turn library errors into one clean line (or a traceback with --debug)."""
    from maskrules import RuleError

    try:
        yield
    except (RegionStyleError, RuleError) as exc:
        if g.debug:
            raise
        code = getattr(exc, "exit_code", 2)
        raise CliError(str(exc), code) from None
    except KeyboardInterrupt:
        raise CliError("interrupted", 130) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@options.global_option_decorators()
@click.version_option(__version__, prog_name="regionstyle")
@click.pass_context
def main(ctx: click.Context, device: str | None, seed: int | None, quiet: bool | None, as_json: bool | None,
         debug: bool | None) -> None:
    """Semantic, region-aware neural style transfer: each part of a scene wears its own style.

    Options such as --seed and --device may also follow the command: regionstyle apply a.jpg r.toml --seed 7.
    """
    ctx.obj = Globals(device, seed, bool(quiet), bool(as_json), bool(debug))
    _configure_logging(ctx.obj)


def _configure_logging(g: Globals) -> None:
    level = logging.DEBUG if g.debug else logging.ERROR if g.quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr, force=True)


def emit(g: Globals, data: Any, text: str) -> None:
    """Print JSON under --json, else the human text (nothing under --quiet)."""
    if g.json:
        click.echo(json.dumps(data, indent=2, default=str))
    elif not g.quiet and text:
        click.echo(text)

