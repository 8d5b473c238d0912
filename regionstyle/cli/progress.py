"""Progress a person sees at a terminal: the stylisation's bar and a download's bar (tqdm).

Bars are drawn only for a person at a terminal: not under --quiet or --json, not into logs or pipes.
"""

from __future__ import annotations

import sys
from typing import IO, Any


def show_progress(g: Any) -> bool:
    return not (g.quiet or g.json) and sys.stderr.isatty()


class ProgressBar:
    """A bar over the whole coarse-to-fine schedule, with the current scale, iteration, loss and ETA."""

    def __init__(self, *, enabled: bool, label: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=100, disable=not enabled, desc=label, unit="%", leave=False,
                        bar_format="{desc} {bar} {percentage:3.0f}% [{elapsed}<{remaining}] {postfix}")

    def __call__(self, step: Any) -> None:
        done = step.elapsed / max(step.elapsed + step.eta, 1e-9) * 100
        self.bar.n = round(done, 1)
        self.bar.set_postfix_str(f"scale {step.scale}/{step.scales} {step.size[1]}x{step.size[0]} "
                                 f"it {step.iteration}/{step.iterations} loss {step.losses.get('total', 0):.3g}",
                                 refresh=True)

    def close(self) -> None:
        self.bar.close()


class DownloadBar:
    """Callable as ``(bytes_done, bytes_total or None)``; bytes_done is absolute, so a resumed download's bar
    starts at the bytes it already had."""

    def __init__(self, *, label: str, enabled: bool, file: IO[str] | None = None) -> None:
        self.label, self.enabled, self.file = label, enabled, file
        self.bar: Any = None

    def __call__(self, done: int, total: int | None) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, desc=self.label, unit="B", unit_scale=True,
                            unit_divisor=1024, disable=not self.enabled, leave=False, file=self.file)
            return
        self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> DownloadBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
