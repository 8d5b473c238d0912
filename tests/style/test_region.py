"""Built-in styles in the pipeline: rendered from the region, used as its target, its start and its anchor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from maskrules import StyleRef
from regionstyle import pipeline
from regionstyle.config import make_config
from regionstyle.datatypes import LoadedImage
from regionstyle.rules import load_ruleset
from regionstyle.session import Session
from regionstyle.style import region as region_styles
from regionstyle.style import rendered
from regionstyle.style.exemplars import detail_weights, exemplar
from regionstyle.style.targets import StyleSource, style_target
from regionstyle.styles.region import render_region

MOSAIC = StyleRef(kind="builtin", name="mosaic", builtin="mosaic", params=(("tile", 6),))


def _photo(height: int = 48, width: int = 64) -> np.ndarray:
    rng = np.random.default_rng(0)
    pixels = np.zeros((height, width, 3), np.float32)
    pixels[:20] = [0.4, 0.6, 0.9]
    pixels[20:, :32] = [0.7, 0.5, 0.4]
    pixels[20:, 32:] = [0.2, 0.5, 0.2]
    pixels[28:36, 8:16] = [0.15, 0.15, 0.2]  # a window
    return np.clip(pixels + rng.normal(0, 0.03, pixels.shape), 0, 1).astype(np.float32)


def _tensors(pixels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    content = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))
    mask = torch.zeros(pixels.shape[:2])
    mask[20:, :32] = 1.0
    return content, mask


def test_which_styles_are_rendered_from_the_region(tmp_path: Path) -> None:
    image = StyleRef(kind="image", name="p", image=tmp_path / "p.png")
    assert rendered.renders_from_region(MOSAIC)
    assert not rendered.renders_from_region(image)
    assert not rendered.renders_from_region(None)
    blend = StyleRef(kind="blend", name="b", blend=((MOSAIC, 0.3), (image, 0.7)))
    assert rendered.renders_from_region(blend)
    # Only a style of built-ins alone is laid in as rendered: a painting or a layered style is optimised.
    assert rendered.builtins_only(MOSAIC) and rendered.builtins_only(StyleRef(
        kind="blend", name="b", blend=((MOSAIC, 0.5), (MOSAIC, 0.5))))
    assert not rendered.builtins_only(blend) and not rendered.builtins_only(image)
    assert not rendered.builtins_only(StyleRef(kind="layers", name="l", layers=(MOSAIC, MOSAIC)))


def test_region_source_holds_the_rendering_and_its_region() -> None:
    pixels = _photo()
    content, mask = _tensors(pixels)
    source = region_styles.region_source(MOSAIC, content=content, mask=mask, seed=2, color_mode="style")
    expected = render_region("mosaic", pixels, mask.numpy(), params={"tile": 6}, seed=2)
    np.testing.assert_array_equal(source.images[0].permute(1, 2, 0).numpy(), expected)
    assert torch.equal(source.masks[0], mask) and source.weights == (1.0,) and source.texture_scale == 1.0
    grey = region_styles.region_source(MOSAIC, content=content, mask=mask, seed=2, color_mode="preserve")
    assert torch.allclose(grey.images[0][0], grey.images[0][2])  # luminance only


def test_the_cache_key_follows_the_region_pixels_only() -> None:
    pixels = _photo()
    content, mask = _tensors(pixels)

    def key(photo: np.ndarray) -> str:
        tensor = torch.from_numpy(np.ascontiguousarray(photo.transpose(2, 0, 1)))
        return region_styles.region_source(MOSAIC, content=tensor, mask=mask, seed=0, color_mode="style").key

    outside, inside = pixels.copy(), pixels.copy()
    outside[:10] = 0.0
    inside[30, 20] = 0.0
    assert key(outside) == key(pixels) != key(inside)


def test_a_blend_renders_its_builtins_and_keeps_its_paintings_whole(tmp_path: Path) -> None:
    pixels = _photo()
    content, mask = _tensors(pixels)
    painting = (np.random.default_rng(3).random((20, 30, 3)) * 255).astype(np.uint8)
    Image.fromarray(painting).save(tmp_path / "p.png")
    image = StyleRef(kind="image", name="p", image=tmp_path / "p.png")
    for share, laid_in in ((0.3, False), (0.7, True)):
        blend = StyleRef(kind="blend", name="b", blend=((MOSAIC, share), (image, 1 - share)))
        source = region_styles.region_source(blend, content=content, mask=mask, seed=0, color_mode="style")
        assert source.weights == (share, 1 - share)
        torch.testing.assert_close(source.masks[1], detail_weights(exemplar(image)))  # whole, read by its detail
        np.testing.assert_allclose(source.images[1].permute(1, 2, 0).numpy(), painting / 255, atol=1e-6)
        rendering = region_styles.rendering(source)  # only a blend mostly of built-ins is laid in
        assert (rendering is not None) == laid_in
        if laid_in:
            np.testing.assert_array_equal(rendering, source.images[0].permute(1, 2, 0).numpy())


def test_exemplars_are_paintings_only() -> None:
    with pytest.raises(ValueError, match="rendered from the region"):
        exemplar(MOSAIC)


def test_paint_starts_and_anchor_lay_the_rendering_in_its_region() -> None:
    pixels = _photo()
    content, mask = _tensors(pixels)
    source = region_styles.region_source(MOSAIC, content=content, mask=mask, seed=0, color_mode="style")
    masks = torch.stack([1 - mask, mask]).numpy()
    inside, rendered = mask.numpy() > 0, source.images[0].permute(1, 2, 0).numpy()
    start = region_styles.paint_starts(pixels, masks, [(1, source)])
    np.testing.assert_array_equal(start[inside], rendered[inside])
    np.testing.assert_array_equal(start[~inside], pixels[~inside])
    image, weight = region_styles.anchor(pixels, masks, [(1, source)])
    np.testing.assert_array_equal(image.permute(1, 2, 0).numpy(), start)
    assert torch.equal(weight, mask)
    plain = StyleSource(key="x", images=(content,), weights=(1.0,))
    assert region_styles.anchor(pixels, masks, [(0, plain)]) is None


def test_masked_target_reads_only_the_region(tiny_encoder) -> None:
    encoder, plan = tiny_encoder
    taps = tuple(tap for tap, _ in plan.style)
    rng = np.random.default_rng(1)
    image = torch.from_numpy(rng.random((3, 48, 64), dtype=np.float32))
    changed = image.clone()
    changed[:, :, 48:] = torch.rand(3, 48, 16)  # far right: beyond the region's receptive fields
    mask = torch.zeros(48, 64)
    mask[:, :24] = 1.0

    def target(pixels: torch.Tensor, region: torch.Tensor | None):
        source = StyleSource(key="t", images=(pixels,), weights=(1.0,), masks=(region,))
        return style_target(source, encoder, taps, content_long_side=64, device=torch.device("cpu"))

    for tap in taps:
        assert torch.allclose(target(image, mask).taps[tap].gram, target(changed, mask).taps[tap].gram, atol=1e-6)
        assert not torch.allclose(target(image, None).taps[tap].gram, target(changed, None).taps[tap].gram, atol=1e-4)
        full = target(image, torch.ones(48, 64)).taps[tap].gram
        assert torch.allclose(full, target(image, None).taps[tap].gram, rtol=1e-4, atol=1e-6)


def _scene(tmp_path: Path) -> tuple[np.ndarray, Path]:
    pixels = _photo()
    labels = np.full(pixels.shape[:2], 3, np.uint8)
    labels[20:, :32] = 2
    labels[20:, 32:] = 5
    Image.fromarray(labels).save(tmp_path / "labels.png")
    return pixels, tmp_path / "labels.png"


def test_the_result_keeps_the_rendering_that_the_anchor_lays_in_at_every_scale(tmp_path, tiny_encoder,
                                                                              monkeypatch) -> None:
    pixels, label_file = _scene(tmp_path)
    rules = '[segmentation]\nclasses = "ade20k"\n[map]\nbuilding = { builtin = "mosaic", tile = 6 }\n'
    ruleset = load_ruleset(rules)
    # Three scales (16, 32, 64 px): the coarse ones cannot hold 6 px tiles with one-pixel grout.
    config = make_config(ruleset.defaults, iterations=12, device="cpu", precision="fp32", coarse_start=16,
                         optimize_builtins=True)

    def run() -> tuple[np.ndarray, np.ndarray]:
        session = Session(custom_encoder=tiny_encoder)
        result = pipeline.run(LoadedImage(pixels=pixels), ruleset, config, labels=label_file, session=session)
        building = result.masks.masks[result.masks.names.index("building")]
        return result.image, building

    image, building = run()
    rendering = render_region("mosaic", pixels, building, params={"tile": 6}, seed=0)
    core = building > 0.99
    with_anchor = np.abs(image - rendering)[core].mean()
    monkeypatch.setattr(region_styles, "anchor", lambda *args: None)
    without_anchor = np.abs(run()[0] - rendering)[core].mean()
    assert with_anchor < 0.5 * without_anchor
    assert with_anchor < 0.3 * np.abs(pixels - rendering)[core].mean()


def test_a_session_does_not_keep_the_targets_of_region_renderings(tmp_path, tiny_encoder) -> None:
    pixels, label_file = _scene(tmp_path)
    rules = ('[segmentation]\nclasses = "ade20k"\n[map]\nbuilding = "mosaic"\n'
             f'sky = "{tmp_path / "painting.png"}"\n')
    Image.fromarray((np.random.default_rng(0).random((32, 32, 3)) * 255).astype(np.uint8)).save(
        tmp_path / "painting.png")
    ruleset = load_ruleset(rules)
    config = make_config(ruleset.defaults, iterations=3, device="cpu", precision="fp32")
    session = Session(custom_encoder=tiny_encoder)
    pipeline.run(LoadedImage(pixels=pixels), ruleset, config, labels=label_file, session=session)
    keys = [key[0] for key in session.targets]
    assert keys and not any(key.startswith(region_styles.KEY_PREFIX) for key in keys)  # the painting's stay


def test_plain_built_ins_are_held_to_their_rendering_not_to_the_photo_s_edges(tmp_path, tiny_encoder,
                                                                               monkeypatch) -> None:
    """A built-in laid in from the region's own pixels takes no edge term unless its rule asks; a painting and
    a layered style take the run's."""
    from regionstyle import optimize

    pixels, label_file = _scene(tmp_path)
    Image.fromarray((np.random.default_rng(0).random((32, 32, 3)) * 255).astype(np.uint8)).save(
        tmp_path / "painting.png")
    seen = {}

    def capture(content, masks, regions, **kwargs):
        seen.update({region.name: region.edge_weight for region in regions})
        return content

    monkeypatch.setattr(optimize, "optimize", capture)

    def weights(rules: str) -> dict:
        ruleset = load_ruleset('[segmentation]\nclasses = "ade20k"\n' + rules)
        config = make_config(ruleset.defaults, iterations=2, device="cpu", precision="fp32", optimize_builtins=True)
        seen.clear()
        pipeline.run(LoadedImage(pixels=pixels), ruleset, config, labels=label_file,
                     session=Session(custom_encoder=tiny_encoder))
        return dict(seen)

    painting = tmp_path / "painting.png"
    assert weights(f'[map]\nbuilding = "mosaic"\nsky = "{painting}"\n') == {"building": 0.0, "sky": None}
    assert weights('[[rule]]\nclasses = "building"\nstyle = "mosaic"\nedge_weight = 4\n') == {"building": 4.0}
    layered = f'{{ layers = {{ fine = "mosaic", coarse = "{painting}" }} }}'
    assert weights(f'[[rule]]\nclasses = "building"\nstyle = {layered}\n') == {"building": None}
