"""Hostile command-line options: every setting of the schema, the commands' own options, usage mistakes."""

from __future__ import annotations

import pytest

from tests.hostile import plant
from tests.hostile.harness import Case, cli, run_case, table

APPLY = "apply photo.png rules.toml -o out.png"
BATCH = "batch photo.png rules.toml -o out"


def option(id: str, args: str, says: str, *, command: str = APPLY, exit: int = 2, setup=None) -> Case:
    return Case(id, cli(command, args), exit, says, setup)


CASES = table("options", [
    option("seed-overflow", "--seed 99999999999999999999", "--seed"),
    option("seed-before-command-overflow", "", "--seed", command="--seed 99999999999999999999 " + APPLY),
    option("seed-negative", "--seed -1", "--seed"),
    option("seed-text", "--seed lucky", "--seed"),
    option("device-meta", "--device meta", "--device"),
    option("device-shell", "--device cpu;rm", "--device"),
    option("device-absent-gpu", "--device cuda:9", "cuda:9"),
    option("style-weight-nan", "--style-weight nan", "--style-weight"),
    option("style-weight-inf", "--style-weight inf", "--style-weight"),
    option("style-weight-minus-inf", "--style-weight -inf", "--style-weight"),
    option("style-weight-overflow", "--style-weight 1e309", "--style-weight"),
    option("style-weight-negative", "--style-weight -1", "--style-weight"),
    option("content-weight-nan", "--content-weight nan", "--content-weight"),
    option("tv-weight-inf", "--tv-weight inf", "--tv-weight"),
    option("color-weight-negative", "--color-weight -2", "--color-weight"),
    option("size-zero", "--size 0", "--size"),
    option("size-tiny", "--size 5", "[16, 16384]"),
    option("size-huge", "--size 100000", "[16, 16384]"),
    option("size-fraction", "--size 1.5", "--size"),
    option("size-hex", "--size 0x100", "--size"),
    option("size-empty", "--size=", "--size"),
    option("iterations-zero", "--iterations 0", "--iterations"),
    option("iterations-huge", "--iterations 10000000", "--iterations"),
    option("coarse-start-huge", "--coarse-start 100000", "--coarse-start"),
    option("feather-huge", "--feather 100000", "--feather"),
    option("feather-nan", "--feather nan", "--feather"),
    option("threads-negative", "--threads -1", "--threads"),
    option("threads-huge", "--threads 100000", "--threads"),
    option("learning-rate-zero", "--learning-rate 0", "--learning-rate"),
    option("learning-rate-big", "--learning-rate 2", "--learning-rate"),
    option("color-unknown", "--color sepia", "--color"),
    option("encoder-unknown", "--encoder resnet9000", "--encoder"),
    option("encoder-empty", "--encoder=", "--encoder"),
    option("optimizer-unknown", "--optimizer sgd", "--optimizer"),
    option("precision-unknown", "--precision fp64", "--precision"),
    option("mask-mode-unknown", "--mask-mode hard", "--mask-mode"),
    option("init-missing", "--init nowhere.png", "--init"),
    option("init-dev-zero", "--init /dev/zero", "not a regular file"),
    option("encoder-weights-missing", "--encoder-weights nope.pt", "--encoder-weights"),
    option("encoder-weights-folder", "--encoder-weights .", "--encoder-weights"),
    option("encoder-weights-with-random", "--encoder random --encoder-weights w.pt", "random",
           setup=plant.data("w.pt", b"PK")),
    option("labels-missing", "--labels nope.png", "--labels"),
    option("unknown-option", "--sise 64", "No such option"),
    option("option-missing-value", "--size", "requires an argument"),
    option("missing-rules-argument", "", "Missing argument", command="apply photo.png"),
    option("extra-argument", "extra.png", "unexpected extra argument"),
    option("preview-with-value", "--preview=yes", "--preview"),
    Case("apply-output-empty", ("apply", "photo.png", "rules.toml", "-o", ""), 2, "cannot tell the image format"),
    # batch's own options.
    option("batch-quality-zero", "--quality 0", "--quality", command=BATCH),
    option("batch-quality-huge", "--quality 101", "--quality", command=BATCH),
    option("batch-format-gif", "--format gif", "--format", command=BATCH),
    option("batch-bit-depth-jpeg", "--bit-depth 16 --format jpeg", "--bit-depth 16 needs PNG or TIFF",
           command=BATCH),
    option("batch-bit-depth-12", "--bit-depth 12", "--bit-depth", command=BATCH),
    option("batch-name-no-placeholder-field", "--name {stm}.png", "{stm}", command=BATCH),
    option("batch-name-format-spec", "--name {stem!x}.png", "--name", command=BATCH),
    option("batch-name-conflicts-format", "--name {stem}.jpg --format png", "--format says png", command=BATCH),
    option("batch-no-inputs-match", "", "matches no image", command="batch nothing*.png rules.toml -o out"),
    option("batch-input-missing", "", "no such file or folder", command="batch nope.png rules.toml -o out"),
    option("batch-size-nan", "--size nan", "--size", command=BATCH),
    Case("size-tiny-with-a-label-map", cli(APPLY, "--size 20"), 0, "wrote out.png", writes=("out.png",)),
    # the other commands.
    Case("sheet-size-32", cli("styles sheet -o s.png --style oil --size 32 --iterations 2 --encoder mobilenet_v2"),
         0, "wrote s.png", writes=("s.png",)),
    option("sheet-size-tiny", "", "--size", command="styles sheet -o s.png --size 5"),
    option("sheet-encoder-unknown", "", "--encoder", command="styles sheet -o s.png --encoder nope"),
    option("sheet-style-unknown", "", "nope", command="styles sheet -o s.png --style nope --encoder random"),
    option("sheet-photo-dev-zero", "", "not a regular file",
           command="styles sheet -o s.png --style oil --photo /dev/zero"),
    option("sheet-iterations-zero", "", "--iterations", command="styles sheet -o s.png --iterations 0"),
    option("segment-model-unknown", "", "segformr", command="segment photo.png -o seg.png --model segformr"),
    option("segment-missing-output", "", "Missing option", command="segment photo.png"),
    option("explain-classes-unknown", "", "ade2k", command="explain photo.png rules.toml --classes ade2k"),
    option("explain-classes-dev-zero", "", "not a regular file",
           command="explain photo.png rules.toml --classes /dev/zero"),
    option("weights-fetch-unknown", "", "unknown weights", command="weights fetch vgg9000"),
    option("styles-unknown-subcommand", "", "No such command", command="styles shet"),
    option("unknown-command", "", "No such command", command="aply photo.png rules.toml"),
])


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_hostile_option(case: Case, tmp_path) -> None:
    run_case(case, tmp_path)
