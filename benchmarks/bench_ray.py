"""Benchmark: the batch on a local Ray cluster (1 and 2 workers) against the plain batch on this machine.

    python benchmarks/bench_ray.py [--size 192] [--iterations 10] [--encoder auto] [--copies 2] [--cpus 2]

The 10 photos of ../shared/data/photos, downscaled to --size (each saved --copies times under other names,
so a batch has 10 x copies images), with bench_batch.py's rules (real DeepLabV3 ADE20K segmentation; sky,
building, tree in built-in styles, everything else in The Starry Night, road kept). Modes, in this order:

* plain, 1 thread and plain, 2 threads: ``run_batch`` in this process with a fresh Session (process caches
  cleared first, as a new run would have them);
* ray, 1 worker x --cpus threads and ray, --cpus workers x 1 thread: ``run_on_ray`` on a local cluster of
  --cpus CPUs started once (its start-up time is printed apart); each mode starts its workers afresh.

Per mode it prints the wall time and images per minute (all included: model loading, worker start-up),
the images per minute once warm (after every worker delivered its first image), the median seconds of
an image after each worker's first, and for Ray the overhead per image: the driver's time from handing an
image out to receiving its result, less the time the worker spent on it (median and max over the images
after each worker's first; for a worker's first image this is the worker's start-up, printed apart). The load average is printed
beside every mode: on a machine shared with other jobs the figures are taken under that load.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import DATA, clear_process_caches, rules_text  # noqa: E402

from regionstyle.batch import BatchOptions, find_inputs, plan_batch, run_batch  # noqa: E402
from regionstyle.batch.ray_cluster import ClusterOptions, run_on_ray  # noqa: E402
from regionstyle.session import Session  # noqa: E402


@dataclass
class Timing:
    """What one mode measured: wall seconds, per image (index -> seconds), arrival times and overheads."""

    wall: float = 0.0
    seconds: dict[int, float] = field(default_factory=dict)
    arrived: dict[int, float] = field(default_factory=dict)
    first_of_worker: set[int] = field(default_factory=set)
    overhead: dict[int, float] = field(default_factory=dict)

    def line(self, name: str, total: int, load: tuple[float, float]) -> str:
        warm_from = max(self.arrived[i] for i in self.first_of_worker)
        warm = [i for i, t in self.arrived.items() if t > warm_from]
        warm_rate = 60 * len(warm) / (max(self.arrived.values()) - warm_from) if warm else float("nan")
        steady = statistics.median(self.seconds[i] for i in self.seconds if i not in self.first_of_worker)
        text = (f"{name:<26} {self.wall:7.1f} s  {60 * total / self.wall:6.1f} img/min  warm {warm_rate:6.1f} img/min"
                f"  image {steady:5.2f} s")
        if self.overhead:
            later = [o for i, o in self.overhead.items() if i not in self.first_of_worker]
            start = statistics.median(self.overhead[i] for i in self.first_of_worker)
            text += (f"  overhead/image median {statistics.median(later) * 1000:4.0f} ms max {max(later) * 1000:4.0f} ms"
                     f"  worker start {start:4.1f} s")
        return text + f"  [load {load[0]:.2f} -> {load[1]:.2f}]"


def prepare(folder: Path, side: int, copies: int) -> tuple[Path, Path]:
    photos = folder / "in"
    photos.mkdir()
    for path in sorted((DATA / "photos").glob("*.jpg"))[:10]:
        image = Image.open(path).convert("RGB")
        image.thumbnail((side, side), Image.Resampling.LANCZOS)
        for copy in range(copies):
            image.save(photos / f"{path.stem}_{copy}.png")
    rules = folder / "rules.toml"
    rules.write_text(rules_text())
    return photos, rules


def plain(items, options: BatchOptions) -> Timing:
    timing, clock = Timing(), time.perf_counter()
    clear_process_caches()

    def record(event) -> None:
        if event.kind == "done":
            timing.seconds[event.index], timing.arrived[event.index] = event.seconds, time.perf_counter() - clock

    summary = run_batch(items, options, session=Session(), on_event=record)
    timing.wall, timing.first_of_worker = time.perf_counter() - clock, {0}
    assert summary.done == len(items), summary
    return timing


def on_ray(items, options: BatchOptions, workers: int) -> Timing:
    timing, clock, handed = Timing(), time.perf_counter(), {}
    seen_workers: set[str] = set()

    def record(event) -> None:
        now = time.perf_counter() - clock
        if event.kind == "start":
            handed[event.index] = now
            worker = event.message.split(" on ")[0]
            if worker not in seen_workers:
                seen_workers.add(worker)
                timing.first_of_worker.add(event.index)
        elif event.kind == "done":
            timing.seconds[event.index], timing.arrived[event.index] = event.seconds, now
            timing.overhead[event.index] = now - handed[event.index] - event.seconds

    summary = run_on_ray(items, options, cluster=ClusterOptions(workers_per_node=workers), on_event=record)
    timing.wall = time.perf_counter() - clock
    assert summary.done == len(items), summary
    return timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--encoder", default="auto")
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray cluster")
    parser.add_argument("--modes", default="plain1,rayN,plainN,ray1",
                        help="which modes, in order: plain1, plainN (N = --cpus threads), rayN (N workers), ray1")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"the shared data folder {DATA} is absent")
    import ray

    settings = {"size": args.size, "iterations": args.iterations, "encoder": args.encoder, "device": "cpu"}
    with tempfile.TemporaryDirectory() as folder:
        photos, rules = prepare(Path(folder), args.size, args.copies)
        count = len(list(photos.iterdir()))
        print(f"{count} photos at {args.size} px, {args.iterations} iterations, encoder {args.encoder}, "
              f"{os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.2f}")
        clock = time.perf_counter()
        ray.init(address="local", num_cpus=args.cpus, include_dashboard=False, logging_level=logging.WARNING)
        print(f"local Ray cluster ({args.cpus} CPUs) started in {time.perf_counter() - clock:.1f} s")
        known = {"plain1": ("plain, 1 thread", 1, None), "plainN": (f"plain, {args.cpus} threads", args.cpus, None),
                 "rayN": (f"ray, {args.cpus} workers x 1 thread", None, args.cpus),
                 "ray1": (f"ray, 1 worker x {args.cpus} threads", None, 1)}
        for number, mode in enumerate(args.modes.split(",")):
            name, threads, workers = known[mode]
            options = BatchOptions(output_folder=Path(folder) / f"out{number}",
                                   settings={**settings, "threads": threads})
            items = plan_batch(find_inputs([photos]), rules, options)
            before = os.getloadavg()[0]
            timing = plain(items, options) if workers is None else on_ray(items, options, workers)
            print(timing.line(name, count, (before, os.getloadavg()[0])), flush=True)
        ray.shutdown()


if __name__ == "__main__":
    main()
