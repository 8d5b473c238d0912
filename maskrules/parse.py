"""TOML text -> :class:`RuleSet`. Every mistake becomes a RuleError naming file, line and key path.

Rules are numbered in the order they appear in the file, [map] entries and [[rule]] tables alike;
key paths count [[rule]] tables from 1 ("rule[1]" is the first). Class names are checked here against
every built-in vocabulary, alias and group (and the class list named by [segmentation] classes), so a
typo fails early with a suggestion; a name that some other vocabulary knows is left to
:func:`maskrules.resolve.resolve`, which reports it per vocabulary.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from maskrules import values as v
from maskrules.errors import RuleError
from maskrules.groups import Names, parse_groups
from maskrules.model import Rule, RuleSet
from maskrules.names import KeyPath, join_key
from maskrules.settings import SettingRule, check_setting, parse_defaults, parse_segmentation
from maskrules.styles import DEFAULT_BUILTIN_STYLES, StyleResolver
from maskrules.textfile import read_text

_TOP_LEVEL = ("map", "rule", "styles", "groups", "segmentation", "defaults")
_RULE_KEYS = frozenset({"classes", "style", "strength", "priority", "name"})
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def load_rules(path: str | Path, *, builtin_styles: Mapping[str, frozenset[str] | None] | None = None,
               settings: Mapping[str, SettingRule] | None = None) -> RuleSet:
    """Read and parse a rules file (UTF-8 TOML); relative paths in it are relative to its folder."""
    try:
        text = read_text(path)
    except (OSError, ValueError) as exc:  # ValueError: NUL in the name, not UTF-8, not a regular file
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise RuleError(f"cannot read rules file: {reason}", path=path) from None
    return parse_rules(text, source=path, builtin_styles=builtin_styles, settings=settings)


def parse_rules(text: str, *, source: str | Path | None = None,
                builtin_styles: Mapping[str, frozenset[str] | None] | None = None,
                settings: Mapping[str, SettingRule] | None = None) -> RuleSet:
    """Parse rules text. ``source`` names the file in messages and anchors relative paths (else cwd).

    builtin_styles: each built-in style name -> its allowed parameter names (None: any parameter).
    Defaults to :data:`maskrules.styles.DEFAULT_BUILTIN_STYLES`.
    settings: the transfer settings [defaults] (and, where marked ``per_rule``, a [[rule]] table) may set,
    each with the rule that checks its value (regionstyle passes its schema). Without it, [defaults] and
    extra rule keys are taken unchecked.
    """
    ctx = v.Context(text, source)
    data = _toml(ctx)
    v.table(ctx, (), data, _TOP_LEVEL)
    for key, value in data.items():
        if key != "rule":
            v.table(ctx, (key,), value)
    segmentation = parse_segmentation(ctx, data.get("segmentation", {}))
    defaults = parse_defaults(ctx, data.get("defaults", {}), settings)
    names = Names.build(segmentation.vocabulary)
    groups = parse_groups(ctx, data.get("groups", {}), names)  # before styles: ``match`` may name a group
    resolver = StyleResolver(ctx, data.get("styles", {}), builtin_styles or DEFAULT_BUILTIN_STYLES, names)
    styles = resolver.resolve_all()
    reader = _RuleReader(ctx, resolver, names, settings)
    rules = reader.map_entries(data.get("map", {})) + reader.rule_tables(data.get("rule", []))
    ordered = sorted(enumerate(rules), key=lambda pair: (pair[1].line or 0, pair[0]))
    return RuleSet(rules=tuple(rule for _, rule in ordered), styles=MappingProxyType(styles),
                   groups=MappingProxyType(groups), segmentation=segmentation, defaults=defaults,
                   source=Path(os.path.abspath(source)) if source is not None else None)


def _toml(ctx: v.Context) -> dict:
    try:
        return tomllib.loads(ctx.text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_POSITION.search(message)
        line = int(found.group(1)) if found else None
        detail = message[:found.start()] + f" (column {found.group(2)})" if found else message
        raise RuleError(f"invalid TOML: {detail}", path=ctx.source, line=line) from None
    except RecursionError:
        raise RuleError("invalid TOML: arrays or tables nested too deeply", path=ctx.source) from None


class _RuleReader:
    """Builds Rule objects from [map] entries and [[rule]] tables."""

    def __init__(self, ctx: v.Context, resolver: StyleResolver, names: Names,
                 settings: Mapping[str, SettingRule] | None) -> None:
        self.ctx, self.resolver, self.names = ctx, resolver, names
        self.settings = None if settings is None else {k: s for k, s in settings.items() if s.per_rule}

    def map_entries(self, table: dict) -> list[Rule]:
        rules = []
        for key, value in table.items():
            path = ("map", key)
            self.check_classes(path, (key,))
            style = self.resolver.value(path, value, allow_keep=True)
            rules.append(Rule(classes=(key,), style=style, key_path=join_key(path),
                              name="default" if key == "*" else key, line=self.ctx.line(path)))
        return rules

    def rule_tables(self, raw: object) -> list[Rule]:
        if isinstance(raw, dict):
            self.ctx.fail(("rule",), "write rules as [[rule]] tables (double brackets), not [rule]")
        if not isinstance(raw, list):
            self.ctx.fail(("rule",), f"expected [[rule]] tables, got {v.describe(raw)}")
        return [self.rule((f"rule[{i}]",), item) for i, item in enumerate(raw, start=1)]

    def rule(self, path: KeyPath, raw: object) -> Rule:
        allowed = None if self.settings is None else _RULE_KEYS | set(self.settings)
        table = v.table(self.ctx, path, raw, allowed)
        for required in ("classes", "style"):
            if required not in table:
                self.ctx.fail(path, f"a rule needs '{required}'")
        at = lambda key: path + (key,)  # noqa: E731 - a short key-path builder
        classes = tuple(dict.fromkeys(v.strings(self.ctx, at("classes"), table["classes"])))
        self.check_classes(at("classes"), classes)
        own = {
            "strength": lambda x: v.number(self.ctx, at("strength"), x, low=0.0, low_open=True),
            "priority": lambda x: v.integer(self.ctx, at("priority"), x),
            "name": lambda x: v.string(self.ctx, at("name"), x),
        }
        fields = {key: read(table[key]) for key, read in own.items() if key in table}
        fields.setdefault("name", "default" if classes == ("*",) else "+".join(classes))
        style = self.resolver.value(at("style"), table["style"], allow_keep=True)
        settings = {key: self.setting(at(key), key, value) for key, value in table.items() if key not in _RULE_KEYS}
        return Rule(classes=classes, style=style, key_path=join_key(path), line=self.ctx.line(path),
                    settings=MappingProxyType(settings), **fields)

    def setting(self, path: KeyPath, key: str, value: object) -> object:
        if self.settings is None:
            return value
        try:
            return check_setting(self.settings[key], value, base_dir=self.ctx.base_dir)
        except v.BadValue as problem:
            self.ctx.fail(path, str(problem))

    def check_classes(self, path: KeyPath, classes: tuple[str, ...]) -> None:
        if "*" in classes and len(classes) > 1:
            self.ctx.fail(path, "'*' (every other class) must be the only class of its rule")
        for name in classes:
            if name != "*":
                self.names.check(self.ctx, path, name)
