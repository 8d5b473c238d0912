"""The small exception tree of regionstyle.

Every error a user can cause or meet derives from :class:`RegionStyleError`. The CLI maps each to one
clean line on stderr and to ``exit_code``: 2 for bad input (files, images, rules, options), 1 for
failures at run time. Rule-file mistakes are :class:`maskrules.RuleError`, which the CLI treats as bad
input too (maskrules is standard-library only and cannot derive from this tree).
"""

from __future__ import annotations


class RegionStyleError(Exception):
    """Base class for every error regionstyle raises on purpose."""

    exit_code: int = 1


class BadInput(RegionStyleError):
    """The user gave something unusable: a missing file, a bad option value, a mismatched label map."""

    exit_code = 2


class BadImage(BadInput):
    """An image file that cannot be read: missing, empty, truncated, not an image, or too large."""


class BadModelFile(BadInput):
    """A segmentation model file that its runtime cannot load or run, or whose output does not fit its
    descriptor: the user's file, so bad input (exit code 2), like a broken image."""


class WeightsUnavailable(RegionStyleError):
    """Pretrained weights are neither cached nor downloadable; the message lists the ways out."""


class MissingDependency(RegionStyleError):
    """An optional runtime (onnxruntime, ai-edge-litert ...) is not installed; names the extra to install."""


class WriteFailed(RegionStyleError):
    """An output could not be written for a reason of the moment (a full disk, an I/O error); nothing
    half-written is left behind."""


class NumericalFailure(RegionStyleError):
    """The optimisation produced NaN or infinite values; it stopped at the evaluation where they appeared."""


class SegmentationError(RegionStyleError):
    """A segmenter failed at run time or produced output that does not fit its declared conventions."""
