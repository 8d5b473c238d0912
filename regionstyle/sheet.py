"""A preview sheet of the built-in styles: each exemplar beside a photo stylised with it.

Used by ``regionstyle styles sheet``; it runs the real pipeline (every class of the photo gets the style,
segmented by the bundled model), so the sheet shows what a rule like ``"*" = "mosaic"`` does. The default
photo ships inside the package (``regionstyle/data``), so the sheet works from an installed wheel.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

import cv2
import numpy as np

from regionstyle import api, styles
from regionstyle.session import Session

LABEL_HEIGHT = 22


def sample_photo() -> Path:
    """The CC0 photo shipped with the package (St Basil's Cathedral, 264 px)."""
    return Path(str(resources.files("regionstyle") / "data" / "sample_photo.jpg"))


def sheet_row(name: str, result: np.ndarray, *, tile: int, seed: int) -> np.ndarray:
    """One row: the exemplar (tile x tile), the stylised photo, and the style's name on top."""
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


def render_sheet(names: Iterable[str], *, photo: str | Path | None = None, settings: dict | None = None,
                 session: Session | None = None, on_style: Callable[[str], None] | None = None) -> np.ndarray:
    """The sheet as float32 (H, W, 3): one row per style, ``photo`` (default: the packaged sample) stylised.

    settings: transfer settings for every row (size, iterations, encoder, seed ...), as for ``stylize``.
    """
    names = list(names)
    for name in names:
        styles.get_builtin(name)  # a clear error for a wrong name before any work
    settings = {"size": 192, "iterations": 40, **(settings or {})}
    session = session or Session()
    source = Path(photo) if photo is not None else sample_photo()
    pixels = np.asarray(_read(source))  # read once, and refused (not a photo) before the first style runs
    rows = []
    for name in names:
        if on_style is not None:
            on_style(name)
        result = api.stylize(pixels, f'[map]\n"*" = "{name}"\n', session=session, **settings)
        rows.append(sheet_row(name, result, tile=settings["size"] * 2 // 3, seed=settings.get("seed", 0)))
    width = max(row.shape[1] for row in rows)
    padded = [np.pad(row, ((0, 4), (0, width - row.shape[1]), (0, 0)), constant_values=1.0) for row in rows]
    return np.concatenate(padded, axis=0)


def _read(path: Path) -> np.ndarray:
    from regionstyle import io

    return io.read_image(path).pixels
