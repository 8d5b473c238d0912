"""Hostile outputs: nothing overwritten without --overwrite, no input ever, nothing outside the place named,
every output checked before the first model loads; a full disk leaves nothing behind."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest

from tests.hostile import plant
from tests.hostile.harness import MOUNT, RULES, Case, cli, judge, make_workspace, run_case, snapshot, special, table

APPLY = "apply photo.png rules.toml"
SEGMENT = "segment photo.png --model auto"
EXPLAIN = "explain photo.png rules.toml"
BATCH = "batch photo.png rules.toml"
LONG = "x" * 245 + ".png"  # with ".json" beside it: 254 characters, the longest name most file systems take


def out(id: str, args: str, says: str, setup=None, *, exit: int = 2, **more) -> Case:
    return Case(id, cli(args), exit, says, setup, **more)


CASES = table("outputs", [
    out("apply-exists", f"{APPLY} -o old.png", "pass --overwrite", plant.data("old.png", b"precious")),
    out("apply-overwrite-allowed", f"{APPLY} -o old.png --overwrite", "wrote old.png", plant.data("old.png", b"old"),
        exit=0, changes=("old.png",)),
    out("apply-manifest-exists", f"{APPLY} -o out.png --manifest", "out.png.json exists",
        plant.data("out.png.json", "{}")),
    out("apply-manifest-is-a-folder", f"{APPLY} -o out.png --manifest", "is a folder", plant.folder("out.png.json")),
    out("apply-output-is-a-folder", f"{APPLY} -o dir.png", "is a directory", plant.folder("dir.png")),
    out("apply-output-below-a-file", f"{APPLY} -o photo.png/out.png", "is a file, not a folder"),
    out("apply-output-is-the-photo", f"{APPLY} -o photo.png --overwrite", "refusing to overwrite the input"),
    out("apply-output-links-to-the-photo", f"{APPLY} -o link.png --overwrite", "refusing to overwrite the input",
        plant.link("link.png", "photo.png")),
    out("apply-output-hard-link-to-photo", f"{APPLY} -o same.png --overwrite", "refusing to overwrite the input",
        plant.hard_link("same.png", "photo.png")),
    out("apply-output-is-the-label-map", f"{APPLY} -o labels.png --overwrite", "refusing to overwrite the input"),
    out("apply-output-is-the-style-image", f"{APPLY} -o painting.png --overwrite", "refusing to overwrite the input"),
    out("apply-output-is-the-init-image", f"{APPLY} -o start.png --overwrite --init start.png",
        "refusing to overwrite the input", plant.noise("start.png", 32, 48)),
    out("apply-manifest-over-the-rules", "apply photo.png x.png.json -o x.png --manifest --overwrite",
        "refusing to overwrite the input", plant.rules("x.png.json", RULES)),
    out("apply-output-dev-null", f"{APPLY} -o /dev/null --overwrite", "cannot tell the image format"),
    out("apply-output-fifo", f"{APPLY} -o pipe.png --overwrite", "never replaced", plant.fifo("pipe.png")),
    out("apply-unknown-format", f"{APPLY} -o out.xyz", "cannot tell the image format"),
    out("apply-no-suffix", f"{APPLY} -o out", "cannot tell the image format"),
    out("apply-name-too-long", f"{APPLY} -o {'y' * 300}.png", "File name too long"),
    out("apply-longest-name", f"{APPLY} -o {LONG} --manifest", "wrote", exit=0, writes=(LONG, LONG + ".json")),
    out("apply-new-folders", f"{APPLY} -o a/b/out.png", "wrote a/b/out.png", exit=0, writes=("a/b/out.png",)),
    out("apply-layers-not-psd", f"{APPLY} -o out.png --layers out.tif", ".psd"),
    out("apply-layers-exists", f"{APPLY} -o out.png --layers l.psd", "l.psd exists", plant.data("l.psd", b"8BPS")),
    out("apply-layers-is-the-output", f"{APPLY} -o out.png --layers out.png", ".psd"),
    out("apply-masks-is-a-file", f"{APPLY} -o out.png --masks photo.png", "photo.png"),
    out("apply-masks-hold-masks", f"{APPLY} -o out.png --masks m", "--overwrite",
        plant.steps(plant.folder("m"), plant.label_map("m/sky.png", 32, 48), plant.data("m/regions.json", "{}"))),
    out("segment-exists", f"{SEGMENT} -o lab.png", "lab.png exists", plant.data("lab.png", b"old")),
    out("segment-overlay-exists", f"{SEGMENT} -o lab.png", "lab.overlay.png exists",
        plant.data("lab.overlay.png", b"old")),
    out("segment-classes-exist", f"{SEGMENT} -o lab.png", "lab.classes.txt exists",
        plant.data("lab.classes.txt", "old\n")),
    out("segment-overlay-is-a-folder", f"{SEGMENT} -o lab.png", "is a folder", plant.folder("lab.overlay.png")),
    out("segment-over-the-photo", f"{SEGMENT} -o photo.png --overwrite", "refusing to overwrite the input"),
    out("segment-lossy", f"{SEGMENT} -o lab.jpg", "lossless"),
    out("explain-overlay-exists", f"{EXPLAIN} --overlay ov.png", "ov.png exists", plant.data("ov.png", b"old")),
    out("explain-overlay-is-the-photo", f"{EXPLAIN} --overlay photo.png --overwrite", "refusing to overwrite"),
    out("explain-overlay-is-the-labels", f"{EXPLAIN} --overlay labels.png --overwrite", "refusing to overwrite"),
    out("explain-overlay-unknown-format", f"{EXPLAIN} --overlay ov.xyz", "cannot tell the image format"),
    out("sheet-exists", "styles sheet -o s.png", "s.png exists", plant.data("s.png", b"old")),
    out("sheet-unknown-format", "styles sheet -o s.xyz", "cannot tell the image format"),
    out("sheet-over-its-photo", "styles sheet -o photo.png --photo photo.png --overwrite", "refusing to overwrite"),
    out("batch-name-climbs-out", f"{BATCH} -o out --name ../escaped_{{stem}}.{{ext}}", "outside out"),
    out("batch-name-absolute", f"{BATCH} -o out --name {{tmp}}/elsewhere/{{stem}}.{{ext}}", "outside out"),
    out("batch-name-climbs-out-deeper", f"{BATCH} -o out --name sub/../../../{{stem}}.{{ext}}", "outside out"),
    out("batch-link-out-of-the-folder", f"{BATCH} -o out --name away/{{stem}}.{{ext}}", "outside out",
        plant.steps(plant.folder("out"), plant.link("out/away", "../../elsewhere"))),
    out("batch-two-inputs-one-output", "batch photo.png in/photo.jpg rules.toml -o out --name {stem}.png",
        "would both be written", plant.steps(plant.folder("in"), plant.noise("in/photo.jpg", 32, 48))),
    out("batch-output-is-the-input-folder", f"{BATCH} -o .", "also an input folder"),
    out("batch-output-folder-is-a-file", f"{BATCH} -o photo.png", "is a file"),
    out("batch-foreign-file-in-the-way", f"{BATCH} -o out", "1 of 1 images failed",
        plant.steps(plant.folder("out"), plant.data("out/photo.png", b"someone else's")), exit=1),
    out("batch-name-unknown-format", f"{BATCH} -o out --name {{stem}}.json", "no image suffix"),
])


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_hostile_output(case: Case, tmp_path) -> None:
    run_case(case, tmp_path)


# ---- a full disk ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def tiny_disk(folder: Path, *, free_pages: int = 0):
    """A 512 kB tmpfs at ``folder``, filled up but for ``free_pages`` pages of 4 kB; unmounted afterwards."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        filler = folder / ".filler"
        with contextlib.suppress(OSError), open(filler, "wb") as handle:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
        os.truncate(filler, max(0, filler.stat().st_size - free_pages * 4096))
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _run_on_disk(tmp_path: Path, args: str, *, exit: int, says: str, free_pages: int = 0) -> None:
    from click.testing import CliRunner

    from regionstyle.cli import main

    ws = make_workspace(tmp_path)
    with tiny_disk(ws / "disk", free_pages=free_pages):
        before = snapshot(tmp_path)
        cwd = os.getcwd()
        os.chdir(ws)
        try:
            result = CliRunner().invoke(main, cli(args))
        finally:
            os.chdir(cwd)
        judge(Case(args, cli(args), exit, says), result, before, snapshot(tmp_path))


