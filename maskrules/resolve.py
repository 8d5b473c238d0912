"""RuleSet + Vocabulary -> which class ids go to which style. Pure: no I/O, no logging.

The overlap rule: each class id goes to the rule with the highest ``priority``; among equals, a rule
that names the class directly (its class name or a synonym) beats one that reaches it through an alias
or a group; among those, the rule earlier in the file wins. The "*" rule never competes: it takes the
ids no other rule claims (with several "*" rules, the highest priority, then the earliest, wins).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from maskrules.model import Rule, RuleSet, StyleRef
from maskrules.names import normalize_name
from maskrules.vocab import Vocabulary

_MAX_DEPTH = 64


@dataclass(frozen=True)
class ResolvedRegion:
    """One style region of an image: the class ids it covers and how to style them.

    rule_index: index into ``RuleSet.rules`` of the rule that made it, or -1 for the "*" region
        (``key_path`` still says which entry of the file it came from).
    class_names: the vocabulary's names of ``class_ids``, in id order.
    settings: the rule's own transfer settings (see :class:`~maskrules.model.Rule`).
    """

    name: str
    style: StyleRef | None
    class_ids: frozenset[int]
    class_names: tuple[str, ...]
    rule_index: int
    key_path: str
    strength: float = 1.0
    settings: Mapping[str, object] = field(default_factory=dict, hash=False)
    priority: int = 0

    @property
    def keep(self) -> bool:
        """True when these pixels stay as in the photo."""
        return self.style is None


@dataclass(frozen=True)
class Resolution:
    """The regions of a rule set in one vocabulary.

    regions: in rule order, the "*" region last; only rules that won at least one id.
    unused_rules: indices into ``RuleSet.rules`` of rules that got no id (lost every overlap, or named
        only classes this vocabulary lacks).
    unknown_names: (key path, name) for each name that selects nothing in this vocabulary
        ("groups.<name>" when the name is a group member).
    claimed_ids: every id some region covers; the other ids of the vocabulary stay as in the photo.
    """

    regions: tuple[ResolvedRegion, ...]
    vocabulary: Vocabulary
    unused_rules: tuple[int, ...]
    unknown_names: tuple[tuple[str, str], ...]
    claimed_ids: frozenset[int]

    @property
    def unclaimed_ids(self) -> frozenset[int]:
        """Ids no region covers (only possible without a "*" rule)."""
        return frozenset(range(len(self.vocabulary.classes))) - self.claimed_ids


def resolve(ruleset: RuleSet, vocabulary: Vocabulary) -> Resolution:
    """Assign every class id of ``vocabulary`` to at most one rule of ``ruleset`` (see module doc)."""
    groups = {normalize_name(k): (k, v) for k, v in ruleset.groups.items()}
    unknown: list[tuple[str, str]] = []
    best: dict[int, tuple[tuple[int, int, int], int]] = {}  # id -> (rank, rule index)
    for index, rule in enumerate(ruleset.rules):
        if rule.is_default:
            continue
        for cid, direct in _expand(rule, groups, vocabulary, unknown).items():
            rank = (-rule.priority, 0 if direct else 1, index)
            if cid not in best or rank < best[cid][0]:
                best[cid] = (rank, index)
    won: dict[int, set[int]] = {}
    for cid, (_, index) in best.items():
        won.setdefault(index, set()).add(cid)
    regions = [_region(ruleset.rules[i], i, won[i], vocabulary) for i in sorted(won)]
    regions += _default_region(ruleset.rules, set(best), vocabulary)
    used = {r.rule_index for r in regions} | _default_index(ruleset.rules, regions)
    unused = tuple(i for i in range(len(ruleset.rules)) if i not in used)
    claimed = frozenset().union(*(r.class_ids for r in regions))
    return Resolution(tuple(regions), vocabulary, unused, tuple(unknown), claimed)


def ids_for_names(names: tuple[str, ...], vocabulary: Vocabulary,
                  groups: Mapping[str, tuple[str, ...]] | None = None) -> frozenset[int]:
    """The class ids that ``names`` (classes, aliases or groups, as a rule's classes) select in ``vocabulary``.

    groups: a rules file's [groups] (``RuleSet.groups``). Names the vocabulary lacks select nothing.
    """
    table = {normalize_name(k): (k, v) for k, v in (groups or {}).items()}
    probe = Rule(classes=tuple(names), style=None, key_path="", name="")
    return frozenset(_expand(probe, table, vocabulary, []))


def _expand(rule: Rule, groups: dict[str, tuple[str, tuple[str, ...]]], vocabulary: Vocabulary,
            unknown: list[tuple[str, str]]) -> dict[int, bool]:
    """Ids a rule's names select -> True where named directly (class or synonym), False via alias/group."""
    found: dict[int, bool] = {}

    def visit(name: str, where: str, via_group: bool, depth: int) -> None:
        key = normalize_name(name)
        if key in groups and depth < _MAX_DEPTH:
            group_name, members = groups[key]
            for member in members:
                visit(member, f"groups.{group_name}", True, depth + 1)
            return
        exact, wide = vocabulary.exact_ids(name), vocabulary.ids_for(name)
        if not wide:
            unknown.append((where, name))
        for cid in wide:
            found[cid] = found.get(cid, False) or (cid in exact and not via_group)

    for name in rule.classes:
        visit(name, rule.key_path, False, 0)
    return found


def _region(rule: Rule, index: int, ids: set[int] | frozenset[int], vocabulary: Vocabulary) -> ResolvedRegion:
    return ResolvedRegion(
        name=rule.name, style=rule.style, class_ids=frozenset(ids),
        class_names=tuple(vocabulary.classes[i] for i in sorted(ids)), rule_index=index,
        key_path=rule.key_path, strength=rule.strength, settings=rule.settings, priority=rule.priority)


def _default_winner(rules: tuple[Rule, ...]) -> int | None:
    candidates = [i for i, rule in enumerate(rules) if rule.is_default]
    return min(candidates, key=lambda i: (-rules[i].priority, i)) if candidates else None


def _default_region(rules: tuple[Rule, ...], claimed: set[int], vocabulary: Vocabulary) -> list[ResolvedRegion]:
    index = _default_winner(rules)
    rest = frozenset(range(len(vocabulary.classes))) - claimed
    if index is None or not rest:
        return []
    return [_region(rules[index], -1, rest, vocabulary)]


def _default_index(rules: tuple[Rule, ...], regions: list[ResolvedRegion]) -> set[int]:
    """The "*" rule counts as used when its region exists (its region's rule_index is -1)."""
    index = _default_winner(rules)
    return {index} if index is not None and any(r.rule_index == -1 for r in regions) else set()
