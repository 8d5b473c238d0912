"""Segmentation time and peak memory for one large photo with the shared DeepLabV3 (ADE20K) TFLite model.

    python benchmarks/bench_segment.py [--photo PATH] [--model PATH] [--repeat 5] [--masks]

Target: <= 1 s per 1920x1314 photo on 2 CPU cores (the reading of the JPEG not included). The machine's
load average is printed too: on shared cores, other processes' load shows up directly in these timings.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
import tracemalloc
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PHOTO = SHARED / "photos" / "dc_logan_circle_rowhouses_ccbysa40.jpg"
MODEL = SHARED / "models" / "deeplabv3_mnv2_ade20k" / "model.tflite"
RULES = '[map]\nsky = "watercolor"\nbuilding = "mosaic"\ntree = "oil"\nperson = "keep"\n'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", type=Path, default=PHOTO)
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--masks", action="store_true", help="also time build_region_masks (feather, islands, min_area)")
    args = parser.parse_args()
    if not args.model.is_file() or not args.photo.is_file():
        raise SystemExit(f"needs {args.model} and {args.photo} (../shared/data)")

    from regionstyle.io import read_image
    from regionstyle.segment import build_segmenter

    start = time.perf_counter()
    segmenter = build_segmenter(str(args.model))
    load_s = time.perf_counter() - start
    image = read_image(args.photo).pixels
    print(f"photo {args.photo.name}: {image.shape[1]}x{image.shape[0]}; model {args.model.name} "
          f"loaded in {load_s:.2f} s; cpus {len(os.sched_getaffinity(0))}; load average {os.getloadavg()[0]:.2f}")

    start = time.perf_counter()
    segmentation = segmenter.segment([image])[0]
    print(f"first call (warm-up): {time.perf_counter() - start:.3f} s")
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        segmentation = segmenter.segment([image])[0]
        times.append(time.perf_counter() - start)
    print(f"segment(): median {statistics.median(times):.3f} s, best {min(times):.3f} s over {args.repeat} "
          f"runs (target <= 1 s)")

    del segmentation
    tracemalloc.start()
    segmentation = segmenter.segment([image])[0]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak traced allocation during one segment(): {peak / 2**20:.0f} MiB (probs alone "
          f"{segmentation.probs.nbytes / 2**20:.0f} MiB, labels {segmentation.labels.nbytes / 2**20:.0f} MiB)")
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB")
    if args.masks:
        bench_masks(segmenter, segmentation)


def bench_masks(segmenter, segmentation) -> None:
    import maskrules

    from regionstyle.segment.regions import build_region_masks

    resolution = maskrules.resolve(maskrules.parse_rules(RULES), segmenter.vocabulary)
    for options in ({}, {"feather_px": 12.0, "min_island": 0.01, "min_area": 0.01}):
        start = time.perf_counter()
        masks = build_region_masks(segmentation, resolution, **options)
        print(f"build_region_masks({options}): {time.perf_counter() - start:.3f} s, {len(masks.names)} masks")


if __name__ == "__main__":
    main()
