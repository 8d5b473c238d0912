"""The ``regionstyle`` command line (console script ``regionstyle = regionstyle.cli:main``).

One click group (``group.py``) and one module per family of commands; importing them registers them.
"""

from regionstyle.cli.group import main
from regionstyle.cli import apply as _apply  # noqa: F401  (registers commands)
from regionstyle.cli import batch as _batch  # noqa: F401
from regionstyle.cli import explain as _explain  # noqa: F401
from regionstyle.cli import serve as _serve  # noqa: F401
from regionstyle.cli import tools as _tools  # noqa: F401

__all__ = ["main"]
