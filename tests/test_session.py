"""The default thread count: cores minus those other work keeps busy now, not a minute ago."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time

import pytest

from regionstyle import session


def test_busy_cores_are_the_non_idle_share_of_the_ticks_times_the_cpus(monkeypatch):
    ticks = iter([(1_000, 10_000), (1_150, 10_200)])  # 150 of 200 ticks busy
    monkeypatch.setattr(session, "_cpu_ticks", lambda: next(ticks))
    monkeypatch.setattr(session, "CPU_SAMPLE_S", 0.0)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert session.busy_cores() == pytest.approx(3.0)


def test_without_proc_stat_the_load_average_is_used(monkeypatch):
    def missing():
        raise OSError("no /proc/stat")

    monkeypatch.setattr(session, "_cpu_ticks", missing)
    monkeypatch.setattr(os, "getloadavg", lambda: (2.5, 1.0, 1.0))
    assert session.busy_cores() == 2.5


@pytest.mark.parametrize(("busy", "expected"), [(0.0, 2), (0.4, 2), (0.6, 1), (1.3, 1), (7.0, 1)])
def test_free_cores_leave_the_busy_ones_and_keep_at_least_one(monkeypatch, busy, expected):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(session, "busy_cores", lambda: busy)
    session.free_cores.cache_clear()
    try:
        assert session.free_cores() == expected
    finally:
        session.free_cores.cache_clear()


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/stat")
def test_a_spinning_neighbour_is_seen_at_once():
    """A process that started spinning a moment ago counts as (most of) a busy core; the load average,
    which needs a minute to follow, would not see it yet."""
    spinner = multiprocessing.get_context("spawn").Process(target=_spin, args=(3.0,))
    spinner.start()
    try:
        time.sleep(0.5)  # let it start
        assert session.busy_cores() >= 0.6
    finally:
        spinner.terminate()
        spinner.join()


def test_the_command_line_leaves_openmps_wait_policy_alone():
    """Threads that sleep at once between parallel regions made a 512 px run 1.75x slower (benchmarks/)."""
    code = "import os, regionstyle.cli, regionstyle.pipeline; print(os.environ.get('OMP_WAIT_POLICY', 'unset'))"
    env = {key: value for key, value in os.environ.items() if key != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "unset"
