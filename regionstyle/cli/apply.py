"""``regionstyle apply``: stylise one photo with a rules file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from regionstyle.cli.group import IMAGE, OUTPUT, Globals, emit, main, reported_errors
from regionstyle.cli.options import global_options, stacked, transfer_options
from regionstyle.cli.progress import DownloadBar, ProgressBar, show_progress

# Options about inputs and outputs that apply and batch share.
IO_OPTIONS = [
    click.option("--labels", type=click.Path(exists=True),
                 help="A label-map PNG to use instead of running a segmenter, or a folder of region masks "
                      "(as --masks writes them)."),
    click.option("--segmenter-weights", type=click.Path(exists=True),
                 help="A local checkpoint (file or folder) for the segmenter the rules choose."),
    click.option("--manifest", is_flag=True, help="Also write OUT.json with every setting, version, timing and measure."),
    click.option("--overwrite", is_flag=True, help="Replace an existing output file."),
]


# Files for photo editors (apply; batch has its own --layers flag).
EDITOR_OPTIONS = [
    click.option("--layers", "layers", type=OUTPUT,
                 help="Also write a layered PSD for photo editors: the photo at the bottom, one layer per styled "
                      "region (named 'region \u2014 style') with its soft mask as layer mask; it composites to the "
                      "flat output."),
    click.option("--masks", "masks", type=click.Path(file_okay=False, path_type=Path),
                 help="Also write every region's mask as an 8-bit PNG into DIR; edit them and re-run with "
                      "--labels DIR or [segmentation] masks = \"DIR\"."),
]


io_options = stacked(IO_OPTIONS)
editor_options = stacked(EDITOR_OPTIONS)


def given_settings(g: Globals, transfer: dict[str, Any]) -> dict[str, Any]:
    """Transfer settings given on the command line (None = not given), with the global --device/--seed."""
    return {**{k: v for k, v in g.settings().items() if v is not None}, **transfer}


def new_session(g: Globals) -> Any:
    """A Session whose first-use downloads draw a bar (for a person at a terminal)."""
    from regionstyle.session import Session

    return Session(on_download=DownloadBar(label="downloading weights", enabled=show_progress(g)))


@main.command()
@click.argument("image", type=IMAGE)
@click.argument("rules", type=IMAGE)
@click.option("-o", "--output", type=OUTPUT, help="Output image [default: IMAGE.styled.png beside IMAGE].")
@transfer_options
@io_options
@editor_options
@global_options
@click.pass_obj
def apply(g: Globals, image: Path, rules: Path, output: Path | None, labels: str | None,
          segmenter_weights: str | None, manifest: bool, overwrite: bool, layers: Path | None, masks: Path | None,
          **transfer: Any) -> None:
    """Stylise IMAGE region by region as the RULES file says."""
    with reported_errors(g):
        from regionstyle import files

        output = output or files.default_output(image)
        bar = ProgressBar(enabled=show_progress(g), label=image.name)
        try:
            done = files.stylize_file(image, rules, output, settings=given_settings(g, transfer), labels=labels,
                                      segmenter_weights=segmenter_weights, session=new_session(g),
                                      options=files.OutputOptions(manifest=manifest, overwrite=overwrite,
                                                                  layers=layers, masks=masks),
                                      on_progress=bar)
        finally:
            bar.close()
        emit(g, done.report, summary_line(done.report))


def summary_line(report: dict[str, Any]) -> str:
    styled = [f"{r['name']} ({r['area'] * 100:.0f}%: {r['style']})" for r in report["regions"] if r["styled"]]
    seam = report.get("seam")
    encoder = report["encoder"]["name"] or "none (built-ins laid in as rendered)"
    lines = [f"wrote {report['output']}  [{report['timings']['total']:.1f} s, encoder {encoder}"
             f", seam {seam if seam is not None else 'n/a'}]",
             "  styled: " + (", ".join(styled) or "nothing")]
    if report.get("not_in_photo"):
        lines.append("  not in this photo: " + ", ".join(report["not_in_photo"]))
    written = report.get("written", {})
    if written.get("layers"):
        lines.append(f"  layers: {written['layers']}")
    if written.get("masks"):
        lines.append(f"  masks: {len(written['masks']['files'])} PNGs in {written['masks']['folder']}")
    return "\n".join(lines)
