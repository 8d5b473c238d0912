"""A user's label map (PNG of class ids) as a Segmentation, and a segmenter that serves it.

A colour-coded map (RGB) is read through its legend, ``<map stem>.legend.txt`` beside it, which names the
class of each colour (``#87CEEB sky``).

ADE20K ids come in two conventions, and a map is only meaningful with the right one: scene-parsing maps
(and TensorFlow DeepLab, the shared TFLite model) use 0 = others, 1..150 (vocabulary ``ade20k``);
SegFormer / smp-hub outputs use 0..149 (``ade20k-150``). An id outside the vocabulary is refused with a
hint at the other convention, never silently wrapped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from regionstyle.datatypes import Segmentation
from regionstyle.errors import BadInput
from regionstyle.segment.base import load_vocabulary

if TYPE_CHECKING:
    import maskrules

log = logging.getLogger(__name__)

ASPECT_TOLERANCE = 0.01  # a label map for a photo may differ in size, but not in shape


def load_label_map_segmentation(path: str | Path, *, classes: maskrules.Vocabulary | str | Path,
                                image_size: tuple[int, int]) -> Segmentation:
    """A label map resized (nearest neighbour) to ``image_size`` (height, width) as a hard Segmentation.

    classes: a vocabulary name ("ade20k", "ade20k-150", "cityscapes", "voc"), a class list file, or a
        Vocabulary. Returns labels int32 (H, W) and ``probs=None``.
    Raises BadInput when the aspect ratio differs by more than 1 % or an id has no class.
    """
    from regionstyle.io import read_color_label_map, read_label_map

    path = Path(path).expanduser()
    vocabulary = load_vocabulary(classes)
    legend = legend_file(path)
    if legend.exists():  # a colour-coded map (a legend that is a FIFO or folder is refused by its reader): its legend beside it says which colour is which class
        ids = read_color_label_map(path, read_legend(legend, vocabulary))
    else:
        ids = read_label_map(path)
    labels = fit_to_image(ids, image_size, what=str(path))
    check_ids(labels, vocabulary, what=str(path))
    return Segmentation(labels=labels, class_names=vocabulary.classes, vocabulary=vocabulary.name,
                        source=f"labels:{path}", probs=None)


def legend_file(label_map: Path) -> Path:
    """Where the legend of a colour-coded label map lives: ``<map stem>.legend.txt`` beside it."""
    return label_map.with_name(f"{label_map.stem}.legend.txt")


def read_legend(path: Path, vocabulary: maskrules.Vocabulary) -> dict[tuple[int, int, int], int]:
    """Colour -> class id from a legend file: one ``#RRGGBB name`` or ``R G B name`` line per colour.

    Names are classes (or synonyms) of ``vocabulary``; blank lines and ``#`` comments (a ``#`` followed
    by a space) are skipped. Raises BadInput naming the line of any mistake.
    """
    legend: dict[tuple[int, int, int], int] = {}
    from regionstyle.io.inputs import read_input_text

    for number, line in enumerate(read_input_text(path, what="legend").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("# ") or text == "#":
            continue
        colour, name = _legend_line(text, f"{path}:{number}")
        ids = vocabulary.exact_ids(name)
        if len(ids) != 1:
            raise BadInput(f"{path}:{number}: {name!r} is not a class of the {vocabulary.name} vocabulary")
        legend[colour] = next(iter(ids))
    if not legend:
        raise BadInput(f"{path}: the legend lists no colours")
    return legend


def _legend_line(text: str, where: str) -> tuple[tuple[int, int, int], str]:
    parts = text.split(maxsplit=1 if text.startswith("#") else 3)
    try:
        if text.startswith("#") and len(parts[0]) == 7:
            rgb = tuple(int(parts[0][i:i + 2], 16) for i in (1, 3, 5))
        else:
            rgb = tuple(int(v) for v in parts[:3])
        name = parts[-1].strip()
        if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb) or not name or name == parts[0]:
            raise ValueError
    except (ValueError, IndexError):
        raise BadInput(f"{where}: expected '#RRGGBB name' or 'R G B name', got {text!r}") from None
    return rgb, name


def fit_to_image(labels: np.ndarray, image_size: tuple[int, int], *, what: str) -> np.ndarray:
    """``labels`` at ``image_size``: unchanged, resized nearest-neighbour (with a warning), or refused."""
    (h, w), (height, width) = labels.shape, image_size
    if (h, w) == (height, width):
        return labels.astype(np.int32, copy=False)
    # A photo resized to a small --size has sides rounded to whole pixels: up to half a pixel on each side,
    # which moves the aspect ratio of a 32x21 image by 2.4%. That much (|w*H - h*W| <= (w + h) / 2) is the
    # same shape, whatever the tolerance.
    rounding = abs(w * height - h * width) <= (w + h) / 2
    if not rounding and abs((w / h) / (width / height) - 1.0) > ASPECT_TOLERANCE:
        raise BadInput(f"label map {what} is {w}x{h} but the photo is {width}x{height}: their aspect "
                       f"ratios differ by more than {ASPECT_TOLERANCE:.0%}; make the map for this photo")
    log.warning("label map %s is %dx%d, the photo %dx%d: resizing the map (nearest neighbour)",
                what, w, h, width, height)
    # INTER_NEAREST_EXACT samples at pixel centres (Pillow's convention); ids are never blended.
    resized = cv2.resize(labels.astype(np.float32), (width, height), interpolation=cv2.INTER_NEAREST_EXACT)
    return resized.astype(np.int32)


def check_ids(labels: np.ndarray, vocabulary: maskrules.Vocabulary, *, what: str) -> None:
    """Refuse ids the vocabulary has no class for, pointing at the other ADE20K convention when it fits."""
    k = len(vocabulary.classes)
    present = np.unique(labels)
    bad = present[(present < 0) | (present >= k)]
    if bad.size == 0:
        return
    hint = ""
    if vocabulary.name == "ade20k-150" and bad.max() == 150:
        hint = "; ids 0..150 look like the scene-parsing convention: use classes = \"ade20k\""
    raise BadInput(f"label map {what} holds id(s) {bad[:8].tolist()} but the {vocabulary.name} vocabulary "
                   f"has ids 0..{k - 1}{hint}")


class LabelMapSegmenter:
    """Serves one label map as the segmentation of whichever photo it is asked about (sizes checked)."""

    def __init__(self, path: str | Path, *, classes: maskrules.Vocabulary | str | Path) -> None:
        from regionstyle.io import read_label_map

        self.path = Path(path).expanduser()
        self.vocabulary = load_vocabulary(classes)
        self.name = f"labels:{self.path.name}"
        self._labels = read_label_map(self.path)
        check_ids(self._labels, self.vocabulary, what=str(self.path))

    def segment(self, images: Sequence[np.ndarray]) -> list[Segmentation]:
        """The label map fitted to each image's size (one map serves every image asked about)."""
        return [Segmentation(labels=fit_to_image(self._labels, image.shape[:2], what=str(self.path)),
                             class_names=self.vocabulary.classes, vocabulary=self.vocabulary.name,
                             source=f"labels:{self.path}", probs=None)
                for image in images]
