"""An independent judge of style: masked Gram matrices from MobileNetV1 (int8 TFLite), not the optimised net.

A stylisation optimises Gram statistics of one network; measuring its result with that same network
rewards overfitting to it. The judge is a different architecture with different (ImageNet) weights, run by
a different runtime: the quantised MobileNetV1 in ``../shared/data/models/mobilenet_v1_imagenet_quant``.

Everything is judged at the model's fixed 224 x 224 input: an image and its region masks are resized to
224 x 224 (the aspect distortion is the same for the output and for every style compared, so it cancels
in a comparison). Style images are resized the same way, whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

SIZE = 224
# Pointwise (1x1) ReLU6 outputs at strides 2, 4, 8 and 16: textures from fine strokes to motifs.
LAYERS = ("Conv2d_1_pointwise", "Conv2d_3_pointwise", "Conv2d_5_pointwise", "Conv2d_11_pointwise")


@dataclass(frozen=True)
class JudgeFeatures:
    """Dequantised activations of one 224 x 224 image: {layer: (h, w, C) float32}."""

    maps: dict[str, np.ndarray]


class Judge:
    """MobileNetV1 features through ai_edge_litert, with every intermediate tensor kept readable."""

    def __init__(self, model_file: Path) -> None:
        import warnings

        from ai_edge_litert.interpreter import Interpreter

        with warnings.catch_warnings():  # preserving all tensors is exactly what a judge needs
            warnings.simplefilter("ignore")
            self.interpreter = Interpreter(model_path=str(model_file), experimental_preserve_all_tensors=True)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.tensors = {layer: self._find(layer) for layer in LAYERS}

    def _find(self, layer: str) -> dict:
        for detail in self.interpreter.get_tensor_details():
            if detail["name"].startswith(f"MobilenetV1/MobilenetV1/{layer}/Relu6"):
                return detail
        raise LookupError(f"judge model has no tensor for layer {layer}")

    def features(self, image: np.ndarray) -> JudgeFeatures:
        """image: (H, W, 3) float RGB in [0, 1], any size (resized to 224 x 224)."""
        pixels = cv2.resize(image.astype(np.float32), (SIZE, SIZE), interpolation=cv2.INTER_AREA)
        scale, zero = self.input["quantization"]
        # The model's input is uint8 with real = (q - 128) / 128, i.e. q ~ pixel value in 0..255.
        quantised = np.clip(np.round((pixels * 2.0 - 1.0) / scale + zero), 0, 255).astype(np.uint8)
        self.interpreter.set_tensor(self.input["index"], quantised[None])
        self.interpreter.invoke()
        maps = {}
        for layer, detail in self.tensors.items():
            raw = self.interpreter.get_tensor(detail["index"])[0].astype(np.float32)
            scale, zero = detail["quantization"]
            maps[layer] = (raw - zero) * scale
        return JudgeFeatures(maps)


def masked_gram(features: np.ndarray, mask: np.ndarray | None) -> np.ndarray | None:
    """Area-normalised Gram sum_p w_p f_p f_p^T / sum_p w_p of (h, w, C) features; None if the mask is empty.

    mask: (H, W) in [0, 1] at any size (area-resized to the layer), or None for the whole frame.
    """
    flat = features.reshape(-1, features.shape[-1]).astype(np.float64)
    if mask is None:
        return flat.T @ flat / flat.shape[0]
    weights = cv2.resize(mask.astype(np.float32), features.shape[1::-1], interpolation=cv2.INTER_AREA)
    weights = weights.reshape(-1, 1).astype(np.float64)
    if weights.sum() < 1.0:  # less than one feature position: no statistics at this layer
        return None
    return (flat * weights).T @ flat / weights.sum()


def grams(features: JudgeFeatures, mask: np.ndarray | None) -> dict[str, np.ndarray]:
    """{layer: (C, C)} for the layers where the mask keeps at least one feature position."""
    result = {}
    for layer, maps in features.maps.items():
        value = masked_gram(maps, mask)
        if value is not None:
            result[layer] = value
    return result


def style_distance(candidate: dict[str, np.ndarray], target: dict[str, np.ndarray]) -> float:
    """Mean over shared layers of the relative Gram error sum (G - A)^2 / sum A^2 (0 = identical)."""
    layers = [layer for layer in candidate if layer in target]
    if not layers:
        return float("nan")
    errors = [np.sum((candidate[k] - target[k]) ** 2) / max(np.sum(target[k] ** 2), 1e-12) for k in layers]
    return float(np.mean(errors))
