"""``apply --layers FILE.psd --masks DIR`` and ``--labels DIR``: files for photo editors, from the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from regionstyle.cli import main
from tests.paths import SAMPLES

pytest.importorskip("psd_tools", reason="psd-tools is a dependency of regionstyle")
FAST = ["--size", "48", "--iterations", "2", "--encoder", "random"]


def test_apply_writes_layers_and_masks_and_reads_the_masks_back(tmp_path):
    from psd_tools import PSDImage
    from psd_tools.composite import composite

    out, psd, masks = tmp_path / "out.png", tmp_path / "out.psd", tmp_path / "masks"
    args = ["--json", "apply", str(SAMPLES / "scene.png"), str(SAMPLES / "scene.toml"), "-o", str(out), *FAST,
            "--layers", str(psd), "--masks", str(masks)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["written"]["layers"] == str(psd) and "sky.png" in report["written"]["masks"]["files"]
    flat = np.asarray(Image.open(out).convert("RGB")).astype(np.float64)
    color, _, _ = composite(PSDImage.open(psd))
    assert np.abs(color * 255 - flat).max() <= 0.5 + 1e-3
    again = CliRunner().invoke(main, args)  # nothing is replaced without --overwrite
    assert again.exit_code == 2 and "--overwrite" in again.output
    from_masks = CliRunner().invoke(main, ["--json", "apply", str(SAMPLES / "scene.png"), str(SAMPLES / "scene.toml"),
                                           "-o", str(tmp_path / "again.png"), *FAST, "--labels", str(masks)])
    assert from_masks.exit_code == 0, from_masks.output
    assert json.loads(from_masks.stdout)["segmenter"]["choice"] == f"region masks {masks}"
    assert np.array_equal(np.asarray(Image.open(tmp_path / "again.png").convert("RGB")), flat.astype(np.uint8))


def test_the_summary_names_the_files_for_editors(tmp_path):
    args = ["apply", str(SAMPLES / "scene.png"), str(SAMPLES / "scene.toml"), "-o", str(tmp_path / "out.png"),
            *FAST, "--layers", str(tmp_path / "out.psd"), "--masks", str(tmp_path / "masks")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    count = len(list((tmp_path / "masks").glob("*.png")))
    assert f"layers: {tmp_path / 'out.psd'}" in result.output
    assert f"masks: {count} PNGs in {tmp_path / 'masks'}" in result.output and count >= 5


def test_a_layers_file_must_be_a_psd(tmp_path):
    bad = CliRunner().invoke(main, ["apply", str(SAMPLES / "scene.png"), str(SAMPLES / "scene.toml"),
                                    "-o", str(tmp_path / "x.png"), "--layers", str(tmp_path / "x.tif")])
    assert bad.exit_code == 2 and "expected a .psd file name" in bad.output
    assert not (tmp_path / "x.png").exists()
