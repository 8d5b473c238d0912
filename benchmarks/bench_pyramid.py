"""Benchmark: how fast L-BFGS lowers the loss on the pixels and on their Laplacian pyramid.

    python benchmarks/bench_pyramid.py [--levels 1 3 4] [--gains 0.5] [--size 256] [--iterations 200]
                                       [--photos tubingen_neckarfront ...] [--encoder random]

Runs the quality benchmark's rules (benchmarks/quality.py: sky Starry Night, building Klimt, a third class
The Great Wave) through the real pipeline at one scale (``--size`` is the only scale when it is at most the
coarsest, 256 px), once per pyramid setting, and records the total loss after every evaluation. Prints per
photo and setting the loss after 1/8, 1/4, 1/2 and all of the evaluations, and the evaluation at which the
loss first reached the final loss of the first setting (``levels 1`` is the plain pixels). The loss is
what the optimiser minimises, so this separates the optimiser's progress from what the loss is worth:
benchmarks/quality.py judges the pictures. One torch thread; give the load average beside the numbers.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality import DATA, rules_for  # noqa: E402

MARKS = (0.125, 0.25, 0.5, 1.0)


def loss_trace(photo: str, *, levels: int, gain: float, size: int, iterations: int,
               encoder: str) -> tuple[list[float], float]:
    """(total loss after each evaluation, seconds) of one single-scale run with this pyramid."""
    from regionstyle import io, pipeline, pyramid
    from regionstyle.config import make_config
    from regionstyle.rules import load_ruleset

    saved = pyramid.LEVELS, pyramid.GAIN
    pyramid.LEVELS, pyramid.GAIN = levels, gain  # run_scale reads them at each scale
    try:
        ruleset = load_ruleset(rules_for(photo))
        config = make_config(ruleset.defaults, size=size, iterations=iterations, threads=1, encoder=encoder)
        losses: list[float] = []
        started = time.perf_counter()
        pipeline.run(io.read_image(DATA / "photos" / f"{photo}.jpg"), ruleset, config,
                     on_progress=lambda progress: losses.append(progress.losses["total"]))
        return losses, time.perf_counter() - started
    finally:
        pyramid.LEVELS, pyramid.GAIN = saved


def report(photo: str, runs: dict[str, tuple[list[float], float]]) -> None:
    print(photo)
    goal = next(iter(runs.values()))[0][-1]
    for name, (losses, seconds) in runs.items():
        marks = [losses[max(0, round(len(losses) * share) - 1)] for share in MARKS]
        reached = next((index + 1 for index, loss in enumerate(losses) if loss <= goal), None)
        print(f"  {name:<20} {seconds:6.1f} s  " + " ".join(f"{mark:8.3f}" for mark in marks)
              + f"   first setting's final loss reached at evaluation {reached or '-'} of {len(losses)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 3, 4])
    parser.add_argument("--gains", type=float, nargs="+", default=[0.5])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--encoder", default="auto", help="auto (the bundled MobileNetV2), random (VGG19-shaped)")
    parser.add_argument("--photos", nargs="+", default=["tubingen_neckarfront", "dc_logan_circle_rowhouses_ccbysa40",
                                                        "dc_u_street_nw_ccbysa20", "small264_toronto_skyline_cc0"])
    args = parser.parse_args()
    if not DATA.is_dir():
        parser.error(f"the shared data folder {DATA} is absent")
    torch.set_num_threads(1)
    print(f"load {os.getloadavg()[0]:.2f}; loss after {', '.join(str(m) for m in MARKS)} of the evaluations")
    settings = [(1, 1.0)] * (1 in args.levels) + [(levels, gain) for levels in args.levels if levels > 1
                                                  for gain in args.gains]
    for photo in args.photos:
        runs = {f"levels {levels}" + (f", gain {gain}" if levels > 1 else ""):
                loss_trace(photo, levels=levels, gain=gain, size=args.size, iterations=args.iterations,
                           encoder=args.encoder)
                for levels, gain in settings}
        report(photo, runs)
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
