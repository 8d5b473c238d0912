"""Render the README's before/after figure from the bundled sample scene (CC0), with the real pipeline.

    python docs/make_figure.py [--encoder-weights FILE] [--encoder NAME] [--size 512] [-o docs/before_after.png]

Runs samples/scene.toml on samples/scene.png and writes the photo and the result side by side, with a
caption strip naming the encoder that ran. With no options the encoder is `auto` (VGG19 if cached, else
the random encoder).
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
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--iterations", type=int)
    parser.add_argument("-o", "--output", default=str(ROOT / "docs" / "before_after.png"))
    args = parser.parse_args()
    photo = io.read_image(ROOT / "samples" / "scene.png")
    ruleset = load_ruleset(ROOT / "samples" / "scene.toml")
    config = make_config(ruleset.defaults, size=args.size, iterations=args.iterations, encoder=args.encoder,
                         encoder_weights=args.encoder_weights)
    result = pipeline.run(photo, ruleset, config)
    before = np.asarray(photo.pixels)
    import cv2

    before = cv2.resize(before, (result.image.shape[1], result.image.shape[0]), interpolation=cv2.INTER_AREA)
    written = io.write_image(args.output, side_by_side(before, result.image))
    encoder = result.report["encoder"]
    print(f"wrote {written}: encoder {encoder['name']} ({encoder['weights']}), "
          f"{result.report['timings']['total']:.0f} s, seam {result.report['seam']}")


if __name__ == "__main__":
    main()
