"""Name handling shared by every maskrules module: normalisation, key paths and "did you mean".

Class names are compared case-, space-, underscore- and hyphen-insensitively, so "Traffic Light",
"traffic_light" and "traffic-light" all name the same class. Key paths name a place in the rules file
("rule[2].style", 'map."traffic light"'); they are built from segments so that the parser and the
line locator spell them identically.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

_SEPARATORS = re.compile(r"[\s_\-]+")
_BARE_KEY = re.compile(r"[A-Za-z0-9_\-]+(\[\d+\])?")

KeyPath = tuple[str, ...]


def normalize_name(name: str) -> str:
    """Fold a class or alias name for comparison: 'Traffic Light' -> 'trafficlight'."""
    return _SEPARATORS.sub("", name).casefold()


def join_key(path: Iterable[str]) -> str:
    """Spell a key path: ('map', 'traffic light') -> 'map."traffic light"'; ('rule[2]', 'style') as is."""
    return ".".join(seg if _BARE_KEY.fullmatch(seg) else _quote(seg) for seg in path)


def _quote(segment: str) -> str:
    escaped = segment.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def did_you_mean(word: str, candidates: Iterable[str], *, fold: bool = False) -> str:
    """Return "; did you mean 'x'?" for the closest candidate, or "" when nothing is close.

    fold: compare normalised names (for class names), but suggest the candidate as it is spelled.
    """
    spelled: dict[str, str] = {}
    for cand in candidates:
        spelled.setdefault(normalize_name(cand) if fold else cand, cand)
    key = normalize_name(word) if fold else word
    close = difflib.get_close_matches(key, list(spelled), n=1, cutoff=0.6)
    return f"; did you mean '{spelled[close[0]]}'?" if close else ""
