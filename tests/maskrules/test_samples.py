"""The sample rules files load, resolve as documented, and use only parameters the real styles accept."""

from __future__ import annotations

from pathlib import Path

import pytest

from maskrules import get_vocabulary, load_rules, resolve
from tests.paths import PROJECT, SAMPLES

ROOT = PROJECT
SAMPLES = ROOT / "samples"
SHARED = ROOT.parent / "shared" / "data"


def _registry():
    """regionstyle's style registry when it imports here, else None (the maskrules default)."""
    try:
        from regionstyle.styles import builtin_param_names
    except ImportError:
        return None
    return builtin_param_names()


def test_city_sample_resolves_in_every_vocabulary():
    rs = load_rules(SAMPLES / "city.toml", builtin_styles=_registry())
    assert [r.name for r in rs.rules] == ["sky", "building", "person", "greenery", "streets", "water"]
    ade = {r.name: r for r in resolve(rs, get_vocabulary("ade20k")).regions}
    assert ade["person"].keep and ade["streets"].class_names == ("road", "sidewalk", "path")
    assert ade["building"].class_names == ("building", "house", "skyscraper", "hovel", "tower")
    city = resolve(rs, get_vocabulary("cityscapes"))
    assert city.unknown_names == (("rule[2]", "water"),) and city.unused_rules == (5,)
    assert rs.styles["wet"].blend[0][1] == pytest.approx(0.7)


@pytest.mark.skipif(not (SAMPLES / "scene.labels.png").is_file(), reason="samples/scene.labels.png not made yet")
def test_scene_sample_uses_its_label_map():
    rs = load_rules(SAMPLES / "scene.toml", builtin_styles=_registry())
    assert rs.segmentation.labels == SAMPLES / "scene.labels.png"
    assert rs.segmentation.vocabulary is get_vocabulary("ade20k")
    res = resolve(rs, rs.segmentation.vocabulary)
    assert res.claimed_ids == frozenset(range(151)) and res.unused_rules == ()


@pytest.mark.shared
@pytest.mark.skipif(not (SHARED / "styles").is_dir(), reason="needs ../shared/data/styles (sample paintings)")
def test_paintings_sample_finds_the_shared_paintings():
    rs = load_rules(SAMPLES / "paintings.toml", builtin_styles=_registry())
    # Compare real files: ../shared may be reached through a symbolic link.
    assert rs.styles["starry"].image.resolve() == (SHARED / "styles" / "vangogh_starry_night.jpg").resolve()
    assert rs.styles["swirl"].crop == (0.0, 0.0, 1.0, 0.6)
    regions = {r.name: r for r in resolve(rs, get_vocabulary("ade20k")).regions}
    assert regions["building"].style.name == "scream" and regions["default"].style.kind == "blend"
