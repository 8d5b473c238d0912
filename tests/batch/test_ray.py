"""The batch on a Ray cluster: worker placement, the same outputs as on one machine, lost workers, a killed driver.

A local Ray cluster (2 CPUs) is started once for the module; the command-line tests join it with ``--ray
ADDRESS``. Library runs ship the tiny random encoder to the workers inside a picklable Session factory.
Photos are the 64x48 synthetic scenes of test_batch.py; every run uses one torch thread, so outputs are
bit-identical wherever they are computed.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter, deque
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from torch import nn

from regionstyle.batch import find_inputs, plan_batch, run_batch
from regionstyle.batch.ray_cluster import ClusterOptions, _Entry, next_entry, run_on_ray
from regionstyle.batch.ray_workers import place_workers
from regionstyle.cli import main
from regionstyle.errors import BadInput
from regionstyle.session import Session
from tests.batch.test_batch import CLI_FAST, _cli, options, workspace


# ---- placement and scheduling rules (no Ray needed) --------------------------------------------------------


def node(name: str, cpus: float, gpus: int = 0, alive: bool = True) -> dict:
    resources = {"CPU": cpus, **({"GPU": gpus} if gpus else {})}
    return {"NodeID": name, "NodeManagerAddress": f"10.0.0.{len(name)}", "Alive": alive, "Resources": resources}


def test_workers_are_one_per_gpu_else_shares_of_a_nodes_cores():
    nodes = [node("gpu", 16, gpus=8), node("cpu", 8), node("dead", 64, alive=False), node("head", 0)]
    specs = place_workers(nodes, workers_per_node=3, device=None)
    gpu = [s for s in specs if s.node == "gpu"]
    cpu = [s for s in specs if s.node == "cpu"]
    assert len(specs) == len(gpu) + len(cpu) == 8 + 3
    assert {(s.num_gpus, s.num_cpus, s.threads, s.device) for s in gpu} == {(1, 2.0, 2, "cuda")}
    assert {(s.num_gpus, s.threads, s.device) for s in cpu} == {(0, 2, "cpu")}
    assert sum(s.num_cpus for s in cpu) == pytest.approx(8)  # the workers' threads never exceed the cores
    on_cpu = place_workers(nodes, workers_per_node=2, device="cpu")  # GPU nodes run CPU workers too
    assert Counter(s.node for s in on_cpu) == {"gpu": 2, "cpu": 2} and {s.device for s in on_cpu} == {"cpu"}
    assert {s.threads for s in on_cpu if s.node == "gpu"} == {8}
    crowded = place_workers([node("small", 2)], workers_per_node=3, device="auto")
    assert [s.threads for s in crowded] == [1, 1, 1] and sum(s.num_cpus for s in crowded) == pytest.approx(2)
    assert {s.node for s in place_workers(nodes, workers_per_node=1, device="cuda:1")} == {"gpu"}
    with pytest.raises(BadInput, match="the Ray cluster has no GPU"):
        place_workers([node("cpu", 8)], workers_per_node=1, device="cuda")
    with pytest.raises(BadInput, match="no CPU or GPU to run a worker on"):
        place_workers([node("head", 0), node("dead", 8, alive=False)], workers_per_node=1, device=None)


def test_an_image_whose_worker_died_goes_to_another_slot_while_there_is_one():
    first, second = _Entry(0, None, None, died_on={0}), _Entry(1, None, None)
    pending = deque([first, second])
    assert next_entry(pending, 0, {0, 1}) is second and list(pending) == [first]  # slot 0 lost a worker on it
    assert next_entry(pending, 0, {0, 1}) is None
    assert next_entry(pending, 1, {0, 1}) is first and not pending
    pending = deque([first])
    assert next_entry(pending, 0, {0}) is first  # no other slot is left: the new worker in slot 0 takes it


def test_an_address_nobody_listens_on_is_refused_at_once():
    import socket

    from regionstyle.batch.ray_workers import connect
    from regionstyle.errors import RegionStyleError

    class Unconnected:  # as the ray module looks before ray.init; init must not be reached
        def is_initialized(self) -> bool:
            return False

        def init(self, **_) -> None:
            raise AssertionError("ray.init was called with an address nobody listens on")

    with socket.socket() as probe:  # a port that was just free, so nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock = time.monotonic()
    for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}"):
        with pytest.raises(RegionStyleError, match=f"cannot join the Ray cluster at {address}: .*refused"):
            connect(Unconnected(), address)
    assert time.monotonic() - clock < 5


def test_without_ray_the_plain_batch_runs_and_the_cluster_names_the_extra(tmp_path, monkeypatch):
    photos, rules = workspace(tmp_path, 1)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError, even if imported before
    result = CliRunner().invoke(main, ["batch", str(photos), str(rules), "-o", str(tmp_path / "out"),
                                       "--cluster", "ray", *CLI_FAST])
    assert result.exit_code == 1 and 'pip install "regionstyle[ray]"' in result.stderr
    assert not (tmp_path / "out").exists()
    result = CliRunner().invoke(main, ["batch", str(photos), str(rules), "-o", str(tmp_path / "out"), "--workers",
                                       "2", *CLI_FAST])
    assert result.exit_code == 2 and "--workers needs --cluster ray" in result.stderr
    result = CliRunner().invoke(main, ["--quiet", "batch", str(photos), str(rules), "-o", str(tmp_path / "out"),
                                       *CLI_FAST])  # the plain batch never imports Ray
    assert result.exit_code == 0 and (tmp_path / "out" / "photo0.png.json").is_file(), result.output


# ---- on a local cluster ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ray_address():
    """A local Ray cluster with 2 CPUs for this module (workers inherit the tests' offline environment)."""
    ray = pytest.importorskip("ray", reason='Ray is not installed (pip install "regionstyle[ray]")')
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


SETTINGS = {"threads": 1}  # one torch thread: the same bits on any worker


def batch_here(tmp_path: Path, photos: Path, rules: Path, tiny_encoder) -> Path:
    """The single-machine batch into tmp/out, for comparison; returns the folder."""
    opts = options(tmp_path, settings=SETTINGS)
    summary = run_batch(plan_batch(find_inputs([photos]), rules, opts), opts, session=Session(custom_encoder=tiny_encoder))
    assert summary.done == len(list(photos.iterdir()))
    return opts.output_folder


def assert_same_outputs(here: Path, there: Path) -> None:
    """Every image bit for bit, the same fingerprints, complete manifests, nothing else in ``there``."""
    names = sorted(p.name for p in here.iterdir())
    assert sorted(p.name for p in there.iterdir()) == names  # no markers, no temporaries left
    for name in names:
        if name.endswith(".json"):
            mine, theirs = json.loads((here / name).read_text()), json.loads((there / name).read_text())
            assert theirs["status"] == "complete" and theirs["fingerprint"] == mine["fingerprint"]
        else:
            assert (there / name).read_bytes() == (here / name).read_bytes(), name


class Tripwire(nn.Module):
    """A layer that SIGKILLs its own process the first time it runs after ``trigger`` appears: a worker killed
    mid-image (after its "started" marker, during the optimisation), as the out-of-memory killer would."""

    def __init__(self, layer: nn.Module, trigger: Path) -> None:
        super().__init__()
        self.layer, self.trigger = layer, str(trigger)

    def forward(self, x):
        try:
            os.unlink(self.trigger)  # of the workers that see it, exactly one wins
        except FileNotFoundError:
            return self.layer(x)
        os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_killed_mid_image_is_replaced_and_its_image_done_once_elsewhere(tmp_path, tiny_encoder,
                                                                                 ray_address):
    from regionstyle.encoder import FeatureEncoder

    photos, rules = workspace(tmp_path, 6)
    here = batch_here(tmp_path, photos, rules, tiny_encoder)
    tiny, plan = tiny_encoder
    trigger = tmp_path / "kill-a-worker"
    wired = FeatureEncoder(body=nn.Sequential(Tripwire(tiny.body[0], trigger), *tiny.body[1:]), taps=tiny.taps,
                           mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), info=tiny.info)  # same weights, same name
    events = []

    def arm(event):  # after the first image is done, the next worker to run its encoder dies
        events.append(event)
        if event.kind == "done" and len([e for e in events if e.kind == "done"]) == 1:
            trigger.touch()

    opts = replace(options(tmp_path, settings=SETTINGS), output_folder=tmp_path / "ray")
    summary = run_on_ray(plan_batch(find_inputs([photos]), rules, opts), opts, on_event=arm,
                         cluster=ClusterOptions(workers_per_node=2),
                         make_session=functools.partial(Session, custom_encoder=(wired, plan)))
    assert not trigger.exists()  # a worker did die
    assert (summary.done, summary.skipped, summary.failed, summary.interrupted) == (6, 0, 0, False)
    assert {e.message.split(" on ")[0] for e in events if e.kind == "start"} == {"worker 1 of 2", "worker 2 of 2"}
    retries = [e for e in events if e.kind == "retry"]
    assert len(retries) == 1 and "was lost" in retries[0].message and "try 2 of 3" in retries[0].message
    assert Counter(e.index for e in events if e.kind == "done") == Counter(range(6))  # each image done once
    lost = retries[0].index
    workers = [e.message.split(" on ")[0] for e in events if e.kind == "start" and e.index == lost]
    assert len(workers) == 2 and workers[0] != workers[1]  # retried on the other worker
    assert_same_outputs(here, tmp_path / "ray")


