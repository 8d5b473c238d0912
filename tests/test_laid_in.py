"""Runs whose styled regions are all built-ins: laid in as rendered, without the optimiser, without torch.

Importing torch alone takes 3-4 s on the 2-core machine, more than the rest of a 12 MP preview; these
runs never load it (benchmarks/README.md, "A run of built-ins without torch").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from regionstyle import color
from regionstyle.style import rendered
from tests.scenes import RULES, three_region_scene

# Runs the command line (or the API) in a fresh interpreter and prints which of torch's modules it loaded.
CLI = """
import sys
from regionstyle.cli import main
sys.argv = ["regionstyle", *sys.argv[1:]]
try:
    main()
except SystemExit as done:
    assert not done.code, done.code
print(sorted(name for name in ("torch", "torchvision") if name in sys.modules))
"""
API = """
import sys
import numpy as np
from PIL import Image
import regionstyle
photo = np.asarray(Image.open(sys.argv[1]))
out = regionstyle.stylize(photo, sys.argv[2], labels=sys.argv[3])
assert out.shape == photo.shape and out.dtype == photo.dtype and (out != photo).any()
print(sorted(name for name in ("torch", "torchvision") if name in sys.modules))
"""


def _loaded(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_the_command_line_lays_built_ins_in_with_the_bundled_segmenter_and_no_torch(tmp_path: Path) -> None:
    three_region_scene(tmp_path, scale=2)
    rules = tmp_path / "rules.toml"
    rules.write_text('[map]\nsky = "watercolor"\n"*" = { builtin = "mosaic", tile = 8 }\n')
    out = tmp_path / "out.png"
    # No label map: the bundled DeepLabV3 (a TFLite model) labels the photo.
    assert _loaded(CLI, "apply", str(tmp_path / "photo.png"), str(rules), "-o", str(out), "--manifest") == "[]"
    manifest = json.loads(out.with_name(out.name + ".json").read_text())
    assert manifest["laid_in"] and manifest["encoder"]["name"] is None
    assert manifest["versions"]["torch"]  # named all the same: the installed one


def test_segmenting_with_the_bundled_model_loads_no_torch(tmp_path: Path) -> None:
    three_region_scene(tmp_path)
    out = tmp_path / "photo.labels.png"
    assert _loaded(CLI, "segment", str(tmp_path / "photo.png"), "-o", str(out)) == "[]"
    assert out.is_file() and out.with_suffix(".classes.txt").is_file()


def test_explain_loads_no_torch_unless_a_painting_is_matched(tmp_path: Path) -> None:
    _, _, label_file = three_region_scene(tmp_path)
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES.replace('sky = "watercolor"', f'sky = "{(tmp_path / "photo.png").as_posix()}"'))
    assert _loaded(CLI, "explain", str(tmp_path / "photo.png"), str(rules), "--labels", str(label_file)) == "[]"


def test_the_api_lays_built_ins_in_without_torch(tmp_path: Path) -> None:
    _, _, label_file = three_region_scene(tmp_path)
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    assert _loaded(API, str(tmp_path / "photo.png"), str(rules), str(label_file)) == "[]"


def test_a_painting_still_loads_torch_for_the_optimiser(tmp_path: Path) -> None:
    """The other side of the split: the check above would pass if the child loaded nothing at all."""
    pixels, _, label_file = three_region_scene(tmp_path)
    painting = tmp_path / "painting.png"
    from PIL import Image

    Image.fromarray((pixels[::-1] * 255).astype(np.uint8)).save(painting)
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES.replace('sky = "watercolor"', f'sky = "{painting.as_posix()}"')
                     + "[defaults]\niterations = 2\nencoder = \"random\"\n")
    assert "'torch'" in _loaded(API, str(tmp_path / "photo.png"), str(rules), str(label_file))


def _pixels(seed: int, shape: tuple[int, int] = (24, 32)) -> np.ndarray:
    return np.random.default_rng(seed).random((*shape, 3), dtype=np.float32)


def test_moment_transfer_gives_the_target_s_mean_and_covariance() -> None:
    source, reference = _pixels(0) * 0.5 + 0.2, _pixels(1) * np.float32([0.3, 0.5, 0.2]) + 0.3
    moved = color.recolor_like(source, reference)
    mean, cov = color.moments(moved)
    target_mean, target_cov = np.mean(reference.reshape(-1, 3), 0), np.cov(reference.reshape(-1, 3).T, bias=True)
    np.testing.assert_allclose(mean, target_mean, atol=1e-4)
    np.testing.assert_allclose(cov, target_cov, atol=2e-4)


def test_weighted_moments_read_only_the_weighted_pixels() -> None:
    pixels, weights = _pixels(2), np.zeros((24, 32), np.float32)
    weights[5:9, 3:20] = 1.0
    mean, cov = color.moments(pixels, weights)
    inside = pixels[5:9, 3:20].reshape(-1, 3)
    np.testing.assert_allclose(mean, inside.mean(0), atol=1e-6)
    np.testing.assert_allclose(cov, np.cov(inside.T, bias=True), atol=1e-6)


def test_kept_chroma_has_the_result_s_luminance_and_the_photo_s_colour() -> None:
    result, photo = _pixels(3) * 0.2 + 0.4, _pixels(4) * 0.2 + 0.4  # nothing clipped
    kept = color.keep_photo_chroma(result, photo)
    np.testing.assert_allclose(color.luminance(kept), color.luminance(result), atol=1e-6)
    np.testing.assert_allclose(kept - photo, np.repeat(kept[..., :1] - photo[..., :1], 3, axis=2), atol=1e-6)


def test_the_styled_start_changes_the_photo_only_inside_each_mask() -> None:
    photo = _pixels(5)
    masks = np.zeros((2, 24, 32), np.float32)
    masks[1, :, 16:] = 1.0
    start = color.styled_start(photo, masks, [(1, color.moments(_pixels(6) * 0.2))])
    np.testing.assert_array_equal(start[:, :16], photo[:, :16])
    assert np.abs(start[:, 16:] - photo[:, 16:]).mean() > 0.1


@pytest.mark.parametrize("mode", ["style", "preserve", "match"])
def test_a_rendering_is_laid_in_where_its_mask_is_and_as_opaque_as_its_strength(mode: str) -> None:
    photo = _pixels(7)
    masks = np.zeros((2, 24, 32), np.float32)
    masks[1, 8:, :] = 1.0
    masks[0] = 1.0 - masks[1]
    style = rendered.render(rendered_style(), photo, masks[1], seed=0, color_mode=mode)
    layer = style.blended()
    if mode == "preserve":
        np.testing.assert_allclose(layer[..., 0], layer[..., 2])  # luminance only
    whole = rendered.lay_in(photo, masks, [(1, layer, 1.0)])
    half = rendered.lay_in(photo, masks, [(1, layer, 0.5)])
    np.testing.assert_array_equal(whole[:8], photo[:8])
    np.testing.assert_allclose(whole[8:], layer[8:], atol=1e-6)
    np.testing.assert_allclose(half[8:], 0.5 * (photo[8:] + layer[8:]), atol=1e-6)


def rendered_style():
    from maskrules import StyleRef

    mosaic = StyleRef(kind="builtin", name="mosaic", builtin="mosaic", params=(("tile", 6),))
    pencil = StyleRef(kind="builtin", name="pencil", builtin="pencil")
    return StyleRef(kind="blend", name="b", blend=((mosaic, 0.6), (pencil, 0.4)))
