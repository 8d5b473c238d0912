"""Writing output files safely: never over an input, never half-written, never outside the place named.

The file is written to a dot-prefixed temporary file in the target folder, flushed to disk and
renamed over the target in one step (``os.replace``), so readers see the old file or the new one,
never a torn one; on any error the temporary file is removed and the old file is left untouched.
A temporary's name holds the host and process id of its writer: a process killed while writing leaves
one behind, and the next write into that folder removes it, while another run's live temporaries stay.
:func:`all_or_nothing` makes several files appear together (an image and its manifest) or not at all.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from regionstyle.errors import BadInput, RegionStyleError, WriteFailed
from regionstyle.io.temporaries import remove_stale_temporaries, temporary_name

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
        try:
            mode = os.stat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):  # not there (a file in the way is named below)
            mode = None
        except (OSError, ValueError) as err:  # a name too long, a NUL byte, a loop of links
            reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            raise BadInput(f"cannot write {path}: {reason}") from None
        if mode is not None and stat.S_ISDIR(mode):
            raise BadInput(f"{path} is a folder; give a file name for the output")
        if mode is not None and not stat.S_ISREG(mode):  # os.replace would put a file in place of a device
            raise BadInput(f"{path} is not a regular file (a device, FIFO or socket): it is never replaced; "
                           "choose another output")
        if mode is not None and not overwrite:
            raise BadInput(f"{path} exists; pass --overwrite to replace it, or choose another output")
        blocking = next((parent for parent in path.parents if parent.exists()), None)
        if blocking is not None and not blocking.is_dir():
            raise BadInput(f"cannot write {path}: {blocking} is a file, not a folder")
        if any(_same_place(path, other) for other in checked):
            raise BadInput(f"{path} would be written twice; choose distinct output names")
        checked.append(path)
    return checked


def check_inside(path: Path, folder: Path, *, what: str = "output") -> Path:
    """``path`` if it lies inside ``folder`` (links resolved: a link out of the folder does not count);
    else BadInput. Names built from user text (``--name '../{stem}.png'``) must not leave the folder."""
    resolved, root = Path(path).resolve(), Path(folder).resolve()
    if resolved != root and root not in resolved.parents:
        raise BadInput(f"the {what} {path} would be written outside {folder} (it resolves to {resolved}): "
                       "names may not climb out of the folder (no '..', no absolute paths, no links out)")
    return Path(path)


def _same_place(first: Path, second: Path) -> bool:
    return first.resolve() == second.resolve()


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write through a temporary file in the same folder, then rename it into place (inside
    :func:`all_or_nothing`, the rename waits for the end of the block).

    Raises WriteFailed (exit code 1) when the disk is full, BadInput for any other OSError (a folder that
    cannot be written); either way nothing is left behind.
    """
    path = Path(path)
    created = _make_folder(path)
    remove_stale_temporaries(path.parent)
    temporary: Path | None = None
    try:
        temporary, handle = _open_temporary(path)
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _new_file_mode(path))  # a new file gets the usual umask-based mode
        pending = _PENDING.get()
        if pending is not None:
            pending.append(_Pending(temporary, path, created))
            return
        os.replace(temporary, path)
    except BaseException as err:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        _remove_if_empty(created)
        if isinstance(err, OSError):
            raise write_error(path, err) from err
        raise
    _fsync_folder(path.parent)


def write_error(path: Path, err: OSError) -> RegionStyleError:
    """The error for an OSError met while writing ``path``: WriteFailed for a full disk or an I/O error
    (run time, exit code 1), BadInput for a place that cannot be written (exit code 2)."""
    reason = err.strerror or str(err)
    if err.errno in _DISK_FULL:
        return WriteFailed(f"cannot write {path}: {reason} (the disk or quota is full); nothing was written "
                           "there: free some space or choose another output folder")
    if err.errno == errno.EIO:
        return WriteFailed(f"cannot write {path}: input/output error; nothing was written there")
    return BadInput(f"cannot write {path}: {reason}")


_DISK_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


@dataclass(frozen=True)
class _Pending:
    temporary: Path
    target: Path
    created: Path | None


_PENDING: contextvars.ContextVar[list[_Pending] | None] = contextvars.ContextVar("regionstyle_pending", default=None)


@contextlib.contextmanager
def all_or_nothing() -> Iterator[None]:
    """Within the block, :func:`atomic_write` leaves each file as a temporary; at the end of the block all
    of them are renamed into place, or, if the block fails (a full disk at the third file, Ctrl-C), all
    are removed: a command's outputs (image, manifest, layers, masks) appear together or not at all."""
    if _PENDING.get() is not None:  # nested: the outer block decides
        yield
        return
    pending: list[_Pending] = []
    token = _PENDING.set(pending)
    try:
        yield
    except BaseException:
        for item in reversed(pending):
            with contextlib.suppress(OSError):
                os.unlink(item.temporary)
            _remove_if_empty(item.created)
        raise
    finally:
        _PENDING.reset(token)
    for item in pending:
        os.replace(item.temporary, item.target)
    for folder in {item.target.parent for item in pending}:
        _fsync_folder(folder)


def _make_folder(path: Path) -> Path | None:
    """Create the missing folders above ``path``; the topmost one created (to remove on failure), or None."""
    missing = [parent for parent in path.parents if not parent.exists()]
    if not missing:
        return None
    log.info("creating folder %s", path.parent)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise write_error(path, err) from err
    return missing[-1]


def _remove_if_empty(folder: Path | None) -> None:
    """Remove the folders a failed write created, from the deepest up, as long as they are empty."""
    if folder is None:
        return
    for empty in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)) + [folder]:
        with contextlib.suppress(OSError):
            empty.rmdir()


def _open_temporary(path: Path) -> tuple[Path, BinaryIO]:
    for _ in range(16):
        temporary = path.with_name(temporary_name(path))
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        except OSError as err:
            raise write_error(path, err) from err
        return temporary, os.fdopen(fd, "wb")
    raise BadInput(f"cannot write {path}: no free temporary name beside it")


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
