"""Tables and contact sheets from quality.py's results.jsonl files.

    python benchmarks/quality_summary.py /tmp/q/results.jsonl [more.jsonl] [--photos-common]
    python benchmarks/quality_summary.py /tmp/q/results.jsonl --sheet /tmp/q/sheet.png --dir /tmp/q

Per configuration (variant tag): medians over every styled region, then per region class (sky, building,
and the third styled class: water / trees / road; in quality.py's fixed rules each class has its own
painting, so this is also the table per style), and the median seconds per photo. ``--photos-common``
keeps only the photos every configuration has finished (for comparisons while runs are still going).
``--sheet`` writes a contact sheet: one row per photo (the photo, then each configuration's PNG).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
COLUMNS = ("ratio", "closed", "colour", "structure", "leak", "grain")


def load(paths: list[Path]) -> list[dict]:
    runs = []
    for path in paths:
        runs += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    latest = {(run["variant"], run["photo"]): run for run in runs}  # a rerun replaces the earlier one
    return list(latest.values())


def region_class(name: str) -> str:
    return name if name in ("sky", "building") else "third"


def _median(values: list[float]) -> float:
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


def table(runs: list[dict]) -> str:
    by_variant: dict[str, list[dict]] = defaultdict(list)
    for run in runs:
        by_variant[run["variant"]].append(run)
    head = f"{'configuration':<34} {'class':<8} {'n':>3} " + " ".join(f"{c[:6]:>6}" for c in COLUMNS)
    lines = [head + f" {'sec':>6}"]
    for variant, items in by_variant.items():
        regions = [dict(r, ratio=r["own"] / r["other"]) for run in items for r in run["regions"]]
        seconds = _median([run["seconds"] for run in items])
        groups = [("all", regions)] + [(k, [r for r in regions if region_class(r["region"]) == k])
                                        for k in ("sky", "building", "third")]
        for label, group in groups:
            # results from before the grain column read as NaN there
            medians = {c: _median([r.get(c, float("nan")) for r in group]) for c in COLUMNS}
            cells = " ".join(f"{m:6.1f}" if c in ("colour", "leak") else f"{m:6.3f}" for c, m in medians.items())
            lines.append(f"{variant[:34]:<34} {label:<8} {len(group):>3} {cells}"
                         + (f" {seconds:6.1f}" if label == "all" else ""))
    return "\n".join(lines)


def sheet(runs: list[dict], folder: Path, out: Path, *, height: int = 220) -> None:
    """One row per photo: the photo, then each configuration's output, all scaled to ``height``."""
    variants = list(dict.fromkeys(run["variant"] for run in runs))
    photos = list(dict.fromkeys(run["photo"] for run in runs))
    rows = []
    for photo in photos:
        tiles = [cv2.imread(str(DATA / "photos" / f"{photo}.jpg"))]
        tiles += [cv2.imread(str(folder / f"{variant}_{photo}.png")) for variant in variants]
        tiles = [tile if tile is not None else np.zeros((height, height, 3), np.uint8) for tile in tiles]
        scaled = [cv2.resize(t, (round(t.shape[1] * height / t.shape[0]), height), interpolation=cv2.INTER_AREA)
                  for t in tiles]
        rows.append(np.hstack(scaled))
    width = max(row.shape[1] for row in rows)
    rows = [np.pad(row, ((0, 0), (0, width - row.shape[1]), (0, 0))) for row in rows]
    cv2.imwrite(str(out), np.vstack(rows))
    print(f"sheet: {out} (columns: photo, {', '.join(variants)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", type=Path, nargs="+")
    parser.add_argument("--photos-common", action="store_true")
    parser.add_argument("--only", nargs="*", default=None, help="variant tags to keep")
    parser.add_argument("--sheet", type=Path, default=None)
    parser.add_argument("--dir", type=Path, default=None, help="folder of the PNGs (default: beside results)")
    parser.add_argument("--height", type=int, default=220, help="height of each tile of the sheet, pixels")
    args = parser.parse_args()
    runs = load(args.results)
    if args.only:
        runs = [run for run in runs if run["variant"] in args.only]
    if args.photos_common:
        variants = {run["variant"] for run in runs}
        done = {photo for photo in {run["photo"] for run in runs}
                if {run["variant"] for run in runs if run["photo"] == photo} == variants}
        runs = [run for run in runs if run["photo"] in done]
    print(table(runs))
    if args.sheet:
        sheet(runs, args.dir or args.results[0].parent, args.sheet, height=args.height)


if __name__ == "__main__":
    main()
