"""Thin wrappers around the optional model-file runtimes: onnxruntime and ai-edge-litert (TFLite).

Each exposes the same three things: the input shape (None for dynamic axes), whether it takes a batch, and
``run(batch) -> output array``. Imports happen here, so a missing runtime names the extra to install.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from regionstyle import threads
from regionstyle.errors import BadModelFile, MissingDependency

log = logging.getLogger(__name__)


class OnnxRunner:
    """An onnxruntime session; CUDA when asked for (or ``auto``) and available, otherwise the CPU."""

    def __init__(self, path: Path, *, device: str = "cpu") -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise MissingDependency(
                f"running {path.name} needs onnxruntime: pip install regionstyle[onnx]") from None
        providers = ["CPUExecutionProvider"]
        if device.startswith("cuda") or device == "auto":
            if "CUDAExecutionProvider" in ort.get_available_providers():
                providers.insert(0, "CUDAExecutionProvider")
            elif device != "auto":
                log.warning("onnxruntime here has no CUDA provider; running %s on the CPU", path.name)
        try:
            self._session = ort.InferenceSession(str(path), providers=providers)
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
            raise BadModelFile(f"onnxruntime cannot load {path}: {exc}") from exc
        first = self._session.get_inputs()[0]
        self._input_name = first.name
        self.input_shape = tuple(d if isinstance(d, int) and d > 0 else None for d in first.shape)
        self.input_dtype = np.uint8 if "uint8" in first.type else np.float32
        self.batched = self.input_shape[0] is None

    def run(self, batch: np.ndarray) -> np.ndarray:
        """(N, ...) input -> the first output, as numpy."""
        try:
            return self._session.run(None, {self._input_name: cast_input(batch, self.input_dtype)})[0]
        except Exception as exc:  # shape/type mismatches surface as onnxruntime's own exception types
            raise BadModelFile(f"onnxruntime failed on an input of shape {batch.shape}: {exc} (do input_layout and "
                               "input_size in its model.toml fit the model?)") from exc


class TFLiteRunner:
    """An ai-edge-litert interpreter with the run's thread count (:mod:`regionstyle.threads`: ``threads``,
    or one per free core: a busy machine's spinning threads slow everyone); one image per call."""

    def __init__(self, path: Path, *, device: str = "cpu") -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise MissingDependency(
                f"running {path.name} needs the TFLite runtime, a regionstyle dependency: pip install ai-edge-litert"
            ) from None
        if device.startswith("cuda"):
            log.warning("the TFLite runtime runs on the CPU; ignoring device %r for %s", device, path.name)
        try:
            with native_stderr_captured() as said:
                self._interpreter = Interpreter(model_path=str(path), num_threads=threads.in_use())
                self._interpreter.allocate_tensors()
        except Exception as exc:  # the runtime raises bare RuntimeError/ValueError for bad files
            detail = " ".join("".join(said).split())[:300]
            raise BadModelFile(f"the TFLite runtime cannot load {path}: {exc} {detail}".strip()) from exc
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self.input_shape = tuple(int(d) if d > 0 else None for d in self._input["shape_signature"])
        self.input_dtype = self._input["dtype"]
        self.batched = False

    def run(self, batch: np.ndarray) -> np.ndarray:
        """(1, ...) input -> the first output, dequantised to float32 when the model is quantised.

        The array may share memory with the interpreter: use it before the next ``run``.
        """
        try:
            self._interpreter.set_tensor(self._input["index"], cast_input(batch, self.input_dtype))
            self._interpreter.invoke()
        except (RuntimeError, ValueError) as exc:
            raise BadModelFile(f"the TFLite runtime failed on an input of shape {batch.shape}: {exc} (do "
                               "input_layout and input_size in its model.toml fit the model?)") from exc
        # A view of the interpreter's buffer, not a copy (160 MB of ADE20K logits): valid until the next run.
        out = self._interpreter.tensor(self._output["index"])()
        scale, zero_point = self._output.get("quantization", (0.0, 0))
        if np.issubdtype(out.dtype, np.integer) and scale:
            return (out.astype(np.float32) - zero_point) * scale
        return out


@contextlib.contextmanager
def native_stderr_captured() -> Iterator[list[str]]:
    """Hold back what native code writes to stderr (the TFLite runtime announces its CPU delegate on every
    load); yields a list that holds the captured text afterwards, for an error message to quote."""
    sys.stderr.flush()
    saved, said = os.dup(2), []
    with tempfile.TemporaryFile(mode="w+") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield said
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            said.append(captured.read())


def cast_input(batch: np.ndarray, dtype: type) -> np.ndarray:
    """Float input -> the model's input dtype; integer inputs are rounded and clipped, never wrapped."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(batch), info.min, info.max).astype(dtype)
    return batch.astype(dtype, copy=False)


def open_runtime(path: Path, *, device: str = "cpu") -> OnnxRunner | TFLiteRunner:
    """The runner for a model file, by suffix."""
    runner = {".onnx": OnnxRunner, ".tflite": TFLiteRunner}.get(path.suffix.lower())
    if runner is None:
        raise BadModelFile(f"no runtime for {path.suffix!r} files; expected .onnx or .tflite")
    return runner(path, device=device)
