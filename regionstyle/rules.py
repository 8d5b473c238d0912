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
        return maskrules.parse_rules(rules, **options)
    return maskrules.load_rules(Path(rules), **options)


def referenced_files(ruleset: maskrules.RuleSet) -> list[Path]:
    """Files a rules file refers to: label map, model file, class list, style images (blends flattened)."""
    spec = ruleset.segmentation
    files = [p for p in (spec.labels, spec.model_file, spec.classes_file) if p is not None]
    files += folder_files(spec.masks)  # region masks an editor may have changed
    refs = [rule.style for rule in ruleset.rules if rule.style is not None] + list(ruleset.styles.values())
    while refs:
        ref = refs.pop()
        refs += [member for member, _ in ref.blend]
        if ref.image is not None:
            files.append(Path(ref.image))
    return sorted(set(files))


def folder_files(folder: Path | str | None) -> list[Path]:
    """The files of a region-mask folder (``--labels DIR``, ``[segmentation] masks``); [] for None or a file."""
    if folder is None or not Path(folder).is_dir():
        return []
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in (".png", ".json"))
