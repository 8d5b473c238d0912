"""Which class names a rules file may use, and its [groups] table of user aliases.

A name is accepted when some built-in vocabulary knows it (class, synonym or built-in alias), when
the class list of [segmentation] classes has it, or when it is a group. Groups may name other groups;
a cycle is an error that spells the cycle. A group may not take the name of a class (that class would
become unreachable), but it may redefine a built-in alias such as "water".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from maskrules import values as v
from maskrules.names import KeyPath, did_you_mean, normalize_name
from maskrules.vocab import Vocabulary, builtin_vocabularies

_MAX_DEPTH = 64  # groups nested deeper than this are surely a mistake (and would strain recursion)


@dataclass
class Names:
    """The names a rules file may use as classes (normalised), plus spellings for suggestions."""

    known: set[str]
    classes: set[str]
    spellings: list[str]
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # normalised name -> members

    @classmethod
    def build(cls, custom: Vocabulary | None) -> Names:
        vocabs = (*builtin_vocabularies(), *((custom,) if custom is not None else ()))
        return cls(known=set().union(*(voc.names() for voc in vocabs)),
                   classes=set().union(*(voc.names(aliases=False) for voc in vocabs)),
                   spellings=[s for voc in vocabs for s in voc.spellings()])

    def check(self, ctx: v.Context, path: KeyPath, name: str) -> None:
        """Fail unless ``name`` is a class, alias or group somewhere."""
        key = normalize_name(name)
        if key not in self.known and key not in self.groups:
            ctx.fail(path, f"unknown class '{name}'{did_you_mean(name, self.spellings, fold=True)}"
                           " (not a class, alias or group of any vocabulary)")


def parse_groups(ctx: v.Context, raw: object, names: Names) -> dict[str, tuple[str, ...]]:
    """Read [groups] into ``names`` and return it as written: group name -> member names."""
    table = v.table(ctx, ("groups",), raw)
    spelled: dict[str, str] = {}
    for name, members in table.items():
        path, key = ("groups", name), normalize_name(name)
        if not key or name == "*":
            ctx.fail(path, f"'{name}' cannot be a group name")
        if key in names.classes:
            ctx.fail(path, f"group '{name}' has the name of a class; choose another name")
        if key in spelled:
            ctx.fail(path, f"group '{name}' repeats group '{spelled[key]}' (names ignore case, spaces, - and _)")
        spelled[key] = name
        names.groups[key] = v.strings(ctx, path, members)
        names.spellings.append(name)
    for name in table:
        for member in names.groups[normalize_name(name)]:
            if member == "*":
                ctx.fail(("groups", name), "'*' cannot be a group member")
            names.check(ctx, ("groups", name), member)
    for name in table:
        _no_cycle(ctx, names.groups, [name], spelled)
    return {name: names.groups[normalize_name(name)] for name in table}


def _no_cycle(ctx: v.Context, groups: dict[str, tuple[str, ...]], trail: list[str],
              spelled: dict[str, str]) -> None:
    """Depth-first walk from trail[-1]; fail on a group met twice on one path or nesting too deep."""
    if len(trail) > _MAX_DEPTH:
        ctx.fail(("groups", trail[0]), f"groups nested more than {_MAX_DEPTH} deep")
    for member in groups[normalize_name(trail[-1])]:
        key = normalize_name(member)
        if key not in groups:
            continue
        keys = [normalize_name(t) for t in trail]
        if key in keys:
            cycle = " -> ".join(spelled[k] for k in keys[keys.index(key):] + [key])
            ctx.fail(("groups", trail[0]), f"group cycle: {cycle}")
        _no_cycle(ctx, groups, trail + [spelled[key]], spelled)
