"""Watercolour wet edges on the shared photos: does a clear sky stay one wash?

    python benchmarks/wet_edges.py [--size 768]

Renders the built-in watercolor from each shared photo's sky and building (their shared label maps), with
the wash-edge rim scaled as before the sixteenth session (by the region's own 98th percentile alone) and as
now (rounding steps left out, a floor under the scale), and prints the fine-scale luminance std (luma minus
its sigma-3 blur) inside each eroded region: the photo / before / now. Contour lines in a clear sky show as
a figure well above the photo's.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import cv2
import numpy as np

import regionstyle.styles.region.watercolor as watercolor
from regionstyle.io import read_image
from regionstyle.segment import load_label_map_segmentation
from regionstyle.styles.region import render_region

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LUMA = np.asarray([0.2126, 0.7152, 0.0722], np.float32)
BEFORE = (0.0, 1e-6)  # no rounding allowance; the scale is the region's own 98th percentile


def fine_std(image: np.ndarray, inside: np.ndarray) -> float:
    luma = image @ LUMA
    return float((luma - cv2.GaussianBlur(luma, (0, 0), 3))[inside].std())


def measure(photo_path: Path, size: int) -> str:
    photo = read_image(photo_path).pixels
    scale = size / max(photo.shape[:2])
    photo = cv2.resize(photo, (round(photo.shape[1] * scale), round(photo.shape[0] * scale)),
                       interpolation=cv2.INTER_AREA)
    labels = load_label_map_segmentation(DATA / "labels" / f"{photo_path.stem}.png", classes="ade20k",
                                         image_size=photo.shape[:2])
    now = (watercolor.RIM_ROUNDING, watercolor.RIM_FULL_DEPTH)
    cells = [photo_path.stem[:28]]
    for name in ("sky", "building"):
        mask = (labels.labels == list(labels.class_names).index(name)).astype(np.float32)
        inside = cv2.erode(mask, np.ones((9, 9), np.uint8)) > 0
        figures = [fine_std(photo, inside)]
        for watercolor.RIM_ROUNDING, watercolor.RIM_FULL_DEPTH in (BEFORE, now):
            figures.append(fine_std(render_region("watercolor", photo, mask, seed=0), inside))
        cells.append(f"{name} {figures[0]:.4f} / {figures[1]:.4f} / {figures[2]:.4f}")
    return " | ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=768, help="long side the photos are shrunk to")
    args = parser.parse_args()
    if not (DATA / "photos").is_dir():
        sys.exit(f"no shared data at {DATA} (see the README's Benchmarks section)")
    logging.disable(logging.WARNING)  # the label maps are resized to the photo: expected here
    print("photo | region: fine-scale luminance std, the photo / rims as before / as now")
    for photo_path in sorted((DATA / "photos").glob("*.jpg")):
        print(measure(photo_path, args.size), flush=True)


if __name__ == "__main__":
    main()
