"""The hostile-input corpus: one table of cases per surface, one shared way to judge every answer.

A :class:`Case` is a command line run in a fresh workspace (after ``setup`` has planted the hostile input),
the exit code expected and a fragment of the one-line message. :func:`run_case` runs it in-process through
click's CliRunner and :func:`judge` checks, for every case alike:

- no traceback, and the exit code expected (2 bad input, 1 failure at run time, 130 Ctrl-C, 143 SIGTERM);
- a refusal is one ``Error:`` line on stderr holding the fragment (click's own usage errors may add their
  ``Usage:`` and ``Try`` lines above it; log warnings may precede it);
- inputs unchanged: every file that was there before has the same bytes and kind afterwards;
- nothing written: no new file anywhere under the test's folder (temporaries included), except the
  outputs a successful case names in ``writes``.

Cases that need more than one command line (signals, a full disk, concurrent runs) are plain test
functions registered with :func:`special`, so the README's count (``python -m tests.hostile.count``)
covers them too.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from regionstyle.limits import available_memory

@dataclass(frozen=True)
class Need:
    """What staging a case needs; where it is missing (``missing``: why), the case skips saying so."""

    what: str
    missing: str | None = None


NOT_ROOT = Need("a user other than root (root reads any file)",
                "running as root" if hasattr(os, "geteuid") and os.geteuid() == 0 else None)
# An input that needs some hundreds of GB is refused everywhere but on a machine with that much free.
SMALL_MEMORY = Need("less than 400 GB of free memory",
                    "more than 400 GB of memory free here" if (available_memory() or 0) > 400 << 30 else None)
MOUNT = Need("permission to mount a small tmpfs")  # tried at run time
SURFACES = ("images", "rules", "options", "weights", "model files", "outputs", "signals")

# The standard workspace: a 48x32 photo, its label map (top half sky, bottom half building), a small
# painting and a rules file that styles the sky with the painting on the bundled MobileNetV2 (the fastest
# encoder to build: a successful run takes well under a second).
RULES = """[segmentation]
labels = "labels.png"
classes = "ade20k"

[map]
sky = "painting.png"
building = "keep"

[defaults]
encoder = "mobilenet_v2"
iterations = 2
"""


def rules_with(*, sky: str = '"painting.png"', defaults: str = "", head: str = "",
               encoder: str = "mobilenet_v2") -> str:
    """The standard rules with another style for the sky, another encoder, extra [defaults] lines, or
    lines before them."""
    text = RULES.replace('sky = "painting.png"', f"sky = {sky}").replace('"mobilenet_v2"', f'"{encoder}"')
    return head + text + defaults


@dataclass(frozen=True)
class Case:
    """One hostile input and the answer it must get.

    argv: the command line; ``{tmp}`` stands for the test's folder (the workspace is ``{tmp}/ws``, the
        current folder), for absolute paths.
    exit: the exit code expected; says: a fragment of the one-line message (of stdout for exit 0).
    setup: plants the hostile input in the workspace (given its path) before the run.
    writes: files (relative to the workspace) a successful run must write; nothing else may appear.
    changes: existing files the case may change (only with --overwrite).
    needs: what staging it needs, where not everywhere (it skips, saying why, where that is missing).
    """

    id: str
    argv: tuple[str, ...]
    exit: int
    says: str
    setup: Callable[[Path], object] | None = None
    writes: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()
    needs: Need | None = None


@dataclass
class Registry:
    """Every case of the corpus by surface: table cases and special tests alike (for the README count)."""

    cases: dict[str, list[str]] = field(default_factory=lambda: {surface: [] for surface in SURFACES})
    needs: dict[str, int] = field(default_factory=dict)

    def add(self, surface: str, name: str, needs: Need | None = None) -> None:
        assert surface in SURFACES, surface
        self.cases[surface].append(name)
        if needs is not None:
            self.needs[needs.what] = self.needs.get(needs.what, 0) + 1


REGISTRY = Registry()


def table(surface: str, cases: list[Case]) -> list[Case]:
    """Register a surface's table of cases (ids must be unique) and return it for parametrize."""
    ids = [case.id for case in cases]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    for case in cases:
        REGISTRY.add(surface, case.id, case.needs)
    return cases


def special(surface: str, name: str, *, needs: Need | None = None) -> Callable[[Callable], Callable]:
    """Register a test function that checks one hostile situation beyond a single command line."""
    def register(test: Callable) -> Callable:
        REGISTRY.add(surface, name, needs)
        return test
    return register


