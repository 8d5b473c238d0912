"""The ``regionstyle`` command line (console script ``regionstyle = regionstyle.cli:main``).

One click group (``group.py``) and one module per family of commands; importing them registers them.
"""

import os

# Idle OpenMP threads sleep instead of spinning (read once, when torch loads: hence before any import that
# may load it). A spinning pool burns the cores that a second run, an editor or a browser needs; see
# benchmarks/README.md for the two-runs-at-once measurement. A user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from regionstyle.cli.group import main  # noqa: E402
from regionstyle.cli import apply as _apply  # noqa: F401,E402  (registers commands)
from regionstyle.cli import batch as _batch  # noqa: F401,E402
from regionstyle.cli import explain as _explain  # noqa: F401,E402
from regionstyle.cli import serve as _serve  # noqa: F401,E402
from regionstyle.cli import tools as _tools  # noqa: F401,E402

__all__ = ["main"]
