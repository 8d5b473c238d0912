"""Parsing rules files: every feature of the language and every error (message, key path, line)."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from regionstyle.config import rules_settings
from tests.paths import PROJECT
from maskrules import (
    DEFAULT_BUILTIN_STYLES,
    RuleError,
    StyleRef,
    get_vocabulary,
    load_rules,
    parse_rules,
)


# regionstyle's settings schema, as regionstyle hands it to the parser (maskrules itself knows no setting).
SETTINGS = rules_settings()


def _error(text: str, **kwargs) -> RuleError:
    with pytest.raises(RuleError) as info:
        parse_rules(text, **{"settings": SETTINGS, **kwargs})
    return info.value


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """A rules folder with two (empty, existence is all that is checked) style images and a model file."""
    (tmp_path / "paintings").mkdir()
    (tmp_path / "paintings" / "x.jpg").write_bytes(b"")
    (tmp_path / "y.PNG").write_bytes(b"")
    (tmp_path / "seg.tflite").write_bytes(b"")
    (tmp_path / "map.png").write_bytes(b"")
    return tmp_path


# ---------------------------------------------------------------- [map] and [[rule]]

def test_map_short_form_keep_default_and_inline_table():
    rs = parse_rules('[map]\nsky = "watercolor"\nperson = "keep"\n"*" = "oil"\n'
                     'building = { builtin = "mosaic", tile = 24, palette = "terracotta" }\n')
    sky, person, star, building = rs.rules
    assert (sky.classes, sky.style.builtin, sky.key_path, sky.line, sky.name) == (
        ("sky",), "watercolor", "map.sky", 2, "sky")
    assert person.style is None
    assert star.is_default and star.name == "default" and star.key_path == 'map."*"'
    assert building.style == StyleRef(kind="builtin", name="mosaic", builtin="mosaic",
                                      params=(("palette", "terracotta"), ("tile", 24)))
    assert all(r.strength == 1.0 and r.priority == 0 and not r.settings for r in rs.rules)


def test_rule_long_form_every_field():
    rs = parse_rules('[[rule]]\nclasses = ["tree", "grass", "Tree"]\nstyle = "pencil"\nstrength = 2\n'
                     'content_weight = 0\ncolor = "preserve"\nfeather = 3.5\npriority = -2\nname = "green"\n',
                     settings=SETTINGS)
    (rule,) = rs.rules
    assert rule.classes == ("tree", "grass", "Tree")  # exact duplicates only are dropped
    assert (rule.strength, rule.priority, rule.name) == (2.0, -2, "green")
    assert dict(rule.settings) == {"content_weight": 0.0, "color": "preserve", "feather": 3.5}
    assert rule.key_path == "rule[1]" and rule.line == 1


def test_rule_defaults_string_classes_and_generated_name():
    rs = parse_rules('[[rule]]\nclasses = "tree"\nstyle = "keep"\n[[rule]]\nclasses = ["sky", "sky", "sea"]\n'
                     'style = "oil"\n')
    first, second = rs.rules
    assert first.classes == ("tree",) and first.style is None and not first.settings
    assert second.classes == ("sky", "sea") and second.name == "sky+sea"
    assert second.key_path == "rule[2]" and second.line == 4


def test_rules_are_numbered_in_file_order_across_map_and_rule_tables():
    rs = parse_rules('[[rule]]\nclasses = "tree"\nstyle = "oil"\n\n[map]\nsky = "pencil"\nsea = "keep"\n\n'
                     '[[rule]]\nclasses = "road"\nstyle = "oil"\n')
    assert [r.key_path for r in rs.rules] == ["rule[1]", "map.sky", "map.sea", "rule[2]"]


def test_defaults_color_is_a_default_and_a_rule_may_set_its_own():
    rs = parse_rules('[defaults]\ncolor = "match"\n[map]\nsky = "oil"\n[[rule]]\nclasses = "sea"\n'
                     'style = "oil"\ncolor = "style"\n', settings=SETTINGS)
    assert rs.defaults["color"] == "match"
    assert [dict(r.settings) for r in rs.rules] == [{}, {"color": "style"}]


def test_without_a_settings_schema_defaults_and_rule_settings_pass_unchecked():
    rs = parse_rules('[defaults]\nanything = [1, 2]\n[[rule]]\nclasses = "sea"\nstyle = "oil"\nzoom = 3\n')
    assert rs.defaults["anything"] == [1, 2] and dict(rs.rules[0].settings) == {"zoom": 3}


def test_a_setting_not_marked_per_rule_is_refused_on_a_rule():
    err = _error('[[rule]]\nclasses = "sea"\nstyle = "oil"\niterations = 3\n')
    assert err.key_path == "rule[1].iterations" and err.message.startswith("unknown key 'iterations'")


def test_class_names_used_expands_groups_and_skips_star():
    rs = parse_rules('[groups]\ngreen = ["tree", "leafy"]\nleafy = ["grass", "Tree"]\n[map]\n"*" = "oil"\n'
                     'sky = "oil"\ngreen = "pencil"\n')
    assert rs.class_names_used() == ("sky", "tree", "grass")


# ---------------------------------------------------------------- styles

def test_styles_table_every_kind(folder: Path):
    text = ('[styles]\nsoft = "watercolor"\npic = "paintings/x.jpg"\nbig = { image = "y.PNG", scale = 0.5, '
            'crop = [0.0, 0.1, 0.5, 1] }\nmix = { blend = { soft = 3, pic = 1 } }\n'
            'deep = { blend = { mix = 1, oil = 1 } }\nsame = "soft"\n')
    rs = parse_rules(text, source=folder / "rules.toml")
    st = rs.styles
    assert st["soft"] == StyleRef(kind="builtin", name="soft", builtin="watercolor")
    assert st["pic"].kind == "image" and st["pic"].image == folder / "paintings" / "x.jpg"
    assert st["pic"].image.is_absolute()
    assert (st["big"].scale, st["big"].crop, st["big"].image) == (0.5, (0.0, 0.1, 0.5, 1.0), folder / "y.PNG")
    assert [(m.name, w) for m, w in st["mix"].blend] == [("soft", 0.75), ("pic", 0.25)]
    assert [(m.name, w) for m, w in st["deep"].blend] == [("mix", 0.5), ("oil", 0.5)]
    assert st["deep"].blend[0][0].blend == st["mix"].blend  # blends of blends keep their members
    assert st["same"].builtin == "watercolor" and st["same"].name == "same"


def test_bare_style_resolution_order(folder: Path):
    # A [styles] name beats a built-in of the same name; an image path is relative to the rules file.
    rs = parse_rules('[styles]\noil = { builtin = "watercolor" }\n[map]\nsky = "oil"\nsea = "pencil"\n'
                     'tree = "paintings/x.jpg"\ngrass = "keep"\n', source=folder / "r.toml")
    sky, sea, tree, grass = (r.style for r in rs.rules)
    assert (sky.builtin, sky.name, sea.builtin, grass) == ("watercolor", "oil", "pencil", None)
    assert tree == StyleRef(kind="image", name="x.jpg", image=folder / "paintings" / "x.jpg")


def test_inline_image_and_blend_styles_in_rules(folder: Path):
    rs = parse_rules('[[rule]]\nclasses = "sky"\nstyle = { image = "paintings/x.jpg", scale = 2 }\n'
                     '[[rule]]\nclasses = "sea"\nstyle = { blend = { oil = 1, pencil = 1 } }\n',
                     source=str(folder / "r.toml"))
    assert rs.rules[0].style.scale == 2.0 and rs.rules[0].style.name == "x.jpg"
    assert rs.rules[1].style.name == "blend(oil 0.5, pencil 0.5)"


def test_builtin_params_checked_against_registry_and_frozen():
    registry = {"mosaic": frozenset({"tile", "palette"}), "oil": frozenset()}
    rs = parse_rules('[map]\nsky = { builtin = "mosaic", palette = ["red", "blue"] }\n', builtin_styles=registry)
    assert rs.rules[0].style.params == (("palette", ("red", "blue")),)
    hash(rs.rules[0])  # frozen all the way down
    err = _error('[map]\nsea = { builtin = "mosaic", tyle = 3 }\n', builtin_styles=registry)
    assert (err.key_path, err.line) == ("map.sea.tyle", 2)
    assert err.message == "unknown parameter 'tyle' for built-in style 'mosaic'; did you mean 'tile'? " \
                          "(valid: palette, tile)"
    err = _error('[map]\nsea = "watercolor"\n', builtin_styles=registry)
    assert err.message == "unknown style 'watercolor'"


def test_default_registry_lists_eight_styles_with_unknown_params():
    assert sorted(DEFAULT_BUILTIN_STYLES) == sorted(["watercolor", "mosaic", "pointillism", "pencil", "ink-wash",
                                                     "stained-glass", "oil", "woodcut"])
    rs = parse_rules('[map]\nsky = { builtin = "woodcut", anything = 1.5 }\n')
    assert rs.rules[0].style.params == (("anything", 1.5),)


@pytest.mark.parametrize(("text", "key_path", "line", "message"), [
    ('[map]\nsky = "watercolr"\n', "map.sky", 2, "unknown style 'watercolr'; did you mean 'watercolor'?"),
    ('[[rule]]\nclasses = "sky"\nstyle = "oil"\n\n[[rule]]\nclasses = "tree"\nstyle = "watercolr"\n',
     "rule[2].style", 7, "unknown style 'watercolr'; did you mean 'watercolor'?"),
    ('[map]\nsky = { builtin = "mosiac" }\n', "map.sky.builtin", 2,
     "unknown built-in style 'mosiac'; did you mean 'mosaic'? (valid: ink-wash, mosaic, oil, pencil, "
     "pointillism, stained-glass, watercolor, woodcut)"),
    ('[styles]\na = { blend = { b = 1 } }\nb = { blend = { a = 1, oil = 2 } }\n', "styles.b.blend.a", 3,
     "style cycle: a -> b -> a"),
    ('[styles]\nk = "keep"\n', "styles.k", 2, "'keep' is not a style here (use it as a rule's style)"),
    ('[styles]\nkeep = "oil"\n', "styles.keep", 2, "'keep' is reserved (it means: leave the photo as is)"),
    ('[styles]\nk = { blend = {} }\n', "styles.k.blend", 2, "a blend needs at least one member style"),
    ('[styles]\nk = { blend = { oil = 0 } }\n', "styles.k.blend.oil", 2, "expected a number > 0, got 0"),
    ('[styles]\nk = { blend = { keep = 1 } }\n', "styles.k.blend.keep", 2,
     "'keep' is not a style here (use it as a rule's style)"),
    ('[styles]\nk = { builtin = "oil", blend = { oil = 1 } }\n', "styles.k", 2,
     "a style table needs exactly one of 'builtin', 'image', 'blend' or 'layers' (got 2)"),
    ('[styles]\nk = { tile = 3 }\n', "styles.k", 2,
     "a style table needs exactly one of 'builtin', 'image', 'blend' or 'layers'"),
    ('[styles]\nk = { builtin = "oil", p = { a = 1 } }\n', "styles.k.p", 2,
     "a built-in style parameter cannot be a table"),
    ('[styles]\nk = 3\n', "styles.k", 2, "expected a style name or a style table, got an integer (3)"),
    ('[styles]\nk = { blend = "oil" }\n', "styles.k.blend", 2, "expected a table, got a string ('oil')"),
])
def test_style_errors(text: str, key_path: str, line: int, message: str):
    err = _error(text, source="rules.toml")
    assert (err.key_path, err.line, err.message) == (key_path, line, message)
    assert str(err) == f"rules.toml:{line}: {key_path}: {message}"


def test_image_style_errors(folder: Path):
    source = folder / "rules.toml"
    err = _error('[styles]\nx = "paintings/nope.jpg"\n', source=source)
    assert err.message == f"style image not found: {folder / 'paintings' / 'nope.jpg'} " \
                          "(paths are relative to the rules file)"
    err = _error('[styles]\nx = { image = "y.PNG", crop = [0.5, 0, 0.4, 1] }\n', source=source)
    assert err.key_path == "styles.x.crop" and "left < right" in err.message
    err = _error('[styles]\nx = { image = "y.PNG", crop = [0, 0, 1] }\n', source=source)
    assert err.message == "expected an array of 4 numbers, got an array of 3 items"
    err = _error('[styles]\nx = { image = "y.PNG", scale = -1 }\n', source=source)
    assert (err.key_path, err.message) == ("styles.x.scale", "expected a number > 0, got -1")
    err = _error('[styles]\nx = { image = "y.PNG", scal = 3 }\n', source=source)
    assert (err.key_path, err.message) == ("styles.x.scal", "unknown key 'scal'; did you mean 'scale'? "
                                                            "(valid: crop, image, labels, match, scale)")


# ---------------------------------------------------------------- rule errors

@pytest.mark.parametrize(("text", "key_path", "line", "message"), [
    ('[map]\nskye = "oil"\n', "map.skye", 2,
     "unknown class 'skye'; did you mean 'sky'? (not a class, alias or group of any vocabulary)"),
    ('[[rule]]\nclasses = ["sky", "bilding"]\nstyle = "oil"\n', "rule[1].classes", 2,
     "unknown class 'bilding'; did you mean 'building'? (not a class, alias or group of any vocabulary)"),
    ('[rule]\nclasses = "sky"\n', "rule", 1, "write rules as [[rule]] tables (double brackets), not [rule]"),
    ('[[rule]]\nclasses = "sky"\n', "rule[1]", 1, "a rule needs 'style'"),
    ('[[rule]]\nstyle = "oil"\n', "rule[1]", 1, "a rule needs 'classes'"),
    ('[[rule]]\nclasses = []\nstyle = "oil"\n', "rule[1].classes", 2,
     "expected a string or a non-empty array of strings, got an array of 0 items"),
    ('[[rule]]\nclasses = ["*", "sky"]\nstyle = "oil"\n', "rule[1].classes", 2,
     "'*' (every other class) must be the only class of its rule"),
    ('[[rule]]\nclasses = "sky"\nstyle = "oil"\nstrength = 0\n', "rule[1].strength", 4,
     "expected a number > 0, got 0"),
    ('[[rule]]\nclasses = "sky"\nstyle = "oil"\ncontent_weight = -1\n', "rule[1].content_weight", 4,
     "expected a number >= 0, got -1"),
    ('[[rule]]\nclasses = "sky"\nstyle = "oil"\nfeather = inf\n', "rule[1].feather", 4,
     "expected a finite number, got a number (inf)"),
    ('[[rule]]\nclasses = "sky"\nstyle = "oil"\npriority = true\n', "rule[1].priority", 4,
     "expected an integer, got a boolean (True)"),
    ('[[rule]]\nclasses = "sky"\nstyle = "oil"\npriority = 1.5\n', "rule[1].priority", 4,
     "expected an integer, got a number (1.5)"),
    ('[[rule]]\nclasses = "sky"\nstyle = "oil"\ncolor = "preserv"\n', "rule[1].color", 4,
     "expected one of 'style', 'preserve', 'match', got 'preserv'; did you mean 'preserve'?"),
    ('[[rule]]\nclasses = "sky"\nstyle = "oil"\nstrenght = 2\n', "rule[1].strenght", 4,
     "unknown key 'strenght'; did you mean 'strength'? (valid: classes, color, content_weight, edge_weight, feather, "
     "min_island, name, priority, strength, style, style_loss)"),
    ('[[rule]]\nclasses = "sky"\nstyle = "oil"\nname = ""\n', "rule[1].name", 4,
     "expected a non-empty string, got a string ('')"),
    ('[mapp]\nsky = "oil"\n', "mapp", 1, "unknown key 'mapp'; did you mean 'map'? "
                                         "(valid: defaults, groups, map, rule, segmentation, styles)"),
    ('size = 3\n', "size", 1, "unknown key 'size' (valid: defaults, groups, map, rule, segmentation, styles)"),
    ('map = 3\n', "map", 1, "expected a table, got an integer (3)"),
])
def test_rule_errors(text: str, key_path: str, line: int, message: str):
    err = _error(text)
    assert (err.key_path, err.line, err.message) == (key_path, line, message)
    assert str(err) == f"<rules>:{line}: {key_path}: {message}"


def test_toml_syntax_error_keeps_line_and_column():
    err = _error('[map]\nsky = "oil"\nsea = \n', source="city.toml")
    assert (err.line, err.key_path, err.path) == (3, "", "city.toml")
    assert str(err) == "city.toml:3: invalid TOML: Invalid value (column 7)"


def test_error_line_inside_later_rule_of_many():
    rules = "".join(f'[[rule]]\nclasses = "sky"\nstyle = "oil"\n\n' for _ in range(5))
    err = _error(rules + '[[rule]]\nclasses = "sky"\n# a comment with "quotes" = and [brackets]\n'
                         'style = """\nmulti\n"""\npriority = "high"\n')
    assert (err.key_path, err.line) == ("rule[6].priority", 27)


# ---------------------------------------------------------------- groups

def test_groups_nest_and_may_redefine_builtin_aliases():
    rs = parse_rules('[groups]\ngreenery = ["tree", "palm"]\nnature = ["water", "greenery"]\n'
                     '[map]\nnature = "oil"\n')
    assert dict(rs.groups) == {"greenery": ("tree", "palm"), "nature": ("water", "greenery")}


@pytest.mark.parametrize(("text", "key_path", "message"), [
    ('[groups]\na = ["b"]\nb = ["c", "sky"]\nc = ["a"]\n', "groups.a", "group cycle: a -> b -> c -> a"),
    ('[groups]\nself = "Self"\n', "groups.self", "group cycle: self -> self"),
    ('[groups]\ntree = ["palm"]\n', "groups.tree", "group 'tree' has the name of a class; choose another name"),
    ('[groups]\nGreen_Things = "tree"\n"green things" = "grass"\n', 'groups."green things"',
     "group 'green things' repeats group 'Green_Things' (names ignore case, spaces, - and _)"),
    ('[groups]\ng = ["tre"]\n', "groups.g",
     "unknown class 'tre'; did you mean 'tree'? (not a class, alias or group of any vocabulary)"),
    ('[groups]\ng = ["*"]\n', "groups.g", "'*' cannot be a group member"),
    ('[groups]\ng = 3\n', "groups.g", "expected a string or a non-empty array of strings, got an integer (3)"),
])
def test_group_errors(text: str, key_path: str, message: str):
    err = _error(text)
    assert (err.key_path, err.message, err.line) == (key_path, message, 2 if key_path != 'groups."green things"' else 3)


# ---------------------------------------------------------------- [segmentation] and [defaults]

def test_segmentation_every_field(folder: Path):
    text = ('[segmentation]\nmodel = "seg.tflite"\nlabels = "map.png"\nclasses = "ADE20K"\nmin_area = 0.01\n'
            'input_size = [513, 257]\ninput_layout = "NCHW"\nchannel_order = "BGR"\ninput_range = [-1, 1]\n'
            'output = "probs"\n')
    seg = parse_rules(text, source=folder / "rules.toml").segmentation
    assert (seg.model, seg.model_file, seg.labels) == ("file", folder / "seg.tflite", folder / "map.png")
    assert (seg.classes, seg.vocabulary) == ("ade20k", get_vocabulary("ade20k"))
    assert (seg.min_area, seg.input_size, seg.input_layout, seg.channel_order) == (0.01, (513, 257), "NCHW", "BGR")
    assert (seg.input_range, seg.output, seg.mean, seg.std) == ((-1.0, 1.0), "probs", None, None)
    seg = parse_rules('[segmentation]\nmodel = "deeplab"\nmean = [0.5, 0.5, 0.5]\nstd = [0.25, 1, 1]\n').segmentation
    assert (seg.model, seg.model_file, seg.mean, seg.std) == ("deeplab", None, (0.5, 0.5, 0.5), (0.25, 1.0, 1.0))
    assert parse_rules("").segmentation.model == "auto"


def test_custom_class_list_makes_its_names_usable(folder: Path):
    (folder / "classes.txt").write_text("0 backdrop\n1 sea turtle\n2 coral\n")
    rs = parse_rules('[segmentation]\nclasses = "classes.txt"\n[map]\nsea_turtle = "oil"\ncoral = "keep"\n',
                     source=folder / "r.toml")
    assert rs.segmentation.classes_file == folder / "classes.txt"
    assert rs.segmentation.vocabulary.classes == ("backdrop", "sea turtle", "coral")
    err = _error('[map]\nsea_turtle = "oil"\n')  # without the list the name is a typo
    assert err.key_path == "map.sea_turtle"


@pytest.mark.parametrize(("text", "key_path", "message"), [
    ('[segmentation]\nclasses = "ade21k"\n', "segmentation.classes",
     "unknown vocabulary 'ade21k'; did you mean 'ade20k'? (a class-list file path, or one of: ade20k, "
     "ade20k-150, cityscapes, voc)"),
    ('[segmentation]\nmin_area = 1\n', "segmentation.min_area", "expected a number in [0, 1), got 1"),
    ('[segmentation]\ninput_range = [1, 0]\n', "segmentation.input_range",
     "expected [low, high] with low < high, got [1, 0]"),
    ('[segmentation]\ninput_range = [0, 1]\nmean = [1, 2, 3]\n', "segmentation.input_range",
     "give either input_range or mean/std, not both"),
    ('[segmentation]\nstd = [1, 0, 1]\n', "segmentation.std", "expected a number > 0, got 0"),
    ('[segmentation]\nmean = [1, 1]\n', "segmentation.mean", "expected an array of 3 numbers, got an array of 2 items"),
    ('[segmentation]\ninput_size = [0, 3]\n', "segmentation.input_size", "expected an integer >= 1, got 0"),
    ('[segmentation]\ninput_layout = "NHCW"\n', "segmentation.input_layout",
     "expected one of 'NHWC', 'NCHW', got 'NHCW'; did you mean 'NHWC'?"),
    ('[segmentation]\noutput = "argmax"\n', "segmentation.output",
     "expected one of 'logits', 'probs', 'ids', got 'argmax'"),
    ('[segmentation]\nmodell = "x"\n', "segmentation.modell",
     "unknown key 'modell'; did you mean 'model'? (valid: channel_order, classes, input_layout, input_range, "
     "input_size, labels, masks, mean, min_area, model, output, std)"),
])
def test_segmentation_errors(text: str, key_path: str, message: str):
    err = _error(text)
    assert (err.key_path, err.message, err.line) == (key_path, message, 2)


def test_segmentation_missing_files_are_errors(folder: Path):
    for key, what in (("model", "model file"), ("labels", "label map"), ("classes", "class list")):
        err = _error(f'[segmentation]\n{key} = "sub/missing.onnx"\n', source=folder / "r.toml")
        assert err.message == f"{what} not found: {folder / 'sub' / 'missing.onnx'} " \
                              "(paths are relative to the rules file)"
    (folder / "bad.txt").write_text("0 a\nb\n")
    err = _error('[segmentation]\nclasses = "bad.txt"\n', source=folder / "r.toml")
    assert err.message == f"{folder / 'bad.txt'}: class list mixes 'id name' lines and bare names; use one form"


def test_defaults_every_field(folder: Path):
    (folder / "vgg.pth").write_bytes(b"")
    (folder / "start.png").write_bytes(b"")
    text = ('[defaults]\nsize = 512\niterations = 300\nstyle_weight = 1e5\ncontent_weight = 1\ntv_weight = 0\n'
            'seed = 7\nencoder = "vgg19"\nencoder_weights = "vgg.pth"\noptimizer = "adam"\nscales = [512, 256, 512]\n'
            'color = "preserve"\nfeather = 2\nmask_mode = "soft"\ndevice = "cuda:0"\npreview = true\n'
            'init = "start.png"\nprecision = "bf16"\ncolor_weight = 0.5\nthreads = 1\n')
    d = parse_rules(text, source=folder / "r.toml", settings=SETTINGS).defaults
    assert (d["size"], d["iterations"], d["style_weight"], d["content_weight"], d["tv_weight"], d["seed"]) == (
        512, 300, 1e5, 1.0, 0.0, 7)
    assert (d["encoder"], d["encoder_weights"], d["optimizer"], d["scales"]) == (
        "vgg19", folder / "vgg.pth", "adam", (256, 512))
    assert (d["color"], d["feather"], d["mask_mode"], d["device"], d["preview"]) == ("preserve", 2.0, "soft", "cuda:0", True)
    assert (d["init"], d["precision"], d["color_weight"], d["threads"]) == (folder / "start.png", "bf16", 0.5, 1)
    assert dict(parse_rules("[defaults]\n", settings=SETTINGS).defaults) == {}


@pytest.mark.parametrize(("text", "key_path", "message"), [
    ("[defaults]\nsize = 0\n", "defaults.size", "expected an integer in [16, 16384], got 0"),
    ("[defaults]\niterations = 1.0\n", "defaults.iterations", "expected an integer, got a number (1.0)"),
    ("[defaults]\ntv_weight = -1\n", "defaults.tv_weight", "expected a number >= 0, got -1"),
    ('[defaults]\noptimizer = "sgd"\n', "defaults.optimizer", "expected one of 'lbfgs', 'adam', got 'sgd'"),
    ('[defaults]\nmask_mode = "hard"\n', "defaults.mask_mode",
     "expected one of 'simple', 'inside', 'soft', got 'hard'"),
    ("[defaults]\nscales = []\n", "defaults.scales", "expected a non-empty array of integers, got an array of 0 items"),
    ("[defaults]\npreview = 1\n", "defaults.preview", "expected true or false, got an integer (1)"),
    ('[defaults]\nencoder = "resnet9000"\n', "defaults.encoder",
     "expected one of 'auto', 'vgg19', 'vgg16', 'mobilenet_v2', 'random', got 'resnet9000'"),
    ('[defaults]\ndevice = "meta"\n', "defaults.device", "expected auto, cpu, cuda, cuda:N or mps, got 'meta'"),
    ('[defaults]\ninit = "nowhere.png"\n', "defaults.init", None),
    ("[defaults]\nseed = -1\n", "defaults.seed", "expected an integer in [0, 9223372036854775807], got -1"),
    ("[defaults]\nsizes = 3\n", "defaults.sizes", None),
])
def test_defaults_errors(text: str, key_path: str, message: str | None):
    err = _error(text)
    assert (err.key_path, err.line) == (key_path, 2)
    assert message is None or err.message == message, err.message
    if key_path == "defaults.sizes":
        assert err.message.startswith("unknown key 'sizes'; did you mean 'size'? (valid: ")
    if key_path == "defaults.init":
        assert "start image not found" in err.message and "relative to the rules file" in err.message


# ---------------------------------------------------------------- files, errors, isolation

def test_load_rules_reads_file_and_anchors_paths(folder: Path):
    path = folder / "rules.toml"
    path.write_text('[map]\nsky = "paintings/x.jpg"\n', encoding="utf-8")
    rs = load_rules(path)
    assert rs.source == path and rs.rules[0].style.image == folder / "paintings" / "x.jpg"


def test_load_rules_errors_name_the_file(folder: Path):
    with pytest.raises(RuleError) as info:
        load_rules(folder / "nope.toml")
    assert str(info.value) == f"{folder / 'nope.toml'}: cannot read rules file: No such file or directory"
    (folder / "latin1.toml").write_bytes(b'[map]\nsky = "\xe9"\n')
    with pytest.raises(RuleError) as info:
        load_rules(folder / "latin1.toml")
    assert info.value.path == folder / "latin1.toml" and "utf-8" in info.value.message


def test_rule_error_pickles_with_its_attributes():
    err = _error('[map]\nskye = "oil"\n', source="r.toml")
    copy = pickle.loads(pickle.dumps(err))
    assert (str(copy), copy.path, copy.line, copy.key_path, copy.message) == (
        str(err), err.path, err.line, err.key_path, err.message)


def test_maskrules_imports_no_torch_numpy_or_regionstyle():
    code = ("import maskrules, sys; bad = [m for m in ('torch', 'numpy', 'regionstyle') if m in sys.modules];"
            " assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=PROJECT)
    assert result.returncode == 0, result.stderr
