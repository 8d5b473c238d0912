"""Class vocabularies: which class id means what, and which names and aliases select which ids.

Built-ins: "ade20k" (151 ids, 0 = others, the scene-parsing / TensorFlow DeepLab convention),
"ade20k-150" (the same 150 classes as ids 0..149, the SegFormer / smp-hub convention), "cityscapes"
(19 train ids) and "voc" (21 ids, 0 = background). Class-list files are recognised as a built-in when
they spell the same classes, so a truncated labels.txt still gets full names, synonyms and aliases.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

from maskrules.errors import RuleError
from maskrules.names import did_you_mean, normalize_name
from maskrules.textfile import read_text
from maskrules.vocab_data import ADE20K_150, BUILTIN_ALIASES, CITYSCAPES_19, VOC_21, ClassList

_ID_LINE = re.compile(r"\s*(\d+)\s*[\s:,]\s*(\S.*?)\s*")


@dataclass(frozen=True)
class Vocabulary:
    """The classes of one segmentation convention.

    classes: name of every id (index = class id; "" for an id with no name).
    aliases: alias -> member class names; only aliases with at least one member in ``classes``.
    synonyms: class name -> other names that select exactly that class ("individual" -> person).
    """

    name: str
    classes: tuple[str, ...]
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    @cached_property
    def _exact(self) -> dict[str, frozenset[int]]:
        index: dict[str, set[int]] = {}
        for cid, cname in enumerate(self.classes):
            for spelling in (cname, *self.synonyms.get(cname, ())):
                if normalize_name(spelling):
                    index.setdefault(normalize_name(spelling), set()).add(cid)
        return {key: frozenset(ids) for key, ids in index.items()}

    @cached_property
    def _alias(self) -> dict[str, frozenset[int]]:
        return {normalize_name(alias): frozenset().union(*(self.exact_ids(m) for m in members))
                for alias, members in self.aliases.items()}

    def exact_ids(self, name: str) -> frozenset[int]:
        """Ids a class name or synonym selects directly (no alias expansion); empty if absent."""
        return self._exact.get(normalize_name(name), frozenset())

    def ids_for(self, name: str) -> frozenset[int]:
        """Ids a class name, synonym or alias selects (normalised); empty if this vocabulary lacks it."""
        key = normalize_name(name)
        return self._exact.get(key, frozenset()) | self._alias.get(key, frozenset())

    def knows(self, name: str) -> bool:
        """True when ``name`` selects at least one class of this vocabulary."""
        return bool(self.ids_for(name))

    def names(self, *, aliases: bool = True) -> frozenset[str]:
        """Every normalised class name and synonym this vocabulary understands, and its aliases."""
        return frozenset(self._exact) | (frozenset(self._alias) if aliases else frozenset())

    def spellings(self) -> tuple[str, ...]:
        """Class names, synonyms and aliases as written (for "did you mean" suggestions)."""
        synonyms = (s for group in self.synonyms.values() for s in group)
        return tuple(n for n in (*self.classes, *synonyms, *self.aliases) if n)


def _build(name: str, classes: tuple[str, ...], synonyms: Mapping[str, tuple[str, ...]]) -> Vocabulary:
    """A vocabulary with the built-in aliases reduced to the members it has."""
    bare = Vocabulary(name, classes, synonyms=MappingProxyType(dict(synonyms)))
    aliases = {alias: tuple(m for m in members if bare.exact_ids(m))
               for alias, members in BUILTIN_ALIASES.items()}
    return Vocabulary(name, classes, MappingProxyType({a: m for a, m in aliases.items() if m}),
                      MappingProxyType(dict(synonyms)))


def _from_data(name: str, data: ClassList, *, first: str | None = None) -> Vocabulary:
    rows = (((first, ()),) if first is not None else ()) + data
    return _build(name, tuple(n for n, _ in rows), {n: syn for n, syn in rows if syn})


_BUILTINS: dict[str, Vocabulary] = {
    v.name: v for v in (
        _from_data("ade20k", ADE20K_150, first="others"),
        _from_data("ade20k-150", ADE20K_150),
        _from_data("cityscapes", CITYSCAPES_19),
        _from_data("voc", VOC_21),
    )
}

VOCABULARY_NAMES: tuple[str, ...] = tuple(_BUILTINS)


def get_vocabulary(name: str) -> Vocabulary:
    """A built-in vocabulary by name (case- and separator-insensitive); a miss lists the valid names."""
    for vocab in _BUILTINS.values():
        if normalize_name(vocab.name) == normalize_name(name):
            return vocab
    raise RuleError(f"unknown vocabulary '{name}'{did_you_mean(name, VOCABULARY_NAMES, fold=True)}"
                    f" (valid: {', '.join(VOCABULARY_NAMES)})")


def builtin_vocabularies() -> tuple[Vocabulary, ...]:
    """Every built-in vocabulary, in :data:`VOCABULARY_NAMES` order."""
    return tuple(_BUILTINS.values())


def vocabulary_from_class_list(text: str, *, name: str = "custom") -> Vocabulary:
    """Parse a class-list file: one name per line, or ``id name`` / ``id<TAB>name`` / ``id: name`` lines.

    Blank lines and ``#`` comments are ignored; ids missing from an id list get "". When the list spells
    a built-in vocabulary (same length, each name equal to the built-in full name or its first word,
    normalised) that built-in is returned, full names and aliases included; otherwise a custom
    vocabulary named ``name`` to which the built-in aliases still apply.
    Raises RuleError for an empty list, mixed formats or a repeated id.
    """
    rows = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    rows = [row for row in rows if row]
    if not rows:
        raise RuleError("class list is empty")
    matches = [_ID_LINE.fullmatch(row) for row in rows]
    if all(matches):
        classes = _from_ids([(int(m.group(1)), m.group(2)) for m in matches if m])
    elif any(matches):
        raise RuleError("class list mixes 'id name' lines and bare names; use one form")
    else:
        classes = tuple(rows)
    for vocab in _BUILTINS.values():
        if _spells(classes, vocab.classes):
            return vocab
    return _build(name, classes, {})


def _from_ids(pairs: list[tuple[int, str]]) -> tuple[str, ...]:
    if max(cid for cid, _ in pairs) > 65535:
        raise RuleError("class list has an id above 65535")
    table = [""] * (max(cid for cid, _ in pairs) + 1)
    for cid, cname in pairs:
        if table[cid]:
            raise RuleError(f"class list gives id {cid} twice ('{table[cid]}' and '{cname}')")
        table[cid] = cname
    return tuple(table)


def _spells(given: tuple[str, ...], builtin: tuple[str, ...]) -> bool:
    return len(given) == len(builtin) and all(
        normalize_name(g) in (normalize_name(b), normalize_name(b.split(" ")[0]) if b else "")
        for g, b in zip(given, builtin))


def load_class_list(path: str | Path) -> Vocabulary:
    """Read a class-list file (UTF-8) with :func:`vocabulary_from_class_list`; errors name the file."""
    try:
        text = read_text(path)
        return vocabulary_from_class_list(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RuleError(f"cannot read class list: {exc}", path=path) from None
    except RuleError as exc:
        raise RuleError(exc.message, path=path) from None


def missing_by_vocabulary(names: Iterable[str],
                          candidates: Iterable[str | Vocabulary] = VOCABULARY_NAMES) -> dict[str, tuple[str, ...]]:
    """For each candidate vocabulary (a name or a Vocabulary), the given names it does not know.

    Candidate order is kept, so ``min(result, key=lambda k: len(result[k]))`` picks the first
    vocabulary that covers the most names. "*" is never missing.
    """
    wanted = [n for n in dict.fromkeys(names) if n != "*"]
    result: dict[str, tuple[str, ...]] = {}
    for cand in candidates:
        vocab = cand if isinstance(cand, Vocabulary) else get_vocabulary(cand)
        result[vocab.name] = tuple(n for n in wanted if not vocab.knows(n))
    return result
