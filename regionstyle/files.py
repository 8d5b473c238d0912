"""One photo file in, one stylised file out: read, rules, config, run, write, manifest.

The command line (``apply``), ``batch``, the web editor and the styles sheet all go through
:func:`stylize_file`, so there is one place that decides what is written, in which format and bit depth,
and whether it may be written at all (:func:`check_outputs`, before any model loads); with it, on request,
the files for photo editors: a layered PSD and the region masks as PNGs (:mod:`regionstyle.layers`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import maskrules
from regionstyle import io
from regionstyle.config import TransferConfig, make_config, working_size
from regionstyle.datatypes import LoadedImage, StylizeResult
from regionstyle.errors import BadInput
from regionstyle.io.encode import check_options
from regionstyle.rules import load_ruleset

if TYPE_CHECKING:
    from regionstyle.optimize import ProgressCallback

SIXTEEN_BIT_FORMATS = ("png", "tiff")


@dataclass(frozen=True)
class OutputOptions:
    """How the result is written.

    format: png, jpeg, tiff, webp or bmp (None: from the output's suffix).
    quality: 1-100 for JPEG and WebP (WebP 100 = lossless).
    bit_depth: 8 or 16 (PNG/TIFF); None = 16 for a 16-bit input where the format can hold it, else 8.
    manifest: also write ``OUT.json`` (every setting, versions, what ran, regions, losses, seam, timings).
    overwrite: replace existing files (inputs are never replaced).
    layers: also write a layered PSD there, for photo editors: the photo, then one masked layer per styled
        region, compositing to the flat output (:mod:`regionstyle.layers`).
    masks: also write every region's mask as an 8-bit PNG into this folder (edit them, then run again with
        the folder as ``labels`` or ``[segmentation] masks``).
    """

    format: str | None = None
    quality: int = 95
    bit_depth: int | None = None
    manifest: bool = False
    overwrite: bool = False
    layers: Path | None = None
    masks: Path | None = None


@dataclass(frozen=True)
class FileResult:
    """What :func:`stylize_file` wrote: the image, the manifest (or None), the report and the in-memory result."""

    output: Path
    manifest: Path | None
    report: dict[str, Any]
    result: StylizeResult


def default_output(image: Path) -> Path:
    """``photo.jpg`` -> ``photo.styled.png`` beside it."""
    return image.with_name(f"{image.stem}.styled.png")


def manifest_path(output: Path) -> Path:
    """``photo.png`` -> ``photo.png.json``."""
    return output.with_name(output.name + ".json")


def check_outputs(output: Path, options: OutputOptions, *, inputs: list[Path]) -> str:
    """Everything :func:`stylize_file` will write may be written, in a format it can write; the format.

    Raises BadInput before any work: an unknown format or suffix, a bit depth or quality the format cannot
    take, an output over an input, an existing file without ``overwrite``, a folder in the way, a layered
    file not named .psd, a mask folder that is an input or already holds masks.
    """
    fmt = io.output_format(output, options.format)
    check_options(fmt, bit_depth=options.bit_depth or 8, quality=options.quality)
    paths = [output] + ([manifest_path(output)] if options.manifest else [])
    if options.layers is not None:
        from regionstyle.layers import psd

        psd.check_path(options.layers)
        paths.append(Path(options.layers))
    io.check_writable(paths, protect=inputs, overwrite=options.overwrite)
    if options.masks is not None:
        from regionstyle.layers import maskfiles

        maskfiles.check_folder(options.masks, protect=[*inputs, *paths], overwrite=options.overwrite)
    return fmt


def stylize_file(image: str | Path | LoadedImage, rules: maskrules.RuleSet | str | Path, output: str | Path, *,
                 config: TransferConfig | None = None, settings: dict[str, Any] | None = None,
                 labels: str | Path | None = None, segmenter_weights: str | Path | None = None,
                 options: OutputOptions = OutputOptions(), session: Any = None,
                 on_progress: ProgressCallback | None = None) -> FileResult:
    """Stylise the photo file ``image`` with ``rules`` and write ``output`` (and its manifest if asked).

    image: a path, or a photo already read (a batch reads it first, to fail a bad file before anything).

    config: a ready TransferConfig; else one is made from the rules' [defaults] and ``settings``
    (``{"size": 768, "seed": 1}``: the same names as the command-line options, checked the same way).
    """
    from regionstyle import pipeline

    output = Path(output)
    source = image.path if isinstance(image, LoadedImage) else Path(image)
    ruleset = load_ruleset(rules)
    if not ruleset.rules:  # the output would be a copy of the photo: surely not what was meant
        raise BadInput(f"{ruleset.source or 'the rules'} holds no rules ([map] entries or [[rule]] tables): "
                       "nothing would be styled")
    config = config or make_config(ruleset.defaults, **(settings or {}))
    inputs = input_files(source, ruleset, config, labels=labels, segmenter_weights=segmenter_weights)
    fmt = check_outputs(output, options, inputs=inputs)
    # A run at a set size needs no more of the photo than that (a preview of a 12 MP JPEG reads it in 0.1 s).
    photo = image if isinstance(image, LoadedImage) else io.read_image(source, long_side=config.size)
    if options.layers is not None:
        from regionstyle.layers import psd

        psd.check_size(working_size(photo.size, config))
    result = pipeline.run(photo, ruleset, config, labels=labels, segmenter_weights=segmenter_weights,
                          session=session, on_progress=on_progress)
    with io.all_or_nothing():  # the image, its editor files and its manifest appear together or not at all
        written = write_result(output, result, photo, fmt=fmt, options=options, protect=inputs)
        written.update(write_editor_files(result, config, options=options, protect=[*inputs, output]))
        report = {"input": str(source), "output": str(output), **result.report, "written": written}
        manifest = write_manifest(manifest_path(output), report) if options.manifest else None
    return FileResult(output, manifest, report, result)


def input_files(source: Path, ruleset: maskrules.RuleSet, config: TransferConfig, *,
                labels: str | Path | None = None, segmenter_weights: str | Path | None = None) -> list[Path]:
    """Every file a run reads: none of them may be written over, even with ``overwrite`` (the photo, the
    rules, the files the rules name, a label map or mask folder, a start image, weights files)."""
    from regionstyle.rules import folder_files, referenced_files

    named = [source, ruleset.source, labels, segmenter_weights, config.encoder_weights,
             None if config.init in ("content", "noise") else config.init]
    return [Path(p) for p in named if p is not None] + referenced_files(ruleset) + folder_files(labels)


def write_result(output: Path, result: StylizeResult, photo: LoadedImage, *, fmt: str, options: OutputOptions,
                 protect: list[Path]) -> dict[str, Any]:
    """Write the image with the photo's EXIF, ICC profile and transparency; what was written, for the manifest."""
    depth = options.bit_depth or (16 if photo.bit_depth == 16 and fmt in SIXTEEN_BIT_FORMATS else 8)
    io.write_image(output, result.image, alpha=result.alpha, exif=photo.exif, icc_profile=photo.icc_profile,
                   bit_depth=depth, quality=options.quality, format=fmt, protect=protect)
    written = {"format": fmt, "bit_depth": depth, "alpha": result.alpha is not None,
               "exif": photo.exif is not None, "icc_profile": photo.icc_profile is not None}
    if fmt in ("jpeg", "webp"):
        written["quality"] = options.quality
    return written


def write_editor_files(result: StylizeResult, config: TransferConfig, *, options: OutputOptions,
                       protect: list[Path]) -> dict[str, Any]:
    """The layered PSD and the mask PNGs, where asked for; what was written, for the report."""
    from regionstyle.layers import result as layered

    written: dict[str, Any] = {}
    if options.layers is not None:
        written["layers"] = str(layered.write_layers(options.layers, result, config, protect=protect))
    if options.masks is not None:
        files = layered.write_masks(options.masks, result, overwrite=options.overwrite, protect=protect)
        written["masks"] = {"folder": str(options.masks), "files": [path.name for path in files]}
    return written


def write_manifest(path: Path, data: dict[str, Any]) -> Path:
    """A manifest (JSON, all-or-nothing)."""
    return io.write_text_atomic(path, json.dumps(data, indent=2, default=str))
