"""Hostile photos, label maps and style images, for apply, explain, segment and batch."""

from __future__ import annotations

import pytest

from tests.hostile import plant
from tests.hostile.harness import NOT_ROOT, REGISTRY, Case, cli, make_workspace, rules_with, run_case, table

APPLY = "apply {} rules.toml -o out.png"


def photo(name: str, exit: int, says: str, setup=None, **more) -> list[Case]:
    """The same hostile photo given to apply, explain and segment (three cases)."""
    return [
        Case(f"apply-{name}", cli(APPLY.format(f"bad_{name}")), exit, says, setup, **more),
        Case(f"explain-{name}", cli(f"explain bad_{name} rules.toml"), exit, says, setup, **more),
        Case(f"segment-{name}", cli(f"segment bad_{name} -o seg.png --model auto"), exit, says, setup, **more),
    ]


CASES = table("images", [
    *photo("missing.png", 2, "does not exist"),
    *photo("folder.png", 2, "is a directory", plant.folder("bad_folder.png")),
    *photo("empty.png", 2, "empty (0 bytes)", plant.data("bad_empty.png", b"")),
    *photo("text.png", 2, "not a readable", plant.data("bad_text.png", "not an image at all\n")),
    *photo("half.png", 2, "truncated or corrupt", plant.truncated("bad_half.png", "PNG")),
    *photo("zero.png", 2, "character device, not a regular file", plant.link("bad_zero.png", "/dev/zero")),
    *photo("fifo.png", 2, "FIFO", plant.fifo("bad_fifo.png")),
    *photo("bomb.png", 2, "decompression bomb", plant.png_claiming("bad_bomb.png", 100_000, 100_000)),
    Case("apply-dev-zero", cli("apply /dev/zero rules.toml -o out.png"), 2, "not a regular file"),
    Case("apply-dev-null", cli("apply /dev/null rules.toml -o out.png"), 2, "not a regular file"),
    Case("apply-dangling-link", cli(APPLY.format("bad.png")), 2, "does not exist",
         plant.link("bad.png", "nowhere.png")),
    Case("apply-half-jpeg", cli(APPLY.format("bad.jpg")), 2, "truncated or corrupt",
         plant.truncated("bad.jpg", "JPEG", keep=0.4)),
    Case("apply-half-webp", cli(APPLY.format("bad.webp")), 2, "truncated or corrupt",
         plant.truncated("bad.webp", "WEBP", keep=0.5)),
    Case("apply-half-tiff", cli(APPLY.format("bad.tif")), 2, "truncated or corrupt",
         plant.truncated("bad.tif", "TIFF", keep=0.5)),
    Case("apply-bad-crc", cli(APPLY.format("bad.png")), 2, "corrupt", plant.corrupt_crc("bad.png")),
    Case("apply-text-bomb", cli(APPLY.format("bad.png")), 2, "bad.png", plant.png_text_bomb("bad.png")),
    Case("apply-gif", cli(APPLY.format("bad.gif")), 2, "not a readable JPEG, PNG, TIFF, WebP or BMP",
         plant.noise("bad.gif", 32, 48)),
    Case("apply-jpeg-named-png", cli("apply photo.jpg.png rules.toml -o out.png"), 0, "wrote out.png",
         plant.noise("photo.jpg.png", 32, 48, format="JPEG"), writes=("out.png",)),
    Case("apply-10000x8", cli("apply wide.png wide.toml -o out.png"), 2, "under the 16 px",
         plant.steps(plant.noise("wide.png", 8, 10_000), plant.label_map("wide_labels.png", 8, 10_000),
                     plant.rules("wide.toml", '[segmentation]\nlabels = "wide_labels.png"\n[map]\nsky = '
                                              '"painting.png"\n[defaults]\nencoder = "random"\n'))),
    Case("apply-1x1", cli("apply dot.png dot.toml -o out.png"), 2, "its short side, 1 px",
         plant.steps(plant.noise("dot.png", 1, 1), plant.label_map("dot_labels.png", 1, 1),
                     plant.rules("dot.toml", '[segmentation]\nlabels = "dot_labels.png"\n[map]\nsky = '
                                             '"painting.png"\n[defaults]\nencoder = "random"\n'))),
    Case("apply-tall-size-too-small", cli("apply tall.png tall.toml -o out.png --size 64"), 2, "--size 400",
         plant.steps(plant.noise("tall.png", 400, 16), plant.label_map("tall_labels.png", 400, 16),
                     plant.rules("tall.toml", '[segmentation]\nlabels = "tall_labels.png"\n[map]\nsky = '
                                              '"painting.png"\n[defaults]\nencoder = "vgg16"\n'))),
    Case("apply-unreadable", cli(APPLY.format("bad.png")), 2, "Permission denied",
         plant.steps(plant.noise("bad.png", 32, 48), plant.chmod("bad.png", 0)), needs=NOT_ROOT),
    # Label maps: --labels and [segmentation] labels.
    Case("labels-jpeg", cli("apply photo.png rules.toml -o out.png --labels lab.jpg"), 2, "lossy JPEG",
         plant.noise("lab.jpg", 32, 48, mode="L", format="JPEG")),
    Case("labels-rgb-no-legend", cli("apply photo.png rules.toml -o out.png --labels lab.png"), 2, "need a legend",
         plant.noise("lab.png", 32, 48)),
    Case("labels-wrong-aspect", cli("apply photo.png rules.toml -o out.png --labels lab.png"), 2,
         "aspect ratios differ", plant.label_map("lab.png", 48, 48)),
    Case("labels-unknown-ids", cli("apply photo.png rules.toml -o out.png --labels lab.png"), 2, "lab.png",
         plant.label_map("lab.png", 32, 48, value=250)),
    Case("labels-16bit-huge-id", cli("apply photo.png rules.toml -o out.png --labels lab.png"), 2, "lab.png",
         plant.label_map("lab.png", 32, 48, value=65535, mode="I;16")),
    Case("labels-fifo", cli("apply photo.png rules.toml -o out.png --labels lab.png"), 2, "FIFO",
         plant.fifo("lab.png")),
    Case("labels-dev-zero", cli("apply photo.png rules.toml -o out.png --labels /dev/zero"), 2,
         "not a regular file"),
    Case("labels-bomb", cli("apply photo.png rules.toml -o out.png --labels lab.png"), 2, "decompression bomb",
         plant.png_claiming("lab.png", 100_000, 100_000)),
    Case("labels-over-100-mpx", cli("apply photo.png rules.toml -o out.png --labels lab.png"), 2, "max_pixels",
         plant.png_claiming("lab.png", 12_000, 9_000)),
    Case("labels-empty", cli("apply photo.png rules.toml -o out.png --labels lab.png"), 2, "empty",
         plant.data("lab.png", b"")),
    Case("legend-bad-line", cli("apply photo.png rules.toml -o out.png --labels lab.png"), 2, "lab.legend.txt:1",
         plant.steps(plant.noise("lab.png", 32, 48), plant.data("lab.legend.txt", "#12345 sky\n"))),
    Case("legend-fifo", cli("apply photo.png rules.toml -o out.png --labels lab.png"), 2, "FIFO",
         plant.steps(plant.noise("lab.png", 32, 48), plant.fifo("lab.legend.txt"))),
    Case("legend-unknown-class", cli("apply photo.png rules.toml -o out.png --labels lab.png"), 2,
         "not a class", plant.steps(plant.noise("lab.png", 32, 48), plant.data("lab.legend.txt", "#000000 skyy\n"))),
    Case("mask-folder-empty", cli("apply photo.png rules.toml -o out.png --labels masks"), 2, "masks",
         plant.folder("masks")),
    Case("mask-index-escapes", cli("apply photo.png rules.toml -o out.png --labels masks"), 2, "masks",
         plant.steps(plant.folder("masks"), plant.data("masks/regions.json",
                                                       '{"regions": [{"name": "sky", "file": "../photo.png"}]}'))),
    # Style images named by the rules.
    Case("style-image-10000x8", cli("apply photo.png s.toml -o out.png"), 2, "thinner than the",
         plant.steps(plant.noise("streak.png", 8, 10_000),
                     plant.rules("s.toml", rules_with(sky='"streak.png"', encoder="vgg19")))),
    Case("style-image-not-an-image", cli("apply photo.png s.toml -o out.png"), 2, "not a readable image",
         plant.steps(plant.data("fake.png", "text"), plant.rules("s.toml", rules_with(sky='"fake.png"')))),
    Case("style-image-bomb", cli("apply photo.png s.toml -o out.png"), 2, "decompression bomb",
         plant.steps(plant.png_claiming("bomb.png", 100_000, 100_000),
                     plant.rules("s.toml", rules_with(sky='"bomb.png"')))),
    Case("style-image-over-100-mpx", cli("apply photo.png s.toml -o out.png"), 2, "decompression bomb",
         plant.steps(plant.png_claiming("big.png", 12_000, 9_000),
                     plant.rules("s.toml", rules_with(sky='"big.png"')))),
    Case("style-image-is-the-rules", cli("apply photo.png s.toml -o out.png"), 2, "not a readable image",
         plant.rules("s.toml", rules_with(sky='{ image = "s.toml" }'))),
    Case("style-image-fifo", cli("apply photo.png s.toml -o out.png"), 2, "not a regular file",
         plant.steps(plant.fifo("pipe.png"), plant.rules("s.toml", rules_with(sky='"pipe.png"')))),
    Case("style-image-dev-zero", cli("apply photo.png s.toml -o out.png"), 2, "not a regular file",
         plant.rules("s.toml", rules_with(sky='"/dev/zero"'))),
    Case("style-image-huge-scale", cli("apply photo.png s.toml -o out.png"), 2, "more than 16384 px",
         plant.rules("s.toml", rules_with(sky='{ image = "painting.png", scale = 1e6 }'))),
    Case("style-image-tiny-crop", cli("apply photo.png s.toml -o out.png"), 2, "after its crop",
         plant.rules("s.toml", rules_with(sky='{ image = "painting.png", crop = [0, 0, 1, 0.01] }', encoder="random"))),
    Case("init-image-fifo", cli("apply photo.png rules.toml -o out.png --init pipe.png"), 2, "not a regular file",
         plant.fifo("pipe.png")),
    Case("init-image-garbage", cli("apply photo.png rules.toml -o out.png --init junk.png"), 2, "junk.png",
         plant.data("junk.png", "junk")),
    # batch: a folder holding a FIFO and a broken image among good ones.
    Case("batch-fifo-in-folder", cli("batch in rules.toml -o out"), 2, "no images found",
         plant.steps(plant.folder("in"), plant.fifo("in/pipe.png"))),
    Case("batch-pattern-through-a-link-loop", ("batch", "in/**/*.png", "rules.toml", "-o", "out"), 1, "1 of 1 images failed",
         plant.steps(plant.folder("in/sub"), plant.link("in/sub/loop", ".."), plant.data("in/sub/a.png", "junk"))),
    Case("batch-dev-zero", cli("batch /dev/zero rules.toml -o out"), 2, "not a regular file"),
    Case("batch-goes-on-after-a-bad-image", cli("batch in rules.toml -o out"), 1, "1 of 2 images failed",
         plant.steps(plant.folder("in"), plant.noise("in/a.png", 32, 48), plant.data("in/b.png", "junk")),
         writes=("out/a.png", "out/a.png.json")),
])


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_hostile_image(case: Case, tmp_path) -> None:
    run_case(case, tmp_path)


