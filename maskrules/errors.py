"""The one exception of maskrules.

maskrules is standard-library only, so :class:`RuleError` cannot derive from regionstyle's exception
tree; regionstyle's CLI treats it as bad input (exit code 2).
"""

from __future__ import annotations

from pathlib import Path


class RuleError(Exception):
    """A mistake in a rules file (or a class list / vocabulary name it refers to), as one line.

    The text reads ``file:line: key.path: message`` with the parts that are unknown left out, e.g.
    ``rules.toml:12: rule[2].style: unknown style 'watercolr'; did you mean 'watercolor'?``.

    Attributes:
        message: the bare message, without location.
        path: the rules file as the caller named it, or None for text without a file.
        line: 1-based line of the offending key or table header, or None when it cannot be found.
        key_path: where in the document ("rule[2].style", "segmentation.model"), or "" for the whole file.
    """

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None,
                 key_path: str = "") -> None:
        self.message = message
        self.path = path
        self.line = line
        self.key_path = key_path
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        if self.path is not None or self.line is not None:
            where = str(self.path) if self.path is not None else "<rules>"
            parts.append(f"{where}:{self.line}" if self.line is not None else where)
        if self.key_path:
            parts.append(self.key_path)
        parts.append(self.message)
        # One line, whatever the user's strings hold: the CLI prints this as a single clean line.
        return ": ".join(parts).replace("\r", "\\r").replace("\n", "\\n")

    def __reduce__(self):
        # Keyword-only attributes survive pickling (multiprocessing, pytest-xdist).
        return (_rebuild, (self.message, self.path, self.line, self.key_path))


def _rebuild(message: str, path: str | Path | None, line: int | None, key_path: str) -> RuleError:
    return RuleError(message, path=path, line=line, key_path=key_path)
