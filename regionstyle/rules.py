"""Loading a rules file for regionstyle: maskrules' parser, given the built-in styles and the settings schema.

maskrules is standard-library only and knows neither; this is where regionstyle hands them over.
"""

from __future__ import annotations

from pathlib import Path

import maskrules
from regionstyle import config


def load_ruleset(rules: maskrules.RuleSet | str | Path) -> maskrules.RuleSet:
    """A RuleSet from a RuleSet, a rules-file path, or TOML text (a string holding a newline or '=')."""
    if isinstance(rules, maskrules.RuleSet):
        return rules
    from regionstyle import styles

    options = {"builtin_styles": styles.builtin_param_names(), "settings": config.rules_settings()}
    if isinstance(rules, str) and ("\n" in rules or "=" in rules):
        ruleset = maskrules.parse_rules(rules, **options)
    else:
        ruleset = maskrules.load_rules(Path(rules), **options)
    check_style_params(ruleset)
    spec = ruleset.segmentation
    if spec.model_file is None and spec.model not in (None, "auto"):  # a typo fails now, not after the photo
        from regionstyle.segment.registry import get_segmenter_info

        get_segmenter_info(spec.model)
    if spec.input_size is not None:  # its size limits, before any model is opened
        from regionstyle.segment.conventions import InputConventions

        InputConventions().with_overrides({"input_size": spec.input_size})
    return ruleset


def check_style_params(ruleset: maskrules.RuleSet) -> None:
    """Every built-in style's parameter values checked now (maskrules knows only their names), so a bad
    ``tile`` is refused before a segmenter runs, not when the style is painted."""
    from regionstyle import styles
    from regionstyle.errors import BadInput

    refs = [rule.style for rule in ruleset.rules if rule.style is not None] + list(ruleset.styles.values())
    while refs:
        ref = refs.pop()
        refs += list(ref.children)  # blend members and layered parts
        if ref.kind == "builtin":
            try:
                styles.get_builtin(ref.builtin).resolve(dict(ref.params))
            except BadInput as exc:
                raise BadInput(f"{ruleset.source or 'rules'}: {exc}") from None


def referenced_files(ruleset: maskrules.RuleSet) -> list[Path]:
    """Files a rules file refers to: label map, model file, class list, style images (blends flattened) and
    their label maps."""
    spec = ruleset.segmentation
    files = [p for p in (spec.labels, spec.model_file, spec.classes_file) if p is not None]
    files += folder_files(spec.masks)  # region masks an editor may have changed
    refs = [rule.style for rule in ruleset.rules if rule.style is not None] + list(ruleset.styles.values())
    while refs:
        ref = refs.pop()
        refs += list(ref.children)  # blend members and layered parts
        files += [Path(path) for path in (ref.image, ref.labels) if path is not None]
    return sorted(set(files))


def folder_files(folder: Path | str | None) -> list[Path]:
    """The files of a region-mask folder (``--labels DIR``, ``[segmentation] masks``); [] for None or a file."""
    if folder is None or not Path(folder).is_dir():
        return []
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in (".png", ".json"))
