"""The README's "Reliability" section, generated from the corpus: ``python -m tests.hostile.count``.

tests/hostile/test_readme.py keeps the README's copy equal to this output, so the count there is never
typed by hand. Every case counted is a test that fails unless the answer is clean.
"""

from __future__ import annotations

import importlib
import textwrap

from tests.hostile.harness import REGISTRY, SURFACES

MODULES = ("test_images", "test_rules", "test_options", "test_weights", "test_model_files", "test_outputs",
           "test_signals")
EXAMPLES = {
    "images": "`/dev/zero`, a FIFO, a PNG whose header claims 100000x100000 px, a 10000x8 PNG, truncated "
              "PNG/JPEG/WebP/TIFF, a zTXt bomb; bad label maps, legends, mask folders, style and start images",
    "rules": "not UTF-8, 20 MB, a FIFO, empty; unknown names, NaN/inf/negative values, blend cycles, out-of-range "
             "built-in parameters, every `[defaults]` setting out of range",
    "options": "`--seed 99999999999999999999`, `--device meta`, `--style-weight nan`, `--size 100000`, weights "
               "for the random encoder, usage mistakes of every command",
    "weights": "a tensor or list instead of a state dict, ResNet/VGG weights for MobileNetV2, a pickle that would "
               "run code, NaN weights, weights whose activations overflow, descriptors with wrong fields",
    "model files": "garbage, empty or image bytes as TFLite/ONNX, descriptors with a huge `input_size`, NaN "
                   "means, a model whose output or layout does not fit its descriptor",
    "outputs": "an existing file, an input (also through links), a FIFO, `--name '../x'`, absolute names, a link "
               "out of `-o`, a full disk (a 512 kB tmpfs) before and after the image",
    "signals": "Ctrl-C, SIGTERM and kill -9 while optimising and while writing; a batch stopped in its second "
               "image; two batches writing into one folder",
}


def counts() -> dict[str, int]:
    """Cases per surface (importing the test modules registers them)."""
    for module in MODULES:
        importlib.import_module(f"tests.hostile.{module}")
    return {surface: len(REGISTRY.cases[surface]) for surface in SURFACES}


def section() -> str:
    """The Markdown of the README's Reliability section."""
    found = counts()
    total = sum(found.values())
    staged = ", ".join(f"{count} need{'s' if count == 1 else ''} {what}"
                       for what, count in sorted(REGISTRY.needs.items(), key=lambda item: -item[1]))
    rows = [f"| {surface} | {found[surface]} | {EXAMPLES[surface]} |" for surface in SURFACES]
    return "\n".join([
        "## Reliability",
        "",
        _wrap(f"Hostile inputs are part of the test suite (`tests/hostile/`, one file per surface, every input "
        f"generated at test time): **{total} hostile inputs, {total} answered cleanly** — each is a test that "
        f"fails on any other answer. A case that cannot be staged somewhere skips there and says why "
        f"({staged}). Clean means: no traceback; exit code 2 for bad input (model and weights "
        "files included), 1 for a failure at run time, 130 after Ctrl-C, 143 after SIGTERM; one `Error:` line "
        "that names the problem; the inputs unchanged; nothing written, or exactly the files expected."),
        "",
        "| surface | inputs | for example |",
        "|---|---|---|",
        *rows,
        f"| **total** | **{total}** | |",
        "",
        _wrap("What holds them: only regular files are read (`regionstyle/io/inputs.py`); sizes are checked before any "
        "model loads, against the encoder's smallest usable side (from its own geometry) and the memory free "
        "now (`regionstyle/limits.py`); a NaN or infinite loss stops the run at that evaluation "
        "(`regionstyle/finite.py`); outputs are checked up front (`io.check_writable`), written through "
        "temporary files named after their host and process (a run killed with `kill -9` leaves one, the next "
        "run in that folder removes it, a live run's is never touched), and a command's files appear together "
        "or not at all (`io.all_or_nothing`). The count above is printed by `python -m tests.hostile.count`."),
    ])


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=110, break_long_words=False, break_on_hyphens=False)


if __name__ == "__main__":
    print(section())
