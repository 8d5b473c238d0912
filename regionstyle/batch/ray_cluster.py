"""A planned batch on a Ray cluster: the driver hands images to long-lived workers and keeps the books.

The guarantees are the single-machine batch's, because each worker does the same per-image work
(:mod:`regionstyle.batch.ray_workers`): outputs are written atomically and their manifest last, so a re-run
after killing the driver or any worker redoes only what is missing. The driver adds:

* one image per worker at a time (a worker that dies takes at most one image with it);
* a worker that dies mid-image (killed, out of memory, its node lost) is replaced, and its image goes back
  to the front of the queue for another worker (``max_attempts`` tries in all, then it is reported failed).
  The image is never written twice or half: the dead worker left at most a "started" marker (the retry
  redoes it) and temporaries (the retry removes them); if it had already written the complete manifest,
  the image counts as done and is not redone;
* events as ``run_batch`` gives them ("start" names the worker; "done", "skipped", "failed"), plus
  "retry" when a worker was lost; the summary and :class:`BatchInterrupted` on Ctrl-C are the same.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from regionstyle.batch import resume
from regionstyle.batch.plan import BatchItem, BatchOptions
from regionstyle.batch.ray_workers import BatchWorker, DriverHome, WorkerSpec, connect, import_ray, place_workers
from regionstyle.batch.run import BatchEvent, BatchInterrupted, BatchSummary, EventCallback
from regionstyle.errors import RegionStyleError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClusterOptions:
    """Where and how wide a batch runs. address: a Ray address, or ``auto`` (see ``ray_workers.connect``);
    workers_per_node: CPU workers on a node without GPUs; max_attempts: tries per image when workers die."""

    address: str = "auto"
    workers_per_node: int = 1
    max_attempts: int = 3


def run_on_ray(items: Sequence[BatchItem], options: BatchOptions, *, cluster: ClusterOptions = ClusterOptions(),
               make_session: Callable[[], Any] | None = None, on_event: EventCallback | None = None) -> BatchSummary:
    """Stylise every item on the Ray cluster, one Session per worker (``make_session()``, picklable; a
    plain Session when None). Returns the summary; raises BatchInterrupted on Ctrl-C."""
    from regionstyle.session import Session

    ray = import_ray()
    clock = time.perf_counter()
    connected = connect(ray, cluster.address)
    try:
        specs = place_workers(ray.nodes(), workers_per_node=cluster.workers_per_node,
                              device=options.settings.get("device"))[: max(1, len(items))]  # none idle from the start
        pool = _Pool(ray, specs, options, make_session or Session, cluster.max_attempts)
        try:
            return _Driver(ray, pool, items, on_event or (lambda event: None), cluster.max_attempts, clock).run()
        finally:
            pool.stop()
    finally:
        if connected:
            ray.shutdown()


# After Ctrl-C, how long the driver watches for images that workers were committing as they were killed.
LANDING_GRACE_S = 1.5


class _Pool:
    """The workers by slot; a lost worker is replaced in its slot up to ``max_restarts`` times."""

    def __init__(self, ray: Any, specs: list[WorkerSpec], options: BatchOptions, make_session: Callable,
                 max_restarts: int) -> None:
        self.ray, self.specs, self.budget = ray, specs, max_restarts
        self.remote = ray.remote(BatchWorker)
        self.options, self.make_session, self.home = options, make_session, DriverHome.here()
        self.actors = {slot: self._spawn(slot) for slot in range(len(specs))}
        self.restarts = dict.fromkeys(self.actors, 0)

    def _spawn(self, slot: int) -> Any:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        spec = self.specs[slot]
        # soft: a replacement may start on another node when this one is gone or full. Ray itself neither
        # restarts workers nor retries their images: the driver does both, so it can send the image elsewhere.
        where = NodeAffinitySchedulingStrategy(spec.node, soft=True)
        worker = self.remote.options(num_cpus=spec.num_cpus, num_gpus=spec.num_gpus, max_restarts=0,
                                     max_task_retries=0, scheduling_strategy=where)
        return worker.remote(self.options, self.make_session, spec, self.home)

    def name(self, slot: int) -> str:
        return f"worker {slot + 1} of {len(self.specs)} on {self.specs[slot].host}"

    def replace(self, slot: int) -> bool:
        """A new worker in ``slot`` after its worker was lost; False when the slot's restarts are spent."""
        self.ray.kill(self.actors.pop(slot), no_restart=True)
        if self.restarts[slot] >= self.budget:
            return False
        self.restarts[slot] += 1
        self.actors[slot] = self._spawn(slot)
        return True

    def stop(self) -> None:
        for actor in self.actors.values():
            self.ray.kill(actor, no_restart=True)
        self.actors.clear()


@dataclass
class _Entry:
    """An image and its history in this run: tries, the slots whose worker died on it, and its manifest
    as it was before this run (a different complete manifest later means a lost worker finished it)."""

    index: int
    item: BatchItem
    before: dict[str, Any] | None
    tries: int = 0
    died_on: set[int] = field(default_factory=set)


def next_entry(pending: deque[_Entry], slot: int, live: set[int]) -> _Entry | None:
    """The first pending image for ``slot``: one whose worker died in this slot goes elsewhere, unless every
    live slot has lost a worker on it."""
    for position, entry in enumerate(pending):
        if slot not in entry.died_on or live <= entry.died_on:
            del pending[position]
            return entry
    return None


