"""Benchmark on a CUDA GPU: each scale's evaluations replayed as a CUDA graph against evaluated eagerly.

    python benchmarks/bench_cuda_graph.py [--photos tubingen_neckarfront ...] [--sizes 512 1024]

The quality benchmark's paintings rules (benchmarks/quality.py: sky Starry Night, building Klimt, a third
region The Great Wave, one kept), default settings, the bundled MobileNetV2, in one process. A first,
cold run at 256 px (CUDA context, kernels and imports) is timed apart. Per photo and size: eager, graphed,
then (at the first size) eager again; each run with a fresh Session (style targets are rebuilt, as a first
run builds them). Prints wall seconds, evaluations, milliseconds per evaluation, the GPU's peak
memory, and how far the graphed picture is from the first eager one next to how far the two eager ones
are from each other (bfloat16 kernels and L-BFGS are not bit-reproducible on a GPU: that is the floor).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality import DATA, rules_for  # noqa: E402


def stylize(photo: str, size: int, *, graphed: bool) -> tuple[np.ndarray, float, int, float]:
    """(picture (H, W, 3), wall seconds, evaluations, peak GPU GB) of one run."""
    from regionstyle import api, cuda_graph, io
    from regionstyle.session import Session

    cuda_graph.ENABLED = graphed
    evaluations = 0

    def count(_progress) -> None:
        nonlocal evaluations
        evaluations += 1

    torch.cuda.reset_peak_memory_stats()
    torch.cuda.synchronize()
    start = time.perf_counter()
    picture = api.stylize(io.read_image(DATA / "photos" / f"{photo}.jpg").pixels, rules_for(photo), size=size,
                          device="cuda", session=Session(), on_progress=count)
    torch.cuda.synchronize()
    return picture, time.perf_counter() - start, evaluations, torch.cuda.max_memory_allocated() / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", nargs="+", default=["tubingen_neckarfront", "dc_eastern_market_ccbysa30"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[512, 1024])
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("bench_cuda_graph.py needs a CUDA GPU")
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, load {os.getloadavg()[0]:.1f}")
    cold = stylize(args.photos[0], 256, graphed=True)[1]  # the CUDA context, kernels' first use, imports
    print(f"cold first run, {args.photos[0]} at 256 px, graphed: {cold:.2f} s")
    print(f"{'photo':<30} {'size':>5} {'run':<8} {'s':>7} {'evals':>6} {'ms/eval*':>9} {'GPU GB':>7} {'|d| mean':>9}")
    for photo in args.photos:
        for size in args.sizes:
            # The second eager run (the floor of run-to-run differences) only at the first size: time is short.
            names = ("eager", "graphed", "eager2") if size == args.sizes[0] else ("eager", "graphed")
            runs = {name: stylize(photo, size, graphed=name == "graphed") for name in names}
            first = runs["eager"][0].astype(np.float64)
            for name, (picture, seconds, evaluations, peak) in runs.items():
                difference = "" if name == "eager" else f"{np.abs(picture - first).mean():9.4f}"
                print(f"{photo:<30} {size:>5} {name:<8} {seconds:7.2f} {evaluations:>6} "
                      f"{1000 * seconds / max(evaluations, 1):9.1f} {peak:7.2f} {difference}")
    print(f"load {os.getloadavg()[0]:.1f}; *ms/eval: the run's wall time over its evaluations")


if __name__ == "__main__":
    main()
