"""``regionstyle segment``, ``weights`` and ``styles``: the stages on their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from regionstyle import config
from regionstyle.cli.group import IMAGE, OUTPUT, Globals, emit, main, reported_errors
from regionstyle.cli.options import SettingType, global_options, setting_options


@main.command()
@click.argument("image", type=IMAGE)
@click.option("--model", "model", default="auto", show_default=True,
              help="A registered segmenter name or a model file (.tflite/.onnx, with model.toml beside it); "
                   "auto: the bundled DeepLabV3 (ADE20K) unless a larger model is cached.")
@click.option("-o", "--output", type=OUTPUT, required=True, help="Label map PNG to write (class ids).")
@click.option("--segmenter-weights", type=click.Path(exists=True),
              help="A local checkpoint (file or folder) for a registered segmenter.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@global_options
@click.pass_obj
def segment(g: Globals, image: Path, model: str, output: Path, segmenter_weights: str | None,
            overwrite: bool) -> None:
    """Label every pixel of IMAGE; writes the label map, OUT.overlay.png and OUT.classes.txt."""
    with reported_errors(g):
        import numpy as np

        from regionstyle import io
        from regionstyle import segment as segment_stage
        from regionstyle.errors import BadInput
        from regionstyle.overlay import label_overlay

        outputs = [output, output.with_suffix(".overlay.png"), output.with_suffix(".classes.txt")]
        inputs = [image, *[Path(p) for p in (model, segmenter_weights) if p is not None and Path(p).exists()]]
        io.check_writable(outputs, protect=inputs, overwrite=overwrite)
        if io.output_format(output, None) not in ("png", "tiff"):  # refused here, before the model runs
            raise BadInput(f"cannot write the label map {output} as {output.suffix}: use .png or .tif (lossless: "
                           "compression would change class ids)")
        photo = io.read_image(image)
        name, why = (model, "named") if model != "auto" else segment_stage.choose_segmenter([])
        # The device as given: a model file's runtime resolves "auto" itself (no torch loaded for it).
        segmenter = segment_stage.build_segmenter(name, device=g.device or "auto", weights=segmenter_weights)
        seg = segmenter.segment([photo.pixels])[0]
        dtype = np.uint8 if len(seg.class_names) <= 256 else np.uint16
        with io.all_or_nothing():  # the three files appear together or not at all
            written = io.write_label_map(output, seg.labels.astype(dtype), protect=inputs)
            overlay = io.write_image(outputs[1], label_overlay(photo.pixels, seg.labels, seg.class_names),
                                     protect=inputs)
            io.write_text_atomic(outputs[2], "".join(f"{i} {n}\n" for i, n in enumerate(seg.class_names)))
        share = np.bincount(seg.labels.ravel(), minlength=len(seg.class_names)) / seg.labels.size
        found = {seg.class_names[i]: round(float(share[i]), 5) for i in np.argsort(-share) if share[i] > 0}
        data = {"labels": str(written), "overlay": str(overlay), "classes": str(outputs[2]),
                "source": seg.source, "vocabulary": seg.vocabulary, "segmenter": name, "found": found}
        top = ", ".join(f"{n} {s * 100:.1f}%" for n, s in list(found.items())[:8])
        emit(g, data, f"wrote {written} ({seg.vocabulary}, {name}), {overlay}\n  {top}")


@main.group()
def weights() -> None:
    """Pretrained weights: what is known, bundled and cached, and fetching them."""


def known_weights() -> dict[str, Any]:
    """Every checkpoint the registries name, by name (encoders first, then segmenters)."""
    from regionstyle.encoder.registry import ENCODERS
    from regionstyle.segment.registry import REGISTRY

    specs = [e.weights for e in ENCODERS.values() if e.weights] + [s.weights for s in REGISTRY.values()]
    return {spec.name: spec for spec in specs}


@weights.command("list")
@global_options
@click.pass_obj
def weights_list(g: Globals) -> None:
    """Known checkpoints, whether each is bundled or cached, where, and its size."""
    with reported_errors(g):
        from regionstyle.weights import status

        rows = [vars(row) for row in status.status(known_weights().values())]
        text = "\n".join(f"{r['name']:<30} {'bundled' if r['kind'] == 'bundled' else 'cached' if r['cached'] else 'missing':<8}"
                         f" {r.get('path') or r['source']}" for r in rows)
        emit(g, rows, text)


@weights.command("fetch")
@click.argument("name")
@global_options
@click.pass_obj
def weights_fetch(g: Globals, name: str) -> None:
    """Download checkpoint NAME into its cache (needs internet), e.g. to prepare an offline machine."""
    with reported_errors(g):
        from regionstyle.cli.progress import DownloadBar, show_progress
        from regionstyle.errors import BadInput
        from regionstyle.segment.registry import get_segmenter_info
        from regionstyle.weights import status

        known = known_weights()
        try:
            spec = known[name] if name in known else get_segmenter_info(name).weights  # aliases: "ade20k"
        except BadInput:
            raise BadInput(f"unknown weights {name!r}; known: {', '.join(known)}") from None
        with DownloadBar(label=spec.name, enabled=show_progress(g)) as bar:
            path = status.fetch(spec, on_progress=bar, progress=show_progress(g))
        emit(g, {"name": spec.name, "path": str(path)}, f"{spec.name}: {path}")


@main.group()
def styles() -> None:
    """Built-in styles: list them, or render a preview sheet."""


@styles.command("list")
@global_options
@click.pass_obj
def styles_list(g: Globals) -> None:
    """Names, parameters and one-line descriptions of the built-in styles."""
    with reported_errors(g):
        from regionstyle.styles import BUILTIN_STYLES

        rows = [{"name": s.name, "description": s.description,
                 "params": {k: {"default": p.default, "doc": p.doc} for k, p in s.params.items()}}
                for s in BUILTIN_STYLES.values()]
        text = "\n".join(f"{r['name']:<14} {r['description']}\n{'':<14} params: "
                         + ", ".join(f"{k}={v['default']!r}" for k, v in r["params"].items()) for r in rows)
        emit(g, rows, text)


@styles.command("sheet")
@click.option("-o", "--output", type=OUTPUT, required=True, help="PNG to write.")
@click.option("--style", "names", multiple=True, help="Only these styles (repeatable) [default: all].")
@click.option("--photo", type=IMAGE, help="The photo to stylise [default: a sample shipped with regionstyle].")
@click.option("--labels", type=click.Path(exists=True),
              help="With --photo: its label map (or a folder of region masks) instead of segmenting it.")
@click.option("--size", type=SettingType(config.BY_NAME["size"]), default=192, show_default=True,
              help="Long side of each stylised photo.")
@click.option("--iterations", type=SettingType(config.BY_NAME["iterations"]), default=40, show_default=True)
@click.option("--encoder", type=SettingType(config.BY_NAME["encoder"]), default="auto", show_default=True)
@click.option("--encoder-weights", type=SettingType(config.BY_NAME["encoder_weights"]))
@setting_options("threads", "optimize_builtins")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@global_options
@click.pass_obj
def styles_sheet(g: Globals, output: Path, names: tuple[str, ...], photo: Path | None, labels: str | None,
                 size: int, iterations: int, encoder: str, encoder_weights: str | None, threads: int | None,
                 optimize_builtins: bool | None, overwrite: bool) -> None:
    """A sheet of the built-in styles: the photo, then the photo in each style (--iterations and --encoder
    act with --optimize-builtins)."""
    if labels is not None and photo is None:
        raise click.UsageError("--labels goes with --photo (it is that photo's label map)")
    with reported_errors(g):
        from regionstyle import io
        from regionstyle.sheet import render_sheet
        from regionstyle.styles import BUILTIN_STYLES

        inputs = [Path(path) for path in (photo, labels, encoder_weights) if path is not None]
        io.check_writable([output], protect=inputs, overwrite=overwrite)
        io.output_format(output, None)
        chosen = list(names) or list(BUILTIN_STYLES)

        def say(name: str) -> None:
            if not (g.quiet or g.json):
                click.echo(f"  {name} ...", err=True)

        settings = {"size": size, "iterations": iterations, "encoder": encoder, "encoder_weights": encoder_weights,
                    "threads": threads, "optimize_builtins": optimize_builtins,
                    **{k: v for k, v in g.settings().items() if v is not None}}
        sheet = render_sheet(chosen, photo=photo, labels=labels,
                             settings={k: v for k, v in settings.items() if v is not None}, on_style=say)
        written = io.write_image(output, sheet, protect=inputs)
        emit(g, {"sheet": str(written), "styles": chosen}, f"wrote {written} ({len(chosen)} styles)")
