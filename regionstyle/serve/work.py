"""What the web page asks of regionstyle before a render: open a photo, find its classes, write the rules.

Everything the server needs from regionstyle, besides rendering (:mod:`~regionstyle.serve.render`), goes
through here: ``io`` to decode, ``pipeline.explain`` to find the classes, ``styles`` for the catalogue. The
page's choices become an ordinary rules file: one ``[[rule]]`` per class, with absolute paths, so
``regionstyle apply PHOTO rules.toml`` reproduces a render from the command line.
"""

from __future__ import annotations

import io as bytes_io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from regionstyle import config
from regionstyle.config import COLOR_MODES
from regionstyle.errors import BadInput

STRENGTH_RANGE = (0.05, 5.0)
# The per-rule settings of the schema (regionstyle.config) that the page offers in each region's row;
# colour has its own control. An empty field leaves the run's default.
REGION_SETTINGS = ("content_weight", "edge_weight", "style_loss", "feather", "min_island")
MAX_ROWS = 255  # region rows the page can click (the index map is 8-bit)


@dataclass
class Photo:
    """The photo being edited: decoded pixels, where it came from, its label map, what it contains."""

    loaded: Any  # regionstyle.datatypes.LoadedImage
    path: Path
    labels: Path | None = None
    classes: list[dict[str, Any]] = field(default_factory=list)  # [{name, share}] by share, largest first
    index_map: np.ndarray | None = None  # uint8 (h, w): row of ``classes`` at each pixel (downscaled)
    vocabulary: str = "ade20k"
    segmenter: str = ""


def open_photo(path: Path, *, labels: Path | None, max_pixels: int) -> Photo:
    """Decode ``path`` (BadImage for a non-image or one that is too large)."""
    from regionstyle import io

    return Photo(loaded=io.read_image(path, max_pixels=max_pixels), path=path, labels=labels)


