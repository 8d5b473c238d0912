"""Fingerprints and manifests: when an output is up to date, and whose file sits at an output path.

A fingerprint is the SHA-256 of a canonical JSON of everything the output depends on: the input file's
bytes, the rules file's text (the per-image one where it applies), the files the rules refer to (label
maps, mask folders, style images, model files), a --labels file or folder, the resolved settings, the encoder that will actually run,
the output options and the regionstyle version. Contents are hashed, not paths, so a moved folder resumes.
The device is left out on purpose: moving a half-done batch from CPU to GPU should not redo finished work.

An output's state, from its manifest (``OUT.json``): "up to date" when the manifest is complete, its
fingerprint matches and the file there still has the hash it recorded; "redo" when there is nothing yet,
or the file is this batch's own (a complete manifest whose file is unchanged, or a "started" marker left by
a run that stopped); BadInput otherwise (a file the batch did not write, or one changed since) unless
``overwrite``.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import maskrules
from regionstyle.io import atomic_write
from regionstyle.config import TransferConfig
from regionstyle.files import manifest_path
from regionstyle.rules import folder_files, referenced_files  # noqa: F401  (part of this module's API)
from regionstyle.errors import BadInput

UP_TO_DATE = "up to date"
REDO = "redo"


@dataclass
class HashCache:
    """SHA-256 of files by path, computed once per batch run (style images and models are shared)."""

    known: dict[Path, str] = field(default_factory=dict)

    def __call__(self, path: Path) -> str:
        key = Path(path).resolve()
        if key not in self.known:
            self.known[key] = file_sha256(key)
        return self.known[key]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint_parts(source: Path, rules: Path, ruleset: maskrules.RuleSet, config: TransferConfig, *,
                      encoder: str, labels: Path | None, output: dict[str, Any], hashes: HashCache
                      ) -> dict[str, Any]:
    """The JSON-able facts the fingerprint is made of (kept in the manifest, so a change can be traced)."""
    from regionstyle.version import __version__

    settings = {f.name: getattr(config, f.name) for f in fields(config) if f.name not in ("device", "threads")}
    if config.init not in ("content", "noise"):
        settings["init"] = hashes(Path(config.init))  # a start image: its content, not its path
    files = referenced_files(ruleset) + ([Path(labels)] if labels is not None else []) + folder_files(labels)
    return {
        "regionstyle": __version__,
        "input_sha256": hashes(source),
        "rules_sha256": hashes(rules),
        "referenced_sha256": sorted(hashes(p) for p in files if p.is_file()),
        "settings": settings,
        "encoder": encoder,
        "output": output,
    }


def digest(parts: dict[str, Any]) -> str:
    """SHA-256 of the parts as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def encoder_identity(config: TransferConfig, custom: Any = None) -> str:
    """The encoder that will run: ``auto`` resolved the way the pipeline resolves it (cache lookup only)."""
    if custom is not None:
        return f"custom:{custom[0].info.name}:{custom[0].info.weights}"
    from regionstyle.encoder.build import resolve_auto

    return resolve_auto(config.encoder, weights_file=config.encoder_weights)[0]


def read_manifest(output: Path) -> dict[str, Any] | None:
    """The manifest beside ``output`` if it is a batch manifest, else None."""
    try:
        data = json.loads(manifest_path(output).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "fingerprint" in data else None


def output_state(output: Path, fingerprint: str, *, overwrite: bool) -> str:
    """UP_TO_DATE or REDO (see the module docstring); raises BadInput for a file that is not ours."""
    manifest = read_manifest(output)
    if not output.exists():
        return REDO
    if manifest is not None and manifest.get("status") == "started":
        return REDO
    ours = manifest is not None and manifest.get("output_sha256") == file_sha256(output)
    if ours and manifest.get("fingerprint") == fingerprint and not overwrite:
        return UP_TO_DATE
    if ours or overwrite:
        return REDO
    why = "was changed after the batch wrote it" if manifest is not None else "has no batch manifest beside it"
    raise BadInput(f"{output} exists and {why}; pass --overwrite to replace it")


def start(output: Path, fingerprint: str) -> None:
    """Mark ``output`` as in progress (atomic_write removes the temporaries that killed runs left in its
    folder, and only those: another run writing there keeps its own)."""
    marker = {"status": "started", "fingerprint": fingerprint, "output": str(output)}
    atomic_write(manifest_path(output), lambda handle: handle.write(json.dumps(marker).encode("utf-8")))


def remove_leftovers(output: Path) -> None:
    """Remove the temporaries of ``output`` and its manifest that a lost (Ray) worker left, live or not."""
    for name in (output.name, manifest_path(output).name):
        for leftover in output.parent.glob(f".{glob.escape(name)}.*.part"):  # atomic_write's temporaries
            with contextlib.suppress(OSError):
                leftover.unlink()


def abandon(output: Path) -> None:
    """Remove a "started" marker with no output behind it (its image failed or was stopped before writing)."""
    manifest = read_manifest(output)
    if manifest is not None and manifest.get("status") == "started" and not output.exists():
        with contextlib.suppress(OSError):
            manifest_path(output).unlink()


def remove_unfinished(output: Path, layers: Path | None = None) -> None:
    """Remove an image (and its PSD) written in this attempt whose manifest could not be written after it."""
    for path in (output, layers):
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink()
    abandon(output)


def complete_manifest(source: Path, output: Path, rules: Path, parts: dict[str, Any], fingerprint: str,
                      report: dict[str, Any]) -> dict[str, Any]:
    """The manifest of a finished output: what went in, the fingerprint, the output's hash, the run's report."""
    if not output.is_file():
        raise BadInput(f"{output} vanished before its manifest was written")
    return {"status": "complete", "input": str(source), "output": str(output), "rules": str(rules),
            "fingerprint": fingerprint, "fingerprint_parts": parts, "output_sha256": file_sha256(output), **report}
