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
