"""Batch stylisation: inputs, plans and refusals, resume and fingerprints, metadata, bad images, kills.

Library tests inject the tiny random encoder; command-line tests use ``--encoder random --iterations 3
--size 64``. Photos are 64x48 synthetic scenes (sky / building / tree) sharing one label map.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageCms

from regionstyle.session import Session
from regionstyle.rules import load_ruleset
from regionstyle import api
from regionstyle import pipeline
from regionstyle.batch import BatchOptions, find_inputs, plan_batch, run_batch
from regionstyle.batch.inputs import is_batch_output
from regionstyle.batch.resume import digest
from regionstyle.cli import main
from regionstyle.errors import BadInput

RULES = """
[segmentation]
labels = "labels.png"
classes = "ade20k"
[map]
sky = "watercolor"
building = { builtin = "mosaic", tile = 8 }
tree = "keep"
[defaults]
optimize_builtins = true  # the batch's workers, retries and fingerprints are tested with the optimiser running
"""
CLI_FAST = ["--encoder", "random", "--iterations", "3", "--size", "64"]
ARTIST = 0x013B
ORIENTATION = 0x0112


def scene(seed: int) -> np.ndarray:
    """uint8 (48, 64, 3): sky on top, a building bottom-left, a tree bottom-right, some noise."""
    pixels = np.zeros((48, 64, 3), np.float32)
    pixels[:20] = [0.4, 0.6, 0.9]
    pixels[20:, :32] = [0.7, 0.5, 0.4]
    pixels[20:, 32:] = [0.2, 0.5, 0.2]
    noise = np.random.default_rng(seed).normal(0, 0.05, pixels.shape)
    return (np.clip(pixels + noise, 0, 1) * 255).round().astype(np.uint8)


def workspace(tmp_path: Path, count: int = 2, suffix: str = ".png") -> tuple[Path, Path]:
    """tmp/in/photo0..N (and the label map they share, beside the rules), tmp/rules.toml."""
    labels = np.full((48, 64), 3, np.uint8)
    labels[20:, :32], labels[20:, 32:] = 2, 5
    Image.fromarray(labels).save(tmp_path / "labels.png")
    (tmp_path / "rules.toml").write_text(RULES)
    photos = tmp_path / "in"
    photos.mkdir()
    for index in range(count):
        Image.fromarray(scene(index)).save(photos / f"photo{index}{suffix}")
    return photos, tmp_path / "rules.toml"


def options(tmp_path: Path, **extra) -> BatchOptions:
    settings = {"iterations": 3, "device": "cpu", "precision": "fp32", **extra.pop("settings", {})}
    return BatchOptions(output_folder=tmp_path / "out", settings=settings, **extra)


def run(photos, rules, opts, tiny_encoder, session=None):
    """Plan and run a batch; returns {input name: (event kind, message)} and the summary."""
    events = {}
    session = session or Session(custom_encoder=tiny_encoder)
    items = plan_batch(find_inputs([photos]), rules, opts)
    summary = run_batch(items, opts, session=session,
                        on_event=lambda e: events.__setitem__(e.item.source.name, (e.kind, e.message)))
    return events, summary


# ---- inputs and plans -------------------------------------------------------------------------------------


def test_inputs_from_files_folders_and_patterns(tmp_path):
    root = tmp_path / "in"
    (root / "sub" / "deeper").mkdir(parents=True)
    for name in ("a.png", "sub/b.jpg", "sub/deeper/c.tif", ".hidden.png", ".a.png.x1.part"):
        Image.new("RGB", (4, 4)).save(root / name, format="PNG")
    (root / "notes.txt").write_text("not an image")

    def names(found):
        return [f.path.relative_to(root).as_posix() for f in found]

    assert names(find_inputs([root])) == ["a.png"]
    assert names(find_inputs([root], recursive=True)) == ["a.png", "sub/b.jpg", "sub/deeper/c.tif"]
    # patterns are expanded here too (a quoted pattern, or a shell that does not expand them); ** recurses
    found = find_inputs([str(root / "**" / "*.jpg"), str(root / "*.png"), root / "a.png"])
    assert names(found) == ["sub/b.jpg", "a.png"] and found[0].root == root and not found[0].explicit
    with pytest.raises(BadInput, match="no such file or folder"):
        find_inputs([tmp_path / "missing.jpg"])
    with pytest.raises(BadInput, match=r"the pattern .*\*\.webp matches no image"):
        find_inputs([str(root / "*.webp")])
    (tmp_path / "outer" / "inner").mkdir(parents=True)
    Image.new("RGB", (4, 4)).save(tmp_path / "outer" / "inner" / "d.png")
    with pytest.raises(BadInput, match=r"no images found in .*outer \(add --recursive to look in subfolders\)"):
        find_inputs([tmp_path / "outer"])


def test_plan_names_formats_subfolders_and_per_image_rules(tmp_path):
    photos, rules = workspace(tmp_path, 2, ".jpg")
    (photos / "deep").mkdir()
    Image.fromarray(scene(5)).save(photos / "deep" / "photo5.png")
    (photos / "photo1.toml").write_text(RULES.replace("labels.png", "../labels.png"))
    Image.new("L", (64, 48)).save(photos / "photo1.labels.png")  # not referenced: an ordinary input
    (photos / "own.toml").write_text(RULES.replace("labels.png", "photo1.labels.png"))
    Image.fromarray(scene(6)).save(photos / "own.png")  # its rules refer to photo1.labels.png

    items = plan_batch(find_inputs([photos], recursive=True), rules, options(tmp_path, name="{stem}_s.{ext}"))
    plan = {i.source.relative_to(photos).as_posix(): (i.output.relative_to(tmp_path / "out").as_posix(),
                                                      i.format, i.rules.name) for i in items}
    assert plan == {"photo0.jpg": ("photo0_s.jpg", "jpeg", "rules.toml"),
                    "photo1.jpg": ("photo1_s.jpg", "jpeg", "photo1.toml"),
                    "deep/photo5.png": ("deep/photo5_s.png", "png", "rules.toml"),
                    "own.png": ("own_s.png", "png", "own.toml")}  # photo1.labels.png: a label map, dropped
    items = plan_batch(find_inputs([photos]), rules, options(tmp_path, format="tiff"))
    assert {i.output.name for i in items} == {"photo0.tif", "photo1.tif", "own.tif"}
    items = plan_batch(find_inputs([photos]), rules, options(tmp_path, name="{stem}.webp"))
    assert {i.format for i in items} == {"webp"}


@pytest.mark.parametrize("extra, message", [
    ({"name": "{stem}.png", "format": "jpeg"}, "--name '{stem}.png' means png but --format says jpeg"),
    ({"bit_depth": 16, "format": "jpeg"}, "--bit-depth 16 needs PNG or TIFF output, not JPEG"),
    ({"name": "{base}.{ext}"}, "--name '{base}.{ext}': 'base' is not a placeholder"),
    ({"format": "png", "name": "x.{ext}"}, "would both be written to"),
])
def test_plan_refuses_bad_output_options(tmp_path, extra, message):
    photos, rules = workspace(tmp_path, 2, ".jpg")
    with pytest.raises(BadInput) as caught:
        plan_batch(find_inputs([photos]), rules, options(tmp_path, **extra))
    assert message in str(caught.value)


def test_same_folder_is_refused_unless_allowed(tmp_path, tiny_encoder):
    photos, rules = workspace(tmp_path, 1)
    found = find_inputs([photos])
    with pytest.raises(BadInput) as caught:
        plan_batch(found, rules, BatchOptions(output_folder=photos))
    assert str(caught.value) == (f"the output folder {photos} is also an input folder (photo0.png is there): "
                                 "choose another -o, or pass --allow-same-folder")
    with pytest.raises(BadInput, match="would overwrite the input"):  # allowed, but the name is the input's
        plan_batch(found, rules, BatchOptions(output_folder=photos, allow_same_folder=True))
    result = CliRunner().invoke(main, ["batch", str(photos), str(rules), "-o", str(photos), *CLI_FAST])
    assert result.exit_code == 2 and "--allow-same-folder" in result.output
    assert sorted(p.name for p in photos.iterdir()) == ["photo0.png"]

    beside = BatchOptions(output_folder=photos, settings=options(tmp_path).settings, allow_same_folder=True,
                          name="{stem}.styled.{ext}")
    events, summary = run(photos, rules, beside, tiny_encoder)
    assert summary.done == 1 and is_batch_output(photos / "photo0.styled.png")
    # a second run finds its own output beside the input and leaves it out of the inputs
    assert [f.path.name for f in find_inputs([photos])] == ["photo0.png"]


# ---- resume, fingerprints, ownership ----------------------------------------------------------------------


def test_resume_skips_up_to_date_outputs_and_redoes_changed_rules(tmp_path, tiny_encoder):
    photos, rules = workspace(tmp_path, 2)
    opts = options(tmp_path)
    events, summary = run(photos, rules, opts, tiny_encoder)
    assert (summary.done, summary.skipped, summary.failed) == (2, 0, 0)
    out = tmp_path / "out"
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}

    events, summary = run(photos, rules, opts, tiny_encoder)
    assert events == {"photo0.png": ("skipped", "up to date"), "photo1.png": ("skipped", "up to date")}
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps  # nothing rewritten

    rules.write_text(RULES.replace('"watercolor"', '"pencil"'))  # the shared rules changed: both redone
    events, summary = run(photos, rules, opts, tiny_encoder)
    assert {k: v[0] for k, v in events.items()} == {"photo0.png": "done", "photo1.png": "done"}
    own = RULES.replace("labels.png", "../labels.png").replace('{ builtin = "mosaic", tile = 8 }', '"oil"')
    (photos / "photo1.toml").write_text(own.replace('"oil"', '{ builtin = "oil", tile = 8 }'))
    events, summary = run(photos, rules, opts, tiny_encoder)  # broken per-image rules fail their image only
    assert events["photo0.png"][0] == "skipped" and events["photo1.png"][0] == "failed"
    assert "photo1.toml" in events["photo1.png"][1] and "tile" in events["photo1.png"][1]
    (photos / "photo1.toml").write_text(own)
    events, summary = run(photos, rules, opts, tiny_encoder)  # per-image rules for photo1 only
    assert {k: v[0] for k, v in events.items()} == {"photo0.png": "skipped", "photo1.png": "done"}
    events, _ = run(photos, rules, options(tmp_path, settings={"seed": 3}), tiny_encoder)
    assert {v[0] for v in events.values()} == {"done"}  # a setting changed


def test_manifest_fingerprint_matches_an_independent_hash(tmp_path, tiny_encoder):
    photos, rules = workspace(tmp_path, 1)
    run(photos, rules, options(tmp_path, settings={"seed": 7}), tiny_encoder)
    output = tmp_path / "out" / "photo0.png"
    manifest = json.loads((tmp_path / "out" / "photo0.png.json").read_text())
    parts = manifest["fingerprint_parts"]
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":")).encode()
    assert manifest["fingerprint"] == hashlib.sha256(canonical).hexdigest() == digest(parts)
    assert parts["input_sha256"] == hashlib.sha256((photos / "photo0.png").read_bytes()).hexdigest()
    assert parts["rules_sha256"] == hashlib.sha256(rules.read_bytes()).hexdigest()
    assert parts["referenced_sha256"] == [hashlib.sha256((tmp_path / "labels.png").read_bytes()).hexdigest()]
    assert manifest["output_sha256"] == hashlib.sha256(output.read_bytes()).hexdigest()
    assert manifest["status"] == "complete" and manifest["settings"]["seed"] == 7 == parts["settings"]["seed"]
    assert "device" not in parts["settings"] and parts["encoder"] == "custom:tiny:random(seed=0)"
    assert {r["name"] for r in manifest["regions"]} >= {"sky", "building"}
    assert set(manifest["timings"]) >= {"segment", "optimise", "total"}


def test_a_file_the_batch_did_not_write_is_kept_unless_overwrite(tmp_path, tiny_encoder):
    photos, rules = workspace(tmp_path, 2)
    foreign = tmp_path / "out" / "photo0.png"
    foreign.parent.mkdir()
    foreign.write_bytes(b"someone else's file")
    events, summary = run(photos, rules, options(tmp_path), tiny_encoder)
    assert events["photo0.png"] == ("failed", f"{foreign} exists and has no batch manifest beside it; "
                                              "pass --overwrite to replace it")
    assert events["photo1.png"][0] == "done" and summary.failed == 1
    assert foreign.read_bytes() == b"someone else's file"

    edited = tmp_path / "out" / "photo1.png"
    Image.new("RGB", (64, 48)).save(edited)  # a person retouched a finished output
    events, _ = run(photos, rules, options(tmp_path), tiny_encoder)
    assert events["photo1.png"] == ("failed", f"{edited} exists and was changed after the batch wrote it; "
                                              "pass --overwrite to replace it")
    events, summary = run(photos, rules, options(tmp_path, overwrite=True), tiny_encoder)
    assert summary.done == 2 and Image.open(foreign).size == (64, 48)


# ---- workflow fit: metadata, alpha, bit depth -------------------------------------------------------------


def test_exif_icc_and_alpha_survive_into_the_output(tmp_path, tiny_encoder):
    photos, rules = workspace(tmp_path, 0)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    alpha = np.tile(np.linspace(0, 255, 64).round().astype(np.uint8), (48, 1))
    exif = Image.Exif()
    exif[ARTIST] = "batch test"
    Image.fromarray(np.dstack([scene(1), alpha]), "RGBA").save(photos / "rgba.png", exif=exif, icc_profile=icc)
    events, _ = run(photos, rules, options(tmp_path), tiny_encoder)
    assert events["rgba.png"][0] == "done"
    with Image.open(tmp_path / "out" / "rgba.png") as out:
        assert out.mode == "RGBA" and out.info["icc_profile"] == icc
        assert out.getexif()[ARTIST] == "batch test"
        assert np.array_equal(np.asarray(out)[..., 3], alpha)


def test_exif_orientation_is_applied_and_reset_and_jpeg_quality_used(tmp_path, tiny_encoder):
    photos, rules = workspace(tmp_path, 0)
    (tmp_path / "labels.png").unlink()
    rotated = np.full((64, 48), 3, np.uint8)  # the label map of the upright (turned) photo
    Image.fromarray(rotated).save(tmp_path / "labels.png")
    exif = Image.Exif()
    exif[ARTIST], exif[ORIENTATION] = "turned", 6  # stored 64 wide, shown 48 wide
    Image.fromarray(scene(2)).save(photos / "turned.jpg", exif=exif, quality=95)
    sizes = {}
    for quality in (95, 30):
        events, _ = run(photos, rules, options(tmp_path, quality=quality, overwrite=True), tiny_encoder)
        assert events["turned.jpg"][0] == "done"
        sizes[quality] = (tmp_path / "out" / "turned.jpg").stat().st_size
        with Image.open(tmp_path / "out" / "turned.jpg") as out:
            assert out.size == (48, 64) and out.getexif().get(ORIENTATION, 1) == 1
            assert out.getexif()[ARTIST] == "turned"
    assert sizes[30] < sizes[95]


def test_sixteen_bit_input_gives_sixteen_bit_output_unless_asked_otherwise(tmp_path, tiny_encoder):
    import cv2

    photos, rules = workspace(tmp_path, 0)
    cv2.imwrite(str(photos / "deep.png"), scene(3)[..., ::-1].astype(np.uint16) * 257)
    run(photos, rules, options(tmp_path), tiny_encoder)
    assert cv2.imread(str(tmp_path / "out" / "deep.png"), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    run(photos, rules, options(tmp_path, bit_depth=8, format="tiff"), tiny_encoder)
    written = json.loads((tmp_path / "out" / "deep.tif.json").read_text())["written"]
    assert written["bit_depth"] == 8 and Image.open(tmp_path / "out" / "deep.tif").mode == "RGB"


# ---- failures, the command line, kills --------------------------------------------------------------------


def test_a_corrupt_image_mid_batch_is_reported_and_the_rest_done(tmp_path):
    photos, rules = workspace(tmp_path, 3)
    data = (photos / "photo1.png").read_bytes()
    (photos / "photo1.png").write_bytes(data[: len(data) // 2])  # truncated mid-stream
    result = CliRunner().invoke(main, ["--json", "batch", str(photos), str(rules), "-o", str(tmp_path / "out"),
                                       *CLI_FAST])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["event"], Path(r["input"]).name) for r in lines[:3]] == [
        ("done", "photo0.png"), ("failed", "photo1.png"), ("done", "photo2.png")]
    assert "truncated or corrupt" in lines[1]["message"]
    assert lines[3] == {**lines[3], "event": "summary", "done": 2, "skipped": 0, "failed": 1, "interrupted": False}
    assert "1 of 3 images failed" in result.stderr and "failed  " in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "photo0.png", "photo0.png.json", "photo2.png", "photo2.png.json"]


def test_out_of_memory_fails_one_image_but_a_bug_stops_the_batch(tmp_path, tiny_encoder, monkeypatch):
    import torch

    photos, rules = workspace(tmp_path, 2)
    real_run = pipeline.run

    def run_or_fail(photo, *args, **kwargs):
        if photo.path.name == "photo0.png":
            raise failure
        return real_run(photo, *args, **kwargs)

    monkeypatch.setattr(pipeline, "run", run_or_fail)
    failure = torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 9 GiB")
    events, summary = run(photos, rules, options(tmp_path), tiny_encoder)
    assert events["photo0.png"][0] == "failed" and "out of memory" in events["photo0.png"][1]
    assert events["photo1.png"][0] == "done" and summary.failed == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["photo1.png", "photo1.png.json"]  # no marker
    failure = RuntimeError("shape mismatch")  # a bug is not a bad image: it is never swallowed
    with pytest.raises(RuntimeError, match="shape mismatch"):
        run(photos, rules, options(tmp_path, overwrite=True), tiny_encoder)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from regionstyle.cli import main; main()", *args]


def _wait_for_complete_manifest(folder: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        for path in folder.glob("*.json"):
            try:
                if json.loads(path.read_text()).get("status") == "complete":
                    return
            except ValueError:
                pass  # cannot happen with atomic writes; tolerate it here so the test reports the real thing
        time.sleep(0.02)
    raise AssertionError(f"no complete manifest in {folder} (exit code {process.poll()})")


def _start(photos: Path, rules: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # tiny images: threads only fight other jobs for the cores
    return subprocess.Popen(_cli("--json", "batch", str(photos), str(rules), "-o", str(out), *CLI_FAST),
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigkill_mid_batch_loses_nothing_and_a_rerun_does_each_image_once(tmp_path):
    photos, rules = workspace(tmp_path, 4)
    out = tmp_path / "out"
    process = _start(photos, rules, out)
    _wait_for_complete_manifest(out, process)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    finished = {p.name[:-5] for p in out.glob("*.json") if json.loads(p.read_text())["status"] == "complete"}
    for name in finished:  # a complete manifest implies a complete, matching image
        manifest = json.loads((out / f"{name}.json").read_text())
        assert manifest["output_sha256"] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    assert 1 <= len(finished) < 4
    stamps = {name: (out / name).stat().st_mtime_ns for name in finished}

    rerun = subprocess.run(_cli("--json", "batch", str(photos), str(rules), "-o", str(out), *CLI_FAST),
                           env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    outcomes = {Path(r["output"]).name: r["event"] for r in map(json.loads, rerun.stdout.splitlines())
                if r["event"] != "summary"}
    assert outcomes == {f"photo{i}.png": "skipped" if f"photo{i}.png" in finished else "done" for i in range(4)}
    assert {name: (out / name).stat().st_mtime_ns for name in finished} == stamps
    assert sorted(p.name for p in out.iterdir()) == sorted(f"photo{i}.png{s}" for i in range(4) for s in ("", ".json"))
    for i in range(4):  # no leftovers, every image readable and complete
        assert json.loads((out / f"photo{i}.png.json").read_text())["status"] == "complete"
        assert Image.open(out / f"photo{i}.png").size == (64, 48)


def test_ctrl_c_right_after_a_manifest_landed_still_counts_that_image(tmp_path, tiny_encoder, monkeypatch):
    from regionstyle import io as rio
    from regionstyle.batch import BatchInterrupted

    write = rio.write_text_atomic

    def write_then_interrupt(path, text):
        write(path, text)
        if '"status": "complete"' in text:
            raise KeyboardInterrupt  # as if Ctrl-C came while the manifest's folder was being synced

    monkeypatch.setattr(rio, "write_text_atomic", write_then_interrupt)
    photos, rules = workspace(tmp_path, 2)
    opts = options(tmp_path)
    kinds = []
    items = plan_batch(find_inputs([photos]), rules, opts)
    with pytest.raises(BatchInterrupted) as caught:
        run_batch(items, opts, session=Session(custom_encoder=tiny_encoder),
                  on_event=lambda e: kinds.append((e.kind, e.item.source.name)))
    summary = caught.value.summary
    assert (summary.done, summary.skipped, summary.failed, summary.interrupted) == (1, 0, 0, True)
    assert kinds == [("start", "photo0.png"), ("done", "photo0.png")]


def test_ctrl_c_stops_cleanly_with_exit_code_130(tmp_path):
    photos, rules = workspace(tmp_path, 6)
    out = tmp_path / "out"
    process = _start(photos, rules, out)
    _wait_for_complete_manifest(out, process)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    summary = json.loads(stdout.splitlines()[-1])
    assert summary["event"] == "summary" and summary["interrupted"] and summary["done"] >= 1
    assert "interrupted" in stderr and "re-run the same command" in stderr and "Traceback" not in stderr
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # the image in flight left nothing
    manifests = [json.loads(p.read_text()) for p in out.glob("*.json")]  # no marker of the image in flight
    assert [m["status"] for m in manifests] == ["complete"] * summary["done"]


# ---- shared work ------------------------------------------------------------------------------------------


def test_shared_photos_batch_with_the_real_segmenter_shares_models_and_targets(tmp_path, shared_data,
                                                                                 tiny_encoder):
    pytest.importorskip("ai_edge_litert", reason="the TFLite runtime (ai-edge-litert) is not installed")
    model = shared_data / "models" / "deeplabv3_mnv2_ade20k" / "model.tflite"
    rules = tmp_path / "rules.toml"
    # Built-in styles are rendered from each photo's own regions; a painting's targets are shared.
    painting = shared_data / "styles" / "vangogh_starry_night.jpg"
    rules.write_text(f'[segmentation]\nmodel = "{model}"\n[map]\nsky = "{painting}"\nbuilding = "mosaic"\n'
                     '"*" = "keep"\n')
    opts = BatchOptions(output_folder=tmp_path / "out", settings={"iterations": 3, "size": 64, "device": "cpu",
                                                                   "precision": "fp32"})
    items = plan_batch(find_inputs([str(shared_data / "photos" / "small264_*.jpg")]), rules, opts)
    assert len(items) == 3
    session = Session(custom_encoder=tiny_encoder)
    cache_sizes = []
    summary = run_batch(items, opts, session=session,
                        on_event=lambda e: cache_sizes.append(len(session.targets)) if e.kind == "done" else None)
    assert (summary.done, summary.failed) == (3, 0)
    assert len(session.segmenters) == 1  # the model was loaded once
    assert cache_sizes[0] > 0 and cache_sizes == [cache_sizes[0]] * 3  # targets built for the first image only
    for item in items:
        manifest = json.loads(item.manifest.read_text())
        areas = {r["name"]: r["area"] for r in manifest["regions"]}
        assert sum(areas.values()) == pytest.approx(1.0, abs=1e-3) and areas.get("sky", 0) > 0.05
        assert Image.open(item.output).size == (64, 64) and manifest["segmenter"]["source"].startswith("tflite")


def test_stylize_many_is_lazy_and_shares_one_session(tiny_encoder, tmp_path):
    workspace(tmp_path, 0)
    pulled = []

    def frames():
        for seed in range(3):
            pulled.append(seed)
            yield scene(seed)

    session = Session(custom_encoder=tiny_encoder)
    # Built-in styles are rendered from each frame's own regions; a painting's targets are shared.
    Image.fromarray(scene(7)).save(tmp_path / "painting.png")
    rules = RULES.replace("labels.png", str(tmp_path / "labels.png"))
    rules = rules.replace('sky = "watercolor"', f'sky = "{tmp_path / "painting.png"}"')
    results = api.stylize_many(frames(), rules, iterations=3, device="cpu", session=session)
    first = next(results)
    assert pulled == [0] and first.dtype == np.uint8 and first.shape == (48, 64, 3)
    cached = len(session.targets)
    rest = list(results)
    assert len(rest) == 2 and len(session.targets) == cached > 0


def test_a_session_keeps_targets_of_different_encoders_apart(tiny_encoder, tmp_path):
    from torch import nn

    from regionstyle.datatypes import LoadedImage
    from regionstyle.encoder import EncoderInfo, FeatureEncoder
    from regionstyle.config import make_config

    workspace(tmp_path, 0)
    ruleset = load_ruleset(RULES.replace("labels.png", str(tmp_path / "labels.png")))
    mine = tiny_encoder[0]  # same layout and tap names (so the same Gram shapes), other weights
    body = nn.Sequential(*[nn.Conv2d(m.in_channels, m.out_channels, 3, padding=1) if isinstance(m, nn.Conv2d)
                           else m for m in mine.body])
    other = FeatureEncoder(body=body, taps={"relu1_1": "1", "relu2_1": "6", "relu3_1": "9", "relu1_2": "3"},
                           mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25),
                           info=EncoderInfo("tiny-other", "random(seed=1)", "test", pretrained=False))
    config = make_config(ruleset.defaults, iterations=3, device="cpu", precision="fp32")
    session = Session(custom_encoder=tiny_encoder)
    photo = LoadedImage(pixels=scene(0).astype(np.float32) / 255)
    pipeline.run(photo, ruleset, config, session=session)
    alone = len(session.targets)
    session.custom_encoder = (other, tiny_encoder[1])
    pipeline.run(photo, ruleset, config, session=session)
    assert len(session.targets) == 2 * alone
