"""``batch --layers``: a layered PSD beside every output (``photo.png`` -> ``photo.psd``), resumable too.

:func:`regionstyle.files.stylize_file` writes the PSD after the image; the manifest, written last, records
its hash (``layers_sha256``). An output counts as up to date only when its PSD is there with that hash. A
PSD the batch did not write, or one changed since (edited in a photo editor), is never replaced without
``--overwrite``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from regionstyle.batch import resume
from regionstyle.batch.plan import BatchItem
from regionstyle.errors import BadInput


def layers_path(item: BatchItem) -> Path:
    """Where the layered file of ``item`` goes: the output's name with ``.psd``."""
    return item.output.with_suffix(".psd")


def refuse_layer_clashes(items: Sequence[BatchItem]) -> None:
    """BadInput when two outputs would share one PSD (``a.png`` and ``a.jpg`` both give ``a.psd``)."""
    claimed: dict[Path, Path] = {}
    for item in items:
        path = layers_path(item).resolve()
        if path in claimed:
            raise BadInput(f"{claimed[path]} and {item.source} would both write {layers_path(item)} with --layers: "
                           "use a --name that keeps their names apart, or batch them separately")
        claimed[path] = item.source


def layers_up_to_date(item: BatchItem) -> bool:
    """Whether the PSD beside an output is the one its manifest recorded."""
    recorded = (resume.read_manifest(item.output) or {}).get("layers_sha256")
    path = layers_path(item)
    return recorded is not None and path.is_file() and recorded == resume.file_sha256(path)


def check_layers_writable(item: BatchItem, *, overwrite: bool) -> None:
    """BadInput (failing this image only) when a PSD is there that this batch did not write, or that was
    changed since it did."""
    path = layers_path(item)
    if path.exists() and not overwrite and not layers_up_to_date(item):
        recorded = "layers_sha256" in (resume.read_manifest(item.output) or {})
        why = "was changed after the batch wrote it" if recorded else "was not written by this batch"
        raise BadInput(f"{path} exists and {why}; pass --overwrite to replace it")


def manifest_entry(item: BatchItem) -> dict[str, Any]:
    """What the manifest records about the PSD just written beside ``item``'s output: its hash."""
    return {"layers_sha256": resume.file_sha256(layers_path(item))}
