"""A segmenter for a local ONNX or TFLite model file plus its class list and input conventions.

Conventions come from the model's ``model.toml`` descriptor and the rules' ``[segmentation]`` table
(see :mod:`regionstyle.segment.descriptor`); what neither declares is read from the model's input shape
(layout and size), and an undeclared normalisation falls back to [0, 1] with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from regionstyle.datatypes import Segmentation
from regionstyle.errors import BadInput, BadModelFile
from regionstyle.segment.base import load_vocabulary
from regionstyle.segment.conventions import InputConventions
from regionstyle.segment.descriptor import read_descriptor
from regionstyle.segment.postprocess import scores_to_segmentation
from regionstyle.segment.preprocess import group_by_size, prepare_batch
from regionstyle.segment.runtimes import open_runtime

if TYPE_CHECKING:
    from maskrules import SegmentationSpec

log = logging.getLogger(__name__)


class ModelFileSegmenter:
    """Runs a model file through onnxruntime or ai-edge-litert; see :class:`~regionstyle.segment.Segmenter`."""

    def __init__(self, path: str | Path, *, spec: SegmentationSpec | None = None, device: str = "cpu",
                 name: str | None = None) -> None:
        descriptor = read_descriptor(path, spec=spec)
        if descriptor.classes is None:
            raise BadInput(
                f"model {descriptor.model_path} needs a class list: put classes = \"labels.txt\" (or a "
                f"vocabulary name such as \"ade20k\") in a model.toml beside it, or in the rules' "
                f"[segmentation] table")
        self.vocabulary = load_vocabulary(descriptor.classes)
        self.name = name or descriptor.name
        self.source = f"{descriptor.model_path.suffix.lstrip('.')}:{descriptor.model_path}"
        self._runner = open_runtime(descriptor.model_path, device=device)
        self.conventions = _complete(descriptor.conventions, self._runner.input_shape, descriptor.model_path)

    def segment(self, images: Sequence[np.ndarray]) -> list[Segmentation]:
        """float32 (H, W, 3) RGB images in [0, 1] -> one Segmentation each."""
        results: list[Segmentation | None] = [None] * len(images)
        step = 8 if self._runner.batched else 1
        for size, indices in group_by_size(images).items():
            for start in range(0, len(indices), step):
                chunk = indices[start:start + step]
                batch = prepare_batch([images[i] for i in chunk], self.conventions)
                output = self._runner.run(batch)
                for row, index in enumerate(chunk):
                    results[index] = self._to_segmentation(output[row], size)
                del output  # may be a view of the runtime's buffer, which must be free for the next run
        return results  # type: ignore[return-value]

    def _to_segmentation(self, output: np.ndarray, size: tuple[int, int]) -> Segmentation:
        scores, channel_axis = self._locate_classes(output)
        return scores_to_segmentation(scores, size=size, output=self.conventions.output, channel_axis=channel_axis,
                                      class_names=self.vocabulary.classes, vocabulary=self.vocabulary.name,
                                      source=self.source)

    def _locate_classes(self, output: np.ndarray) -> tuple[np.ndarray, int]:
        """One image's output and its class axis: (h, w, K) -> 2, (K, h, w) -> 0, ids (h, w) -> -1."""
        k = len(self.vocabulary.classes)
        if self.conventions.output == "ids":
            squeezed = np.squeeze(output)
            if squeezed.ndim == 2:
                return squeezed, -1
        elif output.ndim == 3:
            # Prefer the axis the input layout suggests; fall back to whichever axis has K entries.
            if output.shape[2] == k and (self.conventions.layout == "NHWC" or output.shape[0] != k):
                return output, 2
            if output.shape[0] == k:
                return output, 0
        raise BadModelFile(
            f"{self.name}: output of shape {output.shape} does not fit {self.conventions.output!r} with "
            f"{k} classes ({self.vocabulary.name}); check output / classes in its model.toml")


def _complete(declared: dict, input_shape: tuple, model: Path) -> InputConventions:
    """Declared conventions, with layout and size read from a 4-d input shape where not declared."""
    values = dict(declared)
    if len(input_shape) == 4 and "input_layout" not in values:
        if input_shape[3] == 3:
            values["input_layout"] = "NHWC"
        elif input_shape[1] == 3:
            values["input_layout"] = "NCHW"
    layout = str(values.get("input_layout", "NCHW")).upper()
    spatial = input_shape[1:3] if layout == "NHWC" else input_shape[2:4]
    if "input_size" not in values and len(input_shape) == 4 and None not in spatial:
        values["input_size"] = list(spatial)
    if not {"input_range", "mean"} & set(values):
        log.warning("%s declares no input normalisation (input_range or mean/std); assuming pixels in [0, 1]",
                    model.name)
    return InputConventions().with_overrides(values)
