"""Layered styles (``layers = { fine, coarse }``) and matched paintings (``match``): parsing and every error."""

from __future__ import annotations

from pathlib import Path

import pytest

from maskrules import RuleError, StyleRef, parse_rules
from regionstyle.config import rules_settings
from regionstyle.rules import check_style_params, referenced_files
from regionstyle.styles import builtin_param_names

SETTINGS = rules_settings()


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "starry.jpg").write_bytes(b"")  # existence is all the parser checks
    (tmp_path / "scream.jpg").write_bytes(b"")
    return tmp_path


def _parse(text: str, folder: Path):
    return parse_rules(text, source=folder / "rules.toml", settings=SETTINGS, builtin_styles=builtin_param_names())


def _error(text: str, folder: Path) -> RuleError:
    with pytest.raises(RuleError) as info:
        _parse(text, folder)
    return info.value


def test_layers_in_map_rule_and_named_styles(folder: Path):
    rs = _parse('[styles]\nstarry = "starry.jpg"\nnight = { layers = { fine = "pencil", coarse = "starry" } }\n'
                '[map]\nbuilding = { layers = { fine = "mosaic", coarse = "starry" } }\n'
                'tree = "night"\n'
                '[[rule]]\nclasses = "sky"\nstyle = { layers = { coarse = { image = "scream.jpg", scale = 0.5 },'
                ' fine = { blend = { oil = 1, watercolor = 3 } } } }\n', folder)
    building, tree, sky = (rule.style for rule in rs.rules)
    fine, coarse = building.layers
    assert building.kind == "layers" and fine == StyleRef(kind="builtin", name="mosaic", builtin="mosaic")
    assert coarse.kind == "image" and coarse.image == folder / "starry.jpg" and coarse.name == "starry"
    assert building.name == "layers(fine mosaic, coarse starry)" and building.children == (fine, coarse)
    assert tree.name == "night" and rs.styles["night"] is tree and tree.layers[0].builtin == "pencil"
    sky_fine, sky_coarse = sky.layers  # the parts keep their order whatever order the table is written in
    assert sky_fine.kind == "blend" and [w for _, w in sky_fine.blend] == [0.25, 0.75]
    assert sky_coarse.scale == 0.5 and sky_coarse.image == folder / "scream.jpg"


def test_layered_parts_are_walked_for_files_and_parameters(folder: Path):
    from regionstyle.errors import BadInput

    rs = parse_rules('[map]\nsky = { layers = { fine = "mosaic", coarse = "starry.jpg" } }\n',
                     source=folder / "rules.toml", builtin_styles=builtin_param_names())
    assert referenced_files(rs) == [folder / "starry.jpg"]
    rs = parse_rules('[map]\nsky = { layers = { fine = { builtin = "mosaic", tile = -3 }, coarse = "oil" } }\n',
                     source=folder / "rules.toml", builtin_styles=builtin_param_names())
    with pytest.raises(BadInput):
        check_style_params(rs)


def test_match_values(folder: Path):
    rs = _parse('[groups]\nheavens = ["sky", "mountain"]\n'
                '[styles]\nstarry = { image = "starry.jpg", match = "heavens" }\n'
                '[map]\nsky = { image = "starry.jpg", match = true }\n'
                'tree = { image = "starry.jpg", match = false }\n'
                'building = { image = "starry.jpg", match = "Traffic_Light" }\n'
                'water = { layers = { fine = "oil", coarse = "starry" } }\n', folder)
    assert [rule.style.match for rule in rs.rules[:3]] == [True, None, "Traffic_Light"]
    assert rs.styles["starry"].match == "heavens" and rs.rules[3].style.layers[1].match == "heavens"


def test_a_painting_label_map_is_read_relative_to_the_rules(folder: Path):
    (folder / "starry_labels.png").write_bytes(b"")
    rs = _parse('[map]\nsky = { image = "starry.jpg", match = "sky", labels = "starry_labels.png" }\n', folder)
    assert rs.rules[0].style.labels == folder / "starry_labels.png"
    assert referenced_files(rs) == [folder / "starry.jpg", folder / "starry_labels.png"]  # batch jobs carry it
    assert _parse('[map]\nsky = { image = "starry.jpg", match = "sky" }\n', folder).rules[0].style.labels is None


