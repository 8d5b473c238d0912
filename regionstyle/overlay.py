"""Colour overlays of class labels and style regions, with a legend strip under the photo.

Colours are a pure function of the class id (or region index), so the same class looks the same in
every overlay and every run. Output is float32 RGB in [0, 1], the photo's width, taller by the legend.
"""

from __future__ import annotations

import colorsys
import math

import cv2
import numpy as np

from regionstyle.datatypes import RegionMasks
from regionstyle.errors import BadInput

_GOLDEN = 0.618033988749895  # successive hues spread evenly around the wheel
_MAX_ENTRIES = 48
_KEPT = (0.15, 0.15, 0.15)  # keep regions darken: "hands off"
_UNSTYLED = (0.65, 0.65, 0.65)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def class_colour(class_id: int) -> tuple[float, float, float]:
    """A deterministic, well-spread RGB colour in [0, 1] for a class id (or region index)."""
    hue = (class_id * _GOLDEN) % 1.0
    saturation = 0.55 + 0.45 * ((class_id * 7) % 4) / 3
    value = 0.7 + 0.3 * ((class_id * 5) % 3) / 2
    return colorsys.hsv_to_rgb(hue, saturation, value)


def label_overlay(image: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...] | list[str], *,
                  alpha: float = 0.5) -> np.ndarray:
    """The photo tinted by class, with a legend of the classes present (colour, id, name, share of pixels).

    image: float (H, W, 3) RGB in [0, 1]; labels: int (H, W) class ids. Returns float32 (H + legend, W, 3).
    """
    _check(image, labels.shape)
    ids, counts = np.unique(labels, return_counts=True)
    palette = np.array([class_colour(int(i)) for i in range(int(ids.max()) + 1)], dtype=np.float32)
    tinted = _blend(image, palette[labels], alpha)
    entries = [(class_colour(int(i)), f"{int(i)} {_name(class_names, int(i))}  {c / labels.size:.1%}")
               for i, c in sorted(zip(ids, counts), key=lambda ic: -ic[1])]
    return np.concatenate([tinted, legend_strip(entries, width=image.shape[1])], axis=0)


def region_overlay(image: np.ndarray, region_masks: RegionMasks, *, alpha: float = 0.5) -> np.ndarray:
    """The photo tinted by style region (soft masks blend their colours); keep regions dark, the rest grey.

    image: float (H, W, 3) RGB in [0, 1]. Returns float32 (H + legend, W, 3).
    """
    _check(image, region_masks.masks.shape[1:])
    colours = np.array([class_colour(i) if styled else _UNSTYLED if index == -1 else _KEPT
                        for i, (styled, index) in enumerate(zip(region_masks.styled, _indices(region_masks)))],
                       dtype=np.float32)
    tint = np.tensordot(region_masks.masks.astype(np.float32), colours, axes=([0], [0]))
    tinted = _blend(image, tint, alpha)
    entries = [(tuple(colours[i]), f"{name}{' (keep)' if not styled and index != -1 else ''}  {area:.1%}")
               for i, (name, styled, index, area) in enumerate(zip(
                   region_masks.names, region_masks.styled, _indices(region_masks), region_masks.areas))]
    return np.concatenate([tinted, legend_strip(entries, width=image.shape[1])], axis=0)


def legend_strip(entries: list[tuple[tuple[float, float, float], str]], *, width: int) -> np.ndarray:
    """float32 (h, width, 3) white strip: a colour swatch and a text per entry, in as many columns as fit."""
    shown = entries[:_MAX_ENTRIES]
    if len(entries) > len(shown):
        shown.append(((1.0, 1.0, 1.0), f"+{len(entries) - len(shown)} more"))
    row = max(14, min(40, width // 60))
    scale = row / 34
    text_width = max(cv2.getTextSize(text, _FONT, scale, 1)[0][0] for _, text in shown)
    column = row + text_width + row
    columns = max(1, width // column)
    canvas = np.full((row * (math.ceil(len(shown) / columns) + 1), width, 3), 255, dtype=np.uint8)
    for n, (colour, text) in enumerate(shown):
        x, y = (n % columns) * column + row // 2, (n // columns) * row + row // 2
        cv2.rectangle(canvas, (x, y + 2), (x + row - 4, y + row - 2), tuple(round(255 * c) for c in colour), -1)
        cv2.putText(canvas, text, (x + row, y + row - 4), _FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return canvas.astype(np.float32) / 255.0


def _indices(region_masks: RegionMasks) -> tuple[int, ...]:
    # Older RegionMasks may lack rule_index; then only the last mask is taken as the remainder.
    n = len(region_masks.names)
    return region_masks.rule_index or tuple(-1 if i == n - 1 else i for i in range(n))


def _blend(image: np.ndarray, tint: np.ndarray, alpha: float) -> np.ndarray:
    return ((1.0 - alpha) * image.astype(np.float32) + alpha * tint).clip(0.0, 1.0).astype(np.float32)


def _name(class_names: tuple[str, ...] | list[str], class_id: int) -> str:
    return class_names[class_id] if 0 <= class_id < len(class_names) and class_names[class_id] else "?"


def _check(image: np.ndarray, size: tuple[int, ...]) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or tuple(image.shape[:2]) != tuple(size):
        raise BadInput(f"overlay: expected a float (H, W, 3) image of size {tuple(size)}, got {image.shape}")
