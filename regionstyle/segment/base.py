"""What every segmenter offers, and how the registry describes one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from regionstyle.datatypes import Segmentation
from regionstyle.errors import BadInput
from regionstyle.weights import WeightSpec

if TYPE_CHECKING:
    import maskrules


@runtime_checkable
class Segmenter(Protocol):
    """Turns photos into per-pixel classes of one vocabulary.

    ``segment`` takes float32 (H, W, 3) RGB images in [0, 1] (any sizes) and returns one
    :class:`Segmentation` per image: int32 (H, W) labels at full size (argmax of bilinearly upsampled
    logits) and float32 (K, h, w) softmax probabilities at the model's working resolution.
    """

    name: str
    vocabulary: maskrules.Vocabulary

    def segment(self, images: Sequence[np.ndarray]) -> list[Segmentation]: ...


@dataclass(frozen=True)
class SegmenterInfo:
    """One registered segmenter.

    vocabulary: name of its class vocabulary ("ade20k", "ade20k-150", "cityscapes", "voc").
    weights: the checkpoint it loads (see :mod:`regionstyle.weights`).
    builder: ``builder(info, device=..., weights=..., spec=..., download=...) -> Segmenter``.
    size: its checkpoint's size in MB, the measure of "larger model" when ``auto`` breaks a tie.
    """

    name: str
    description: str
    vocabulary: str
    weights: WeightSpec
    builder: Callable[..., Segmenter]
    aliases: tuple[str, ...] = ()
    size: float = 0.0


def load_vocabulary(classes: maskrules.Vocabulary | str | Path) -> maskrules.Vocabulary:
    """A vocabulary from a class list file (one class a line, optionally "<id> <name>"), a vocabulary name,
    or a Vocabulary already loaded. A class list that spells a built-in vocabulary becomes that built-in."""
    import maskrules

    if isinstance(classes, maskrules.Vocabulary):
        return classes
    named = Path(str(classes)).expanduser()
    if isinstance(classes, Path) or (named.exists() and not named.is_dir()):  # a FIFO is refused when read
        path = Path(classes).expanduser()
        from regionstyle.io.inputs import read_input_text

        text = read_input_text(path, what="class list")
        try:
            return maskrules.vocabulary_from_class_list(text, name=path.stem)
        except maskrules.RuleError as exc:
            raise BadInput(f"class list {path}: {exc}") from None
    try:
        return maskrules.get_vocabulary(str(classes))
    except maskrules.RuleError as exc:
        raise BadInput(f"classes {str(classes)!r}: not a class list file, and {exc}") from None
