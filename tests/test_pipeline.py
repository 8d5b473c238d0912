"""The wired pipeline: keep regions are bit-identical, styled regions change, the Python API round-trips."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from regionstyle.session import Session
from regionstyle.rules import load_ruleset
from regionstyle import api
from regionstyle import pipeline
from regionstyle.datatypes import LoadedImage
from regionstyle.config import make_config
from regionstyle.styles.region import render_region
from tests.scenes import RULES, three_region_scene


def _run(tmp_path, tiny_encoder, rules=RULES, **options):
    pixels, labels, label_file = three_region_scene(tmp_path)
    ruleset = load_ruleset(rules)
    config = make_config(ruleset.defaults, iterations=15, device="cpu", precision="fp32", **options)
    session = Session(custom_encoder=tiny_encoder)
    result = pipeline.run(LoadedImage(pixels=pixels), ruleset, config, labels=label_file, session=session)
    return pixels, labels, result


def test_keep_region_is_bit_identical_and_styled_regions_change(tmp_path, tiny_encoder):
    pixels, labels, result = _run(tmp_path, tiny_encoder)
    tree = labels == 5
    assert np.array_equal(result.image[tree], pixels[tree])
    for cls in (3, 2):
        region = labels == cls
        assert np.abs(result.image[region] - pixels[region]).mean() > 0.02
    assert result.image.shape == pixels.shape and result.image.dtype == np.float32


def test_report_has_regions_losses_seam_and_timings(tmp_path, tiny_encoder):
    _, labels, result = _run(tmp_path, tiny_encoder, optimize_builtins=True)
    report = result.report
    areas = {r["name"]: r["area"] for r in report["regions"]}
    assert areas["sky"] == pytest.approx((labels == 3).mean(), abs=0.02)
    assert {r["name"]: r["styled"] for r in report["regions"]}["tree"] is False
    assert report["losses"]["total"] > 0 and report["seam"] is not None
    assert set(report["timings"]) >= {"segment", "optimise", "total"}
    assert report["settings"]["iterations"] == 15


def test_a_rule_for_classes_the_photo_lacks_is_reported_not_in_the_photo(tmp_path, tiny_encoder):
    from regionstyle.cli.apply import summary_line

    rules = RULES + 'water = "oil"\nperson = "keep"\n'  # neither is in the scene
    _, _, result = _run(tmp_path, tiny_encoder, rules=rules)
    assert result.report["not_in_photo"] == ["water"]  # a keep rule styles nothing anyway
    assert "water" not in {r["name"] for r in result.report["regions"]}
    report = {**result.report, "output": "out.png"}
    assert summary_line(report).splitlines()[-1] == "  not in this photo: water"
    _, _, plain = _run(tmp_path, tiny_encoder)
    assert plain.report["not_in_photo"] == []
    assert "not in this photo" not in summary_line({**plain.report, "output": "out.png"})


def test_color_preserve_keeps_the_photo_chroma(tmp_path, tiny_encoder):
    rules = RULES.replace('sky = "watercolor"', 'sky = { builtin = "watercolor", palette = "autumn" }')
    rules += '\n[[rule]]\nclasses = ["building"]\nstyle = "pointillism"\ncolor = "preserve"\npriority = 1\n'
    pixels, labels, result = _run(tmp_path, tiny_encoder, rules=rules)
    building = labels == 2
    def chroma(image):
        return image - image.mean(axis=-1, keepdims=True)
    # Luminance-only transfer: the colour offsets stay the photo's, while brightness changed.
    assert np.abs(chroma(result.image)[building] - chroma(pixels)[building]).mean() < 0.02
    assert np.abs(result.image[building] - pixels[building]).mean() > 0.01


def test_stylize_api_takes_and_returns_pil_and_numpy(tmp_path, tiny_encoder):
    pixels, _, label_file = three_region_scene(tmp_path)
    session = Session(custom_encoder=tiny_encoder)
    photo = Image.open(tmp_path / "photo.png")
    out = api.stylize(photo, RULES, labels=label_file, iterations=5, device="cpu", session=session)
    assert isinstance(out, Image.Image) and out.size == photo.size
    array = (pixels * 255).round().astype(np.uint8)
    out = api.stylize(array, RULES, labels=label_file, iterations=5, device="cpu", session=session)
    assert out.dtype == np.uint8 and out.shape == array.shape
    keep = np.asarray(Image.open(label_file)) == 5
    assert np.array_equal(out[keep], array[keep])


def test_same_seed_same_result(tmp_path, tiny_encoder):
    _, _, first = _run(tmp_path, tiny_encoder, seed=3)
    _, _, second = _run(tmp_path, tiny_encoder, seed=3)
    assert np.array_equal(first.image, second.image)


@pytest.mark.shared
def test_real_photo_with_its_label_map(shared_data, tiny_encoder, tmp_path):
    from regionstyle import io

    photo = io.read_image(shared_data / "photos" / "small264_big_ben_cc0.jpg")
    label_file = shared_data / "labels" / "small264_big_ben_cc0.png"
    labels = io.read_label_map(label_file)
    rules = f"""