# ---- the Python API: arrays and keywords, refused before any model loads ----------------------------------

API_CASES = [
    ("nan-pixels", lambda np: np.full((32, 48, 3), np.nan, np.float32), {}, "NaN or infinite"),
    ("inf-pixels", lambda np: np.full((32, 48, 3), np.inf), {}, "NaN or infinite"),
    ("empty-array", lambda np: np.zeros((0, 48, 3), np.uint8), {}, "expected an (H, W)"),
    ("five-dimensions", lambda np: np.zeros((1, 1, 32, 48, 3), np.uint8), {}, "expected an (H, W)"),
    ("bool-pixels", lambda np: np.zeros((32, 48, 3), bool), {}, "expected uint8, uint16 or float"),
    ("two-channels", lambda np: np.zeros((32, 48, 2), np.uint8), {}, "expected an (H, W)"),
    ("thin-array", lambda np: np.zeros((8, 10_000, 3), np.uint8), {"encoder": "random"}, "under the 16 px"),
    ("size-nan", lambda np: np.zeros((32, 48, 3), np.uint8), {"size": float("nan")}, "size"),
    ("unknown-keyword", lambda np: np.zeros((32, 48, 3), np.uint8), {"sise": 64}, "did you mean"),
]
for _name, *_ in API_CASES:
    REGISTRY.add("images", f"api-{_name}")


@pytest.mark.parametrize("name, make, keywords, says", API_CASES, ids=[case[0] for case in API_CASES])
def test_hostile_api_array(name, make, keywords, says, tmp_path, monkeypatch) -> None:
    """regionstyle.stylize: BadInput (one line, no model loaded) for arrays and keywords it cannot take."""
    import numpy as np

    import regionstyle
    from regionstyle import session
    from regionstyle.errors import BadInput

    ws = make_workspace(tmp_path)
    monkeypatch.setattr(session.Session, "segmenter", _no_model)
    monkeypatch.setattr(session.Session, "encoder", _no_model)
    with pytest.raises(BadInput) as refused:
        regionstyle.stylize(make(np), ws / "rules.toml", **keywords)
    assert says in str(refused.value) and "\n" not in str(refused.value)


def _no_model(*args, **kwargs):
    raise AssertionError("a model was loaded before the input was refused")
