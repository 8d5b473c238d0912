"""Atomic writes: whose temporary file is whose, what a killed run leaves and who removes it, all-or-nothing."""

from __future__ import annotations

import errno
import os
import subprocess

import pytest

from regionstyle.errors import BadInput, WriteFailed
from regionstyle.io import atomic, temporaries


@pytest.fixture()
def live_pid():
    """The id of a process that is alive (not this one) for the test's length."""
    process = subprocess.Popen(["sleep", "60"])
    yield process.pid
    process.kill()
    process.wait()


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _leftover(folder, name: str, host: str, pid: int):
    path = folder / f".{name}.{host}-{pid}.deadbeef.part"
    path.write_bytes(b"half")
    return path


def test_a_temporary_names_its_host_and_process(tmp_path):
    name = temporaries.temporary_name(tmp_path / "out.png")
    assert temporaries.is_temporary(name) and f"{temporaries.HOST}-{os.getpid()}." in name
    assert len(temporaries.temporary_name(tmp_path / ("x" * 250 + ".png"))) < 255  # legal where the target is


def test_only_dead_processes_leftovers_are_removed(tmp_path, live_pid):
    dead = _leftover(tmp_path, "a.png", temporaries.HOST, dead_pid())
    live = _leftover(tmp_path, "b.png", temporaries.HOST, live_pid)
    mine = _leftover(tmp_path, "c.png", temporaries.HOST, os.getpid())
    other_host = _leftover(tmp_path, "d.png", "elsewhere", dead_pid())
    not_ours = tmp_path / ".e.png.part"
    not_ours.write_bytes(b"?")
    atomic.atomic_write(tmp_path / "new.png", lambda handle: handle.write(b"data"))
    assert not dead.exists()
    assert live.exists() and mine.exists() and other_host.exists() and not_ours.exists()
    assert (tmp_path / "new.png").read_bytes() == b"data"


def test_a_failed_write_leaves_nothing_not_even_new_folders(tmp_path):
    def fail(handle):
        handle.write(b"some")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(WriteFailed, match="nothing was written"):
        atomic.atomic_write(tmp_path / "a" / "b" / "out.png", fail)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("code, kind", [(errno.ENOSPC, WriteFailed), (errno.EDQUOT, WriteFailed),
                                        (errno.EIO, WriteFailed), (errno.EACCES, BadInput), (errno.EROFS, BadInput)])
def test_write_errors_are_run_time_or_bad_input(tmp_path, code, kind):
    error = atomic.write_error(tmp_path / "x.png", OSError(code, os.strerror(code)))
    assert type(error) is kind and "x.png" in str(error)
    assert error.exit_code == (1 if kind is WriteFailed else 2)


def test_all_or_nothing_writes_every_file_or_none(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with atomic.all_or_nothing():
            atomic.write_text_atomic(tmp_path / "one.txt", "1")
            atomic.write_text_atomic(tmp_path / "sub" / "two.txt", "2")
            assert not (tmp_path / "one.txt").exists()  # nothing visible before the block ends
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    with atomic.all_or_nothing():
        atomic.write_text_atomic(tmp_path / "one.txt", "1")
        with atomic.all_or_nothing():  # nested: the outer block decides
            atomic.write_text_atomic(tmp_path / "two.txt", "2")
        assert not (tmp_path / "two.txt").exists()
    assert (tmp_path / "one.txt").read_text() == "1" and (tmp_path / "two.txt").read_text() == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.txt", "two.txt"]


def test_check_inside_follows_links(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "out" / "away")
    assert atomic.check_inside(tmp_path / "out" / "sub" / "a.png", tmp_path / "out")
    for escaping in ("../a.png", "away/a.png", str(tmp_path / "elsewhere" / "a.png")):
        with pytest.raises(BadInput, match="outside"):
            atomic.check_inside(tmp_path / "out" / escaping, tmp_path / "out")


def test_a_special_file_is_never_replaced_even_with_overwrite(tmp_path):
    os.mkfifo(tmp_path / "pipe.png")
    with pytest.raises(BadInput, match="never replaced"):
        atomic.check_writable([tmp_path / "pipe.png"], overwrite=True)
