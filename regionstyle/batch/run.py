"""Running a planned batch: one shared Session, per-image outcomes through a callback, resumable.

Per image: parse its rules (once per file), resolve the settings, fingerprint; skip it when its output is
up to date; else decode it, mark the output as started, stylise, write the image atomically (EXIF, ICC,
alpha, bit depth and format carried through; with ``layers``, a PSD beside it), then write the complete
manifest. One bad image (corrupt, unreadable, too large, a broken per-image rules file, a segmenter
failure) is reported and the batch goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import maskrules
from regionstyle.batch import layers as batch_layers
from regionstyle.batch import resume
from regionstyle.batch.plan import BatchItem, BatchOptions, load_rules
from regionstyle.errors import RegionStyleError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchEvent:
    """kind: "start", "done", "skipped" or "failed"; index counts from 0.

    message: why it was skipped or failed; seconds: time spent on the image; manifest: "done" only.
    """

    kind: str
    index: int
    total: int
    item: BatchItem
    message: str = ""
    seconds: float = 0.0
    manifest: dict[str, Any] | None = None


@dataclass(frozen=True)
class BatchSummary:
    """Counts of a batch run and its wall time in seconds; interrupted after Ctrl-C."""

    done: int
    skipped: int
    failed: int
    seconds: float
    interrupted: bool = False


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C during a batch; ``summary`` counts what was finished before it."""

    def __init__(self, summary: BatchSummary) -> None:
        super().__init__("batch interrupted")
        self.summary = summary


EventCallback = Callable[[BatchEvent], None]
ProgressCallback = Callable[[Any], None]


def run_batch(items: Sequence[BatchItem], options: BatchOptions, *, session: Any = None,
              on_event: EventCallback | None = None, on_progress: ProgressCallback | None = None) -> BatchSummary:
    """Stylise every item with one shared :class:`~regionstyle.session.Session` (a new one when None).

    on_event gets a "start" event before each image, then its "done", "skipped" or "failed" event;
    on_progress gets the optimiser's :class:`~regionstyle.datatypes.Progress` reports for the current image.
    Raises :class:`BatchInterrupted` on Ctrl-C (the image in flight leaves no file behind).
    """
    from regionstyle.session import Session

    work = ImageWork(options, session if session is not None else Session())
    counts = {"done": 0, "skipped": 0, "failed": 0}
    clock = time.perf_counter()
    notify = on_event or (lambda event: None)
    try:
        for index, item in enumerate(items):
            notify(BatchEvent("start", index, len(items), item))
            event = work.one(item, index, len(items), on_progress)
            counts[event.kind] += 1
            notify(event)
    except KeyboardInterrupt:
        landed = work.landed(len(items))  # Ctrl-C can come after the manifest was written, before we return
        if landed is not None:
            counts["done"] += 1
            notify(landed)
        elif work.in_flight is not None:
            resume.abandon(work.in_flight[1].output)
        raise BatchInterrupted(BatchSummary(**counts, seconds=time.perf_counter() - clock, interrupted=True)) from None
    return BatchSummary(**counts, seconds=time.perf_counter() - clock)


