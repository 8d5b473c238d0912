"""Semantic matching: a region takes its style from the matching part of a painting (``match`` in the rules).

``sky = { image = "starry.jpg", match = "sky" }`` segments the painting with the segmenter the photo used
(:func:`regionstyle.pipeline.segment_painting`, cached per painting in the Session) and gives the region the
statistics of the painting's sky only: the exemplar carries the mask of those classes (``StyleSource.masks``)
and the masked target reads only there. ``match = true`` asks for the region's own classes (a building
region matches the painting's buildings). A name is a class, alias or group, resolved in the painting's
vocabulary like a rule's classes.

When the classes cover less than :data:`MIN_SHARE` of the painting the whole painting is used and a
warning says so. Why 2%: the targets read the painting at the content's scale, and at the deepest style taps
(stride 16 to 32) a 2% part of a 512 px painting keeps only a few dozen positions, too few for a stable
statistic of hundreds of channels; and the segmenter, trained on photos, leaves small mislabelled patches
on paintings (on the shared paintings with the bundled DeepLabV3: see docs/rules.md), which a higher bar
keeps out while a real sky or sea (10-60% of a landscape) passes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from typing import TYPE_CHECKING

import numpy as np

import maskrules
from maskrules import ResolvedRegion, StyleRef
from regionstyle.datatypes import Segmentation

if TYPE_CHECKING:  # a painting's mask becomes a tensor only when a match is made (explain needs no torch)
    import torch

log = logging.getLogger(__name__)

MIN_SHARE = 0.02  # below this share of the painting a match falls back to the whole painting
# A painting segmented as the photo was: its labels and the vocabulary they are in.
PaintingLabels = Callable[[StyleRef], tuple[Segmentation, maskrules.Vocabulary]]


@dataclass(frozen=True)
class PaintingMatch:
    """Which part of a painting one matched style leaf reads.

    style: the leaf's style name; painting: its file name; classes: the names asked for; share: the part of
    the painting they cover, in [0, 1]; mask: (H, W) float32 of the painting where used, None when the
    share is under :data:`MIN_SHARE` and the whole painting is used instead; labelled_by: the file name of
    the user's label map of the painting, "" when the painting was segmented.
    """

    style: str
    painting: str
    classes: tuple[str, ...]
    share: float
    mask: torch.Tensor | None
    labelled_by: str = ""

    @property
    def fallback(self) -> bool:
        return self.mask is None

    def message(self) -> str:
        asked = "+".join(self.classes) or "(no class)"
        if self.fallback:
            return (f"style '{self.style}': '{asked}' covers {self.share:.1%} of {self.painting} (under "
                    f"{MIN_SHARE:.0%}); using the whole painting instead")
        by = f" (by the label map {self.labelled_by})" if self.labelled_by else ""
        return f"style '{self.style}': {self.share:.1%} of {self.painting} matches '{asked}'{by}"

    def row(self) -> dict:
        """JSON-able, for reports and ``explain``."""
        return {"style": self.style, "painting": self.painting, "match": list(self.classes),
                "share": round(self.share, 5), "used": "whole painting" if self.fallback else "matched part",
                "labels": self.labelled_by or None}


def matched_leaves(ref: StyleRef | None) -> list[StyleRef]:
    """The image styles with a ``match`` inside ``ref`` (through blends and layered parts), each once."""
    found: dict[StyleRef, None] = {}
    refs = [ref] if ref is not None else []
    while refs:
        current = refs.pop()
        refs += list(current.children)
        if current.kind == "image" and current.match is not None:
            found[current] = None
    return list(found)


def asked_ids(leaf: StyleRef, region: ResolvedRegion, vocabulary: maskrules.Vocabulary,
              groups: Mapping[str, tuple[str, ...]]) -> tuple[tuple[str, ...], frozenset[int]]:
    """(names asked for, their ids in the painting's ``vocabulary``).

    ``match = true``: the region's own classes, by name (each exactly, no alias widening: a building region
    that lost ``house`` to another rule does not match the painting's houses).
    """
    if leaf.match is True:
        names = region.class_names
        return names, frozenset().union(*(vocabulary.exact_ids(name) for name in names))
    names = (str(leaf.match),)
    return names, maskrules.ids_for_names(names, vocabulary, groups)


def match_leaf(leaf: StyleRef, region: ResolvedRegion, labels: Segmentation, vocabulary: maskrules.Vocabulary,
               groups: Mapping[str, tuple[str, ...]]) -> PaintingMatch:
    """The part of ``leaf``'s painting (segmented as ``labels``) that ``region`` reads; warns on a fallback."""
    names, ids = asked_ids(leaf, region, vocabulary, groups)
    hit = np.isin(labels.labels, np.fromiter(ids, dtype=np.int64, count=len(ids)))
    share = float(hit.mean())
    import torch  # the optimiser's mask; only here, when a painting is matched

    mask = torch.from_numpy(hit.astype(np.float32)) if share >= MIN_SHARE else None
    found = PaintingMatch(style=leaf.name, painting=leaf.image.name if leaf.image else "?", classes=names,
                          share=share, mask=mask, labelled_by=leaf.labels.name if leaf.labels else "")
    if found.fallback:
        log.warning("%s", found.message())
    else:
        log.info("%s", found.message())
    return found


def match_region(region: ResolvedRegion, paintings: PaintingLabels,
                 groups: Mapping[str, tuple[str, ...]]) -> dict[StyleRef, PaintingMatch]:
    """Every matched leaf of ``region``'s style -> what it reads (an empty dict when nothing matches)."""
    matches = {}
    for leaf in matched_leaves(region.style):
        labels, vocabulary = paintings(leaf)
        matches[leaf] = match_leaf(leaf, region, labels, vocabulary, groups)
    return matches


def painting_masks(matches: Mapping[StyleRef, PaintingMatch]) -> dict[StyleRef, torch.Tensor]:
    """leaf -> mask, for the leaves that read a part of their painting (fallbacks read all of it)."""
    return {leaf: found.mask for leaf, found in matches.items() if found.mask is not None}
