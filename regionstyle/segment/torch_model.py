"""A segmenter around any PyTorch network that maps (N, 3, h, w) images to (N, K, h', w') class scores."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from regionstyle import threads
from regionstyle.datatypes import Segmentation
from regionstyle.errors import BadInput, SegmentationError
from regionstyle.segment.conventions import InputConventions
from regionstyle.segment.postprocess import scores_to_segmentation
from regionstyle.segment.preprocess import group_by_size, prepare_batch

if TYPE_CHECKING:
    import maskrules


class TorchSegmenter:
    """Runs ``network`` in eval mode on ``device``, ``batch_size`` same-sized images at a time.

    forward: maps the network's raw output to (N, K, h, w) scores (torchvision returns a dict).
    """

    def __init__(self, *, name: str, network: torch.nn.Module, vocabulary: maskrules.Vocabulary,
                 conventions: InputConventions, source: str, device: str = "cpu", batch_size: int = 4,
                 forward: Callable[[object], torch.Tensor] | None = None) -> None:
        self.name = name
        self.vocabulary = vocabulary
        self.conventions = conventions
        self.source = source
        self.device = device
        self.batch_size = batch_size
        self._network = network.eval().to(device)
        threads.apply_to_torch()  # torch may have loaded just now, after the run chose its thread count
        self._forward = forward or (lambda out: out)

    def segment(self, images: Sequence[np.ndarray]) -> list[Segmentation]:
        """float32 (H, W, 3) RGB images in [0, 1] -> one Segmentation each (see :class:`Segmenter`)."""
        results: list[Segmentation | None] = [None] * len(images)
        for size, indices in group_by_size(images).items():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start:start + self.batch_size]
                scores = self._run([images[i] for i in chunk])
                for index, image_scores in zip(chunk, scores):
                    results[index] = self._to_segmentation(image_scores, size)
        return results  # type: ignore[return-value]

    def _run(self, images: list[np.ndarray]) -> torch.Tensor:
        batch = torch.from_numpy(prepare_batch(images, self.conventions)).to(self.device)
        try:
            with torch.inference_mode():
                scores = self._forward(self._network(batch))
        except RuntimeError as exc:  # shape limits, out of memory: one line, not a trace from deep inside
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SegmentationError(f"{self.name} failed on a batch of shape {tuple(batch.shape)} on "
                                    f"{self.device}: {first}") from exc
        k = len(self.vocabulary.classes)
        if scores.ndim != 4 or scores.shape[1] != k:
            raise SegmentationError(
                f"{self.name}: expected scores of shape (N, {k}, h, w) for the {self.vocabulary.name} "
                f"vocabulary, got {tuple(scores.shape)}")
        return scores

    def _to_segmentation(self, scores: torch.Tensor, size: tuple[int, int]) -> Segmentation:
        return scores_to_segmentation(scores.float().contiguous(), size=size, output=self.conventions.output,
                                      channel_axis=0, class_names=self.vocabulary.classes,
                                      vocabulary=self.vocabulary.name, source=self.source)


def load_into(network: torch.nn.Module, state_dict: dict, *, what: str) -> torch.nn.Module:
    """``load_state_dict(strict=True)`` with a message that says which checkpoint did not fit."""
    try:
        network.load_state_dict(state_dict, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BadInput(f"weights do not fit {what}: {first} (is it the right checkpoint?)") from exc
    return network
