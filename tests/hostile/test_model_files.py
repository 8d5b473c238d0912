"""Hostile segmentation model files (TFLite / ONNX) and their model.toml descriptors: bad input, exit code 2."""

from __future__ import annotations

import shutil
from importlib import resources

import numpy as np
import pytest

from tests.hostile import plant
from tests.hostile.harness import SMALL_MEMORY, RULES, Case, cli, run_case, table

SEGMENT = "segment photo.png -o seg.png --model {}"
DESCRIBED = 'file = "m.onnx"\nclasses = "ade20k"\ninput_range = [0.0, 1.0]\n'


def conv_onnx(classes: int = 151, *, fixed: tuple[int, int] | None = None) -> plant.Setup:
    """m.onnx: a 1x1 convolution from RGB (N, 3, H, W) to ``classes`` logits (``fixed``: a fixed H, W)."""
    def run(ws) -> None:
        import onnx
        from onnx import TensorProto, helper, numpy_helper

        rng = np.random.default_rng(4)
        height, width = fixed or ("h", "w")
        nodes = [helper.make_node("Conv", ["image", "w"], ["logits"])]
        inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", 3, height, width])]
        outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", classes, height, width])]
        weight = numpy_helper.from_array(rng.normal(size=(classes, 3, 1, 1)).astype(np.float32), "w")
        model = helper.make_model(helper.make_graph(nodes, "tiny", inputs, outputs, initializer=[weight]),
                                  opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, str(ws / "m.onnx"))
    return run


def bundled_tflite(ws) -> None:
    """The bundled DeepLabV3 (ADE20K, 151 outputs) copied as m.tflite."""
    source = resources.files("regionstyle.weights") / "bundled" / "deeplabv3_mnv2_ade20k" / "model.tflite"
    shutil.copyfile(str(source), ws / "m.tflite")


def described(text: str, model: plant.Setup | None = None) -> plant.Setup:
    """A model (default: a fitting ONNX file) with ``text`` as its model.toml."""
    return plant.steps(model or conv_onnx(), plant.data("model.toml", text))


def model(id: str, setup, says: str, *, target: str = "m.onnx", exit: int = 2) -> Case:
    return Case(id, cli(SEGMENT.format(target)), exit, says, setup)


