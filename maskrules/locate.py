"""Find the line where a key path is written in TOML text (tomllib reports no positions).

A best-effort scanner for text that tomllib has already accepted: it tokenises strings, comments and
punctuation, follows table headers (``[a.b]``, ``[[rule]]`` numbered from 1) and inline tables, and
records the first line of every key path it meets. Anything it does not understand is skipped, never
raised: a missing line only makes an error message less precise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from maskrules.names import KeyPath, join_key

_TOKEN = re.compile(
    r'(?P<ml>"""(?:\\.|[^\\])*?"""|\'\'\'.*?\'\'\')'
    r'|(?P<str>"(?:\\.|[^"\\\n])*"|\'[^\'\n]*\')'
    r"|(?P<comment>#[^\n]*)"
    r"|(?P<nl>\n)"
    r"|(?P<punct>[\[\]{}=,])"
    r"|(?P<word>[^\s\[\]{}=,#\"']+)"
    r"|(?P<other>\S)",
    re.DOTALL,
)


def _tokens(text: str) -> Iterator[tuple[str, str, int]]:
    """Yield (kind, text, line) with comments dropped; kinds: str, word, punct, nl."""
    line = 1
    for match in _TOKEN.finditer(text):
        kind, value = match.lastgroup or "other", match.group()
        if kind == "ml":
            kind, value = "str", value[3:-3]
        elif kind == "str":
            value = value[1:-1]
        if kind != "comment":
            yield kind, value, line
        line += match.group().count("\n")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.toks = list(_tokens(text))
        self.pos = 0
        self.lines: dict[str, int] = {}
        self.arrays: dict[KeyPath, int] = {}

    def peek(self, offset: int = 0) -> tuple[str, str, int]:
        i = self.pos + offset
        return self.toks[i] if i < len(self.toks) else ("end", "", 0)

    def record(self, path: KeyPath, line: int) -> None:
        self.lines.setdefault(join_key(path), line)

    def key(self, stop: str) -> list[str]:
        """Read a dotted key up to (not including) the punctuation ``stop``."""
        segments: list[str] = []
        while self.peek()[0] in ("str", "word"):
            kind, value, _ = self.peek()
            segments += [value] if kind == "str" else [s for s in value.split(".") if s]
            self.pos += 1
        return segments if self.peek()[1] == stop else []

    def header(self) -> KeyPath:
        is_array = self.peek(1)[1] == "["
        line = self.peek()[2]
        self.pos += 2 if is_array else 1
        raw = tuple(self.key("]"))
        self.pos += 2 if is_array else 1
        if is_array:
            self.arrays[raw] = self.arrays.get(raw, 0) + 1
        path = tuple(f"{seg}[{self.arrays[raw[:i + 1]]}]" if raw[:i + 1] in self.arrays else seg
                     for i, seg in enumerate(raw))
        self.record(path, line)
        return path

    def value(self, path: KeyPath) -> None:
        kind, value, _ = self.peek()
        self.pos += 1
        if value == "{" and kind == "punct":
            while self.peek()[0] != "end" and self.peek()[1] != "}":
                self.pair(path) if self.peek()[0] in ("str", "word") else self.skip_one()
            self.pos += 1
        elif value == "[" and kind == "punct":
            while self.peek()[0] != "end" and self.peek()[1] != "]":
                self.value(path) if self.peek()[0] != "nl" and self.peek()[1] != "," else self.skip_one()
            self.pos += 1

    def skip_one(self) -> None:
        self.pos += 1

    def pair(self, table: KeyPath) -> None:
        line = self.peek()[2]
        segments = self.key("=")
        if not segments:
            self.skip_one()
            return
        self.pos += 1
        path = table + tuple(segments)
        for i in range(len(table) + 1, len(path) + 1):
            self.record(path[:i], line)
        self.value(path)

    def run(self) -> dict[str, int]:
        table: KeyPath = ()
        while self.pos < len(self.toks):
            kind, value, _ = self.peek()
            if kind == "nl":
                self.pos += 1
            elif kind == "punct" and value == "[":
                table = self.header()
            elif kind in ("str", "word"):
                self.pair(table)
            else:
                self.pos += 1
        return self.lines


def key_lines(text: str) -> dict[str, int]:
    """Map each key path spelled by :func:`maskrules.names.join_key` to the 1-based line where it starts."""
    try:
        return _Scanner(text).run()
    except (IndexError, RecursionError):  # best effort: a partial map is still useful
        return {}


def line_of(lines: dict[str, int], path: KeyPath) -> int | None:
    """Line of ``path``, or of its nearest written parent (a value inside an inline table), or None."""
    for end in range(len(path), 0, -1):
        found = lines.get(join_key(path[:end]))
        if found is not None:
            return found
    return None
