"""Hostile rules files: the file itself, its tables, its values (maskrules' fuzz tests cover the grammar)."""

from __future__ import annotations

import pytest

from tests.hostile import plant
from tests.hostile.harness import SMALL_MEMORY, RULES, Case, cli, rules_with, run_case, table

RUN = "apply photo.png r.toml -o out.png"


def rule(id: str, text: str, says: str, *, exit: int = 2) -> Case:
    """apply with the rules file ``text``."""
    return Case(id, cli(RUN), exit, says, plant.rules("r.toml", text))


def default(id: str, line: str, says: str) -> Case:
    """apply with one more [defaults] line (a later key replaces nothing: TOML refuses duplicates)."""
    return rule(id, rules_with(defaults=line + "\n").replace('iterations = 2\n', ""), says)


CASES = table("rules", [
    # The file itself.
    Case("rules-missing", cli("apply photo.png nope.toml -o out.png"), 2, "does not exist"),
    Case("rules-folder", cli("apply photo.png d.toml -o out.png"), 2, "is a directory", plant.folder("d.toml")),
    Case("rules-fifo", cli(RUN), 2, "not a regular file", plant.fifo("r.toml")),
    Case("rules-dev-zero", cli("apply photo.png /dev/zero -o out.png"), 2, "not a regular file"),
    Case("rules-png-bytes", cli("apply photo.png photo.png -o out.png"), 2, "not UTF-8"),
    Case("rules-latin1", cli(RUN), 2, "not UTF-8", plant.data("r.toml", '[map]\nsky = "aquarelle \u00e9"\n'.encode("latin-1"))),
    Case("rules-huge", cli(RUN), 2, "more than the 16 MB", plant.data("r.toml", "# x\n" * (5 << 20))),
    Case("rules-nul-byte", cli(RUN), 2, "r.toml", plant.data("r.toml", '[map]\nsky = "water\0color"\n')),
    rule("rules-empty", "", "holds no rules"),
    rule("rules-only-comments", "# nothing here\n[defaults]\nsize = 64\n", "holds no rules"),
    rule("rules-syntax", "[map\nsky = 1\n", "r.toml:1"),
    rule("rules-unknown-table", "[mapp]\nsky = 'watercolor'\n", "mapp"),
    rule("rules-unknown-class", "[map]\nskye = 'watercolor'\n", "skye"),
    rule("rules-unknown-style", "[map]\nsky = 'watercolr'\n", "did you mean 'watercolor'"),
    rule("rules-style-wrong-type", "[map]\nsky = 42\n", "map.sky"),
    rule("rules-map-is-a-list", "map = [1, 2]\n", "map"),
    rule("rules-duplicate-key", "[map]\nsky = 'oil'\nsky = 'pencil'\n", "r.toml"),
    rule("rules-blend-cycle", "[styles]\na = { blend = { b = 1.0 } }\nb = { blend = { a = 1.0 } }\n[map]\nsky = 'a'\n",
         "r.toml"),
    rule("rules-blend-nan", "[styles]\na = { blend = { oil = nan, pencil = 1.0 } }\n[map]\nsky = 'a'\n", "nan"),
    rule("rules-blend-negative", "[styles]\na = { blend = { oil = -1.0, pencil = 1.0 } }\n[map]\nsky = 'a'\n",
         "styles.a"),
    rule("rules-param-out-of-range", "[map]\nsky = { builtin = 'mosaic', tile = 1000000000 }\n", "tile"),
    rule("rules-param-nan", "[map]\nsky = { builtin = 'mosaic', tile = nan }\n", "tile"),
    rule("rules-param-bool", "[map]\nsky = { builtin = 'mosaic', tile = true }\n", "tile"),
    rule("rules-param-unknown", "[map]\nsky = { builtin = 'mosaic', tiles = 8 }\n", "tiles"),
    rule("rules-palette-unknown", "[map]\nsky = { builtin = 'mosaic', palette = 'rainbow!' }\n", "palette"),
    rule("rules-strength-inf", "[[rule]]\nclasses = ['sky']\nstyle = 'oil'\nstrength = inf\n", "strength"),
    rule("rules-strength-negative", "[[rule]]\nclasses = ['sky']\nstyle = 'oil'\nstrength = -1\n", "strength"),
    rule("rules-rule-no-classes", "[[rule]]\nclasses = []\nstyle = 'oil'\n", "rule[1]"),
    rule("rules-rule-color-bad", "[[rule]]\nclasses = ['sky']\nstyle = 'oil'\ncolor = 'sepia'\n", "color"),
    rule("rules-scale-zero", rules_with(sky='{ image = "painting.png", scale = 0 }'), "scale"),
    rule("rules-scale-nan", rules_with(sky='{ image = "painting.png", scale = nan }'), "scale"),
    rule("rules-crop-inverted", rules_with(sky='{ image = "painting.png", crop = [0.5, 0.5, 0.4, 0.4] }'), "crop"),
    rule("rules-style-image-missing", rules_with(sky='"nowhere.png"'), "style image not found"),
    rule("rules-style-image-folder", rules_with(sky='{ image = "." }'), "is a folder"),
    # [segmentation]
    rule("seg-labels-missing", RULES.replace('"labels.png"', '"nope.png"'), "nope.png"),
    rule("seg-labels-dev-zero", RULES.replace('"labels.png"', '"/dev/zero"'), "not a regular file"),
    rule("seg-classes-dev-zero", RULES.replace('"ade20k"', '"/dev/zero"'), "not a regular file"),
    rule("seg-classes-unknown", RULES.replace('"ade20k"', '"ade2k"'), "ade2k"),
    rule("seg-model-unknown", '[segmentation]\nmodel = "segformr"\n[map]\nsky = "oil"\n', "segformr"),
    rule("seg-model-dev-zero", '[segmentation]\nmodel = "/dev/zero"\n[map]\nsky = "oil"\n', "/dev/zero"),
    rule("seg-masks-missing", '[segmentation]\nmasks = "nowhere"\n[map]\nsky = "oil"\n', "nowhere"),
    rule("seg-input-size-huge", '[segmentation]\ninput_size = [100000, 100000]\n[map]\nsky = "oil"\n', "input_size"),
    rule("seg-min-area-nan", RULES.replace('classes = "ade20k"', 'classes = "ade20k"\nmin_area = nan'), "min_area"),
    # [defaults]: every value checked by the settings schema, before any model loads.
    default("defaults-size-zero", "size = 0", "size"),
    default("defaults-size-huge", "size = 100000", "[16, 16384]"),
    default("defaults-size-text", "size = 'big'", "size"),
    default("defaults-size-float", "size = 512.5", "size"),
    default("defaults-size-bool", "size = true", "size"),
    default("defaults-iterations-zero", "iterations = 0", "iterations"),
    default("defaults-iterations-huge", "iterations = 9223372036854775807", "iterations"),
    default("defaults-seed-negative", "seed = -1", "seed"),
    rule("defaults-encoder-unknown", rules_with(encoder="resnet9000"), "resnet9000"),
    default("defaults-feather-huge", "feather = 100000", "feather"),
    default("defaults-feather-nan", "feather = nan", "feather"),
    default("defaults-device-meta", "device = 'meta'", "meta"),
    default("defaults-device-no-gpu", "device = 'cuda:7'", "cuda"),
    default("defaults-threads-huge", "threads = 100000", "threads"),
    default("defaults-style-weight-inf", "style_weight = inf", "style_weight"),
    default("defaults-style-weight-negative", "style_weight = -1.0", "style_weight"),
    default("defaults-learning-rate-zero", "learning_rate = 0.0", "learning_rate"),
    default("defaults-scales-tiny", "scales = [4, 8]", "scales"),
    default("defaults-precision-fp64", "precision = 'fp64'", "precision"),
    default("defaults-mask-mode", "mask_mode = 'hard'", "mask_mode"),
    default("defaults-init-fifo-name", "init = '/dev/zero'", "not a regular file"),
    default("defaults-unknown-key", "sise = 256", "did you mean 'size'"),
    Case("defaults-size-too-big-for-memory", cli(RUN), 2, "of memory",
         plant.rules("r.toml", rules_with(defaults="size = 16384\n")), needs=SMALL_MEMORY),
    Case("rules-bom-is-fine", cli(RUN), 0, "wrote out.png", plant.data("r.toml", "\ufeff" + RULES),
         writes=("out.png",)),
    Case("rules-crlf-is-fine", cli(RUN), 0, "wrote out.png", plant.data("r.toml", RULES.replace("\n", "\r\n")),
         writes=("out.png",)),
])


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_hostile_rules(case: Case, tmp_path) -> None:
    run_case(case, tmp_path)
