"""Benchmark: a batch of 10 photos with one shared Session against a fresh Session per photo.

    python benchmarks/bench_batch.py [--size 192] [--iterations 10] [--encoder random] [--device cpu] [--threads 1]

The 10 photos of ../shared/data/photos are downscaled (long side --size) into a temporary folder, then
stylised with one rules file (real DeepLabV3 ADE20K segmentation from the shared TFLite model; sky ->
watercolor, building -> mosaic, tree -> pencil, everything else -> Starry Night; road kept) twice:

* shared: every photo through one Session (encoder, segmenter, exemplars and style targets built once);
* fresh: every photo with a new Session and the process-wide exemplar caches cleared, i.e. what 10
  separate ``regionstyle apply`` runs redo (less their own ~3-5 s of imports each).

The two alternate photo by photo so that both see the same load on a shared machine. Prints each mode's
total, its first photo and the median of the rest, and the saving; checks that the shared Session ends
with one cached style target per style (4), i.e. that nothing was rebuilt per photo.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
from PIL import Image

from regionstyle.session import Session
from regionstyle.style import exemplars
from regionstyle.batch import BatchOptions, find_inputs, plan_batch, run_batch

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MODEL = DATA / "models" / "deeplabv3_mnv2_ade20k" / "model.tflite"


def rules_text() -> str:
    return f"""
[segmentation]
model = "{MODEL}"
[styles]
starry = "{DATA / 'styles' / 'vangogh_starry_night.jpg'}"
[map]
sky = "watercolor"
building = "mosaic"
tree = "pencil"
road = "keep"
"*" = "starry"
"""


def prepare(folder: Path, side: int) -> tuple[Path, Path]:
    """The shared photos at long side ``side`` (PNG) in folder/in, and the rules file; returns both paths."""
    photos = folder / "in"
    photos.mkdir()
    for path in sorted((DATA / "photos").glob("*.jpg"))[:10]:
        image = Image.open(path).convert("RGB")
        image.thumbnail((side, side), Image.Resampling.LANCZOS)
        image.save(photos / f"{path.stem}.png")
    rules = folder / "rules.toml"
    rules.write_text(rules_text())
    return photos, rules


def clear_process_caches() -> None:
    """Forget exemplars cached for the whole process, as a new process would."""
    exemplars._style_image.cache_clear()


def time_modes(photos: Path, rules: Path, out: Path, settings: dict) -> dict[str, list[float]]:
    """Seconds per image in each mode. The modes alternate image by image, so both see the same machine
    load (on a shared machine the load drifts more than the effect measured)."""
    options = BatchOptions(output_folder=out, settings=settings, overwrite=True)
    items = plan_batch(find_inputs([photos]), rules, options)
    shared = Session()
    seconds: dict[str, list[float]] = {"fresh": [], "shared": []}
    for item in items:
        for mode in ("fresh", "shared"):
            if mode == "fresh" or item is items[0]:
                clear_process_caches()  # a separate run renders and reads its exemplars again
            target = replace(item, output=out / mode / item.output.name)
            clock = time.perf_counter()
            summary = run_batch([target], options, session=Session() if mode == "fresh" else shared)
            seconds[mode].append(time.perf_counter() - clock)
            assert summary.done == 1, f"{item.source} failed"
    # Built-in styles are rendered from each photo's regions (their targets are dropped after each image):
    # only the painting's target is shared.
    if len(shared.targets) != 1:
        raise AssertionError(f"expected 1 cached style target (the painting, one scale), got {len(shared.targets)}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--encoder", default="random")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = {"size": args.size, "iterations": args.iterations, "encoder": args.encoder, "device": args.device}
    print(f"10 photos at {args.size} px, {args.iterations} iterations, encoder {args.encoder}, device {args.device},"
          f" {torch.get_num_threads()} CPU threads")
    with tempfile.TemporaryDirectory() as folder:
        photos, rules = prepare(Path(folder), args.size)
        seconds = time_modes(photos, rules, Path(folder) / "out", settings)
    for mode, times in seconds.items():
        rest = statistics.median(times[1:])
        print(f"{mode:<7} total {sum(times):7.2f} s   first image {times[0]:6.2f} s   median of the rest {rest:6.2f} s")
    fresh, shared = sum(seconds["fresh"]), sum(seconds["shared"])
    per_image = statistics.median(f - s for f, s in zip(seconds["fresh"][1:], seconds["shared"][1:]))
    print(f"one shared Session saves {fresh - shared:.2f} s of {fresh:.2f} s ({1 - shared / fresh:.0%}); "
          f"median saving per image after the first: {per_image:.2f} s")


if __name__ == "__main__":
    main()