def analyse(photo: Photo, base_rules: Any, *, session: Any, device: str, overlay_side: int = 640) -> dict[str, Any]:
    """Segment ``photo`` (its label map, else the base rules' segmenter) and list the classes present.

    Fills ``photo.classes`` / ``photo.index_map`` and returns what ``explain`` says, for the page.
    """
    import cv2

    from regionstyle import pipeline

    probe = _probe_rules(base_rules)
    data, _, segmentation = pipeline.explain(photo.loaded.pixels, probe, labels=photo.labels, device=device,
                                             session=session)
    shares = data["uncovered_classes"]  # the probe claims nothing: every class present is listed here
    names = sorted(shares, key=lambda n: -shares[n])[:MAX_ROWS]
    row_of = np.zeros(len(segmentation.class_names) + 1, np.uint8)
    ids = {class_name: index for index, class_name in enumerate(segmentation.class_names)}
    for row, name in enumerate(names):
        if name in ids:
            row_of[ids[name]] = row
    height, width = segmentation.labels.shape
    scale = min(1.0, overlay_side / max(height, width))
    small = cv2.resize(segmentation.labels.astype(np.int32).astype(np.float32),
                       (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_NEAREST)
    photo.index_map = row_of[np.clip(small.astype(np.int64), 0, len(row_of) - 1)]
    photo.classes = [{"name": n, "share": shares[n]} for n in names]
    photo.vocabulary, photo.segmenter = data["vocabulary"], data["segmenter"]
    return {"segmenter": data["segmenter"], "vocabulary": data["vocabulary"], "classes": photo.classes,
            "initial": initial_choices(base_rules, photo.classes, session=session, photo=photo, device=device)}


def _probe_rules(base_rules: Any) -> Any:
    """The base rules' [segmentation] with no rules at all: explain then reports every class as uncovered."""
    import dataclasses

    return dataclasses.replace(base_rules, rules=(), styles={}, groups={})


def initial_choices(base_rules: Any, classes: list[dict[str, Any]], *, session: Any, photo: Photo,
                    device: str) -> dict[str, dict[str, Any]]:
    """The style, colour mode and own settings each class gets under the base rules (so the page opens with
    them), by class name."""
    if not base_rules.rules:
        return {}
    from regionstyle import pipeline

    data, _, _ = pipeline.explain(photo.loaded.pixels, base_rules, labels=photo.labels, device=device,
                                  session=session)
    choices = {}
    for region in data["regions"]:
        style = region["style"] if region["style"] in builtin_names() | {"keep"} else "keep"
        settings = {k: v for k, v in region["settings"].items() if k in REGION_SETTINGS}
        colour = {"color": region["settings"]["color"]} if "color" in region["settings"] else {}
        for name in region["classes"]:
            choices[name] = {"style": style, **colour, "settings": dict(settings)}
    return {c["name"]: choices[c["name"]] for c in classes if c["name"] in choices}


def builtin_names() -> set[str]:
    from regionstyle import styles

    return set(styles.BUILTIN_STYLES)


def style_catalogue() -> list[dict[str, Any]]:
    """The built-in styles with their descriptions and parameters, for the page's pickers."""
    from regionstyle import styles

    return [{"name": name, "description": style.description,
             "params": {key: {"default": spec.default, "type": spec.type.__name__, "doc": spec.doc,
                              "bounds": spec.bounds, "choices": spec.choices}
                        for key, spec in style.params.items() if key != "seed"}}
            for name, style in sorted(styles.BUILTIN_STYLES.items())]


def region_settings() -> list[dict[str, Any]]:
    """The per-region settings the page offers, from the one schema: kind, bounds or choices, default, help."""
    catalogue = []
    for name in REGION_SETTINGS:
        setting = config.BY_NAME[name]
        rule = setting.rule
        catalogue.append({"name": name, "kind": rule.kind, "low": rule.low, "high": rule.high,
                          "choices": list(rule.choices), "default": setting.default, "help": setting.help,
                          "values": config.describe_rule(rule).replace("`", "")})
    return catalogue


def thumbnail_png(name: str, *, side: int = 96, params: dict[str, Any] | None = None) -> bytes:
    """A PNG of built-in style ``name``'s exemplar (BadInput for an unknown style or a bad parameter)."""
    from regionstyle import styles

    pixels = styles.render_builtin(name, height=side, width=side, params=params or {})
    return png_bytes(pixels)


def painting_thumbnail_png(path: Path, *, side: int = 96) -> bytes:
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("RGB")
        image.thumbnail((side, side))
        out = bytes_io.BytesIO()
        image.save(out, format="PNG")
    return out.getvalue()


def png_bytes(pixels: np.ndarray) -> bytes:
    """float (H, W, 3) in [0, 1], or uint8 (H, W) -> PNG bytes."""
    from PIL import Image

    array = pixels if pixels.dtype == np.uint8 else np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8)
    out = bytes_io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def choices_to_rules(choices: list[dict[str, Any]], photo: Photo, base_rules: Any, *,
                     paintings: dict[str, Path], defaults: dict[str, Any]) -> str:
    """TOML text of the page's choices: [segmentation] as used, one [[rule]] per styled or kept class."""
    lines = [f"# Made by `regionstyle serve` for {photo.path.name}; reproduce with:",
             f"#   regionstyle apply {json.dumps(str(photo.path))} rules.toml", "", "[segmentation]"]
    if photo.labels is not None:
        lines.append(f"labels = {json.dumps(str(photo.labels.resolve()))}")
    elif base_rules.segmentation.model_file is not None:
        lines.append(f"model = {json.dumps(str(base_rules.segmentation.model_file))}")
    elif base_rules.segmentation.model != "auto":
        lines.append(f"model = {json.dumps(base_rules.segmentation.model)}")
    lines.append(f"classes = {json.dumps(_classes_setting(photo, base_rules))}")
    known = {c["name"] for c in photo.classes}
    for choice in choices:
        lines += [""] + _rule_lines(choice, known, paintings)
    settings = {k: v for k, v in defaults.items() if v is not None}
    if settings:
        lines += ["", "[defaults]"] + [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    return "\n".join(lines) + "\n"


def _classes_setting(photo: Photo, base_rules: Any) -> str:
    spec = base_rules.segmentation
    if spec.classes_file is not None:
        return str(spec.classes_file)
    return spec.classes or photo.vocabulary


def _rule_lines(choice: dict[str, Any], known: set[str], paintings: dict[str, Path]) -> list[str]:
    name = str(choice.get("class", ""))
    if name not in known:
        raise BadInput(f"class {name!r} is not in this photo; classes: {', '.join(sorted(known))}")
    style = str(choice.get("style", "keep"))
    lines = ["[[rule]]", f"classes = [{json.dumps(name)}]"]
    if style == "keep":
        return lines + ['style = "keep"']
    if style.startswith("painting:"):
        path = paintings.get(style.split(":", 1)[1])
        if path is None:
            raise BadInput(f"unknown painting {style!r}: upload it again")
        lines.append(f"style = {{ image = {json.dumps(str(path.resolve()))} }}")
    elif style in builtin_names():
        from regionstyle import styles

        params = {k: v for k, v in (choice.get("params") or {}).items() if v not in (None, "")}
        styles.get_builtin(style).resolve(params)  # BadInput naming the parameter, before any render
        inner = ", ".join([f"builtin = {json.dumps(style)}"] + [f"{k} = {json.dumps(v)}" for k, v in params.items()])
        lines.append(f"style = {{ {inner} }}")
    else:
        raise BadInput(f"unknown style {style!r}: expected keep, a built-in style or an uploaded painting")
    strength = float(choice.get("strength", 1.0))
    if not STRENGTH_RANGE[0] <= strength <= STRENGTH_RANGE[1]:
        raise BadInput(f"strength for {name}: expected a number in {list(STRENGTH_RANGE)}, got {strength}")
    color = str(choice.get("color", "style"))
    if color not in COLOR_MODES:
        raise BadInput(f"colour mode for {name}: expected one of {', '.join(COLOR_MODES)}, got {color!r}")
    return lines + [f"strength = {strength:g}", f"color = {json.dumps(color)}"] + _setting_lines(choice, name)


def _setting_lines(choice: dict[str, Any], name: str) -> list[str]:
    """``key = value`` lines of the region's own settings, each checked by the schema's own words."""
    settings = choice.get("settings") or {}
    if not isinstance(settings, dict):
        raise BadInput(f"settings for {name}: expected an object of {', '.join(REGION_SETTINGS)}")
    lines = []
    for key, value in settings.items():
        if value is None or value == "":
            continue  # not set: the run's default
        if key not in REGION_SETTINGS:
            raise BadInput(f"setting {key!r} for {name}: the page sets only {', '.join(REGION_SETTINGS)}")
        checked = config.check_value(key, value, source=f"{key} for {name}:")
        lines.append(f"{key} = {json.dumps(checked)}")
    return lines
