"""A preview sheet of the built-in styles: for each, the photo's rendering beside the photo stylised with it.

Used by ``regionstyle styles sheet``; it runs the real pipeline with the rule ``"*" = STYLE`` (every region of
the photo gets the style, segmented by the bundled model or given by a label map), so the sheet shows what
such a rule does: each region rendered from its own pixels (where the optimisation starts, and its style
target) beside the stylised result. The default photo ships inside the package (``regionstyle/data``), so
the sheet works from an installed wheel.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable

import cv2
import numpy as np

from regionstyle import io, pipeline, styles
from regionstyle.config import make_config
from regionstyle.datatypes import StylizeResult
from regionstyle.rules import load_ruleset
from regionstyle.session import Session
from regionstyle.styles.region import render_region

LABEL_HEIGHT = 22
GAP = 8  # pixels between the rendering and the result


def sample_photo() -> Path:
    """The CC0 photo shipped with the package (St Basil's Cathedral, 264 px)."""
    return Path(str(resources.files("regionstyle") / "data" / "sample_photo.jpg"))


def sheet_row(name: str, rendering: np.ndarray, result: np.ndarray) -> np.ndarray:
    """One row: the style's name on a label strip over the rendering and the result ((h, w, 3) each)."""
    height, width = result.shape[:2]
    row = np.ones((LABEL_HEIGHT + height, 2 * width + GAP, 3), np.float32)
    label = np.full((LABEL_HEIGHT, row.shape[1], 3), 255, np.uint8)  # OpenCV draws text on 8-bit images
    for x, text in ((4, f"{name} (rendering)"), (width + GAP + 4, "stylised")):
        cv2.putText(label, text, (x, LABEL_HEIGHT - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (25, 25, 25), 1,
                    cv2.LINE_AA)
    row[:LABEL_HEIGHT] = label / 255.0
    row[LABEL_HEIGHT:, :width] = rendering
    row[LABEL_HEIGHT:, width + GAP:] = result
    return row


def render_sheet(names: Iterable[str], *, photo: str | Path | None = None, labels: str | Path | None = None,
                 settings: dict[str, Any] | None = None, session: Session | None = None,
                 on_style: Callable[[str], None] | None = None) -> np.ndarray:
    """The sheet as float32 (H, W, 3): one row per style, ``photo`` (default: the packaged sample) stylised.

    labels: the photo's label map (or folder of region masks) instead of segmenting it.
    settings: transfer settings for every row (size, iterations, encoder, seed ...), as for ``stylize``.
    """
    names = list(names)
    for name in names:
        styles.get_builtin(name)  # a clear error for a wrong name before any work
    settings = {"size": 192, "iterations": 40, **(settings or {})}
    session = session or Session()
    image = io.read_image(Path(photo) if photo is not None else sample_photo())
    rows = []
    for name in names:
        if on_style is not None:
            on_style(name)
        ruleset = load_ruleset(f'[map]\n"*" = "{name}"\n')
        config = make_config(ruleset.defaults, **settings)
        result = pipeline.run(image, ruleset, config, labels=labels, session=session)
        rows.append(sheet_row(name, rendering(name, result, seed=config.seed), result.image))
    width = max(row.shape[1] for row in rows)
    padded = [np.pad(row, ((0, 4), (0, width - row.shape[1]), (0, 0)), constant_values=1.0) for row in rows]
    return np.concatenate(padded, axis=0)


def rendering(name: str, result: StylizeResult, *, seed: int) -> np.ndarray:
    """Every styled region of ``result`` rendered in style ``name`` from its own pixels, laid over the photo
    (float32 (H, W, 3) at the working size): where the optimisation started."""
    canvas = result.photo.copy()
    for mask, styled in zip(result.masks.masks, result.masks.styled):
        if styled:
            weight = mask[..., None]
            canvas = canvas * (1 - weight) + render_region(name, result.photo, mask, seed=seed) * weight
    return canvas.astype(np.float32)
