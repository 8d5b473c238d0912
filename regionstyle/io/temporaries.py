"""Temporary files of atomic writes: named after their writer, so leftovers can be told from live ones.

A temporary is ``.NAME.HOST-PID.TOKEN.part`` beside its target. A process killed while writing (``kill -9``,
a power cut) leaves one behind; the next write into that folder, by any regionstyle process on this host,
removes those whose process is gone, and never one whose writer still runs (two batches writing into one
folder). Temporaries of other hosts (a shared network folder) are left alone: their processes cannot be
asked.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import socket
from pathlib import Path

log = logging.getLogger(__name__)

HOST = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname().split(".")[0])[:32] or "host"
_TEMPORARY = re.compile(r"^\.(?P<target>.*)\.(?P<host>[A-Za-z0-9_-]+)-(?P<pid>[0-9]+)\.[0-9a-f]+\.part$")
_CLEANED: set[Path] = set()


def temporary_name(path: Path) -> str:
    """The name of a new temporary file for ``path`` (target names are cut so the name stays legal)."""
    return f".{path.name[:120]}.{HOST}-{os.getpid()}.{secrets.token_hex(4)}.part"


def remove_stale_temporaries(folder: Path, *, again: bool = False) -> list[Path]:
    """Remove the temporary files in ``folder`` that processes of this host left when they died; once per
    folder and process unless ``again``. Returns what was removed."""
    key = Path(os.path.abspath(folder))
    if key in _CLEANED and not again:
        return []
    _CLEANED.add(key)
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            match = _TEMPORARY.match(entry.name)
            if match and match["host"] == HOST and not _alive(int(match["pid"])):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    for path in removed:
        log.info("removed %s, left by a process that stopped while writing", path)
    return removed


def is_temporary(name: str) -> bool:
    """Whether a file name is one of the temporaries of :func:`regionstyle.io.atomic.atomic_write`."""
    return _TEMPORARY.match(name) is not None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, under another user
        return True
    return True
