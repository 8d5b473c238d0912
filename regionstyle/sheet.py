"""A preview sheet of the built-in styles: each exemplar beside the sample scene stylised with it.

Used by ``regionstyle styles sheet``; it runs the real pipeline (every class of the sample scene gets the
style), so the sheet shows what a rule like ``"*" = "mosaic"`` does, not only the exemplar.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import cv2
import numpy as np

from regionstyle import io, pipeline, styles
from regionstyle.settings import make_config

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
LABEL_HEIGHT = 22


def sheet_row(name: str, result: np.ndarray, *, tile: int, seed: int) -> np.ndarray:
    """One row: the exemplar (tile x tile), the stylised scene, and the style's name on top."""
    exemplar = styles.render_builtin(name, height=tile, width=tile, seed=seed)
    scene = cv2.resize(result, (round(result.shape[1] * tile / result.shape[0]), tile),
                       interpolation=cv2.INTER_AREA)
    row = np.ones((tile + LABEL_HEIGHT, tile + 8 + scene.shape[1], 3), np.float32)
    label = np.full((LABEL_HEIGHT, row.shape[1], 3), 255, np.uint8)  # OpenCV draws text on 8-bit images
    cv2.putText(label, name, (4, LABEL_HEIGHT - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (25, 25, 25), 1, cv2.LINE_AA)
    row[:LABEL_HEIGHT] = label / 255.0
    row[LABEL_HEIGHT:, :tile] = exemplar
    row[LABEL_HEIGHT:, tile + 8:] = scene
    return row


def render_sheet(names: Iterable[str], *, size: int = 192, iterations: int = 40, encoder: str = "auto",
                 encoder_weights: str | None = None, seed: int = 0, device: str = "auto",
                 session: pipeline.Session | None = None,
                 on_style: Callable[[str], None] | None = None) -> np.ndarray:
    """The sheet as float32 (H, W, 3): one row per style, the sample scene stylised at ``size`` px."""
    photo = io.read_image(SAMPLES / "scene.png")
    session = session or pipeline.Session()
    rows = []
    for name in names:
        styles.get_builtin(name)  # a clear error for a wrong name before any work
        ruleset = pipeline.load_ruleset(f'[segmentation]\nlabels = "{SAMPLES / "scene.labels.png"}"\n'
                                        f'classes = "ade20k"\n[map]\n"*" = "{name}"\n')
        config = make_config(ruleset.defaults, size=size, iterations=iterations, encoder=encoder,
                             encoder_weights=encoder_weights, seed=seed, device=device)
        if on_style is not None:
            on_style(name)
        result = pipeline.run(photo, ruleset, config, session=session)
        rows.append(sheet_row(name, result.image, tile=size * 2 // 3, seed=seed))
    width = max(row.shape[1] for row in rows)
    padded = [np.pad(row, ((0, 4), (0, width - row.shape[1]), (0, 0)), constant_values=1.0) for row in rows]
    return np.concatenate(padded, axis=0)
