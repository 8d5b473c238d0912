"""Benchmark: time to paint each built-in style exemplar, cache bypassed.

    python benchmarks/bench_styles.py [--size 512] [--repeat 5] [--seed 0]
    python benchmarks/bench_styles.py --photo PHOTO [--long-side 4000] [--repeat 1]

With ``--photo``, each style is instead rendered from that photo (enlarged or shrunk to ``--long-side``,
bicubic / area) as one region covering all of it, the way ``apply`` renders a built-in region: print sizes.

Each style is rendered ``--repeat`` times at ``--size`` x ``--size`` with its default parameters (after one
warm-up render, so first-call costs such as OpenCV's thread pool are not counted). Prints a table of the
median and fastest wall-clock time per style and the median CPU time of the process (all threads; on a
shared, busy machine it shows the work done where wall-clock time mostly shows the wait), then totals.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from regionstyle.styles import BUILTIN_STYLES


def timed(render, repeat: int) -> tuple[list[float], list[float]]:
    """(wall, CPU) seconds of each of ``repeat`` calls of ``render()``."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        render()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def time_style(name: str, *, size: int, repeat: int, seed: int) -> tuple[list[float], list[float]]:
    """(wall, CPU) seconds of each of ``repeat`` renders of style ``name``, bypassing the registry cache."""
    style = BUILTIN_STYLES[name]
    params = {key: spec.default for key, spec in style.params.items() if key != "seed"}
    style.render(height=size, width=size, seed=seed, **params)  # warm-up
    return timed(lambda: style.render(height=size, width=size, seed=seed, **params), repeat)


def time_region(name: str, photo, *, repeat: int, seed: int) -> tuple[list[float], list[float]]:
    """(wall, CPU) seconds of each of ``repeat`` renders of ``name`` from the whole ``photo`` (H, W, 3)."""
    import numpy as np

    from regionstyle.styles.region import render_region

    mask = np.ones(photo.shape[:2], np.float32)
    return timed(lambda: render_region(name, photo, mask, seed=seed), repeat)


def read_photo(path: str, long_side: int):
    """float32 RGB in [0, 1] as the pipeline reads it (regionstyle.io), resized to ``long_side``."""
    import cv2
    import numpy as np

    from regionstyle import io

    image = io.read_image(path).pixels
    factor = long_side / max(image.shape[:2])
    size = (round(image.shape[1] * factor), round(image.shape[0] * factor))
    image = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA)
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="exemplar side in px")
    parser.add_argument("--repeat", type=int, default=5, help="timed renders per style")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--photo", help="render each style from this photo instead (one region, all of it)")
    parser.add_argument("--long-side", type=int, default=4000, help="with --photo: its long side in px")
    args = parser.parse_args()
    if args.photo:
        photo = read_photo(args.photo, args.long_side)
        print(f"built-in styles rendered from {args.photo} at {photo.shape[1]}x{photo.shape[0]}, "
              f"{args.repeat} render(s) each, load {os.getloadavg()[0]:.2f}")
    else:
        print(f"built-in style exemplars at {args.size}x{args.size}, {args.repeat} renders each")
    print(f"{'style':<15}{'median ms':>10}{'min ms':>9}{'cpu ms':>9}")
    medians, cpus = [], []
    for name in sorted(BUILTIN_STYLES):
        wall, cpu = (time_region(name, photo, repeat=args.repeat, seed=args.seed) if args.photo
                     else time_style(name, size=args.size, repeat=args.repeat, seed=args.seed))
        medians.append(statistics.median(wall))
        cpus.append(statistics.median(cpu))
        print(f"{name:<15}{1000 * medians[-1]:>10.0f}{1000 * min(wall):>9.0f}{1000 * cpus[-1]:>9.0f}")
    print(f"{'total':<15}{1000 * sum(medians):>10.0f}{'':>9}{1000 * sum(cpus):>9.0f}")


if __name__ == "__main__":
    main()
