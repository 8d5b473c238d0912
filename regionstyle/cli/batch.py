"""``regionstyle batch``: stylise many photos into a folder; re-running resumes where it stopped."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from regionstyle.cli.apply import given_settings, io_options, new_session
from regionstyle.cli.cluster import cluster_options, cluster_runner
from regionstyle.cli.options import global_options, transfer_options
from regionstyle.cli.progress import ProgressBar, show_progress
from regionstyle.cli.group import IMAGE, CliError, Globals, Terminated, main, reported_errors


@main.command("batch")
@click.argument("inputs", nargs=-1, required=True)
@click.argument("rules", type=IMAGE)
@click.option("-o", "--output-dir", "output_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the outputs (created if missing); subfolders of a folder input are mirrored.")
@click.option("--name", default="{stem}.{ext}", show_default=True,
              help="Output file name: {stem} = the input's name, {ext} = the format's suffix; "
                   "a literal suffix such as '{stem}_styled.jpg' sets the format.")
@click.option("--format", "image_format", type=click.Choice(["png", "jpeg", "tiff", "webp"]),
              help="Output format [default: from --name, else the input's].")
@click.option("--quality", type=click.IntRange(1, 100), default=95, show_default=True,
              help="JPEG/WebP quality (WebP 100 = lossless).")
@click.option("--bit-depth", type=click.Choice(["8", "16"]),
              help="Bits per channel, 16 for PNG/TIFF [default: the input's where the format can hold it].")
@click.option("--recursive", "-r", is_flag=True, help="Look for images in subfolders of folder inputs too.")
@click.option("--allow-same-folder", is_flag=True, help="Let the output folder be an input folder.")
@click.option("--layers", is_flag=True, help="Also write a layered PSD beside every output (photo.psd): the photo, "
                                             "then one masked layer per styled region.")
@transfer_options
@io_options
@cluster_options
@global_options
@click.pass_obj
def batch_command(g: Globals, inputs: tuple[str, ...], rules: Path, output_dir: Path, name: str,
                  image_format: str | None, quality: int, bit_depth: str | None, recursive: bool,
                  allow_same_folder: bool, layers: bool, labels: str | None, segmenter_weights: str | None,
                  manifest: bool, overwrite: bool, cluster: str | None, ray_address: str | None,
                  workers: int | None, **transfer: Any) -> None:
    """Stylise every image of INPUTS (files, folders, patterns) with RULES, into OUTPUT_DIR.

    A rules file beside an image (photo.toml for photo.jpg) replaces RULES for that image. Every output
    gets OUT.json (settings, versions, seed, timings, regions, fingerprint; always written, --manifest or
    not); re-running the same command skips outputs that are up to date and redoes the rest. --overwrite
    redoes everything. Exit code 1 when an image failed, 2 for bad usage, 130 after Ctrl-C.
    """
    with reported_errors(g):
        from regionstyle import batch

        on_cluster = cluster_runner(cluster, ray_address, workers)  # None: this machine (Ray never imported)
        options = batch.BatchOptions(
            output_folder=output_dir, settings=given_settings(g, transfer), name=name, format=image_format,
            labels=Path(labels) if labels else None, quality=quality, allow_same_folder=allow_same_folder,
            segmenter_weights=Path(segmenter_weights) if segmenter_weights else None, overwrite=overwrite,
            bit_depth=int(bit_depth) if bit_depth else None, layers=layers)
        items = batch.plan_batch(batch.find_inputs(inputs, recursive=recursive), rules, options)
        view = BatchView(g, total=len(items))
        try:
            if on_cluster is None:
                summary = batch.run_batch(items, options, session=new_session(g), on_event=view.event,
                                          on_progress=view.progress)
            else:
                summary = on_cluster(items, options, view)
        except batch.BatchInterrupted as stop:
            view.finish(stop.summary)
            term = isinstance(stop.__context__, Terminated)
            raise CliError(f"interrupted: {stop.summary.done} done before {'SIGTERM' if term else 'Ctrl-C'}; "
                           "re-run the same command to finish the rest", 143 if term else 130) from None
        finally:
            view.close()
        view.finish(summary)
        if summary.failed:
            raise CliError(f"{summary.failed} of {len(items)} images failed (listed above)", 1)


class BatchView:
    """What a person or a script sees: an overall bar and the current image's bar, a line per image
    (a JSON line under --json), failures on stderr even under --quiet, and a summary."""

    def __init__(self, g: Globals, *, total: int) -> None:
        from tqdm import tqdm

        self.g = g
        self.bars = show_progress(g)
        self.overall = tqdm(total=total, disable=not self.bars, desc="images", unit="img", position=0,
                            bar_format="{desc} {n_fmt}/{total_fmt} {bar} [{elapsed}<{remaining}]")
        self.current: ProgressBar | None = None

    def event(self, event: Any) -> None:
        if event.kind == "start":
            self.current = ProgressBar(enabled=self.bars, label=event.item.source.name)
            return
        self._close_current()
        self.overall.update(1)
        if self.g.json:
            self._say(json.dumps(record(event)))
        if event.kind == "failed":
            self._say(f"failed  {event.item.source}: {event.message}", err=True)
        elif not (self.g.quiet or self.g.json):
            what = "(up to date)" if event.kind == "skipped" else f"[{event.seconds:.1f} s]"
            self._say(f"{event.kind:<7} {event.item.source} -> {event.item.output}  {what}")

    def progress(self, step: Any) -> None:
        if self.current is not None:
            self.current(step)

    def finish(self, summary: Any) -> None:
        data = {"event": "summary", "done": summary.done, "skipped": summary.skipped, "failed": summary.failed,
                "seconds": round(summary.seconds, 3), "interrupted": summary.interrupted}
        if self.g.json:
            self._say(json.dumps(data))
        elif not self.g.quiet:
            self._say(f"{summary.done} done, {summary.skipped} skipped (up to date), {summary.failed} failed"
                      f" in {summary.seconds:.1f} s" + (" (interrupted)" if summary.interrupted else ""))

    def close(self) -> None:
        self._close_current()
        self.overall.close()

    def _close_current(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None

    def _say(self, text: str, *, err: bool = False) -> None:
        if self.bars:  # print above the bars instead of through them
            from tqdm import tqdm

            tqdm.write(text, file=sys.stderr if err else sys.stdout)
        else:
            click.echo(text, err=err)


def record(event: Any) -> dict[str, Any]:
    """One JSON line for scripts: the outcome of one image."""
    data = {"event": event.kind, "index": event.index + 1, "total": event.total, "input": str(event.item.source),
            "output": str(event.item.output), "seconds": round(event.seconds, 3), "message": event.message}
    if event.manifest is not None:
        data.update(manifest=str(event.item.manifest), fingerprint=event.manifest["fingerprint"],
                    regions={r["name"]: r["area"] for r in event.manifest.get("regions", [])})
    return data
