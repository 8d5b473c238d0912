"""One worker thread that runs renders one at a time, with progress, ETA and cancellation.

A job is a function of the :class:`Job` it runs as; it reports progress through :meth:`Job.progress`,
which is also where a cancel request takes effect: the optimiser calls it after every evaluation, so
raising :class:`Cancelled` there stops a render within one step. Submitting a job cancels the one before
(the server has one user: a new request means the old one is no longer wanted).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")


class Cancelled(Exception):
    """Raised inside a job when it was asked to stop."""


@dataclass
class Job:
    """A render's public state (read by the web handlers while the worker thread writes it)."""

    id: str
    kind: str
    status: str = "queued"
    fraction: float = 0.0
    eta: float | None = None
    detail: str = ""
    error: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    cancel_requested: threading.Event = field(default_factory=threading.Event, repr=False)

    def progress(self, step: Any) -> None:
        """The optimiser's progress callback: record where it is; stop here when cancelled."""
        if self.cancel_requested.is_set():
            raise Cancelled(f"job {self.id} cancelled")
        total = step.elapsed + step.eta
        self.fraction = min(0.999, step.elapsed / total) if total > 0 else 0.0
        self.eta = step.eta
        self.detail = (f"scale {step.scale}/{step.scales} ({step.size[1]}x{step.size[0]}), "
                       f"iteration {step.iteration}/{step.iterations}")

    def cancel(self) -> None:
        self.cancel_requested.set()
        if self.status == "queued":
            self.status = "cancelled"

    def snapshot(self) -> dict[str, Any]:
        """JSON-able state for the page."""
        return {"id": self.id, "kind": self.kind, "status": self.status, "fraction": round(self.fraction, 4),
                "eta": None if self.eta is None else round(self.eta, 1), "detail": self.detail,
                "error": self.error, "elapsed": round(time.monotonic() - self.started, 1),
                "downloads": sorted(self.result.get("files", {}))}


class JobRunner:
    """A daemon thread that takes jobs from a queue; ``jobs`` keeps every job of this server by id."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self._queue: queue.Queue[tuple[Job, Callable[[Job], dict[str, Any]]] | None] = queue.Queue()
        self._ids = itertools.count(1)
        self._thread = threading.Thread(target=self._work, name="regionstyle-render", daemon=True)
        self._thread.start()

    def submit(self, kind: str, work: Callable[[Job], dict[str, Any]]) -> Job:
        """Queue ``work`` as a new job, cancelling any job still queued or running."""
        for job in self.jobs.values():
            if job.status in ACTIVE:
                job.cancel()
        job = Job(id=f"{next(self._ids)}", kind=kind)
        self.jobs[job.id] = job
        self._queue.put((job, work))
        return job

    def cancel_all(self) -> None:
        for job in self.jobs.values():
            if job.status in ACTIVE:
                job.cancel()

    def close(self, timeout: float = 10.0) -> None:
        """Cancel everything and stop the thread (waits up to ``timeout`` seconds)."""
        self.cancel_all()
        self._queue.put(None)
        self._thread.join(timeout)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job, work = item
            if job.cancel_requested.is_set():
                job.status = "cancelled"
                continue
            self._run(job, work)

    @staticmethod
    def _run(job: Job, work: Callable[[Job], dict[str, Any]]) -> None:
        job.status, job.started = "running", time.monotonic()
        try:
            job.result = work(job)
            job.fraction, job.eta, job.status = 1.0, 0.0, "done"
        except Cancelled:
            job.status = "cancelled"
        except Exception as exc:  # a failed render is reported to the page, and the server goes on
            from maskrules import RuleError

            from regionstyle.errors import RegionStyleError

            if not isinstance(exc, RegionStyleError | RuleError):
                log.exception("render %s failed", job.id)
            job.error, job.status = str(exc) or type(exc).__name__, "failed"
