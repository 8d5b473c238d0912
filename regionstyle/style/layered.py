"""Layered styles: one style for the encoder's fine style layers and another for its coarse ones.

A rule may write ``{ layers = { fine = "mosaic", coarse = "starry" } }``: the fine part's statistics are the
targets of the shallow taps (edges, grain, tile joints) and the coarse part's those of the deep taps
(motifs, swirls, large shapes). Which taps are fine is :attr:`regionstyle.encoder.LayerPlan.fine_taps`.
Each part is computed as the style it is alone (a built-in rendered from the region, a painting, a blend),
then the per-tap targets are put together; everything not per tap (the colour moments) is the fine part's:
colour is a pixel-level statistic and the fine part is also where the optimisation starts
(:func:`regionstyle.style.region.rendering`).
"""

from __future__ import annotations

from dataclasses import fields, replace

from regionstyle.style.targets import StyleTarget


def split_taps(taps: tuple[str, ...], fine_taps: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``taps`` as (fine, coarse), each in the order given."""
    return tuple(t for t in taps if t in fine_taps), tuple(t for t in taps if t not in fine_taps)


def merge_targets(fine: StyleTarget, coarse: StyleTarget | None) -> StyleTarget:
    """The fine part's target with the coarse part's per-tap statistics added.

    Every dict field of :class:`StyleTarget` is per tap (``grams``, and whatever other statistics a loss
    keeps per tap): fine and coarse were computed on disjoint taps, so their union is the layered target.
    The other fields (colour mean and covariance) stay the fine part's. ``coarse`` None: ``fine`` as is
    (a scale whose plan has no coarse tap).
    """
    if coarse is None:
        return fine
    merged = {f.name: {**getattr(fine, f.name), **getattr(coarse, f.name)}
              for f in fields(StyleTarget) if isinstance(getattr(fine, f.name), dict)}
    return replace(fine, **merged)