@special("outputs", "a full disk: apply leaves no partial file and says so", needs=MOUNT)
def test_full_disk_apply(tmp_path) -> None:
    _run_on_disk(tmp_path, "apply photo.png rules.toml -o disk/out.png", exit=1, says="no space left on device")


@special("outputs", "a full disk after the image: its manifest fails, the image is taken back", needs=MOUNT)
def test_full_disk_between_image_and_manifest(tmp_path) -> None:
    # Two free pages hold the 48x32 image's temporary file but not the manifest's as well.
    _run_on_disk(tmp_path, "apply photo.png rules.toml -o disk/out.png --manifest", exit=1,
                 says="disk/out.png.json", free_pages=2)


@special("outputs", "a full disk: new folders made for the output are removed again", needs=MOUNT)
def test_full_disk_new_folders(tmp_path) -> None:
    _run_on_disk(tmp_path, "apply photo.png rules.toml -o disk/a/b/out.png", exit=1, says="no space left")


@special("outputs", "a full disk: segment writes none of its three files", needs=MOUNT)
def test_full_disk_segment(tmp_path) -> None:
    _run_on_disk(tmp_path, "segment photo.png --model auto -o disk/lab.png", exit=1, says="no space left",
                 free_pages=1)


@special("outputs", "a full disk: a batch reports every image failed and leaves no marker or temporary", needs=MOUNT)
def test_full_disk_batch(tmp_path) -> None:
    _run_on_disk(tmp_path, "batch photo.png painting.png rules.toml -o disk/out", exit=1, says="2 of 2 images failed")
