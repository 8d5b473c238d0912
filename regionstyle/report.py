"""What a run reports: the JSON-able facts a manifest keeps, and what ``explain`` shows.

A manifest holds enough to reproduce a result: every setting, the versions, the segmenter and encoder that
really ran (and why), per-region areas and styles, the final losses, the seam measure and timings.
"""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Any

import numpy as np

import maskrules
from regionstyle.config import TransferConfig, region_setting, settings_dict
from regionstyle.datatypes import RegionMasks, Segmentation
from regionstyle.version import __version__


def versions() -> dict[str, str]:
    # Torch's own version string when it ran (it names the CUDA build); else, as always for torchvision,
    # the installed metadata: importing torchvision takes seconds (it loads torch._dynamo), and a run of
    # laid-in built-ins never loads torch at all.
    torch = sys.modules.get("torch")
    return {"regionstyle": __version__,
            "torch": torch.__version__ if torch is not None else metadata.version("torch"),
            "torchvision": metadata.version("torchvision")}


def build_report(config: TransferConfig, segmentation: Segmentation, segmenter_note: str, masks: RegionMasks,
                 resolution: maskrules.Resolution, optimise_report: dict[str, Any], *, seam: float | None,
                 timings: dict[str, float], threads: int) -> dict[str, Any]:
    """The report of one stylisation (see the module docstring)."""
    return {
        "versions": versions(),
        "settings": settings_dict(config),
        "threads": threads,
        "segmenter": {"source": segmentation.source, "vocabulary": segmentation.vocabulary,
                      "choice": segmenter_note},
        **optimise_report,
        "regions": region_rows(masks, resolution, config),
        "not_in_photo": absent_rules(masks, resolution),
        "seam": None if seam is None else round(seam, 4),
        "timings": {key: round(value, 3) for key, value in timings.items()},
    }


def absent_rules(masks: RegionMasks, resolution: maskrules.Resolution) -> list[str]:
    """Names of the styled rules left without a region in this photo: their classes are not there (or cover
    less than ``min_area``)."""
    present = set(masks.rule_index)
    return [rule.name for index, rule in enumerate(resolution.regions) if not rule.keep and index not in present]


def region_rows(masks: RegionMasks, resolution: maskrules.Resolution, config: TransferConfig) -> list[dict]:
    """One row per region mask: its name, share of the image, whether it is styled, its style, colour mode
    and style loss."""
    rows = []
    for name, area, styled, rule_index in zip(masks.names, masks.areas, masks.styled, masks.rule_index):
        rule = resolution.regions[rule_index] if rule_index >= 0 else None
        style = rule.style.name if rule is not None and rule.style is not None else None
        own = rule is not None and styled
        color = region_setting(rule, config, "color") if own else None
        loss = region_setting(rule, config, "style_loss") if own else None
        rows.append({"name": name, "area": round(area, 5), "styled": styled, "style": style, "color": color,
                     "style_loss": loss})
    return rows


def explain_report(segmentation: Segmentation, note: str, vocabulary: maskrules.Vocabulary,
                   resolution: maskrules.Resolution, ruleset: maskrules.RuleSet) -> dict[str, Any]:
    """Regions with their classes, shares and own settings, rules that style nothing, names the vocabulary
    lacks."""
    share = np.bincount(segmentation.labels.ravel(), minlength=len(vocabulary.classes)) / segmentation.labels.size
    present = {cid for cid in np.flatnonzero(share) if cid < len(vocabulary.classes)}
    regions = [{"region": r.name, "rule": r.key_path, "style": r.style.name if r.style else "keep",
                "settings": dict(r.settings),
                "share": round(float(sum(share[c] for c in r.class_ids if c < len(share))), 5),
                "classes": {vocabulary.classes[c]: round(float(share[c]), 5) for c in sorted(r.class_ids & present)}}
               for r in resolution.regions]
    idle = [r["rule"] for r in regions if not r["classes"]]
    return {"segmenter": note, "vocabulary": vocabulary.name, "regions": regions,
            "unused_rules": [ruleset.rules[i].key_path for i in resolution.unused_rules] + idle,
            "unknown_names": [f"{path}: {name}" for path, name in resolution.unknown_names],
            "uncovered_classes": {vocabulary.classes[c]: round(float(share[c]), 5)
                                  for c in sorted(present - resolution.claimed_ids)}}
