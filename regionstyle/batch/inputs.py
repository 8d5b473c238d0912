"""Which images a batch works on: files, folders (optionally recursive) and glob patterns.

Patterns are expanded here too, for shells (and scripts) that pass them through unexpanded. From folders
and patterns, only files with an image suffix are taken, never hidden ones (``.x.part`` temporaries of an
interrupted write, ``.git``), and never a batch's own outputs (a file with a batch manifest beside it), so
re-running a batch whose outputs sit beside its inputs does not stylise its own results.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from regionstyle.io import SUFFIX_FORMATS
from regionstyle.errors import BadInput

_MAGIC = frozenset("*?[")


@dataclass(frozen=True)
class Found:
    """An input image. root: the folder it was found under (outputs mirror ``path.parent`` relative to it);
    explicit: named on its own (kept even where a rules file refers to it)."""

    path: Path
    root: Path
    explicit: bool = False


def image_format(path: Path) -> str | None:
    """The format name a suffix stands for ("png", "jpeg", "tiff", "webp", "bmp"), or None."""
    return SUFFIX_FORMATS.get(path.suffix.lower())


def find_inputs(inputs: Sequence[str | Path], *, recursive: bool = False) -> list[Found]:
    """Every image named by ``inputs``, in argument order (folders and patterns sorted), each once.

    Raises BadInput for an argument that is neither a file, a folder nor a pattern matching an image,
    and when nothing at all is found.
    """
    found: list[Found] = []
    for argument in inputs:
        path = Path(argument)
        if path.is_file():
            found.append(Found(path, path.parent, explicit=True))
        elif path.is_dir():
            found += _scan(path, recursive=recursive)
        elif path.exists():  # a FIFO, a device: never read as an image
            raise BadInput(f"{argument} is not a regular file (a FIFO, socket or device?); give image files")
        elif _MAGIC & set(str(argument)):
            found += _expand(str(argument), recursive=recursive)
        else:
            raise BadInput(f"{argument}: no such file or folder")
    found = _unique(found)
    if not found:
        raise BadInput(f"no images found in {', '.join(map(str, inputs))}"
                       + ("" if recursive else " (add --recursive to look in subfolders)"))
    return found


def _scan(folder: Path, *, recursive: bool) -> list[Found]:
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    return [Found(p, folder) for p in sorted(candidates) if _wanted(p, folder)]


def _expand(pattern: str, *, recursive: bool) -> list[Found]:
    root = _fixed_prefix(pattern)
    found: list[Found] = []
    # pathlib's "**" never follows links to folders; glob.glob's does, and a link loop (a/loop -> .) made
    # "photos/**/*.jpg" run for minutes.
    rest = Path(pattern).relative_to(root) if root != Path(".") else Path(pattern)
    for path in sorted(root.glob(str(rest))):
        if path.is_dir() and not _hidden(path, root):
            found += _scan(path, recursive=recursive)
        elif _wanted(path, root):
            found.append(Found(path, root))
    if not found:
        raise BadInput(f"the pattern {pattern} matches no image")
    return found


def _fixed_prefix(pattern: str) -> Path:
    """The folder part of a pattern before its first wildcard: outputs mirror what lies below it."""
    parts = Path(pattern).parts
    fixed = [part for part in parts[:next(i for i, p in enumerate(parts) if _MAGIC & set(p))]]
    return Path(*fixed) if fixed else Path(".")


def _wanted(path: Path, root: Path) -> bool:
    return path.is_file() and not _hidden(path, root) and image_format(path) is not None and not is_batch_output(path)


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def is_batch_output(path: Path) -> bool:
    """Whether ``path`` has a batch manifest beside it (``path.json`` holding a fingerprint)."""
    manifest = path.with_name(path.name + ".json")
    if not manifest.is_file():
        return False
    try:
        return "fingerprint" in json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return False


def _unique(found: list[Found]) -> list[Found]:
    seen: set[Path] = set()
    unique = []
    for item in found:
        key = item.path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique
