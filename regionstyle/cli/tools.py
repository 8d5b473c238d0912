"""``regionstyle segment``, ``weights`` and ``styles``: the stages on their own."""

from __future__ import annotations

from pathlib import Path

import click

from regionstyle.cli.group import IMAGE, OUTPUT, Globals, emit, main, reported_errors


@main.command()
@click.argument("image", type=IMAGE)
@click.option("--model", "model", default="auto", show_default=True,
              help="A registered segmenter name or a model file (.tflite/.onnx, with model.toml beside it).")
@click.option("-o", "--output", type=OUTPUT, required=True, help="Label map PNG to write (class ids).")
@click.option("--segmenter-weights", type=click.Path(exists=True),
              help="A local checkpoint (file or folder) for a registered segmenter.")
@click.pass_obj
def segment(g: Globals, image: Path, model: str, output: Path, segmenter_weights: str | None) -> None:
    """Label every pixel of IMAGE; writes the label map, OUT.overlay.png and OUT.classes.txt."""
    with reported_errors(g.debug):
        import numpy as np

        from regionstyle import io, pipeline
        from regionstyle import segment as segment_stage
        from regionstyle.overlay import label_overlay

        photo = io.read_image(image)
        name = model if model != "auto" else segment_stage.choose_segmenter(["sky", "building", "tree"])[0]
        segmenter = segment_stage.build_segmenter(name, device=str(pipeline.resolve_device(g.device or "auto")),
                                                  weights=segmenter_weights)
        seg = segmenter.segment([photo.pixels])[0]
        dtype = np.uint8 if len(seg.class_names) <= 256 else np.uint16
        written = io.write_label_map(output, seg.labels.astype(dtype), protect=[image])
        overlay = io.write_image(written.with_suffix(".overlay.png"),
                                 label_overlay(photo.pixels, seg.labels, seg.class_names), protect=[image])
        classes = written.with_suffix(".classes.txt")
        classes.write_text("".join(f"{i} {n}\n" for i, n in enumerate(seg.class_names)))
        share = np.bincount(seg.labels.ravel(), minlength=len(seg.class_names)) / seg.labels.size
        found = {seg.class_names[i]: round(float(share[i]), 5) for i in np.argsort(-share) if share[i] > 0}
        data = {"labels": str(written), "overlay": str(overlay), "classes": str(classes),
                "source": seg.source, "vocabulary": seg.vocabulary, "found": found}
        top = ", ".join(f"{n} {s * 100:.1f}%" for n, s in list(found.items())[:8])
        emit(g, data, f"wrote {written} ({seg.vocabulary}), {overlay}\n  {top}")


@main.group()
def weights() -> None:
    """Pretrained weights: what is known and cached, and fetching them."""


@weights.command("list")
@click.pass_obj
def weights_list(g: Globals) -> None:
    """Known checkpoints, whether each is cached, where, and its size."""
    with reported_errors(g.debug):
        from regionstyle import weights as store

        rows = [vars(row) if hasattr(row, "__dict__") else dict(row) for row in store.weights_status()]
        text = "\n".join(f"{r['name']:<28} {'cached' if r['cached'] else 'missing':<8} {r.get('path') or ''}"
                         for r in rows)
        emit(g, rows, text)


@weights.command("fetch")
@click.argument("name")
@click.pass_obj
def weights_fetch(g: Globals, name: str) -> None:
    """Download checkpoint NAME into the cache (needs internet)."""
    with reported_errors(g.debug):
        from regionstyle import weights as store

        path = store.fetch(name, progress=not (g.quiet or g.json))
        emit(g, {"name": name, "path": str(path)}, f"{name}: {path}")


@main.group()
def styles() -> None:
    """Built-in styles: list them, or render a preview sheet."""


@styles.command("list")
@click.pass_obj
def styles_list(g: Globals) -> None:
    """Names, parameters and one-line descriptions of the built-in styles."""
    with reported_errors(g.debug):
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
@click.option("--size", type=click.IntRange(min=32), default=192, show_default=True,
              help="Long side of each stylised scene.")
@click.option("--iterations", type=click.IntRange(min=1), default=40, show_default=True)
@click.option("--encoder", default="auto", show_default=True)
@click.option("--encoder-weights", type=click.Path(exists=True, dir_okay=False))
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@click.pass_obj
def styles_sheet(g: Globals, output: Path, names: tuple[str, ...], size: int, iterations: int, encoder: str,
                 encoder_weights: str | None, overwrite: bool) -> None:
    """A preview sheet: each style's exemplar beside the sample scene stylised with it."""
    with reported_errors(g.debug):
        from regionstyle import io
        from regionstyle.cli.apply import check_output
        from regionstyle.sheet import render_sheet
        from regionstyle.styles import BUILTIN_STYLES

        check_output(output, inputs=[], overwrite=overwrite)
        chosen = list(names) or list(BUILTIN_STYLES)

        def say(name: str) -> None:
            if not (g.quiet or g.json):
                click.echo(f"  {name} ...", err=True)

        sheet = render_sheet(chosen, size=size, iterations=iterations, encoder=encoder,
                             encoder_weights=encoder_weights, seed=g.seed or 0, device=g.device or "auto",
                             on_style=say)
        written = io.write_image(output, sheet)
        emit(g, {"sheet": str(written), "styles": chosen}, f"wrote {written} ({len(chosen)} styles)")
