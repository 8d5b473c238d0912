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
from regionstyle.errors import RegionStyleError

IMAGE = click.Path(exists=True, dir_okay=False, path_type=Path)
OUTPUT = click.Path(dir_okay=False, path_type=Path)


@dataclass
class Globals:
    device: str | None
    seed: int | None
    quiet: bool
    json: bool
    debug: bool


class CliError(click.ClickException):
    """A one-line error with the exit code of the library error behind it."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@contextmanager
def reported_errors(debug: bool) -> Iterator[None]:
    """Turn library errors into one clean line (or a traceback with --debug)."""
    from maskrules import RuleError

    try:
        yield
    except (RegionStyleError, RuleError) as exc:
        if debug:
            raise
        code = getattr(exc, "exit_code", 2)
        raise CliError(str(exc), code) from None
    except KeyboardInterrupt:
        raise CliError("interrupted", 130) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--device", help="cpu, cuda, cuda:1 ... (default: CUDA when present, else CPU).")
@click.option("--seed", type=int, help="Random seed (same seed, same image).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or notes; errors only.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.version_option(__version__, prog_name="regionstyle")
@click.pass_context
def main(ctx: click.Context, device: str | None, seed: int | None, quiet: bool, as_json: bool,
         debug: bool) -> None:
    """Semantic, region-aware neural style transfer: each part of a scene wears its own style."""
    ctx.obj = Globals(device, seed, quiet, as_json, debug)
    level = logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr)


def emit(g: Globals, data: Any, text: str) -> None:
    """Print JSON under --json, else the human text (nothing under --quiet)."""
    if g.json:
        click.echo(json.dumps(data, indent=2, default=str))
    elif not g.quiet and text:
        click.echo(text)

