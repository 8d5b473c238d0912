"""The command line through click's CliRunner: outputs, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from regionstyle.cli import main
from tests.paths import SAMPLES



@pytest.fixture()
def runner():
    return CliRunner()


def test_help_is_fast_and_imports_no_torch():
    code = ("import sys, time; t = time.perf_counter(); from regionstyle.cli import main; "
            "assert 'torch' not in sys.modules, 'torch imported by --help'; print(time.perf_counter() - t)")
    seconds = float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)
    assert seconds < 1.0


def test_version(runner):
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0 and "regionstyle" in result.output


def test_explain_on_the_sample_scene(runner):
    result = runner.invoke(main, ["--json", "explain", str(SAMPLES / "scene.png"), str(SAMPLES / "scene.toml")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    labels = np.asarray(Image.open(SAMPLES / "scene.labels.png"))
    regions = {r["region"]: r for r in data["regions"]}
    assert regions["sky"]["share"] == pytest.approx((labels == 3).mean(), abs=1e-3)
    assert regions["sky"]["style"] == "watercolor"
    assert regions["road"]["style"] == "keep"
    assert data["vocabulary"] == "ade20k"


def test_explain_writes_an_overlay(runner, tmp_path):
    out = tmp_path / "overlay.png"
    result = runner.invoke(main, ["explain", str(SAMPLES / "scene.png"), str(SAMPLES / "scene.toml"),
                                  "--overlay", str(out)])
    assert result.exit_code == 0, result.output
    assert "sky" in result.output and out.is_file()
    assert Image.open(out).size[0] == Image.open(SAMPLES / "scene.png").size[0]


@pytest.mark.parametrize("text, fragment", [
    ("[map]\nsky = 'watercolr'\n", "did you mean 'watercolor'"),
    ("[map\nsky = 1\n", "rules.toml"),
    ("[map]\nskye = 'watercolor'\n", "skye"),
    ("[mapp]\nsky = 'watercolor'\n", "mapp"),
])
def test_bad_rules_give_one_line_and_exit_2(runner, tmp_path, text, fragment):
    rules = tmp_path / "rules.toml"
    rules.write_text(text)
    result = runner.invoke(main, ["explain", str(SAMPLES / "scene.png"), str(rules),
                                  "--labels", str(SAMPLES / "scene.labels.png")])
    assert result.exit_code == 2
    assert fragment in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_a_non_image_is_bad_input(runner, tmp_path):
    bad = tmp_path / "photo.jpg"
    bad.write_text("not an image")
    result = runner.invoke(main, ["explain", str(bad), str(SAMPLES / "scene.toml")])
    assert result.exit_code == 2 and "photo.jpg" in result.output and "Traceback" not in result.output


def test_apply_refuses_to_overwrite(runner, tmp_path):
    existing = tmp_path / "out.png"
    existing.write_bytes(b"keep me")
    result = runner.invoke(main, ["apply", str(SAMPLES / "scene.png"), str(SAMPLES / "scene.toml"),
                                  "-o", str(existing)])
    assert result.exit_code == 2 and "--overwrite" in result.output
    assert existing.read_bytes() == b"keep me"
    result = runner.invoke(main, ["apply", str(SAMPLES / "scene.png"), str(SAMPLES / "scene.toml"),
                                  "-o", str(SAMPLES / "scene.png")])
    assert result.exit_code == 2 and "input" in result.output


@pytest.mark.slow
def test_apply_end_to_end_writes_image_and_manifest(runner, tmp_path):
    out = tmp_path / "styled.png"
    result = runner.invoke(main, ["--seed", "1", "apply", str(SAMPLES / "scene.png"), str(SAMPLES / "scene.toml"),
                                  "-o", str(out), "--size", "96", "--iterations", "4", "--manifest",
                                  "--optimize-builtins"])
    assert result.exit_code == 0, result.output
    styled = np.asarray(Image.open(out))
    assert styled.shape[:2] == (64, 96)
    manifest = json.loads((tmp_path / "styled.png.json").read_text())
    assert manifest["settings"]["seed"] == 1 and manifest["settings"]["size"] == 96
    assert {r["name"] for r in manifest["regions"]} >= {"sky", "building", "road"}
    assert manifest["encoder"]["name"] in ("mobilenet_v2", "vgg19")


@pytest.mark.shared
def test_explain_on_every_shared_photo_with_its_label_map(runner, shared_data, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text('[map]\nsky = "watercolor"\nbuilding = "mosaic"\nperson = "keep"\n"*" = "pencil"\n')
    photos = sorted((shared_data / "photos").glob("*.jpg"))
    assert len(photos) >= 10
    for photo in photos:
        labels = shared_data / "labels" / f"{photo.stem}.png"
        result = runner.invoke(main, ["--json", "explain", str(photo), str(rules), "--labels", str(labels),
                                      "--classes", "ade20k"])
        assert result.exit_code == 0, (photo.name, result.output)
        data = json.loads(result.output)
        ids = np.asarray(Image.open(labels))
        shares = {r["region"]: r["share"] for r in data["regions"]}
        assert shares.get("sky", 0.0) == pytest.approx((ids == 3).mean(), abs=1e-3), photo.name
        assert sum(shares.values()) == pytest.approx(1.0, abs=1e-3), photo.name


@pytest.mark.shared
def test_rules_naming_the_shared_model_file_segment_for_real(runner, shared_data, tmp_path):
    model = shared_data / "models" / "deeplabv3_mnv2_ade20k" / "model.tflite"
    rules = tmp_path / "rules.toml"
    rules.write_text(f'[segmentation]\nmodel = "{model}"\n[map]\nsky = "watercolor"\nbuilding = "mosaic"\n')
    photo = shared_data / "photos" / "small264_toronto_skyline_cc0.jpg"
    result = runner.invoke(main, ["--json", "explain", str(photo), str(rules)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    reference = np.asarray(Image.open(shared_data / "labels" / f"{photo.stem}.png"))
    shares = {r["region"]: r["share"] for r in data["regions"]}
    assert shares["sky"] == pytest.approx((reference == 3).mean(), abs=0.03)
    assert "model" in data["segmenter"] or "tflite" in data["segmenter"]


def _tiny_scene(tmp_path):
    Image.fromarray((np.random.default_rng(0).random((24, 32, 3)) * 255).astype(np.uint8)).save(tmp_path / "p.png")
    labels = np.full((24, 32), 3, np.uint8)
    labels[12:] = 2
    Image.fromarray(labels).save(tmp_path / "labels.png")
    (tmp_path / "r.toml").write_text('[segmentation]\nlabels = "labels.png"\nclasses = "ade20k"\n'
                                     '[defaults]\niterations = 2\nencoder = "random"\n[map]\nsky = "oil"\n')
    return tmp_path / "p.png", tmp_path / "r.toml"


def test_global_options_work_after_the_command_too(runner, tmp_path):
    photo, rules = _tiny_scene(tmp_path)
    result = runner.invoke(main, ["apply", str(photo), str(rules), "-o", str(tmp_path / "a.png"), "--seed", "4",
                                  "--device", "cpu", "--json", "--quiet"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["settings"]["seed"] == 4 and report["settings"]["device"] == "cpu"
    before = runner.invoke(main, ["--seed", "1", "apply", str(photo), str(rules), "-o", str(tmp_path / "b.png"),
                                  "--seed", "4", "--json"])
    assert json.loads(before.output)["settings"]["seed"] == 4  # after the command wins


def test_segment_and_explain_never_overwrite_without_overwrite(runner, tmp_path):
    photo, rules = _tiny_scene(tmp_path)
    for existing in ("lab.png", "lab.classes.txt", "lab.overlay.png"):
        (tmp_path / existing).write_text("keep")
        result = runner.invoke(main, ["segment", str(photo), "-o", str(tmp_path / "lab.png")])
        assert result.exit_code == 2 and "--overwrite" in result.output, result.output
        assert (tmp_path / existing).read_text() == "keep"
        (tmp_path / existing).unlink()
    (tmp_path / "ov.png").write_text("keep")
    result = runner.invoke(main, ["explain", str(photo), str(rules), "--overlay", str(tmp_path / "ov.png")])
    assert result.exit_code == 2 and (tmp_path / "ov.png").read_text() == "keep"
    result = runner.invoke(main, ["explain", str(photo), str(rules), "--overlay", str(tmp_path / "ov.png"),
                                  "--overwrite"])
    assert result.exit_code == 0 and Image.open(tmp_path / "ov.png").size[0] == 32  # the photo, a legend below


def test_segment_runs_the_bundled_model_offline(runner, tmp_path):
    result = runner.invoke(main, ["--json", "segment", str(SAMPLES / "st_basils_cathedral.jpg"), "-o",
                                  str(tmp_path / "lab.png")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["segmenter"] == "deeplabv3-ade20k" and data["vocabulary"] == "ade20k"
    assert data["found"]["sky"] > 0.25 and data["found"]["building"] > 0.2
    assert "XNNPACK" not in result.output  # the runtime's own chatter is held back


def test_weights_list_says_what_is_bundled_and_what_would_download(runner, offline_caches):
    result = runner.invoke(main, ["--json", "weights", "list"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["mobilenet_v2"]["kind"] == "bundled" and rows["mobilenet_v2"]["cached"]
    assert rows["deeplabv3-ade20k"]["kind"] == "bundled" and rows["deeplabv3-ade20k"]["cached"]
    assert not rows["vgg19"]["cached"] and rows["vgg19"]["source"].startswith("https://download.pytorch.org/")
    assert not rows["ade20k-b2"]["cached"]