def make_workspace(root: Path) -> Path:
    """``root/ws`` with the standard inputs (see RULES); ``root/elsewhere`` for outputs that must not appear."""
    ws = root / "ws"
    ws.mkdir()
    (root / "elsewhere").mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)).save(ws / "photo.png")
    Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(ws / "painting.png")
    labels = np.full((32, 48), 2, np.uint8)
    labels[:16] = 3
    Image.fromarray(labels).save(ws / "labels.png")
    (ws / "rules.toml").write_text(RULES)
    return ws


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root`` (links not followed): kind, and for regular files size and SHA-256.
    Special files (FIFOs) are recorded by kind only: opening one would block."""
    entries: dict[str, tuple] = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(folder) / name
            info = os.lstat(path)
            key = str(path.relative_to(root))
            if stat.S_ISREG(info.st_mode):
                entries[key] = ("file", info.st_size, hashlib.sha256(path.read_bytes()).hexdigest())
            else:
                entries[key] = (stat.S_IFMT(info.st_mode), os.readlink(path) if stat.S_ISLNK(info.st_mode) else None)
    return entries


def judge(case: Case, result, before: dict[str, tuple], after: dict[str, tuple]) -> None:
    """The checks every case gets (see the module docstring)."""
    output = result.stdout + result.stderr
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    assert exception is None, f"{case.id}: raised {type(exception).__name__}: {exception}"
    assert "Traceback" not in output, f"{case.id}: a traceback:\n{output}"
    assert result.exit_code == case.exit, f"{case.id}: exit code {result.exit_code}, expected {case.exit}:\n{output}"
    if case.exit == 0:
        assert case.says in result.stdout, f"{case.id}: {case.says!r} not in stdout:\n{output}"
    else:
        _one_error_line(case, result.stderr)
    written = {f"ws/{name}" for name in case.writes}
    new = set(after) - set(before)
    assert new <= written | _folders_of(written), f"{case.id}: wrote {sorted(new - written)}"
    assert written <= set(after), f"{case.id}: did not write {sorted(written - set(after))}"
    allowed = {f"ws/{name}" for name in case.changes}
    changed = [key for key in before if key not in allowed and before[key] != after.get(key)]
    assert not changed, f"{case.id}: changed or removed {changed}"


def _one_error_line(case: Case, stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1, f"{case.id}: expected one 'Error:' line on stderr, got:\n{stderr}"
    assert lines[-1] == errors[0], f"{case.id}: the error is not the last line:\n{stderr}"
    assert case.says.lower() in errors[0].lower(), f"{case.id}: {case.says!r} not in: {errors[0]}"
    usage = errors[0].startswith("Error: Invalid value") or any(line.startswith("Usage:") for line in lines)
    # Log warnings may come first; a batch lists each image that failed ("failed  a.png: ...") above its summary.
    others = [line for line in lines[:-1] if not line.startswith(("WARNING:", "INFO:", "failed  "))]
    if usage:  # click's usage errors: "Usage: ...", "Try '... --help' for help."
        others = [line for line in others if not line.startswith(("Usage:", "Try "))]
    assert not others, f"{case.id}: more than one line on stderr:\n{stderr}"


def _folders_of(paths: set[str]) -> set[str]:
    return {str(parent) for path in paths for parent in Path(path).parents if str(parent) not in (".", "ws")}


def run_case(case: Case, root: Path) -> None:
    """Stage ``case`` under ``root`` (a fresh folder), run it in the workspace and judge the answer."""
    from click.testing import CliRunner

    from regionstyle.cli import main

    if case.needs is not None and case.needs.missing:
        import pytest

        pytest.skip(f"needs {case.needs.what}: {case.needs.missing}")
    ws = make_workspace(root)
    if case.setup is not None:
        case.setup(ws)
    argv = [arg.replace("{tmp}", str(root)) for arg in case.argv]
    before = snapshot(root)
    cwd = os.getcwd()
    os.chdir(ws)
    try:
        result = CliRunner().invoke(main, argv)
    finally:
        os.chdir(cwd)
    judge(case, result, before, snapshot(root))


def cli(*argv: str) -> tuple[str, ...]:
    """A command line, split on spaces (no argument here holds a space)."""
    return tuple(part for arg in argv for part in arg.split(" ") if part)
