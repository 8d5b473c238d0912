"""Signals and concurrent runs: Ctrl-C, SIGTERM and kill -9 at chosen moments, and two runs in one folder.

Each run is a fork of the test process (torch is imported already, so a child starts in milliseconds). The
child hooks the moment to be interrupted (the optimiser's first evaluation, an output's temporary file
being written) to create a marker file; the parent waits for the marker and sends the signal. No timing
guesses: the signal always lands at that moment.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from regionstyle.io import atomic, temporaries
from tests.hostile.harness import Case, cli, judge, make_workspace, snapshot, special

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _start(ws: Path, argv: tuple[str, ...], hook) -> tuple[int, Path, Path]:
    """Fork a child that installs ``hook(marker)`` and runs the command in ``ws``; (pid, marker, result)."""
    marker, result_file = ws.parent / "marker", ws.parent / "result.json"
    import regionstyle.cli.apply  # noqa: F401  (imported before the fork: each child starts warm)
    import regionstyle.files  # noqa: F401
    import regionstyle.batch.run  # noqa: F401
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            _one_thread_after_fork()
            from click.testing import CliRunner

            from regionstyle.cli import main

            os.chdir(ws)
            hook(marker)
            result = CliRunner().invoke(main, list(argv))
            exception = None if isinstance(result.exception, SystemExit) else repr(result.exception)
            result_file.write_text(json.dumps({"exit_code": result.exit_code, "stdout": result.stdout,
                                               "stderr": result.stderr, "exception": exception}))
        except BaseException:  # noqa: BLE001 - the child reports through its exit code only
            code = 3
        finally:
            os._exit(code)
    return pid, marker, result_file


def _one_thread_after_fork() -> None:
    """A forked child inherits the parent's OpenMP state but not its worker threads: the first parallel
    torch operation then waits at a barrier for threads that do not exist (seen: a copy hanging in
    gomp_team_barrier_wait_end once earlier tests had used two threads). One thread runs no team."""
    import torch

    from regionstyle import pipeline

    torch.set_num_threads(1)
    pipeline.use_threads = lambda threads: 1  # the run would otherwise ask for one per free core again


def _wait_for(marker: Path, pid: int, *, timeout: float = 240.0) -> None:  # a busy machine loads slowly
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if os.waitpid(pid, os.WNOHANG)[0] != 0:
            pytest.fail("the child ended before the moment to interrupt")
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the child never reached the moment to interrupt")
        time.sleep(0.01)


def _reap(pid: int) -> int:
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _result(result_file: Path) -> SimpleNamespace:
    data = json.loads(result_file.read_text())
    return SimpleNamespace(exit_code=data["exit_code"], stdout=data["stdout"], stderr=data["stderr"],
                           exception=RuntimeError(data["exception"]) if data["exception"] else None)


def at_evaluation(when=lambda ws: True):
    """A hook: mark the first optimiser evaluation at which ``when(ws)`` holds, and slow every evaluation
    down a little so the run is still optimising when the signal comes."""
    def hook(marker: Path) -> None:
        from regionstyle import optimize

        evaluate = optimize.evaluate

        def slow(*args, **kwargs):
            if when(Path.cwd()):
                marker.touch()
                time.sleep(0.05)
            return evaluate(*args, **kwargs)

        optimize.evaluate = slow
    return hook


class _Stuck:
    """A file handle that, after its first bytes, marks the moment and waits to be interrupted."""

    def __init__(self, handle, marker: Path) -> None:
        self.handle, self.marker = handle, marker

    def write(self, data) -> int:
        written = self.handle.write(data[:16])
        self.handle.flush()
        self.marker.touch()
        time.sleep(600)
        return written

    def __getattr__(self, name):
        return getattr(self.handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()


def while_writing(name: str):
    """A hook: stop forever inside the write of ``name`` (after its temporary file got some bytes)."""
    def hook(marker: Path) -> None:
        opened = atomic._open_temporary

        def stuck(path: Path):
            temporary, handle = opened(path)
            return temporary, (_Stuck(handle, marker) if path.name == name else handle)

        atomic._open_temporary = stuck
    return hook


def _run_in(ws: Path, argv: tuple[str, ...]):
    from click.testing import CliRunner

    from regionstyle.cli import main

    cwd = os.getcwd()
    os.chdir(ws)
    try:
        return CliRunner().invoke(main, list(argv), catch_exceptions=False)
    finally:
        os.chdir(cwd)


def _interrupt(tmp_path: Path, args: str, hook, sig: int, *, exit: int, says: str, writes=()) -> None:
    ws = make_workspace(tmp_path)
    shutil.copyfile(ws / "photo.png", ws / "photo2.png")  # a second photo that fits the label map
    before = snapshot(tmp_path)
    pid, marker, result_file = _start(ws, cli(args), hook)
    _wait_for(marker, pid)
    os.kill(pid, sig)
    assert _reap(pid) == 0, "the child failed outside the command"
    marker.unlink()
    outcome = _result(result_file)
    result_file.unlink()
    judge(Case(args, cli(args), exit, says, writes=writes), outcome, before, snapshot(tmp_path))


@special("signals", "Ctrl-C during apply's optimisation: exit 130, nothing written")
def test_ctrl_c_apply(tmp_path) -> None:
    _interrupt(tmp_path, "apply photo.png rules.toml -o out.png --manifest --iterations 1000", at_evaluation(),
               signal.SIGINT, exit=130, says="interrupted")


@special("signals", "SIGTERM during apply's optimisation: exit 143, nothing written")
def test_sigterm_apply(tmp_path) -> None:
    _interrupt(tmp_path, "apply photo.png rules.toml -o out.png --iterations 1000", at_evaluation(),
               signal.SIGTERM, exit=143, says="terminated")


@special("signals", "Ctrl-C during segment: exit 130, none of its files")
def test_ctrl_c_segment(tmp_path) -> None:
    _interrupt(tmp_path, "segment photo.png --model auto -o lab.png", while_writing("lab.overlay.png"),
               signal.SIGINT, exit=130, says="interrupted")


@special("signals", "Ctrl-C in a batch's second image: the first is kept, the second leaves nothing")
def test_ctrl_c_batch(tmp_path) -> None:
    def first_done(ws: Path) -> bool:
        manifest = ws / "out" / "photo.png.json"
        return manifest.exists() and '"complete"' in manifest.read_text()

    _interrupt(tmp_path, "batch photo.png photo2.png rules.toml -o out --iterations 40", at_evaluation(first_done),
               signal.SIGINT, exit=130, says="1 done before Ctrl-C", writes=("out/photo.png", "out/photo.png.json"))


@special("signals", "Ctrl-C while the image is being written: its temporary file is removed")
def test_ctrl_c_while_writing(tmp_path) -> None:
    _interrupt(tmp_path, "apply photo.png rules.toml -o out.png", while_writing("out.png"), signal.SIGINT,
               exit=130, says="interrupted")


@special("signals", "kill -9 while apply writes: the next run removes the leftover, never a live run's")
def test_kill_9_while_writing(tmp_path) -> None:
    ws = make_workspace(tmp_path)
    pid, marker, _ = _start(ws, cli("apply photo.png rules.toml -o out.png"), while_writing("out.png"))
    _wait_for(marker, pid)
    os.kill(pid, signal.SIGKILL)
    _reap(pid)
    marker.unlink()
    left = [p.name for p in ws.iterdir() if temporaries.is_temporary(p.name)]
    assert len(left) == 1 and f"-{pid}." in left[0], left  # what kill -9 leaves: nothing can clean up then
    live = subprocess.Popen(["sleep", "60"])
    try:  # another run, still writing into this folder: its temporary must survive
        other = ws / f".other.png.{temporaries.HOST}-{live.pid}.0123abcd.part"
        other.write_bytes(b"someone else's half file")
        result = _run_in(ws, cli("apply photo.png rules.toml -o out.png"))
        assert result.exit_code == 0, result.output
        assert (ws / "out.png").is_file() and other.read_bytes() == b"someone else's half file"
        assert not (ws / left[0]).exists()
    finally:
        live.kill()
        live.wait()


@special("signals", "kill -9 in a batch: the re-run finishes the image and cleans up")
def test_kill_9_batch_resumes(tmp_path) -> None:
    ws = make_workspace(tmp_path)
    args = cli("batch photo.png rules.toml -o out")
    pid, marker, _ = _start(ws, args, while_writing("photo.png"))
    _wait_for(marker, pid)
    os.kill(pid, signal.SIGKILL)
    _reap(pid)
    assert json.loads((ws / "out" / "photo.png.json").read_text())["status"] == "started"
    result = _run_in(ws, args)
    assert result.exit_code == 0, result.output
    assert json.loads((ws / "out" / "photo.png.json").read_text())["status"] == "complete"
    assert sorted(p.name for p in (ws / "out").iterdir()) == ["photo.png", "photo.png.json"]


@special("signals", "two batches into one folder: neither removes the other's temporary files")
def test_two_batches_share_a_folder(tmp_path) -> None:
    ws = make_workspace(tmp_path)
    (ws / "out").mkdir()
    live = subprocess.Popen(["sleep", "60"])
    try:
        theirs = [ws / "out" / f".{name}.{temporaries.HOST}-{live.pid}.0badc0de.part"
                  for name in ("photo.png", "photo.png.json")]
        for path in theirs:
            path.write_bytes(b"the other run's file in flight")
        result = _run_in(ws, cli("batch photo.png rules.toml -o out --seed 3"))
        assert result.exit_code == 0, result.output
        assert all(path.read_bytes() == b"the other run's file in flight" for path in theirs)
    finally:
        live.kill()
        live.wait()
