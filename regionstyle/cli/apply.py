"""``regionstyle apply``: stylise one photo with a rules file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import click

from regionstyle.cli.group import IMAGE, OUTPUT, CliError, Globals, emit, main, reported_errors


# Options that become TransferConfig fields (the names match make_config's keywords).
TRANSFER_OPTIONS = [
    click.option("--size", type=click.IntRange(min=16), help="Output long side in pixels [default: the input's]."),
    click.option("--iterations", type=click.IntRange(min=1),
                 help="Iterations at the coarsest scale; each finer scale runs a third as many [default: 200]."),
    click.option("--encoder", type=click.Choice(["auto", "vgg19", "vgg16", "mobilenet_v2", "random"]),
                 help="Feature network [default: auto = VGG19 if its weights are cached, else random]."),
    click.option("--encoder-weights", type=click.Path(exists=True, dir_okay=False),
                 help="A local state-dict file for the encoder (a .toml beside it may declare its conventions)."),
    click.option("--optimizer", type=click.Choice(["lbfgs", "adam"]), help="Pixel optimiser [default: lbfgs]."),
    click.option("--init", help="Start from: content (default), noise, or an image file."),
    click.option("--style-weight", type=click.FloatRange(min=0), help="Style/content balance [default: the encoder's]."),
    click.option("--mask-mode", type=click.Choice(["simple", "inside", "soft"]),
                 help="How region masks reach deep layers [default: soft]."),
    click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]),
                 help="bfloat16 autocast where supported (auto), or force one [default: auto]."),
    click.option("--preview", is_flag=True, default=None, help="Fast low-resolution render (384 px, few iterations)."),
]
# Options about inputs and outputs that apply and batch share.
IO_OPTIONS = [
    click.option("--labels", type=click.Path(exists=True, dir_okay=False),
                 help="A label-map PNG to use instead of running a segmenter."),
    click.option("--segmenter-weights", type=click.Path(exists=True),
                 help="A local checkpoint (file or folder) for the segmenter the rules choose."),
    click.option("--manifest", is_flag=True, help="Also write OUT.json with every setting, version, timing and measure."),
    click.option("--overwrite", is_flag=True, help="Replace an existing output file."),
]


def transfer_options(command: Callable) -> Callable:
    """The stylisation options shared by ``apply`` and ``batch``."""
    for option in reversed(TRANSFER_OPTIONS + IO_OPTIONS):
        command = option(command)
    return command


def config_options(g: Globals, transfer: dict[str, Any]) -> dict[str, Any]:
    """make_config keywords from the transfer options and the global --device/--seed."""
    return {**transfer, "device": g.device, "seed": g.seed}


def show_progress(g: Globals) -> bool:
    """Bars only for a person at a terminal: not under --quiet/--json, not into logs or pipes."""
    import sys

    return not (g.quiet or g.json) and sys.stderr.isatty()


def default_output(image: Path) -> Path:
    return image.with_name(f"{image.stem}.styled.png")


class ProgressBar:
    """A tqdm bar over the whole coarse-to-fine schedule, with the current scale and losses."""

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


@main.command()
@click.argument("image", type=IMAGE)
@click.argument("rules", type=IMAGE)
@click.option("-o", "--output", type=OUTPUT, help="Output image [default: IMAGE.styled.png beside IMAGE].")
@transfer_options
@click.pass_obj
def apply(g: Globals, image: Path, rules: Path, output: Path | None, labels: str | None,
          segmenter_weights: str | None, manifest: bool, overwrite: bool, **transfer: Any) -> None:
    """Stylise IMAGE region by region as the RULES file says."""
    with reported_errors(g.debug):
        from regionstyle import io, pipeline
        from regionstyle.settings import make_config

        output = output or default_output(image)
        check_output(output, inputs=[image, rules], overwrite=overwrite)
        photo = io.read_image(image)
        ruleset = pipeline.load_ruleset(rules)
        config = make_config(ruleset.defaults, **config_options(g, transfer))
        bar = ProgressBar(enabled=show_progress(g), label=image.name)
        try:
            result = pipeline.run(photo, ruleset, config, labels=labels, segmenter_weights=segmenter_weights,
                                  on_progress=bar)
        finally:
            bar.close()
        written = io.write_image(output, result.image, alpha=result.alpha, exif=photo.exif,
                                 icc_profile=photo.icc_profile, protect=[image, rules])
        report = {"input": str(image), "output": str(written), **result.report}
        if manifest:
            io.write_text_atomic(written.with_suffix(written.suffix + ".json"), json.dumps(report, indent=2, default=str))
        emit(g, report, summary_line(report))


def check_output(output: Path, *, inputs: list[Path], overwrite: bool) -> None:
    """Refuse to write over an input, or over an existing file unless --overwrite."""
    for path in inputs:
        if output.resolve() == Path(path).resolve():
            raise CliError(f"output {output} is one of the inputs; choose another -o", 2)
    if output.exists() and not overwrite:
        raise CliError(f"{output} exists; pass --overwrite to replace it, or choose another -o", 2)


def summary_line(report: dict[str, Any]) -> str:
    styled = [f"{r['name']} ({r['area'] * 100:.0f}%: {r['style']})" for r in report["regions"] if r["styled"]]
    seam = report.get("seam")
    lines = [f"wrote {report['output']}  [{report['timings']['total']:.1f} s, encoder {report['encoder']['name']}"
             f", seam {seam if seam is not None else 'n/a'}]",
             "  styled: " + (", ".join(styled) or "nothing")]
    return "\n".join(lines)  # an encoder fallback was already logged as a warning
