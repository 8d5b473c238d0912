"""How many CPU threads a run uses: one per core not already busy, kept fair while it runs.

Oversubscribed OpenMP threads spin against each other: on a 2-core machine with other work running, two
torch threads ran up to 10x slower than one (benchmarks/README.md). The count chosen here is the process's
one setting for every native thread pool: torch's, and the TFLite runtime's. Torch is never imported here
(a run of laid-in built-ins never loads it): its pool is set when it is already loaded, and by
:func:`apply_to_torch` from the stage that loads it later.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import time

_chosen: list[int] = []  # the count use_threads chose last, if it ran in this process


def use_threads(threads: int) -> int:
    """Set the run's CPU thread count: ``threads``, or with 0 one per core not already busy; returns it.

    OpenMP's wait policy is left to the user: idle threads that sleep at once (``OMP_WAIT_POLICY=PASSIVE``)
    wake too late for the thousands of small parallel regions of an evaluation: a 512 px paintings run
    took 100 s with two such threads, 57 s with libgomp's default short spin, 84 s on one thread.
    """
    count = threads or free_cores()
    _chosen[:] = [count]
    apply_to_torch()
    return count


def in_use() -> int:
    """The thread count chosen for this run; before any run chose one, torch's when loaded, else every
    core this process may use."""
    if _chosen:
        return _chosen[0]
    torch = sys.modules.get("torch")
    return torch.get_num_threads() if torch is not None else _cores()


def apply_to_torch() -> None:
    """Give torch's pool the chosen count, if torch is loaded and a count was chosen."""
    torch = sys.modules.get("torch")
    if torch is not None and _chosen and torch.get_num_threads() != _chosen[0]:
        torch.set_num_threads(_chosen[0])


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@functools.lru_cache(maxsize=1)
def free_cores() -> int:
    """Cores this process may use minus those busy with other work when first asked (at least one).

    Read once per process: later in a batch the machine counts this process's own work.
    """
    return _cores_left(busy_cores())


def _cores_left(others_busy: float) -> int:
    """Cores this process may use minus ``others_busy`` (at least one): a core over half busy is taken."""
    cores = _cores()
    return max(1, min(cores, math.floor(cores - others_busy + 0.5)))


# How often ThreadBalance looks again: a few hundred scheduler ticks, and a small share of a scale.
BALANCE_INTERVAL_S = 2.0


class ThreadBalance:
    """Keeps the automatic thread count (``threads = 0``) fair while a run goes on.

    free_cores() looks once, at the start; two runs started together may both find the CPU free. Then four
    threads spin against each other on two cores: two 512 px runs with two threads each took 162 s apiece,
    against 47 s for one alone (benchmarks/README.md). :meth:`check`, called at every evaluation, looks at
    most every BALANCE_INTERVAL_S at what the other processes used since the last look (the machine's busy
    time minus this process's own CPU time) and sets the threads to the cores they leave.
    """

    def __init__(self) -> None:
        try:
            self.last: tuple[float, tuple[int, int], float] | None = self._sample()
        except (OSError, ValueError, IndexError):  # no /proc/stat (not Linux): keep what free_cores chose
            self.last = None

    @staticmethod
    def _sample() -> tuple[float, tuple[int, int], float]:
        return time.monotonic(), _cpu_ticks(), time.process_time()

    def check(self) -> int | None:
        """Sets and returns a new thread count where other work's share changed; None otherwise."""
        if self.last is None or time.monotonic() - self.last[0] < BALANCE_INTERVAL_S:
            return None
        try:
            sample = self._sample()
        except (OSError, ValueError, IndexError):
            return None
        (then, ticks_then, own_then), self.last = self.last, sample
        now, ticks, own = sample
        machine_busy = _cores_busy_between(ticks_then, ticks)
        if machine_busy is None or now <= then:
            return None
        others = max(0.0, machine_busy - (own - own_then) / (now - then))
        count = _cores_left(others)
        if count == in_use():
            return None
        _chosen[:] = [count]
        apply_to_torch()
        return count


# How long busy_cores watches the CPUs: long enough for a few scheduler ticks per core (100 Hz), short
# enough not to show in a 5 s preview.
CPU_SAMPLE_S = 0.15


def busy_cores() -> float:
    """How many of the machine's CPUs other work keeps busy right now.

    On Linux from /proc/stat over CPU_SAMPLE_S (this process sleeps meanwhile, so counts nothing). The
    1-minute load average is the fallback elsewhere: it lags, so a job that ended a minute ago still
    counts (measured: every benchmark after the first started at load ~1 and took one thread of two).
    """
    try:
        first = _cpu_ticks()
        time.sleep(CPU_SAMPLE_S)
        second = _cpu_ticks()
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0]
        except OSError:
            return 0.0
    return _cores_busy_between(first, second) or 0.0


def _cores_busy_between(first: tuple[int, int], second: tuple[int, int]) -> float | None:
    """CPUs' worth of busy time between two :func:`_cpu_ticks` readings (None: no tick passed)."""
    busy, total = second[0] - first[0], second[1] - first[1]
    return (os.cpu_count() or 1) * busy / total if total > 0 else None


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from the first line of /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # user .. steal; guest time is already inside user
    return total - idle, total
