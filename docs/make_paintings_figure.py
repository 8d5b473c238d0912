"""Render the README's paintings figure: the CC0 sample photos, each region in its own public-domain painting.

    python docs/make_paintings_figure.py [--iterations N] [-o docs/paintings.png]

The paintings come from ../shared/data/styles (the project's real-data folder; they are not shipped), the
photos from samples/. Each photo is segmented by the bundled DeepLabV3 and optimised with encoder ``auto``
(the bundled MobileNetV2 here) at its own size. Rows: the photo, then the result; it prints what ran and
how long each took.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from regionstyle import io, pipeline
from regionstyle.config import make_config
from regionstyle.rules import load_ruleset
from regionstyle.sheet import grid, labelled_tile

ROOT = Path(__file__).resolve().parents[1]
PAINTINGS = ROOT.parent / "shared" / "data" / "styles"
# photo -> (caption, rules): sky and buildings in different paintings, everything else kept.
FIGURES = {
    "st_basils_cathedral.jpg": ("sky Van Gogh, building Klimt",
                                {"sky": "vangogh_starry_night.jpg", "building": "klimt_adele_bloch_bauer_i.jpg"}),
    "big_ben.jpg": ("sky Munch, building Kandinsky",
                    {"sky": "munch_the_scream.jpg", "building": "kandinsky_composition_vii.jpg"}),
    "toronto_skyline.jpg": ("sky Turner, building Picabia, water Hokusai",
                            {"sky": "turner_the_shipwreck.jpg", "building": "picabia_udnie.jpg",
                             "water": "hokusai_great_wave.jpg"}),
}


def rules_text(styles: dict[str, str]) -> str:
    lines = ["[map]"] + [f'{region} = "{PAINTINGS / painting}"' for region, painting in styles.items()]
    return "\n".join(lines + ['"*" = "keep"']) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int)
    parser.add_argument("-o", "--output", default=str(ROOT / "docs" / "paintings.png"))
    args = parser.parse_args()
    if not PAINTINGS.is_dir():
        raise SystemExit(f"needs the paintings in {PAINTINGS}")
    tiles = []
    for name, (caption, styles) in FIGURES.items():
        photo = io.read_image(ROOT / "samples" / name)
        ruleset = load_ruleset(rules_text(styles))
        config = make_config(ruleset.defaults, iterations=args.iterations)
        start = time.perf_counter()
        result = pipeline.run(photo, ruleset, config)
        print(f"{name}: {caption}; encoder {result.report['encoder']['name']}, "
              f"{time.perf_counter() - start:.0f} s, seam {result.report['seam']}")
        tiles += [labelled_tile(name, result.photo), labelled_tile(caption, result.image)]
    written = io.write_image(args.output, grid(tiles, columns=2))
    print(f"wrote {written}")


if __name__ == "__main__":
    main()