CASES = table("model files", [
    model("tflite-garbage", plant.steps(plant.data("m.tflite", b"\x1c\x00\x00\x00TFL3" + bytes(range(256)) * 8),
                                        plant.data("model.toml", 'file = "m.tflite"\nclasses = "ade20k"\n')),
          "cannot load", target="m.tflite"),
    model("tflite-empty", plant.steps(plant.data("m.tflite", b""),
                                      plant.data("model.toml", 'file = "m.tflite"\nclasses = "ade20k"\n')),
          "m.tflite", target="m.tflite"),
    model("onnx-garbage", described(DESCRIBED, plant.data("m.onnx", b"\x08\x07garbage" * 50)), "cannot load"),
    model("onnx-empty", described(DESCRIBED, plant.data("m.onnx", b"")), "m.onnx"),
    model("onnx-is-an-image", described(DESCRIBED, plant.noise("m.onnx", 8, 8, format="PNG")), "cannot load"),
    model("onnx-fifo", described(DESCRIBED, plant.fifo("m.onnx")), "not a regular file"),
    model("no-descriptor", conv_onnx(), "needs a class list"),
    model("descriptor-syntax", described("file = \n"), "cannot read model descriptor"),
    model("descriptor-fifo", plant.steps(conv_onnx(), plant.fifo("model.toml")), "not a regular file",
          target="model.toml"),
    model("descriptor-names-missing-file", plant.data("model.toml", 'file = "gone.onnx"\nclasses = "ade20k"\n'),
          "does not exist", target="model.toml"),
    model("descriptor-file-escapes", plant.data("model.toml", 'file = "/dev/zero"\nclasses = "ade20k"\n'),
          "not a regular file", target="model.toml"),
    model("input-size-huge", described(DESCRIBED + "input_size = [100000, 100000]\n"), "input_size"),
    Case("input-size-memory", cli(SEGMENT.format("m.onnx")), 2, "of memory",
         described(DESCRIBED + "input_size = [16384, 16384]\n"), needs=SMALL_MEMORY),
    model("input-size-zero", described(DESCRIBED + "input_size = [0, 5]\n"), "input_size"),
    model("input-size-text", described(DESCRIBED + 'input_size = "big"\n'), "input_size"),
    model("input-size-float", described(DESCRIBED + "input_size = [1.5, 2]\n"), "input_size"),
    model("input-size-bool", described(DESCRIBED + "input_size = [true, 1]\n"), "input_size"),
    model("input-size-inf", described(DESCRIBED + "input_size = [inf, 1]\n"), "input_size"),
    model("layout-unknown", described(DESCRIBED + 'input_layout = "NCWH"\n'), "input_layout"),
    model("mean-nan", described(DESCRIBED + "mean = [nan, 0, 0]\nstd = [1, 1, 1]\n"), "mean"),
    model("std-zero", described(DESCRIBED + "mean = [0, 0, 0]\nstd = [0, 1, 1]\n"), "std"),
    model("mean-without-std", described(DESCRIBED + "mean = [0, 0, 0]\n"), "together"),
    model("mean-two-values", described(DESCRIBED + "mean = [0, 0]\nstd = [1, 1]\n"), "mean"),
    model("range-reversed", described(DESCRIBED.replace("[0.0, 1.0]", "[1.0, 0.0]")), "input_range"),
    model("range-inf", described(DESCRIBED.replace("[0.0, 1.0]", "[0.0, inf]")), "input_range"),
    model("output-unknown", described(DESCRIBED + 'output = "softmax"\n'), "output"),
    model("classes-dev-zero", described(DESCRIBED.replace('"ade20k"', '"/dev/zero"')), "not a regular file"),
    model("classes-empty-file", described(DESCRIBED.replace('"ade20k"', '"labels.txt"'),
                                          plant.steps(conv_onnx(), plant.data("labels.txt", ""))), "labels.txt"),
    model("unknown-suffix", plant.data("m.bin", b"\0" * 64), "not a model file", target="m.bin"),
    model("folder-with-two-models", plant.steps(plant.folder("models"), plant.data("models/a.onnx", b"x"),
                                                plant.data("models/b.onnx", b"x")), "exactly one model file",
          target="models"),
    # Files that load but do not do what their descriptor says.
    model("output-classes-mismatch", described(DESCRIBED, conv_onnx(classes=5)), "does not fit"),
    model("layout-mismatch", described(DESCRIBED + 'input_layout = "NHWC"\n', conv_onnx(fixed=(32, 48))),
          "onnxruntime failed"),
    model("tflite-with-wrong-vocabulary", plant.steps(bundled_tflite, plant.data(
        "model.toml", 'file = "m.tflite"\nclasses = "voc"\nmean = [127.5, 127.5, 127.5]\n'
                      'std = [127.5, 127.5, 127.5]\n')), "does not fit", target="m.tflite"),
    Case("rules-model-garbage", cli("apply photo.png r.toml -o out.png"), 2, "cannot load",
         plant.steps(described(DESCRIBED, plant.data("m.onnx", b"garbage")),
                     plant.rules("r.toml", RULES.replace('labels = "labels.png"', 'model = "m.onnx"')))),
    Case("explain-model-mismatch", cli("explain photo.png r.toml"), 2, "does not fit",
         plant.steps(described(DESCRIBED, conv_onnx(classes=5)),
                     plant.rules("r.toml", RULES.replace('labels = "labels.png"', 'model = "m.onnx"')))),
])


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_hostile_model_file(case: Case, tmp_path) -> None:
    pytest.importorskip("onnxruntime", reason="the ONNX cases need onnxruntime (the [onnx] extra)")
    run_case(case, tmp_path)
