"""Input files: only regular files are read, and never more than a limit.

Every file regionstyle reads (photos, label maps, style images, weights, model files and their descriptors,
class lists, legends) goes through :func:`input_file` first. Opening a FIFO blocks until someone writes to
it, and ``/dev/zero`` or ``/dev/urandom`` never end: a plain ``read()`` of either hangs or eats the memory
of the machine. ``os.stat`` answers without opening, so the check costs nothing and cannot block.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from regionstyle.errors import BadInput

# No file we read is anywhere near this; a bigger one is a mistake (a disk image, a video), not an input.
MAX_INPUT_BYTES = 4 << 30
MAX_TEXT_BYTES = 16 << 20  # rules, descriptors, class lists and legends are a few kB


def input_file(path: str | os.PathLike[str], *, what: str = "file", error: type[BadInput] = BadInput,
               max_bytes: int = MAX_INPUT_BYTES) -> Path:
    """``path`` if it names a regular file (links followed) of at most ``max_bytes``; else ``error``, one line.

    what: the kind of file, for the message ("image", "weights file", "rules file").
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except (OSError, ValueError) as err:  # ValueError: a NUL byte in the name
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise error(f"cannot read {what} {path}: {reason}") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{path} is a folder, not {_article(what)}")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path} is {_kind(info.st_mode)}, not a regular file: give {_article(what)} as a file")
    if info.st_size > max_bytes:
        raise error(f"{path} is {info.st_size / 2**20:.0f} MB, more than the {max_bytes / 2**20:.0f} MB "
                    f"{_article(what)} may have: is it the right file?")
    return path


def read_input_bytes(path: str | os.PathLike[str], *, what: str = "file", error: type[BadInput] = BadInput,
                     max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file (see :func:`input_file`); OSError becomes ``error`` naming the file."""
    path = input_file(path, what=what, error=error, max_bytes=max_bytes)
    try:
        # O_NONBLOCK: were the file swapped for a FIFO since the check, open() would still return at once;
        # the fstat below then refuses it. Reads of regular files ignore the flag.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise error(f"{path} changed into a special file while being read")
            return handle.read(max_bytes + 1)[:max_bytes]  # bounded even if the file grows meanwhile
    except OSError as err:
        raise error(f"cannot read {what} {path}: {err.strerror or err}") from None


def read_input_text(path: str | os.PathLike[str], *, what: str = "file", error: type[BadInput] = BadInput,
                    max_bytes: int = MAX_TEXT_BYTES) -> str:
    """A small UTF-8 text file (descriptor, class list, legend); undecodable bytes are ``error`` too."""
    data = read_input_bytes(path, what=what, error=error, max_bytes=max_bytes)
    try:
        return data.decode("utf-8-sig")  # a byte-order mark (Windows Notepad) is not part of the text
    except UnicodeDecodeError as err:
        raise error(f"{path} is not UTF-8 text (byte {err.start}): is it the right {what}?") from None


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((words for test, words in kinds if test(mode)), "a special file")


def _article(what: str) -> str:
    return ("an " if what[:1] in "aeiou" else "a ") + what
