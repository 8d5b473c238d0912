"""A sheet of the built-in styles on one photo: the photo, then one tile per style, three tiles a row.

Used by ``regionstyle styles sheet``; it runs the real pipeline with the rule ``"*" = STYLE`` (every region of
the photo gets the style, segmented by the bundled model or given by a label map), so each tile is what such
a rule gives: every region rendered from its own pixels (and optimised too with ``optimize_builtins``). The
default photo ships inside the package (``regionstyle/data``), so the sheet works from an installed wheel.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable

import cv2
import numpy as np

from regionstyle import io, pipeline, styles
from regionstyle.config import make_config
from regionstyle.rules import load_ruleset
from regionstyle.session import Session

LABEL_HEIGHT = 22
GAP = 8  # pixels between tiles
COLUMNS = 3


def sample_photo() -> Path:
    """The CC0 photo shipped with the package (St Basil's Cathedral, 264 px)."""
    return Path(str(resources.files("regionstyle") / "data" / "sample_photo.jpg"))


def labelled_tile(name: str, image: np.ndarray) -> np.ndarray:
    """``image`` (h, w, 3) under a white strip with ``name`` written on it."""
    height, width = image.shape[:2]
    label = np.full((LABEL_HEIGHT, width, 3), 255, np.uint8)  # OpenCV draws text on 8-bit images
    cv2.putText(label, name, (4, LABEL_HEIGHT - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (25, 25, 25), 1, cv2.LINE_AA)
    return np.concatenate([label.astype(np.float32) / 255.0, image.astype(np.float32)], axis=0)


def grid(tiles: list[np.ndarray], *, columns: int = COLUMNS) -> np.ndarray:
    """Tiles of one size laid out left to right, top to bottom, ``GAP`` apart on white."""
    height, width = tiles[0].shape[:2]
    rows = -(-len(tiles) // columns)
    sheet = np.ones((rows * height + (rows - 1) * GAP, min(columns, len(tiles)) * (width + GAP) - GAP, 3),
                    np.float32)
    for index, tile in enumerate(tiles):
        top, left = (index // columns) * (height + GAP), (index % columns) * (width + GAP)
        sheet[top:top + height, left:left + width] = tile
    return sheet


def render_sheet(names: Iterable[str], *, photo: str | Path | None = None, labels: str | Path | None = None,
                 settings: dict[str, Any] | None = None, session: Session | None = None,
                 on_style: Callable[[str], None] | None = None) -> np.ndarray:
    """The sheet as float32 (H, W, 3): the photo (default: the packaged sample) and one tile per style.

    labels: the photo's label map (or folder of region masks) instead of segmenting it.
    settings: transfer settings for every tile (size, optimize_builtins, iterations, encoder, seed ...), as for
    ``stylize``.
    """
    names = list(names)
    for name in names:
        styles.get_builtin(name)  # a clear error for a wrong name before any work
    settings = {"size": 192, "iterations": 40, **(settings or {})}
    session = session or Session()
    image = io.read_image(Path(photo) if photo is not None else sample_photo())
    tiles = []
    for name in names:
        if on_style is not None:
            on_style(name)
        ruleset = load_ruleset(f'[map]\n"*" = "{name}"\n')
        config = make_config(ruleset.defaults, **settings)
        result = pipeline.run(image, ruleset, config, labels=labels, session=session)
        if not tiles:
            tiles.append(labelled_tile("photo", result.photo))
        tiles.append(labelled_tile(name, result.image))
    return grid(tiles)