@pytest.mark.parametrize(("text", "key_path", "message"), [
    ('[map]\nsky = { layers = { fine = "keep", coarse = "oil" } }\n', "map.sky.layers.fine",
     "'keep' is not a style here (use it as a rule's style)"),
    ('[map]\nsky = { layers = { fine = "oil" } }\n', "map.sky.layers",
     "layers needs both 'fine' and 'coarse' (missing 'coarse')"),
    ('[map]\nsky = { layers = { coarse = "oil" } }\n', "map.sky.layers",
     "layers needs both 'fine' and 'coarse' (missing 'fine')"),
    ('[map]\nsky = { layers = { fine = "oil", coarse = "oil", middle = "pencil" } }\n', "map.sky.layers.middle",
     "unknown key 'middle' (valid: coarse, fine)"),
    ('[map]\nsky = { layers = { fine = "oil", corse = "oil" } }\n', "map.sky.layers.corse",
     "unknown key 'corse'; did you mean 'coarse'? (valid: coarse, fine)"),
    ('[map]\nsky = { layers = "oil" }\n', "map.sky.layers", "expected a table, got a string ('oil')"),
    ('[map]\nsky = { layers = { fine = "oil", coarse = "oli" } }\n', "map.sky.layers.coarse",
     "unknown style 'oli'; did you mean 'oil'?"),
    ('[map]\nsky = { layers = { fine = "oil", coarse = "oil" }, builtin = "oil" }\n', "map.sky",
     "a style table needs exactly one of 'builtin', 'image', 'blend' or 'layers' (got 2)"),
    ('[map]\nsky = { layers = { fine = "oil", coarse = "oil" }, scale = 2 }\n', "map.sky.scale",
     "unknown key 'scale' (valid: layers)"),
    ('[styles]\nl = { layers = { fine = "oil", coarse = "pencil" } }\n'
     '[map]\nsky = { layers = { fine = "l", coarse = "oil" } }\n', "map.sky.layers.fine",
     "a layer part cannot itself be layered ('l')"),
    ('[styles]\nl = { layers = { fine = "oil", coarse = "pencil" } }\nb = { blend = { l = 1, oil = 1 } }\n',
     "styles.b.blend.l", "a blend member cannot be a layered style ('l'); blend inside the layers' fine and "
                         "coarse parts instead"),
    ('[styles]\na = { layers = { fine = "oil", coarse = "b" } }\nb = { blend = { a = 1 } }\n',
     "styles.b.blend.a", "style cycle: a -> b -> a"),
    ('[map]\nsky = { image = "starry.jpg", match = "skye" }\n', "map.sky.match",
     "unknown class 'skye'; did you mean 'sky'? (not a class, alias or group of any vocabulary)"),
    ('[map]\nsky = { image = "starry.jpg", match = 1 }\n', "map.sky.match",
     "match is true (the region's own classes), false, or a class, alias or group name such as \"sky\", "
     "got an integer (1)"),
    ('[map]\nsky = { image = "starry.jpg", match = "*" }\n', "map.sky.match",
     "match is true (the region's own classes), false, or a class, alias or group name such as \"sky\", "
     "got a string ('*')"),
    ('[map]\nsky = { image = "starry.jpg", match = ["sky"] }\n', "map.sky.match",
     "match is true (the region's own classes), false, or a class, alias or group name such as \"sky\", "
     "got an array of 1 item"),
    ('[map]\nsky = { builtin = "oil", match = "sky" }\n', "map.sky.match", None),  # a built-in has no painting
    ('[map]\nsky = { image = "starry.jpg", labels = "starry.png" }\n', "map.sky.labels",
     "labels is the painting's label map for 'match'; add match = \"CLASS\" (or true) to say which part of the "
     "painting to use"),
    ('[map]\nsky = { image = "starry.jpg", match = "sky", labels = "missing.png" }\n', "map.sky.labels", None),
])
def test_layers_and_match_errors(folder: Path, text: str, key_path: str, message: str | None):
    err = _error(text, folder)
    assert err.key_path == key_path and err.line is not None
    assert "\n" not in str(err)
    if message is not None:
        assert err.message == message


def test_the_examples_in_docs_rules_md_parse(tmp_path: Path):
    import re

    from tests.paths import PROJECT

    text = (PROJECT / "docs" / "rules.md").read_text()
    section = text[text.index("### Layered styles"):text.index("## Class names, aliases and groups")]
    blocks = re.findall(r"```toml\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 3
    (tmp_path / "paintings").mkdir()
    for name in ("starry.jpg", "shipwreck.jpg", "street.jpg", "monet.jpg", "starry_labels.png"):
        (tmp_path / "paintings" / name).write_bytes(b"")
    for block in blocks:
        rs = parse_rules(block, source=tmp_path / "rules.toml", settings=SETTINGS,
                         builtin_styles=builtin_param_names())
        assert any(rule.style.kind == "layers" or rule.style.match for rule in rs.rules)
