"""Frozen dataclasses that describe a parsed rules file; no parsing or resolution happens here.

Mapping fields are excluded from hashing (``hash=False``) so every object stays hashable; parameter
values are frozen (lists become tuples) for the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from maskrules.names import normalize_name
from maskrules.vocab import Vocabulary

_EMPTY: Mapping = MappingProxyType({})


@dataclass(frozen=True)
class StyleRef:
    """One style: a built-in generator, a style image, a weighted blend of styles, or a layered style.

    kind: "builtin", "image", "blend" or "layers".
    name: display name (the [styles] name, else the built-in name, else the image file name).
    builtin: the built-in style's name (kind "builtin"), else "".
    params: built-in parameters as sorted (name, value) pairs, e.g. (("palette", "terracotta"), ("tile", 24)).
    image: absolute path of the style image (kind "image").
    scale: resize factor for the style image (> 0).
    crop: (left, top, right, bottom) fractions of the style image in [0, 1], or None for the whole image.
    blend: (member, weight) pairs with weights > 0 summing to 1 (kind "blend").
    layers: (fine, coarse) for kind "layers": one style for the encoder's shallow style layers and one for
        its deep ones (neither layered itself); None otherwise.
    match: for an image style, which part of the painting gives the statistics: a class, alias or group
        name, True for the region's own classes, or None for the whole painting.
    labels: absolute path of the user's label map of the whole painting (in the rules' classes), read for
        ``match`` instead of segmenting the painting; None to segment it.
    """

    kind: str
    name: str
    builtin: str = ""
    params: tuple[tuple[str, object], ...] = ()
    image: Path | None = None
    scale: float = 1.0
    crop: tuple[float, float, float, float] | None = None
    blend: tuple[tuple[StyleRef, float], ...] = ()
    layers: tuple[StyleRef, StyleRef] | None = None
    match: str | bool | None = None
    labels: Path | None = None

    @property
    def children(self) -> tuple[StyleRef, ...]:
        """The styles this one is made of: blend members, or the fine and coarse parts (else none)."""
        return tuple(member for member, _ in self.blend) + (self.layers or ())


@dataclass(frozen=True)
class Rule:
    """One rule: these classes get this style (a [map] entry or a [[rule]] table).

    classes: class names, aliases or group names as written; ("*",) for the default rule.
    style: the style, or None for "keep" (pixels stay as in the photo).
    strength: style-weight multiplier (> 0).
    settings: transfer settings this rule sets for its own region (``content_weight``, ``color``,
        ``feather`` ...: whatever the settings schema allows per rule); the others come from [defaults],
        the command line or the API.
    priority: higher wins overlaps; ties go to the rule earlier in the file.
    key_path: "map.sky" or "rule[2]" (rules numbered from 1 in [[rule]] order); line: where it is written.
    """

    classes: tuple[str, ...]
    style: StyleRef | None
    key_path: str
    name: str
    strength: float = 1.0
    settings: Mapping[str, object] = field(default_factory=lambda: _EMPTY, hash=False)
    priority: int = 0
    line: int | None = None

    @property
    def is_default(self) -> bool:
        """True for the "*" rule, which takes every class no other rule claims."""
        return self.classes == ("*",)


@dataclass(frozen=True)
class SegmentationSpec:
    """The [segmentation] table: where class labels come from and how a model file wants its input.

    model: "auto", a registered segmenter name, or "file" when ``model_file`` is set.
    labels: a label-map PNG (absolute) to use instead of a model.
    masks: a folder of region masks (absolute; one PNG per region, as ``--masks`` writes them) that
        replaces the segmentation altogether.
    classes / classes_file: a vocabulary name, or a class-list file (absolute); ``vocabulary`` is the
        vocabulary either one names, already loaded (None when neither is given).
    min_area: regions smaller than this share of the image, in [0, 1), are dropped.
    input_* / mean / std / output: model-file conventions; None = not given (the segmenter decides).
    """

    model: str = "auto"
    model_file: Path | None = None
    labels: Path | None = None
    masks: Path | None = None
    classes: str | None = None
    classes_file: Path | None = None
    vocabulary: Vocabulary | None = None
    min_area: float = 0.0
    input_size: tuple[int, int] | None = None
    input_layout: str | None = None
    channel_order: str | None = None
    input_range: tuple[float, float] | None = None
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    output: str | None = None


@dataclass(frozen=True)
class RuleSet:
    """A whole parsed rules file.

    rules: every [map] entry and [[rule]] table, numbered in the order they appear in the file.
    defaults: the [defaults] table, checked against the settings schema the parser was given.
    styles: the [styles] table, resolved. groups: user aliases as written (name -> member names).
    source: the rules file, or None for text parsed without one.
    """

    rules: tuple[Rule, ...]
    styles: Mapping[str, StyleRef] = field(default_factory=lambda: _EMPTY, hash=False)
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _EMPTY, hash=False)
    segmentation: SegmentationSpec = SegmentationSpec()
    defaults: Mapping[str, object] = field(default_factory=lambda: _EMPTY, hash=False)
    source: Path | None = None

    def class_names_used(self) -> tuple[str, ...]:
        """Class and alias names the rules need from a vocabulary, groups expanded, "*" left out.

        In order of first use, each spelled as first written; useful to choose a segmenter ("auto").
        """
        groups = {normalize_name(k): v for k, v in self.groups.items()}
        seen: dict[str, str] = {}

        def visit(name: str, depth: int) -> None:
            key = normalize_name(name)
            if key in groups and depth < 64:  # parse rejects cycles; the bound guards hand-made sets
                for member in groups[key]:
                    visit(member, depth + 1)
            elif name != "*" and key not in groups:
                seen.setdefault(key, name)

        for rule in self.rules:
            for name in rule.classes:
                visit(name, 0)
        return tuple(seen.values())
