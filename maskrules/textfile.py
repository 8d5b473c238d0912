"""Reading the small text files of the rule language (rules files, class lists), safely.

Only regular files are opened: ``open()`` on a FIFO blocks until a writer comes, and a device such as
``/dev/zero`` never ends. ``os.stat`` answers without opening, so the check cannot block. regionstyle has
the same guard for every other file it reads (``regionstyle.io.inputs``); this package is standard-library
only and cannot import it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_TEXT_BYTES = 16 << 20  # a rules file or class list is a few kB


def read_text(path: str | os.PathLike[str], *, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``max_bytes``.

    Raises OSError for a missing or unreadable file, ValueError (one line, the reason) for anything else:
    a folder, a FIFO or device, a file too large, bytes that are not UTF-8.
    """
    info = os.stat(path)
    if stat.S_ISDIR(info.st_mode):
        raise ValueError("it is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise ValueError("it is not a regular file (a FIFO, socket or device?)")
    if info.st_size > max_bytes:
        raise ValueError(f"it is {info.st_size / 2**20:.0f} MB, more than the {max_bytes / 2**20:.0f} MB a "
                         "text file of rules or classes may have (is it the right file?)")
    data = Path(path).read_bytes()[:max_bytes]
    try:
        return data.decode("utf-8-sig")  # a byte-order mark (Windows Notepad) is not part of the text
    except UnicodeDecodeError as exc:
        raise ValueError(f"it is not UTF-8 text (the utf-8 codec cannot decode byte {exc.start}); "
                         "is it the right file?") from None
