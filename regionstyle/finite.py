"""NaN and infinity during the optimisation: caught at the evaluation where they appear, never at the end.

A loss that turns NaN or infinite (an encoder whose weights overflow, a bfloat16 overflow, a style weight
far out of scale) makes L-BFGS fill the pixels with NaN; without a check the run goes on to its last
iteration and fails only when the image is written. Each evaluation's terms are plain floats already (for
progress reports), so checking them costs nothing.
"""

from __future__ import annotations

import math

import torch

from regionstyle.errors import NumericalFailure

ADVICE = ("try --precision fp32, a smaller --style-weight, or other encoder weights (their activations may "
          "overflow)")


def check_terms(terms: dict[str, float], *, evaluation: int, size: tuple[int, int]) -> None:
    """NumericalFailure naming the terms that are not finite, the evaluation and the scale's size."""
    bad = {name: value for name, value in terms.items() if not math.isfinite(value)}
    if bad:
        shown = ", ".join(f"{name} = {value}" for name, value in bad.items())
        raise NumericalFailure(f"the loss became non-finite at evaluation {evaluation} of the "
                               f"{size[1]}x{size[0]} px scale ({shown}); stopped there: {ADVICE}")


def check_pixels(pixels: torch.Tensor) -> None:
    """NumericalFailure when an optimised image holds NaN or infinite values."""
    if not bool(torch.isfinite(pixels).all()):
        raise NumericalFailure(f"the optimised pixels hold NaN or infinite values; stopped: {ADVICE}")
