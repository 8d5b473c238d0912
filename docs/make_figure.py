"""Render the README's before/after figure: the README's main job, with the real pipeline.

    python docs/make_figure.py [--photo P] [--rules R] [--encoder NAME] [--size PIXELS] [-o docs/before_after.png]

Runs samples/st_basils.toml on samples/st_basils_cathedral.jpg (CC0) exactly as
``regionstyle apply samples/st_basils_cathedral.jpg samples/st_basils.toml`` does (bundled segmenter, encoder
``auto``, the photo's own size unless --size) and writes the photo and the result side by side. It prints
what ran and how long it took.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from regionstyle.rules import load_ruleset
from regionstyle import io, pipeline
from regionstyle.config import make_config

ROOT = Path(__file__).resolve().parents[1]


def side_by_side(before: np.ndarray, after: np.ndarray, gap: int = 8) -> np.ndarray:
    """Two (H, W, 3) images next to each other on a white background."""
    height = max(before.shape[0], after.shape[0])
    canvas = np.ones((height, before.shape[1] + gap + after.shape[1], 3), np.float32)
    canvas[: before.shape[0], : before.shape[1]] = before
    canvas[: after.shape[0], before.shape[1] + gap:] = after
    return canvas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default="auto")
    parser.add_argument("--encoder-weights")
    parser.add_argument("--photo", default=str(ROOT / "samples" / "st_basils_cathedral.jpg"))
    parser.add_argument("--rules", default=str(ROOT / "samples" / "st_basils.toml"))
    parser.add_argument("--size", type=int)
    parser.add_argument("--iterations", type=int)
    parser.add_argument("-o", "--output", default=str(ROOT / "docs" / "before_after.png"))
    args = parser.parse_args()
    photo = io.read_image(Path(args.photo))
    ruleset = load_ruleset(Path(args.rules))
    config = make_config(ruleset.defaults, size=args.size, iterations=args.iterations, encoder=args.encoder,
                         encoder_weights=args.encoder_weights)
    result = pipeline.run(photo, ruleset, config)
    before = np.asarray(photo.pixels)
    import cv2

    before = cv2.resize(before, (result.image.shape[1], result.image.shape[0]), interpolation=cv2.INTER_AREA)
    written = io.write_image(args.output, side_by_side(before, result.image))
    encoder = result.report["encoder"]
    print(f"wrote {written}: encoder {encoder['name'] or 'none'} ({encoder['choice']}), "
          f"{result.report['timings']['total']:.0f} s, seam {result.report['seam']}")


if __name__ == "__main__":
    main()