@dataclass
class ImageWork:
    """What the images of one run share: the options, the Session, file hashes and parsed rules files."""

    options: BatchOptions
    session: Any
    hashes: resume.HashCache = field(default_factory=resume.HashCache)
    rulesets: dict[Path, maskrules.RuleSet] = field(default_factory=dict)
    in_flight: tuple[int, BatchItem, str, float] | None = None  # index, item, fingerprint, start time

    def one(self, item: BatchItem, index: int, total: int, on_progress: ProgressCallback | None) -> BatchEvent:
        clock = time.perf_counter()
        try:
            kind, message, manifest = self._process(item, index, on_progress)
        except (RegionStyleError, maskrules.RuleError) as exc:
            log.info("failed %s: %s", item.source, exc)
            kind, message, manifest = "failed", str(exc), None
        except (MemoryError, RuntimeError) as exc:
            if not _out_of_memory(exc):
                raise  # a bug, not a bad image: never swallowed
            kind, message, manifest = "failed", f"out of memory ({exc}); try a smaller --size", None
        if kind == "failed":
            resume.abandon(item.output)
        self.in_flight = None  # not in a finally: after Ctrl-C, run_batch still needs to know
        return BatchEvent(kind, index, total, item, message, time.perf_counter() - clock, manifest)

    def landed(self, total: int) -> BatchEvent | None:
        """A "done" event for the image in flight if its complete manifest is already on disk, else None."""
        if self.in_flight is None:
            return None
        index, item, fingerprint, clock = self.in_flight
        manifest = resume.read_manifest(item.output)
        if manifest is None or manifest.get("status") != "complete" or manifest["fingerprint"] != fingerprint:
            return None
        return BatchEvent("done", index, total, item, f"wrote {item.output}", time.perf_counter() - clock, manifest)

    def _process(self, item: BatchItem, index: int, on_progress: ProgressCallback | None
                 ) -> tuple[str, str, dict[str, Any] | None]:
        from regionstyle import files, io

        ruleset, config, parts = self._plan(item)
        fingerprint = resume.digest(parts)
        if (resume.output_state(item.output, fingerprint, overwrite=self.options.overwrite) == resume.UP_TO_DATE
                and (not self.options.layers or batch_layers.layers_up_to_date(item))):
            return "skipped", resume.UP_TO_DATE, None
        if self.options.layers:
            batch_layers.check_layers_writable(item, overwrite=self.options.overwrite)
        photo = io.read_image(item.source)  # a bad image fails here, before any marker is written
        self.in_flight = (index, item, fingerprint, time.perf_counter())
        resume.start(item.output, fingerprint)
        # output_state has decided that replacing the file there is right (ours, or --overwrite).
        options = files.OutputOptions(format=item.format, quality=self.options.quality,
                                      bit_depth=self.options.bit_depth, overwrite=True,
                                      layers=batch_layers.layers_path(item) if self.options.layers else None)
        done = files.stylize_file(photo, ruleset, item.output, config=config, labels=self.options.labels,
                                  segmenter_weights=self.options.segmenter_weights, options=options,
                                  session=self.session, on_progress=on_progress)
        manifest = resume.complete_manifest(item.source, item.output, item.rules, parts, fingerprint, done.report)
        if self.options.layers:
            manifest.update(batch_layers.manifest_entry(item))
        try:
            files.write_manifest(item.manifest, manifest)  # last: "complete"
        except RegionStyleError:  # e.g. the disk filled up: the image without its manifest is not kept
            resume.remove_unfinished(item.output, batch_layers.layers_path(item) if self.options.layers else None)
            raise
        return "done", f"wrote {item.output}", manifest

    def _plan(self, item: BatchItem) -> tuple[maskrules.RuleSet, Any, dict[str, Any]]:
        from regionstyle.config import make_config

        if item.rules not in self.rulesets:
            self.rulesets[item.rules] = load_rules(item.rules)
        ruleset = self.rulesets[item.rules]
        config = make_config(ruleset.defaults, **self.options.settings)
        output = {"format": item.format, "bit_depth": self.options.bit_depth or "as input",
                  "quality": self.options.quality if item.format in ("jpeg", "webp") else None}
        parts = resume.fingerprint_parts(
            item.source, item.rules, ruleset, config, labels=self.options.labels, output=output, hashes=self.hashes,
            encoder=resume.encoder_identity(config, self.session.custom_encoder))
        return ruleset, config, parts


def _out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is running out of host or GPU memory (one huge image must not end the batch)."""
    import torch

    if isinstance(exc, MemoryError) or isinstance(exc, torch.OutOfMemoryError):
        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # give the next image the memory back
        return True
    return False
