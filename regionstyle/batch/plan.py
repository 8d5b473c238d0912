"""Planning a batch: each input's rules file, output path and format, and the refusals made up front.

Everything that would make the batch wrong as a whole (an output over an input, two inputs writing one
output, the output folder being an input folder, a bit depth a format cannot hold, a broken shared rules
file) is a BadInput here, before any image is worked on. A broken per-image rules file is not: it fails
only its own image when that image's turn comes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import maskrules
from regionstyle.batch.inputs import Found, image_format
from regionstyle.batch.resume import manifest_path, referenced_files
from regionstyle.errors import BadInput, RegionStyleError
from regionstyle.io.atomic import check_inside

# The suffix each format gets when it is not the input's own (whose spelling, .jpeg or .JPG, is kept).
FORMAT_SUFFIX = {"png": "png", "jpeg": "jpg", "tiff": "tif", "webp": "webp", "bmp": "bmp"}
SIXTEEN_BIT_FORMATS = ("png", "tiff")


@dataclass(frozen=True)
class BatchOptions:
    """How every image of a batch is stylised and written.

    output_folder: where outputs go; below a folder or pattern input, subfolders are mirrored inside it.
    settings: make_config keywords (size, iterations, encoder, seed, device, precision ...); None = not
        given, so the rules' [defaults] and then TransferConfig's defaults apply.
    labels: one label map for every image (e.g. frames from a fixed camera); per-image maps go in
        per-image rules. segmenter_weights: a local checkpoint for the segmenter the rules choose.
    name: output file name; ``{stem}`` is the input's name without suffix, ``{ext}`` the output format's
        suffix. A literal image suffix (``"{stem}_styled.jpg"``) sets the format.
    format: png, jpeg, tiff, webp or bmp (None = from ``name``, else the input's own format).
    quality: 1-100 for JPEG and WebP. bit_depth: 8 or 16 (PNG/TIFF); None = the input's depth where the
        format can hold it, else 8.
    overwrite: redo every image even when up to date, and replace outputs this batch did not write.
    layers: also write a layered PSD beside every output (``photo.png`` -> ``photo.psd``).
    """

    output_folder: Path
    settings: Mapping[str, Any] = field(default_factory=dict, hash=False)
    labels: Path | None = None
    segmenter_weights: Path | None = None
    name: str = "{stem}.{ext}"
    format: str | None = None
    quality: int = 95
    bit_depth: int | None = None
    allow_same_folder: bool = False
    overwrite: bool = False
    layers: bool = False


@dataclass(frozen=True)
class BatchItem:
    """One image of a batch: where it comes from, where it goes, in which format, under which rules."""

    source: Path
    output: Path
    format: str
    rules: Path

    @property
    def manifest(self) -> Path:
        return manifest_path(self.output)


def plan_batch(found: Sequence[Found], rules: Path, options: BatchOptions) -> list[BatchItem]:
    """Pair each input with its rules (``photo.toml`` beside ``photo.jpg``, else ``rules``) and its output.

    Files the rules refer to (label maps, style images) are dropped from folder and pattern matches, so a
    folder holding photos and their label maps stylises only the photos. Raises BadInput as the module says,
    and maskrules.RuleError for a broken shared rules file.
    """
    load_rules(rules)
    items = [_plan_item(f, Path(rules), Path(options.output_folder), options) for f in found]
    referenced = {p.resolve() for rules_file in {i.rules for i in items} for p in _referenced(rules_file)}
    items = [i for i, f in zip(items, found) if f.explicit or i.source.resolve() not in referenced]
    for item in items:  # --name is user text: '../x' or '/abs/x' must not leave the output folder
        check_inside(item.output, options.output_folder)
    refuse_clashes(items, allow_same_folder=options.allow_same_folder)
    if options.layers:
        from regionstyle.batch.layers import refuse_layer_clashes

        refuse_layer_clashes(items)
    return items


def load_rules(path: Path) -> maskrules.RuleSet:
    from regionstyle.rules import load_ruleset

    return load_ruleset(path)


def _plan_item(found: Found, rules: Path, folder: Path, options: BatchOptions) -> BatchItem:
    own = found.path.with_suffix(".toml")
    source_format = image_format(found.path) or "png"
    fmt = output_format(options, source_format)
    ext = found.path.suffix[1:] if fmt == image_format(found.path) else FORMAT_SUFFIX[fmt]
    try:
        name = options.name.format(stem=found.path.stem, ext=ext)
    except (KeyError, IndexError, ValueError) as exc:
        raise BadInput(f"--name {options.name!r}: {exc} is not a placeholder; use {{stem}} and {{ext}}") from None
    subfolder = found.path.parent.resolve().relative_to(found.root.resolve())
    return BatchItem(source=found.path, output=folder / subfolder / name, format=fmt,
                     rules=own if own.is_file() else rules)


def output_format(options: BatchOptions, source_format: str) -> str:
    """--format, else the suffix written in --name, else the input's format; checked against --bit-depth."""
    named = None if "{ext}" in options.name else image_format(Path(options.name))
    if named is None and "{ext}" not in options.name:  # "{stem}.json" would be a PNG named .json
        raise BadInput(f"--name {options.name!r} ends in no image suffix: end it with .{{ext}} or a suffix such "
                       "as .png or .jpg")
    if options.format is not None and named is not None and named != options.format:
        raise BadInput(f"--name {options.name!r} means {named} but --format says {options.format}; drop one")
    fmt = options.format or named or source_format
    if options.bit_depth == 16 and fmt not in SIXTEEN_BIT_FORMATS:
        raise BadInput(f"--bit-depth 16 needs PNG or TIFF output, not {fmt.upper()}: add --format png or tiff")
    return fmt


def _referenced(rules: Path) -> list[Path]:
    try:
        return referenced_files(load_rules(rules))
    except (RegionStyleError, maskrules.RuleError):
        return []  # a broken per-image rules file fails its image when it runs, not the whole plan


def refuse_clashes(items: Sequence[BatchItem], *, allow_same_folder: bool) -> None:
    """BadInput for an output over an input, two inputs sharing an output, or an output folder = input folder."""
    sources = {item.source.resolve(): item.source for item in items}
    claimed: dict[Path, Path] = {}
    for item in items:
        out = item.output.resolve()
        if out.parent == item.source.resolve().parent and not allow_same_folder:
            raise BadInput(f"the output folder {item.output.parent} is also an input folder ({item.source.name} "
                           "is there): choose another -o, or pass --allow-same-folder")
        if out in sources:
            raise BadInput(f"the output {item.output} would overwrite the input {sources[out]}: choose another -o, "
                           "or a --name such as '{stem}.styled.{ext}'")
        if out in claimed:
            raise BadInput(f"{claimed[out]} and {item.source} would both be written to {item.output}: "
                           "add {ext} to --name, or batch them separately")
        claimed[out] = item.source
