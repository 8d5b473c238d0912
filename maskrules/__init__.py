"""maskrules: the rule language of regionstyle (which classes of a photo get which style).

Standard library only: no torch, numpy or regionstyle imports, so rules can be checked anywhere.

    ruleset = load_rules("city.toml")                     # parse + validate (RuleError on mistakes)
    resolution = resolve(ruleset, get_vocabulary("ade20k"))  # class ids per style region
"""

from maskrules.errors import RuleError
from maskrules.model import Rule, RuleSet, SegmentationSpec, StyleRef
from maskrules.settings import SettingRule, check_setting
from maskrules.values import BadValue
from maskrules.parse import load_rules, parse_rules
from maskrules.resolve import Resolution, ResolvedRegion, ids_for_names, resolve
from maskrules.styles import DEFAULT_BUILTIN_STYLES, IMAGE_EXTENSIONS
from maskrules.vocab import (
    VOCABULARY_NAMES,
    Vocabulary,
    get_vocabulary,
    load_class_list,
    missing_by_vocabulary,
    vocabulary_from_class_list,
)

__all__ = [
    "DEFAULT_BUILTIN_STYLES",
    "IMAGE_EXTENSIONS",
    "VOCABULARY_NAMES",
    "BadValue",
    "Resolution",
    "ResolvedRegion",
    "Rule",
    "RuleError",
    "RuleSet",
    "SegmentationSpec",
    "SettingRule",
    "StyleRef",
    "Vocabulary",
    "check_setting",
    "get_vocabulary",
    "ids_for_names",
    "load_class_list",
    "load_rules",
    "missing_by_vocabulary",
    "parse_rules",
    "resolve",
    "vocabulary_from_class_list",
]
