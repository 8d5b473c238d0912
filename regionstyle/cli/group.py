"""The command group, its global options and error reporting.

The ``regionstyle.cli`` package is the only place that imports click, prints, or draws progress bars.

Heavy imports (torch, the pipeline) happen inside command bodies so ``regionstyle --help`` stays fast.
Every error the library raises on purpose becomes one clean line on stderr and an exit code: 2 for bad
input (files, images, rules, options), 1 for failures at run time; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
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


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill PID``, a job scheduler's stop): handled like Ctrl-C, so files in flight are removed."""


@contextmanager
def reported_errors(g: Globals) -> Iterator[None]:
    """Turn library errors into one clean line (or a traceback with --debug): exit code 2 for bad input,
    1 for failures at run time (running out of memory included), 130 for Ctrl-C, 143 for SIGTERM."""
    from maskrules import RuleError

    try:
        with _sigterm_interrupts():
            yield
    except (RegionStyleError, RuleError) as exc:
        if g.debug:
            raise
        raise CliError(one_line(str(exc)), getattr(exc, "exit_code", 2)) from None
    except Terminated:
        raise CliError("terminated (SIGTERM); nothing half-written was left", 143) from None
    except KeyboardInterrupt:
        raise CliError("interrupted", 130) from None
    except (MemoryError, RuntimeError) as exc:
        if g.debug or not _out_of_memory(exc):
            raise  # a bug, not a condition of the moment: its traceback is wanted
        raise CliError(f"out of memory ({one_line(str(exc))[:200]}); try a smaller --size", 1) from None


def one_line(text: str) -> str:
    """A message as one line: a library's multi-line text (torch, onnxruntime) joined with spaces."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip()) or "error"


def _out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError"  # torch's, by name


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While a command runs, SIGTERM raises :class:`Terminated` (main thread only; restored after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(_signum: int, _frame: Any) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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

