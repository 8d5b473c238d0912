"""The Python API: stylise images in memory (PIL in -> PIL out, numpy in -> numpy out).

    import regionstyle
    out = regionstyle.stylize(Image.open("photo.jpg"), "rules.toml", size=512)
    for styled in regionstyle.stylize_many(frames, "rules.toml", size=512):   # one Session for all
        ...

Keywords are the settings of :data:`regionstyle.config.SETTINGS` (the command-line options without
dashes), checked as the command line checks them; ``config=`` takes a ready TransferConfig instead.
Files on disk, with manifests: :func:`regionstyle.files.stylize_file` and :mod:`regionstyle.batch`.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import maskrules
from regionstyle import config as schema
from regionstyle import io
from regionstyle.config import TransferConfig, make_config
from regionstyle.datatypes import LoadedImage
from regionstyle.errors import BadInput
from regionstyle.rules import load_ruleset
from regionstyle.session import Session

if TYPE_CHECKING:  # torch loads only when a region needs the optimiser
    from regionstyle.optimize import ProgressCallback


def stylize(image: Any, rules: maskrules.RuleSet | str | Path, *, config: TransferConfig | None = None,
            labels: str | Path | None = None, session: Session | None = None,
            on_progress: ProgressCallback | None = None, **settings: Any) -> Any:
    """Stylise one image in memory: a PIL image, a numpy array (uint8, uint16 or float in [0, 1]) or a path.

    rules: a RuleSet, a rules-file path, or TOML text. settings: any setting of the schema (size=512,
    iterations=100, encoder="vgg19", seed=1 ...), overriding the rules' [defaults]; or ``config``.
    Returns the same kind it was given (a path gives a PIL image).
    """
    from regionstyle import pipeline

    photo, kind = _as_loaded(image)
    ruleset = load_ruleset(rules)
    config = _config(config, ruleset, settings)
    result = pipeline.run(photo, ruleset, config, labels=labels, session=session, on_progress=on_progress)
    if kind in ("pil", "path"):
        return io.to_pil(result.image, result.alpha)
    return io.to_array_like(result.image, result.alpha, like=image)


def stylize_many(images: Iterable[Any], rules: maskrules.RuleSet | str | Path, *,
                 config: TransferConfig | None = None, labels: str | Path | None = None,
                 session: Session | None = None, on_progress: ProgressCallback | None = None,
                 **settings: Any) -> Iterator[Any]:
    """Stylise a stream of images lazily (one result per image, in order), as :func:`stylize` does one.

    Models, exemplars and style targets are built once (one :class:`Session`); rules and settings are
    checked once, before the first image.
    """
    session = session if session is not None else Session()
    ruleset = load_ruleset(rules)
    config = _config(config, ruleset, settings)
    for image in images:
        yield stylize(image, ruleset, config=config, labels=labels, session=session, on_progress=on_progress)


def _config(config: TransferConfig | None, ruleset: maskrules.RuleSet, settings: dict[str, Any]) -> TransferConfig:
    if config is not None and settings:
        raise BadInput(f"stylize(): give either config= or settings ({', '.join(settings)}), not both")
    return config if config is not None else make_config(ruleset.defaults, **settings)


def _as_loaded(image: Any) -> tuple[LoadedImage, str]:
    """Accept a PIL image, a numpy array (uint8/uint16 or float in [0, 1]) or a path; say which it was."""
    import numpy as np

    if isinstance(image, (str, Path)):
        return io.read_image(image), "path"
    if hasattr(image, "mode") and hasattr(image, "size"):  # a PIL image, without importing PIL here
        return io.from_pil(image), "pil"
    if isinstance(image, np.ndarray):
        return io.from_array(image), "array"
    raise BadInput(f"stylize() takes a PIL image, a numpy array or a path; got {type(image).__name__}")


def _signature(function: Any) -> inspect.Signature:
    """The function's signature with every schema setting as a keyword-only parameter (for help() and IDEs)."""
    base = inspect.signature(function)
    fixed = [p for p in base.parameters.values() if p.kind != inspect.Parameter.VAR_KEYWORD]
    extra = [inspect.Parameter(s.name, inspect.Parameter.KEYWORD_ONLY, default=None) for s in schema.SETTINGS]
    return base.replace(parameters=fixed + extra)


for _function in (stylize, stylize_many):
    _function.__signature__ = _signature(_function)
    _function.__doc__ += "\n    Settings: " + ", ".join(s.name for s in schema.SETTINGS) + ".\n"
