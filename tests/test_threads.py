"""The default thread count: cores minus those other work keeps busy now, not a minute ago."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time

import pytest

import torch

from regionstyle import session, threads


def test_busy_cores_are_the_non_idle_share_of_the_ticks_times_the_cpus(monkeypatch):
    ticks = iter([(1_000, 10_000), (1_150, 10_200)])  # 150 of 200 ticks busy
    monkeypatch.setattr(threads, "_cpu_ticks", lambda: next(ticks))
    monkeypatch.setattr(threads, "CPU_SAMPLE_S", 0.0)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert threads.busy_cores() == pytest.approx(3.0)


def test_without_proc_stat_the_load_average_is_used(monkeypatch):
    def missing():
        raise OSError("no /proc/stat")

    monkeypatch.setattr(threads, "_cpu_ticks", missing)
    monkeypatch.setattr(os, "getloadavg", lambda: (2.5, 1.0, 1.0))
    assert threads.busy_cores() == 2.5


@pytest.mark.parametrize(("busy", "expected"), [(0.0, 2), (0.4, 2), (0.6, 1), (1.3, 1), (7.0, 1)])
def test_free_cores_leave_the_busy_ones_and_keep_at_least_one(monkeypatch, busy, expected):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(threads, "busy_cores", lambda: busy)
    threads.free_cores.cache_clear()
    try:
        assert threads.free_cores() == expected
    finally:
        threads.free_cores.cache_clear()


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
        assert threads.busy_cores() >= 0.6
    finally:
        spinner.terminate()
        spinner.join()


def test_the_command_line_leaves_openmps_wait_policy_alone():
    """Threads that sleep at once between parallel regions made a 512 px run 1.75x slower (benchmarks/)."""
    code = "import os, regionstyle.cli, regionstyle.pipeline; print(os.environ.get('OMP_WAIT_POLICY', 'unset'))"
    env = {key: value for key, value in os.environ.items() if key != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "unset"


class _Clock:
    """Wall time, the machine's CPU ticks and this process's CPU time, moved by hand."""

    def __init__(self, monkeypatch):
        self.wall, self.own, self.ticks = 0.0, 0.0, (0, 0)
        monkeypatch.setattr(threads.time, "monotonic", lambda: self.wall)
        monkeypatch.setattr(threads.time, "process_time", lambda: self.own)
        monkeypatch.setattr(threads, "_cpu_ticks", lambda: self.ticks)
        monkeypatch.setattr(os, "cpu_count", lambda: 2)
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})

    def run(self, seconds: float, *, own_cores: float, other_cores: float) -> None:
        """``seconds`` pass with this process on ``own_cores`` and others on ``other_cores`` (100 ticks/s/CPU)."""
        busy, total = self.ticks
        self.ticks = (busy + round(100 * seconds * (own_cores + other_cores)), total + round(200 * seconds))
        self.wall += seconds
        self.own += seconds * own_cores


def test_the_automatic_threads_follow_what_other_processes_leave(monkeypatch):
    """Two runs that both found the CPU free drop to one thread each, and take the second back when the
    neighbour ends; nothing is looked at again within BALANCE_INTERVAL_S."""
    clock = _Clock(monkeypatch)
    pool = {"n": 2}
    monkeypatch.setattr(threads, "_chosen", [2])
    monkeypatch.setattr(torch, "get_num_threads", lambda: pool["n"])
    monkeypatch.setattr(torch, "set_num_threads", lambda n: pool.update(n=n))
    balance = threads.ThreadBalance()
    clock.run(0.5, own_cores=1.0, other_cores=1.0)
    assert balance.check() is None and pool["n"] == 2  # too soon to look
    clock.run(2.0, own_cores=1.0, other_cores=1.0)  # a neighbour with two threads takes half the machine
    assert balance.check() == 1 and pool["n"] == 1
    clock.run(3.0, own_cores=1.0, other_cores=1.0)
    assert balance.check() is None and pool["n"] == 1
    clock.run(3.0, own_cores=1.0, other_cores=0.1)  # it ended
    assert balance.check() == 2 and pool["n"] == 2
    clock.run(3.0, own_cores=2.0, other_cores=0.0)  # alone, this run's own two cores are not "others"
    assert balance.check() is None and pool["n"] == 2


def test_an_explicit_thread_count_is_left_alone_during_a_run(monkeypatch, tmp_path, tiny_encoder):
    """Only threads = 0 (automatic) is balanced: a user's --threads stays what they asked for."""
    from regionstyle import optimized_regions, pipeline
    from regionstyle.config import make_config
    from regionstyle.datatypes import LoadedImage
    from regionstyle.rules import load_ruleset
    from tests.scenes import RULES, three_region_scene

    made = []
    monkeypatch.setattr(optimized_regions, "ThreadBalance", lambda: made.append(1) or threads.ThreadBalance())
    pixels, _, label_file = three_region_scene(tmp_path)
    ruleset = load_ruleset(RULES)
    for count, expected in ((1, 0), (0, 1)):
        made.clear()
        config = make_config(ruleset.defaults, iterations=4, device="cpu", optimize_builtins=True, threads=count)
        pipeline.run(LoadedImage(pixels=pixels), ruleset, config, labels=label_file,
                     session=session.Session(custom_encoder=tiny_encoder))
        assert len(made) == expected


def test_without_proc_stat_the_balance_keeps_the_start_s_count(monkeypatch):
    def missing():
        raise OSError("no /proc/stat")

    monkeypatch.setattr(threads, "_cpu_ticks", missing)
    monkeypatch.setattr(threads, "BALANCE_INTERVAL_S", 0.0)
    monkeypatch.setattr(torch, "set_num_threads", lambda n: pytest.fail("threads changed"))
    assert threads.ThreadBalance().check() is None


def test_a_count_chosen_before_torch_loads_is_given_to_it_when_it_does():
    """A run of built-ins chooses its threads without torch; a torch stage loaded later gets that count
    (three: not torch's default, one per core, except on a three-core machine)."""
    code = ("import sys; from regionstyle import threads; threads.use_threads(3); assert 'torch' not in sys.modules; "
            "import torch; before = torch.get_num_threads(); threads.apply_to_torch(); "
            "print(before, torch.get_num_threads(), threads.in_use())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after, in_use = out.stdout.split()
    assert (after, in_use) == ("3", "3")
    assert before == str(len(os.sched_getaffinity(0))) or before == "3"  # torch's own default until then