def our_workers() -> list[int]:
    """PIDs of BatchWorker processes below this test process (the module's cluster runs under it)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat, command = (entry / "stat").read_text(), (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue  # not a process, or gone meanwhile
        table[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), command)
    found = []
    for pid, (parent, command) in table.items():
        while command.startswith(b"ray::BatchWorker") and parent > 1 and parent != os.getpid():
            parent = table.get(parent, (0, b""))[0]
        if command.startswith(b"ray::BatchWorker") and parent == os.getpid():
            found.append(pid)
    return found


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(0.05)


def test_a_killed_driver_leaves_whole_files_and_a_rerun_does_only_the_rest(tmp_path, ray_address):
    from tests.batch.test_batch import _wait_for_complete_manifest

    photos, rules = workspace(tmp_path, 6)
    (photos / "zz_broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")  # fails on every run
    out = tmp_path / "out"
    command = _cli("--json", "batch", str(photos), str(rules), "-o", str(out), "--encoder", "random", "--size", "64",
                   "--iterations", "10", "--threads", "1", "--ray", ray_address, "--workers", "2")
    driver = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_complete_manifest(out, driver, timeout=180)
    assert our_workers()  # the wait below has something to wait for
    driver.send_signal(signal.SIGKILL)
    driver.communicate()
    wait_until(lambda: not our_workers(), 60, "the killed driver's workers did not stop")  # Ray ends its job

    finished = {p.name[:-5] for p in out.glob("*.json") if json.loads(p.read_text())["status"] == "complete"}
    assert 1 <= len(finished) < 6
    stamps = {name: (out / name).stat().st_mtime_ns for name in finished}
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 1, rerun.stderr  # the broken image failed, everything else is done
    records = [json.loads(line) for line in rerun.stdout.splitlines()]
    outcomes = Counter((Path(r["input"]).name, r["event"]) for r in records[:-1])
    expected = {(f"photo{i}.png", "skipped" if f"photo{i}.png" in finished else "done") for i in range(6)}
    assert outcomes == Counter(expected | {("zz_broken.png", "failed")})  # each image once
    assert records[-1] == {**records[-1], "event": "summary", "done": 6 - len(finished), "skipped": len(finished),
                           "failed": 1, "interrupted": False}
    assert "failed  " in rerun.stderr and "1 of 7 images failed" in rerun.stderr
    assert {name: (out / name).stat().st_mtime_ns for name in finished} == stamps  # finished work untouched
    assert sorted(p.name for p in out.iterdir()) == sorted(f"photo{i}.png{s}" for i in range(6) for s in ("", ".json"))
    assert all(json.loads((out / f"photo{i}.png.json").read_text())["status"] == "complete" for i in range(6))


def test_ctrl_c_stops_every_worker_and_leaves_no_marker_of_the_images_in_flight(tmp_path, tiny_encoder,
                                                                                ray_address):
    from regionstyle.batch import BatchInterrupted

    photos, rules = workspace(tmp_path, 4)
    opts = replace(options(tmp_path, settings=SETTINGS), output_folder=tmp_path / "ray")
    kinds = []

    def interrupt(event):  # Ctrl-C in the driver right after the first image landed
        kinds.append(event.kind)
        if event.kind == "done" and kinds.count("done") == 1:
            raise KeyboardInterrupt

    with pytest.raises(BatchInterrupted) as caught:
        run_on_ray(plan_batch(find_inputs([photos]), rules, opts), opts, on_event=interrupt,
                   cluster=ClusterOptions(workers_per_node=2),
                   make_session=functools.partial(Session, custom_encoder=tiny_encoder))
    summary = caught.value.summary
    assert summary.interrupted and summary.done == kinds.count("done") >= 1 and summary.failed == 0
    assert kinds.count("start") == 2  # nothing new was handed out after Ctrl-C
    written = sorted(p.name for p in opts.output_folder.iterdir())  # no marker, no temporaries
    assert len(written) == 2 * summary.done and all(json.loads((opts.output_folder / n).read_text())["status"]
                                                    == "complete" for n in written if n.endswith(".json"))
    wait_until(lambda: not our_workers(), 30, "the workers did not stop")