[styles]
starry = "{shared_data / 'styles' / 'vangogh_starry_night.jpg'}"
[map]
sky = "starry"
building = "mosaic"
"*" = "keep"
"""
    ruleset = load_ruleset(rules)
    config = make_config(ruleset.defaults, iterations=20, device="cpu")
    result = pipeline.run(photo, ruleset, config, labels=label_file,
                          session=Session(custom_encoder=tiny_encoder))
    sky, other = labels == 3, ~np.isin(labels, [2, 3, 26, 49, 85])
    assert sky.mean() > 0.05
    assert np.abs(result.image[sky] - photo.pixels[sky]).mean() > 0.03
    assert np.array_equal(result.image[other], photo.pixels[other])


def _spy_optimize(monkeypatch):
    """Records the regions each optimisation was given, then runs it."""
    calls = []
    from regionstyle import optimize

    real = optimize.optimize

    def spy(content, masks, regions, **kwargs):
        calls.append([r.name for r in regions])
        return real(content, masks, regions, **kwargs)

    monkeypatch.setattr(optimize, "optimize", spy)
    return calls


LAID_IN_ATOL = 3e-3


def _core(mask):
    """Where a region's mask is whole, away from the kept tree (columns 32 on). The seam blend's coarse
    pyramid levels still mix a trace of the photo in there (measured: under 0.002), hence LAID_IN_ATOL."""
    core = mask == 1.0
    core[:, 24:] = False
    return core


def test_built_in_regions_are_laid_in_as_rendered_without_optimising(tmp_path, tiny_encoder, monkeypatch):
    calls = _spy_optimize(monkeypatch)
    pixels, labels, result = _run(tmp_path, tiny_encoder)
    assert calls == [] and result.report["laid_in"] == ["sky", "building"]
    index = result.masks.names.index("building")
    rendering = render_region("mosaic", pixels, result.masks.masks[index], params={"tile": 8}, seed=0)
    core = _core(result.masks.masks[index])
    np.testing.assert_allclose(result.image[core], rendering[core], atol=LAID_IN_ATOL)
    assert np.array_equal(result.image[labels == 5], pixels[labels == 5])


def test_optimize_builtins_sends_them_to_the_optimiser(tmp_path, tiny_encoder, monkeypatch):
    calls = _spy_optimize(monkeypatch)
    _, _, result = _run(tmp_path, tiny_encoder, optimize_builtins=True)
    assert calls == [["sky", "building"]] and result.report["laid_in"] == []
    assert result.report["losses"]["total"] > 0


def test_a_painting_region_is_optimised_while_a_built_in_beside_it_keeps_its_rendering(tmp_path, tiny_encoder,
                                                                                      monkeypatch):
    rng = np.random.default_rng(1)
    stripes = np.repeat(rng.random((1, 32, 3)), 32, axis=0)  # a vertical-stripe "painting"
    Image.fromarray((stripes * 255).astype(np.uint8)).save(tmp_path / "painting.png")
    rules = RULES.replace('sky = "watercolor"', f'sky = "{tmp_path / "painting.png"}"')
    calls = _spy_optimize(monkeypatch)
    pixels, labels, result = _run(tmp_path, tiny_encoder, rules=rules)
    assert calls == [["sky"]] and result.report["laid_in"] == ["building"]
    index = result.masks.names.index("building")
    rendering = render_region("mosaic", pixels, result.masks.masks[index], params={"tile": 8}, seed=0)
    core = _core(result.masks.masks[index])
    np.testing.assert_allclose(result.image[core], rendering[core], atol=LAID_IN_ATOL)
    assert np.abs(result.image[labels == 3] - pixels[labels == 3]).mean() > 0.02


def test_a_laid_in_style_shows_as_strongly_as_its_rule_says(tmp_path, tiny_encoder):
    """strength = 0.5 lays the rendering half over what lies under it; strength above 1 is simply opaque."""
    def building(strength):
        rules = RULES + (f'[[rule]]\nclasses = "building"\nstyle = {{ builtin = "mosaic", tile = 8 }}\n'
                         f'strength = {strength}\npriority = 1\n')
        _, _, result = _run(tmp_path, tiny_encoder, rules=rules)
        return result.image[_core(result.masks.masks[result.masks.names.index("building")])]

    full, half, faint, strong = building(1.0), building(0.5), building(1e-6), building(2.0)
    assert np.abs(full - faint).mean() > 0.02
    np.testing.assert_allclose(half, 0.5 * full + 0.5 * faint, atol=LAID_IN_ATOL)
    np.testing.assert_allclose(strong, full, atol=1e-6)


def test_a_start_image_does_not_replace_a_laid_in_rendering(tmp_path, tiny_encoder):
    Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(tmp_path / "black.png")
    pixels, _, result = _run(tmp_path, tiny_encoder, init=str(tmp_path / "black.png"))
    index = result.masks.names.index("building")
    rendering = render_region("mosaic", pixels, result.masks.masks[index], params={"tile": 8}, seed=0)
    core = _core(result.masks.masks[index])
    np.testing.assert_allclose(result.image[core], rendering[core], atol=LAID_IN_ATOL)


def _keep_everything(tmp_path, pixels: np.ndarray, size: int) -> np.ndarray:
    """The photo as the pipeline works on it at ``size`` (every region kept, so nothing but the resize acts)."""
    label_file = tmp_path / "labels.png"
    Image.fromarray(np.full(pixels.shape[:2], 3, np.uint8)).save(label_file)
    ruleset = load_ruleset('[map]\n"*" = "keep"\n')
    config = make_config(ruleset.defaults, size=size, device="cpu")
    return pipeline.run(LoadedImage(pixels=pixels), ruleset, config, labels=label_file).image


def test_a_photo_enlarged_to_its_size_is_interpolated_not_repeated(tmp_path):
    # Enlarging by area averaging repeats each pixel (a 4096 px run of a 1024 px photo came out in 4x4
    # blocks): then three columns in four have no horizontal change at all.
    rng = np.random.default_rng(0)
    pixels = rng.random((12, 16, 3)).astype(np.float32)
    enlarged = _keep_everything(tmp_path, pixels, size=64)
    assert enlarged.shape == (48, 64, 3)
    steps = np.abs(np.diff(enlarged, axis=1)).mean(axis=(0, 2))
    by_phase = np.array([steps[phase::4].mean() for phase in range(4)])
    assert by_phase.min() > 0.3 * by_phase.max()
    assert enlarged.min() >= 0 and enlarged.max() <= 1


def test_a_photo_shrunk_to_its_size_is_averaged_not_sampled(tmp_path):
    checkerboard = (np.indices((32, 32)).sum(axis=0) % 2).astype(np.float32)[..., None].repeat(3, axis=-1)
    shrunk = _keep_everything(tmp_path, checkerboard, size=16)
    assert shrunk.shape == (16, 16, 3)
    assert np.abs(shrunk - 0.5).max() < 0.01  # sampling would alias it to black, white or another pattern


def test_min_island_in_the_rules_reaches_the_masks(tmp_path):
    """[defaults] min_island: a speck of building alone in the sky of a label map joins the sky."""
    labels = np.full((60, 80), 3, np.uint8)  # ADE20K ids in a label map: 3 sky, 2 building
    labels[40:] = 2
    labels[10:14, 30:34] = 2
    Image.fromarray(labels).save(tmp_path / "labels.png")
    text = ('[segmentation]\nlabels = "labels.png"\nclasses = "ade20k"\n[map]\nsky = "watercolor"\n'
            'building = "mosaic"\n[defaults]\n{}\n')
    owners = []
    for extra in ("", "min_island = 0.01"):
        (tmp_path / "rules.toml").write_text(text.format(extra))
        _, masks, _ = pipeline.explain(np.zeros((60, 80, 3), np.float32), load_ruleset(tmp_path / "rules.toml"))
        owners.append(np.array(masks.names)[masks.owner])
    assert (owners[0][10:14, 30:34] == "building").all() and (owners[1][10:14, 30:34] == "sky").all()
    assert (owners[0] != owners[1]).sum() == 16
