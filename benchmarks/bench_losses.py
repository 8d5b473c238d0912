"""Benchmark: the cost of each style loss per evaluation, and its starting values, on a real scale problem.

    python benchmarks/bench_losses.py --size 512 [--photo dc_eastern_market_ccbysa30] [--encoder auto]

Runs the quality benchmark's rules (benchmarks/quality.py) through the real pipeline up to the optimiser,
builds the finest scale's problem for each loss (gram, w2, sliced) and prints, per loss:
- loss alone: seconds for the style terms of every region (forward + backward) on fixed features,
  i.e. what the loss adds to one evaluation;
- evaluation: seconds of one whole evaluation (encoder forward + every term + backward);
- per tap: the relative distance of the start image (the photo recoloured per region) to the styles,
  summed over regions with the area weights the objective uses (this calibrates the losses' scales).
One torch thread; medians of --repeats timings after a warm-up. Give the load average beside the numbers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality import DATA, MOBILENET_WEIGHTS, rules_for  # noqa: E402


def problem_for(photo: str, loss: str, *, encoder_name: str, size: int, session: Any,
                extra: dict[str, Any] | None = None, with_owner: bool = False):
    """(problem, encoder, start image (1, 3, h, w)) of the finest scale of a quality-benchmark run.

    The pipeline runs as usual (segmentation, masks, start image, targets) up to ``optimize.optimize``,
    whose arguments are caught instead of optimised: the problem is then built as the optimiser would.
    extra: more settings; with_owner: also the hard owner map (h, w), renumbered so that the region at
    position i of ``problem.regions`` owns the pixels of value i (others: -1).
    """
    from regionstyle import io, optimize, pipeline
    from regionstyle.config import make_config
    from regionstyle.rules import load_ruleset

    ruleset = load_ruleset(rules_for(photo))
    weights = str(MOBILENET_WEIGHTS) if encoder_name == "mobilenet_v2" else None
    config = make_config(ruleset.defaults, size=size, encoder=encoder_name, encoder_weights=weights,
                         style_loss=loss, precision="fp32", **(extra or {}))
    caught: dict[str, Any] = {}

    def catch(content, masks, regions, **kwargs):
        caught.update(content=content, masks=masks, regions=regions, **kwargs)
        return content

    real = optimize.optimize
    optimize.optimize = catch
    try:
        result = pipeline.run(io.read_image(DATA / "photos" / f"{photo}.jpg"), ruleset, config, session=session)
    finally:
        optimize.optimize = real
    content, plan, encoder = caught["content"], caught["plan"], caught["encoder"]
    size_hw = tuple(content.shape[-2:])
    use = plan.fine if plan.fine is not None and max(size_hw) > optimize.FINE_ABOVE else plan
    work = optimize.ScaleWork(content, caught["masks"], caught["regions"], encoder=encoder, plan=use,
                              config=config, long_side=max(size_hw), target_cache=session.targets,
                              fine_taps=plan.fine_taps)
    problem = work.problem()
    start = caught["init"] if caught.get("init") is not None else content
    if not with_owner:
        return problem, encoder, start[None]
    owner = np.full(result.masks.owner.shape, -1)
    for position, region in enumerate(caught["regions"]):
        owner[result.masks.owner == region.index] = position
    return problem, encoder, start[None], owner


def timed(function, repeats: int) -> float:
    function()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def measure(problem, encoder, start: torch.Tensor, repeats: int) -> tuple[float, float, dict[str, float]]:
    from regionstyle.objective import evaluate
    from regionstyle.style.losses import style_loss

    with torch.no_grad():
        features = encoder(start.contiguous(memory_format=torch.channels_last), taps=problem.plan.own_taps)
    rows = {tap: f[0].permute(1, 2, 0).reshape(-1, f.shape[1]).detach().requires_grad_(True)
            for tap, f in features.items()}

    def distance(term, tap: str) -> torch.Tensor:
        support = term.layers[tap]
        return style_loss(term.target.loss).distance(support.rows(rows[tap]), support.weights, term.target.taps[tap])

    def loss_alone() -> None:
        total = sum(distance(term, tap) for term in problem.regions for tap, _ in problem.plan.style
                    if tap in term.layers)
        total.backward()

    def evaluation() -> None:
        pixels = start.clone().requires_grad_(True)
        evaluate(pixels, problem, encoder)[0].backward()

    with torch.no_grad():
        per_tap = {tap: sum(term.area * float(distance(term, tap)) for term in problem.regions if tap in term.layers)
                   for tap, _ in problem.plan.style}
    return timed(loss_alone, repeats), timed(evaluation, repeats), per_tap


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", default="auto")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--photo", nargs="+", default=["dc_eastern_market_ccbysa30"])
    parser.add_argument("--losses", nargs="+", default=["gram", "w2", "sliced"])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    from regionstyle.session import Session

    session = Session()
    for photo in args.photo:
        for loss in args.losses:
            problem, encoder, start = problem_for(photo, loss, encoder_name=args.encoder, size=args.size,
                                                  session=session)
            alone, whole, per_tap = measure(problem, encoder, start, args.repeats)
            taps = " ".join(f"{tap}={value:.3g}" for tap, value in per_tap.items())
            with open("/proc/loadavg") as load:
                average = load.read().split()[0]
            print(f"{photo[:20]:<20} {args.encoder} {args.size} {loss:<6} loss alone {alone:6.3f} s  "
                  f"evaluation {whole:6.3f} s  load {average}  start distance: {taps}", flush=True)


if __name__ == "__main__":
    main()
