"""Woodcut skies: how much of each photo's sky is carved in level lines.

    python benchmarks/woodcut_skies.py [--size 768]

Each shared photo with a label map is rendered in ``woodcut`` two ways, as a rule would give it: the rule
``"*" = "woodcut"`` (one region: the whole photo, as the styles sheet renders it) and ``sky = "woodcut"``
(the sky alone). The sky (the label map's ``sky``, eroded by 6 px so its outline's standing contour does not
count) is cut into 32 px blocks; a block is level when its luminance changes at least twice as much from
row to row as from column to column. Prints the share of sky blocks that are not level (a cutter cuts a clear
sky level; other directions belong where the sky has edges of its own, clouds) and the seconds per render.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from regionstyle import io, pipeline
from regionstyle.config import make_config
from regionstyle.rules import load_ruleset
from regionstyle.segment.base import load_vocabulary

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LUMA = np.asarray([0.2126, 0.7152, 0.0722], np.float32)
BLOCK = 32


def not_level_share(image: np.ndarray, sky: np.ndarray) -> tuple[float, int]:
    """(share of the fully-sky BLOCK x BLOCK blocks of ``image`` whose lines are not level, block count)."""
    luma = image @ LUMA
    height, width = sky.shape
    flags = []
    for top in range(0, height - BLOCK + 1, BLOCK):
        for left in range(0, width - BLOCK + 1, BLOCK):
            if not sky[top:top + BLOCK, left:left + BLOCK].all():
                continue
            block = luma[top:top + BLOCK, left:left + BLOCK]
            rows, cols = np.abs(np.diff(block, axis=0)).mean(), np.abs(np.diff(block, axis=1)).mean()
            if rows + cols > 0.02:  # a block cleared to paper or inked solid has no lines to judge
                flags.append(rows < 2 * cols)
    return (float(np.mean(flags)) if flags else float("nan")), len(flags)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=768)
    args = parser.parse_args()
    (sky_id,) = load_vocabulary("ade20k").ids_for("sky")
    print(f"{'photo':<40} {'whole photo':>12} {'sky alone':>10} {'blocks':>7} {'s/render':>9}")
    for photo in sorted((DATA / "photos").glob("*.jpg")):
        labels = DATA / "labels" / f"{photo.stem}.png"
        image = io.read_image(photo)
        shares, seconds = [], []
        for rule in ('"*"', "sky"):
            ruleset = load_ruleset(f'[segmentation]\nlabels = "{labels}"\nclasses = "ade20k"\n'
                                   f'[map]\n{rule} = "woodcut"\n')
            start = time.perf_counter()
            result = pipeline.run(image, ruleset, make_config(ruleset.defaults, size=args.size))
            seconds.append(time.perf_counter() - start)
            height, width = result.image.shape[:2]
            label_map = cv2.resize(cv2.imread(str(labels), cv2.IMREAD_UNCHANGED), (width, height),
                                   interpolation=cv2.INTER_NEAREST)
            sky = cv2.erode((label_map == sky_id).astype(np.uint8), np.ones((13, 13), np.uint8)) > 0
            share, blocks = not_level_share(result.image, sky)
            shares.append(share)
        print(f"{photo.stem:<40} {shares[0]:>12.2f} {shares[1]:>10.2f} {blocks:>7d} {np.mean(seconds):>9.2f}")


if __name__ == "__main__":
    main()
