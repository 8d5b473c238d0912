"""``batch --layers``: a PSD beside every output, recorded in the manifest, resumed, never replacing others' work."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from regionstyle.batch import find_inputs, plan_batch
from regionstyle.batch.resume import file_sha256
from regionstyle.errors import BadInput
from tests.batch.test_batch import options, run, workspace

pytest.importorskip("psd_tools", reason="psd-tools is a dependency of regionstyle")


def test_batch_layers_beside_outputs_and_resume(tmp_path, tiny_encoder):
    from psd_tools import PSDImage
    from psd_tools.composite import composite

    photos, rules = workspace(tmp_path)
    opts = options(tmp_path, layers=True)
    events, summary = run(photos, rules, opts, tiny_encoder)
    assert summary.done == 2, events
    for name in ("photo0", "photo1"):
        psd = tmp_path / "out" / f"{name}.psd"
        flat = np.asarray(Image.open(tmp_path / "out" / f"{name}.png").convert("RGB")).astype(np.float64)
        document = PSDImage.open(psd)
        assert [layer.name for layer in document] == ["photo", "building \u2014 mosaic", "sky \u2014 watercolor"]
        assert np.abs(composite(document)[0] * 255 - flat).max() <= 0.5 + 1e-3
        manifest = json.loads((tmp_path / "out" / f"{name}.png.json").read_text())
        assert manifest["written"]["layers"] == str(psd) and manifest["layers_sha256"] == file_sha256(psd)
    events, summary = run(photos, rules, opts, tiny_encoder)
    assert summary.skipped == 2
    (tmp_path / "out" / "photo1.psd").unlink()  # a missing layered file redoes just its image
    events, summary = run(photos, rules, opts, tiny_encoder)
    assert (summary.done, summary.skipped) == (1, 1) and events["photo1.png"][0] == "done"
    assert (tmp_path / "out" / "photo1.psd").is_file()


def test_outputs_made_without_layers_are_redone_for_them(tmp_path, tiny_encoder):
    photos, rules = workspace(tmp_path, count=1)
    events, summary = run(photos, rules, options(tmp_path), tiny_encoder)
    assert summary.done == 1 and not (tmp_path / "out" / "photo0.psd").exists()
    events, summary = run(photos, rules, options(tmp_path, layers=True), tiny_encoder)
    assert summary.done == 1 and (tmp_path / "out" / "photo0.psd").is_file()


def test_batch_layers_leave_a_foreign_psd_alone(tmp_path, tiny_encoder):
    photos, rules = workspace(tmp_path, count=1)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "photo0.psd").write_bytes(b"someone's work")
    events, summary = run(photos, rules, options(tmp_path, layers=True), tiny_encoder)
    assert summary.failed == 1 and "was not written by this batch; pass --overwrite" in events["photo0.png"][1]
    assert (tmp_path / "out" / "photo0.psd").read_bytes() == b"someone's work"


def test_batch_layers_leave_an_edited_psd_alone(tmp_path, tiny_encoder):
    photos, rules = workspace(tmp_path, count=1)
    run(photos, rules, options(tmp_path, layers=True), tiny_encoder)
    psd = tmp_path / "out" / "photo0.psd"
    psd.write_bytes(psd.read_bytes() + b"\0")  # saved again from a photo editor
    events, summary = run(photos, rules, options(tmp_path, layers=True), tiny_encoder)
    assert summary.failed == 1 and "was changed after the batch wrote it" in events["photo0.png"][1]
    events, summary = run(photos, rules, options(tmp_path, layers=True, overwrite=True), tiny_encoder)
    assert summary.done == 1


def test_batch_layers_refuse_two_outputs_sharing_a_psd(tmp_path):
    photos, rules = workspace(tmp_path, count=1)
    Image.open(photos / "photo0.png").save(photos / "photo0.jpg")
    with pytest.raises(BadInput, match="would both write .*photo0.psd"):
        plan_batch(find_inputs([photos]), rules, options(tmp_path, layers=True))


def test_a_mask_folder_counts_in_the_fingerprint(tmp_path, tiny_encoder):
    photos, rules = workspace(tmp_path, count=1)
    masks = tmp_path / "masks"
    masks.mkdir()
    sky = np.zeros((48, 64), np.uint8)
    sky[:20] = 255
    for name, mask in (("sky", sky), ("building", 255 - sky)):
        Image.fromarray(mask).save(masks / f"{name}.png")
    opts = options(tmp_path, labels=masks)
    events, summary = run(photos, rules, opts, tiny_encoder)
    assert summary.done == 1, events
    manifest = json.loads((tmp_path / "out" / "photo0.png.json").read_text())
    assert manifest["segmenter"]["choice"] == f"region masks {masks}"
    assert run(photos, rules, opts, tiny_encoder)[1].skipped == 1
    sky[20:24] = 255  # the sky painted a little lower
    Image.fromarray(sky).save(masks / "sky.png")
    assert run(photos, rules, opts, tiny_encoder)[1].done == 1
