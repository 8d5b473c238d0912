"""A render job: the page's rules text -> files.stylize_file in the shared Session -> image, PSD and rules files."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RenderSettings:
    """Settings of the server's renders (None = the rules' [defaults], then regionstyle's own defaults).

    size / iterations: the full render; preview_size / preview_iterations: the fast preview.
    """

    size: int | None = None
    iterations: int | None = None
    preview_size: int = 384
    preview_iterations: int = 40
    encoder: str | None = None
    encoder_weights: str | None = None
    device: str = "auto"
    seed: int = 0

    def config_options(self, *, preview: bool) -> dict[str, Any]:
        """make_config keywords for a preview or a full render."""
        if preview:
            return {"size": self.preview_size, "iterations": self.preview_iterations, "encoder": self.encoder,
                    "encoder_weights": self.encoder_weights, "device": self.device, "seed": self.seed}
        return {"size": self.size, "iterations": self.iterations, "encoder": self.encoder,
                "encoder_weights": self.encoder_weights, "device": self.device, "seed": self.seed}


def render(job: Any, photo: Any, rules_text: str, *, settings: RenderSettings, preview: bool, session: Any,
           lock: threading.Lock, folder: Path) -> dict[str, Any]:
    """Run one render for ``job`` and write its files into ``folder``; returns {"files": {name: path}, ...}.

    The image (and, for a full render, the layered PSD) is written by :func:`regionstyle.files.stylize_file`,
    as ``regionstyle apply`` writes it; a full render also keeps the rules file that reproduces it.
    """
    from regionstyle import files, io
    from regionstyle.config import make_config
    from regionstyle.rules import load_ruleset

    ruleset = load_ruleset(rules_text)
    config = make_config(ruleset.defaults, **settings.config_options(preview=preview))
    stem = photo.path.stem
    # The job's folder is the server's own: a --workdir kept from an earlier run may hold a job of this number.
    options = files.OutputOptions(layers=None if preview else folder / f"{stem}.styled.psd", overwrite=True)
    with lock:  # the Session's models and caches are not shared across threads
        done = files.stylize_file(photo.loaded, ruleset, folder / f"{stem}.styled.png", config=config,
                                  labels=photo.labels, options=options, session=session, on_progress=job.progress)
    written = {"image": done.output}
    if not preview:
        written["layers"] = Path(done.report["written"]["layers"])
        written["rules"] = io.write_text_atomic(folder / f"{stem}.rules.toml", rules_text)
    regions = [{k: r[k] for k in ("name", "area", "style", "styled")} for r in done.report["regions"]]
    return {"files": written, "regions": regions, "seconds": done.report["timings"]["total"],
            "size": list(done.result.image.shape[:2])}
