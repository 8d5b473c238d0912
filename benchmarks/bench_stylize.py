"""Benchmark: stylise a real ~1024 px photo with three styled regions and print speed and memory.

    python benchmarks/bench_stylize.py [--encoder random] [--size 1024] [--iterations 200] [--precision auto]

Prints, per scale: size, iterations, seconds per iteration and achieved GFLOP/s (convolution FLOPs of the
encoder, forward + backward counted as 3x forward); then total time and peak resident memory. Uses
tubingen_neckarfront.jpg and its label map from ../shared/data (sky -> Starry Night, building -> Klimt,
water -> Great Wave, tree kept). The default encoder is the random VGG19: VGG19-sized features, no weights.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import torch

from regionstyle.session import Session
from regionstyle.rules import load_ruleset
from regionstyle import io, pipeline
from regionstyle.encoder import FeatureEncoder
from regionstyle.encoder.guides import output_size
from regionstyle.config import make_config

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def rules_text() -> str:
    styles = DATA / "styles"
    return f"""
[segmentation]
labels = "{DATA / 'labels' / 'tubingen_neckarfront.png'}"
classes = "ade20k"
[styles]
starry = "{styles / 'vangogh_starry_night.jpg'}"
klimt = "{styles / 'klimt_adele_bloch_bauer_i.jpg'}"
wave = "{styles / 'hokusai_great_wave.jpg'}"
[map]
sky = "starry"
building = "klimt"
water = "wave"
tree = "keep"
"""


def forward_gflop(encoder: FeatureEncoder, size: tuple[int, int]) -> float:
    """Convolution FLOPs (2 per multiply-add) of one forward pass up to the deepest tap."""
    total, deepest = 0.0, max(encoder.taps, key=lambda t: len(encoder.spatial_ops(t)))
    convs = [m for m in encoder.body.modules() if isinstance(m, torch.nn.Conv2d)]
    ops = [op for op in encoder.spatial_ops(deepest)]
    conv_ops = [i for i, op in enumerate(ops) if op.kind == "conv"]
    for conv, index in zip(convs, conv_ops):
        h, w = output_size(ops[: index + 1], size)
        kernel = conv.kernel_size[0] * conv.kernel_size[1]
        total += 2.0 * conv.in_channels // conv.groups * conv.out_channels * kernel * h * w
    return total / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default="random")
    parser.add_argument("--encoder-weights")
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--iterations", type=int)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--output", default="/tmp/bench_stylize.png")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"needs {DATA}")
    photo = io.read_image(DATA / "photos" / "tubingen_neckarfront.jpg")
    ruleset = load_ruleset(rules_text())
    config = make_config(ruleset.defaults, size=args.size, iterations=args.iterations, encoder=args.encoder,
                         encoder_weights=args.encoder_weights, precision=args.precision)
    session = Session()
    steps: dict[int, list] = {}
    start = time.perf_counter()
    result = pipeline.run(photo, ruleset, config, session=session,
                          on_progress=lambda p: steps.setdefault(p.scale, []).append((p, time.perf_counter())))
    total = time.perf_counter() - start
    encoder = next(iter(session.encoders.values()))[0]
    print(f"encoder {encoder.info.name} ({encoder.info.weights}), precision {args.precision}, "
          f"threads {torch.get_num_threads()}")
    print(f"{'scale':>5} {'size':>10} {'iters':>5} {'s/iter':>7} {'GFLOP/s':>8}")
    for scale, reports in steps.items():
        (first, t0), (last, t1) = reports[0], reports[-1]
        per_iter = (t1 - t0) / max(len(reports) - 1, 1)
        flops = 3 * forward_gflop(encoder, last.size)
        print(f"{scale:>5} {last.size[1]:>4}x{last.size[0]:<5} {last.iterations:>5} {per_iter:>7.3f} "
              f"{flops / per_iter:>8.1f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"total {total:.1f} s (segment {result.report['timings']['segment']:.1f} s), "
          f"peak RSS {peak_mb:.0f} MB, seam {result.report['seam']}")
    io.write_image(args.output, result.image)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
