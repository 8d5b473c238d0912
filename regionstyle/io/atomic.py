"""Writing output files safely: never over an input, never half-written.

The file is written to a dot-prefixed temporary file in the target folder, flushed to disk and
renamed over the target in one step (``os.replace``), so readers see the old file or the new one,
never a torn one; on any error the temporary file is removed and the old file is left untouched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from regionstyle.errors import BadInput

log = logging.getLogger(__name__)


def refuse_protected(path: Path, protect: Iterable[str | os.PathLike[str]]) -> None:
    """Raise BadInput if ``path`` is, or would replace, the same file as any path in ``protect``."""
    for guarded in map(Path, protect):
        try:
            same = os.path.samefile(path, guarded)  # also catches hard links and symlinks
        except OSError:  # one of them does not exist (yet): compare where they would be
            same = path.resolve() == guarded.resolve()
        if same:
            raise BadInput(f"refusing to overwrite the input {guarded} with {path}: choose another output path")


def check_writable(paths: Iterable[str | os.PathLike[str]], *, protect: Iterable[str | os.PathLike[str]] = (),
                   overwrite: bool = False) -> list[Path]:
    """The one "may I write here?" check, made before any work: every command asks it of every file it
    will write (images, manifests, overlays, class lists, masks, layered files).

    Refuses (BadInput) a path that is, or would replace, one of ``protect`` (the inputs: also through links),
    an existing folder, an existing file unless ``overwrite``, a path below a file, and two equal paths.
    """
    checked: list[Path] = []
    protect = list(protect)
    for path in map(Path, paths):
        refuse_protected(path, protect)
        if path.is_dir():
            raise BadInput(f"{path} is a folder; give a file name for the output")
        if path.exists() and not overwrite:
            raise BadInput(f"{path} exists; pass --overwrite to replace it, or choose another output")
        blocking = next((parent for parent in path.parents if parent.exists()), None)
        if blocking is not None and not blocking.is_dir():
            raise BadInput(f"cannot write {path}: {blocking} is a file, not a folder")
        if any(_same_place(path, other) for other in checked):
            raise BadInput(f"{path} would be written twice; choose distinct output names")
        checked.append(path)
    return checked


def _same_place(first: Path, second: Path) -> bool:
    return first.resolve() == second.resolve()


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write through a dot-prefixed temporary file in the same folder, then rename it into place."""
    try:
        if not path.parent.exists():
            log.info("creating folder %s", path.parent)
            path.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".part", delete=False)
    except OSError as err:
        raise BadInput(f"cannot write {path}: {err.strerror or err}") from err
    try:
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, _new_file_mode(path))  # mkstemp makes 0600 files; match a normal write
        os.replace(handle.name, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        if isinstance(err, OSError):
            raise BadInput(f"cannot write {path}: {err.strerror or err}") from err
        raise
    _fsync_folder(path.parent)


def _new_file_mode(path: Path) -> int:
    with contextlib.suppress(OSError):
        return path.stat().st_mode & 0o7777  # replacing a file: keep its permissions
    return 0o666 & ~_umask()


def _umask() -> int:
    # /proc gives the umask without changing it; os.umask() is a set-and-restore that races threads.
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable; folders cannot be opened this way on Windows.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_text_atomic(path: Path, text: str) -> Path:
    """Write a text file (a manifest, a rules file) all-or-nothing."""
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))
    return path