class _Driver:
    """The scheduling loop: keep every live worker busy with one image, settle results as they come."""

    def __init__(self, ray: Any, pool: _Pool, items: Sequence[BatchItem], notify: EventCallback,
                 max_attempts: int, clock: float) -> None:
        from ray import exceptions

        self.ray, self.pool, self.notify, self.max_attempts, self.clock = ray, pool, notify, max_attempts, clock
        # what losing a worker looks like; any other error (a bug in a worker) stops the batch, as it would here
        self.lost = (exceptions.RayActorError, exceptions.WorkerCrashedError, exceptions.NodeDiedError,
                     exceptions.OutOfMemoryError, exceptions.ObjectLostError)
        self.any_error = exceptions.RayError
        self.total = len(items)
        self.pending = deque(_Entry(index, item, None) for index, item in enumerate(items))
        self.running: dict[Any, tuple[int, _Entry]] = {}
        self.idle = set(pool.actors)
        self.counts = {"done": 0, "skipped": 0, "failed": 0}

    def run(self) -> BatchSummary:
        try:
            while self.pending or self.running:
                self._submit()
                if not self.running:
                    raise RegionStyleError(f"every worker was lost; {len(self.pending)} images are not done: "
                                           "re-run the same command to do them")
                ready, _ = self.ray.wait(list(self.running), num_returns=1, timeout=1.0)
                for ref in ready:
                    self._settle(ref)
        except KeyboardInterrupt:
            self._interrupted()
        return self._summary()

    def _submit(self) -> None:
        for slot in sorted(self.idle):
            entry = next_entry(self.pending, slot, set(self.pool.actors))
            if entry is None:
                continue
            if entry.tries == 0:  # before any worker of this run can touch it
                entry.before = resume.read_manifest(entry.item.output)
            entry.tries += 1
            self.running[self.pool.actors[slot].one.remote(entry.item, entry.index, self.total)] = (slot, entry)
            self.idle.discard(slot)
            self.notify(BatchEvent("start", entry.index, self.total, entry.item, self.pool.name(slot)))

    def _settle(self, ref: Any) -> None:
        slot, entry = self.running.pop(ref)
        try:
            event = self.ray.get(ref)
        except self.lost as lost:
            self._lost(slot, entry, lost)
            return
        self.idle.add(slot)
        self._count(replace(event, item=entry.item))  # the item as the caller planned it

    def _lost(self, slot: int, entry: _Entry, error: Exception) -> None:
        name = self.pool.name(slot)
        if getattr(error, "actor_init_failed", False):
            raise RegionStyleError(f"{name} could not start: {error}") from None
        why = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        log.warning("%s was lost on %s: %s", name, entry.item.source, why)
        if self.pool.replace(slot):
            self.idle.add(slot)
        landed = self._landed(entry)
        if landed is not None:
            self._count(landed)
        elif entry.tries >= self.max_attempts:
            _clear(entry.item)
            self._count(BatchEvent("failed", entry.index, self.total, entry.item,
                                   f"its worker was lost on each of {entry.tries} tries (last: {why}); it may "
                                   "need more memory than a worker has"))
        else:
            entry.died_on.add(slot)
            self.pending.appendleft(entry)
            self.notify(BatchEvent("retry", entry.index, self.total, entry.item,
                                   f"{name} was lost ({why}); trying again on another worker "
                                   f"(try {entry.tries + 1} of {self.max_attempts})"))

    def _landed(self, entry: _Entry) -> BatchEvent | None:
        """A "done" event when a lost worker had finished the image (a new complete manifest), else None."""
        now = resume.read_manifest(entry.item.output)
        if now is None or now.get("status") != "complete" or now == entry.before:
            return None
        seconds = float(now.get("timings", {}).get("total", 0.0))
        return BatchEvent("done", entry.index, self.total, entry.item, f"wrote {entry.item.output}", seconds, now)

    def _interrupted(self) -> None:
        """Ctrl-C: stop every worker, count what landed, clear markers of images whose worker is surely gone."""
        self.pool.stop()
        refs = list(self.running)
        ready, _ = self.ray.wait(refs, num_returns=len(refs), timeout=10.0) if refs else ([], [])
        killed = []
        for ref in ready:
            slot, entry = self.running.pop(ref)
            try:
                self._count(replace(self.ray.get(ref), item=entry.item))
            except self.any_error:  # killed just now, or hit by the same Ctrl-C (a local cluster shares it)
                killed.append(entry)
        unsure = killed + [entry for _, entry in self.running.values()]
        for entry in self._await_landings(unsure):
            if entry in killed:
                _clear(entry.item)
        # a worker still unaccounted for may yet write: its "started" marker stays, and a re-run redoes it
        raise BatchInterrupted(self._summary(interrupted=True)) from None

    def _await_landings(self, entries: list[_Entry]) -> list[_Entry]:
        """Count each of ``entries`` whose image lands within LANDING_GRACE_S; returns the others.

        A killed worker's ref can fail before its process has stopped: one that was committing its image
        then still completes it (seen: two images written, one counted), so the driver looks again.
        """
        deadline = time.monotonic() + LANDING_GRACE_S
        waiting = list(entries)
        while waiting:
            for entry in list(waiting):
                landed = self._landed(entry)
                if landed is not None:
                    self._count(landed)
                    waiting.remove(entry)
            if not waiting or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        return waiting

    def _count(self, event: BatchEvent) -> None:
        self.counts[event.kind] += 1
        self.notify(event)

    def _summary(self, *, interrupted: bool = False) -> BatchSummary:
        return BatchSummary(**self.counts, seconds=time.perf_counter() - self.clock, interrupted=interrupted)


def _clear(item: BatchItem) -> None:
    """What a worker known to be dead left of an unfinished image: its marker and its temporaries."""
    resume.abandon(item.output)
    resume.remove_leftovers(item.output)
