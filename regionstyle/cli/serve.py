"""``regionstyle serve``: the local web page (Starlette and uvicorn are imported only when it runs)."""

from __future__ import annotations

from pathlib import Path

import click

from regionstyle.cli.group import Globals, main, reported_errors
from regionstyle.cli.options import global_options, setting_options


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but 127.0.0.1 lets other machines use your computer's files.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--rules", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A rules file: its [segmentation] is used and its rules are the page's first choices.")
@click.option("--labels-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A folder of label maps named after the photos (STEM.png), used instead of a segmenter.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path),
              help="Where uploads and renders are kept [default: a new temporary folder].")
@click.option("--preview-size", default=384, show_default=True, type=click.IntRange(min=16),
              help="Long side of previews in pixels.")
@click.option("--preview-iterations", default=40, show_default=True, type=click.IntRange(min=1))
@click.option("--max-upload-mb", default=40.0, show_default=True, type=click.FloatRange(min=0.01),
              help="Larger uploads are refused.")
@setting_options("size", "iterations", "encoder", "encoder_weights")
@global_options
@click.pass_obj
def serve(g: Globals, host: str, port: int, rules: Path | None, labels_dir: Path | None, workdir: Path | None,
          preview_size: int, preview_iterations: int, max_upload_mb: float, size: int | None,
          iterations: int | None, encoder: str | None, encoder_weights: str | None) -> None:
    """A local web page: open a photo, pick a style per region, preview, render, download.

    One person, one process: the models stay loaded between renders. Stop it with Ctrl-C.
    """
    with reported_errors(g):
        from regionstyle import serve as serve_package

        serve_package.require_extra()
        from regionstyle.serve.app import ServeSettings, serve as run_server
        from regionstyle.serve.render import RenderSettings

        render = RenderSettings(size=size, iterations=iterations, preview_size=preview_size,
                                preview_iterations=preview_iterations, encoder=encoder,
                                encoder_weights=encoder_weights, device=g.device or "auto", seed=g.seed or 0)
        settings = ServeSettings(render=render, workdir=workdir, labels_dir=labels_dir, base_rules=rules,
                                 max_upload_bytes=int(max_upload_mb * 1024 * 1024))
        if host not in ("127.0.0.1", "localhost", "::1"):
            click.echo(f"warning: listening on {host}: anyone who can reach it can read files on this computer "
                       "through the page's 'path' field", err=True)
        run_server(settings, host=host, port=port, log_level="debug" if g.debug else "warning",
                   on_ready=lambda: click.echo(f"regionstyle serve: open http://{host}:{port}/ (Ctrl-C stops)"))
