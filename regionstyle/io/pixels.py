"""Decoded samples -> float32 RGB in [0, 1]: every Pillow mode, 16-bit colour, orientation.

Private helpers of :mod:`regionstyle.io`. Pillow covers 8-bit modes and 16-bit grey; it squashes
16-bit colour PNG/TIFF to 8 bits, so those samples come from OpenCV. Orientation is applied with
numpy, one way for both decoders.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeGuard

import cv2
import numpy as np
from PIL import Image, ImageCms

from regionstyle.io import png, tiff
from regionstyle.errors import BadImage

log = logging.getLogger(__name__)

GREY16_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
# Modes Pillow decodes at full precision; other 16-bit files (colour PNG/TIFF) it squashes to 8 bits.
FULL_PRECISION_MODES = GREY16_MODES | {"F"}
# How to turn an image stored with EXIF orientation n upright (the inverse of how it was stored).
_UPRIGHT: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: np.swapaxes(a, 0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1],
    8: lambda a: np.rot90(a, 1),
}


def orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """Turn an (H, W) or (H, W, C) array stored with EXIF ``orientation`` (1-8) upright."""
    return np.ascontiguousarray(_UPRIGHT[orientation](array))


def valid_orientation(value: object) -> TypeGuard[int]:
    """True for the eight EXIF orientation codes."""
    return isinstance(value, int) and value in _UPRIGHT


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] (clipped) -> uint8 in [0, 255], rounded to nearest."""
    return np.round(np.clip(pixels, 0.0, 1.0) * 255.0).astype(np.uint8)


def to_uint16(pixels: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] (clipped) -> uint16 in [0, 65535], rounded to nearest."""
    return np.round(np.clip(pixels, 0.0, 1.0).astype(np.float64) * 65535.0).astype(np.uint16)


def bit_depth(image: Image.Image, data: bytes) -> int:
    """Bits per sample of the source file: 16 for 16-bit PNG/TIFF and 16-bit grey, else 8."""
    if image.mode in FULL_PRECISION_MODES:
        return 16
    if image.format == "PNG":
        return 16 if png.bit_depth(data) == 16 else 8
    if image.format == "TIFF":
        bits = image.tag_v2.get(258, 8)
        return 16 if max(bits if isinstance(bits, tuple) else (bits,)) == 16 else 8
    return 8


def decode_16bit(path: Path, data: bytes, *, from_tiff: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """RGB (and alpha) of a 16-bit colour PNG/TIFF at full precision, still in stored orientation."""
    if from_tiff:
        data = tiff.without_orientation(data)
    samples = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if samples is None or samples.dtype != np.uint16:
        raise BadImage(f"{path}: could not decode its 16-bit samples")
    values = samples.astype(np.float32) / np.float32(65535.0)
    if values.ndim == 2 or values.shape[2] <= 2:
        grey = values if values.ndim == 2 else values[..., 0]
        alpha = values[..., 1] if values.ndim == 3 and values.shape[2] == 2 else None
        return np.repeat(grey[..., None], 3, axis=2), alpha
    alpha = np.ascontiguousarray(values[..., 3]) if values.shape[2] == 4 else None
    return np.ascontiguousarray(values[..., 2::-1]), alpha  # OpenCV gives BGR(A)


def from_pillow(path: Path, image: Image.Image) -> tuple[np.ndarray, np.ndarray | None, bytes | None]:
    """RGB, alpha and the still-valid ICC profile of an image Pillow decoded (8-bit, 16-bit or float grey)."""
    icc = image.info.get("icc_profile") or None
    if image.mode in GREY16_MODES:
        grey = np.clip(np.asarray(image).astype(np.float32) / np.float32(65535.0), 0.0, 1.0)
        return np.repeat(grey[..., None], 3, axis=2), None, _rgb_profile_only(icc)
    if image.mode == "F":  # floating-point grey (TIFF): taken to be in [0, 1] already
        grey = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
        return np.repeat(grey[..., None], 3, axis=2), None, _rgb_profile_only(icc)
    if image.mode == "CMYK":
        return _cmyk_to_rgb(image, icc), None, None
    has_alpha = "A" in image.mode or "a" in image.mode or "transparency" in image.info
    try:
        converted = image.convert("RGBA" if has_alpha else "RGB")
    except ValueError as err:
        raise BadImage(f"{path}: colour mode {image.mode} is not supported ({err})") from None
    values = np.asarray(converted, dtype=np.float32) / np.float32(255.0)
    alpha = np.ascontiguousarray(values[..., 3]) if has_alpha else None
    return np.ascontiguousarray(values[..., :3]), alpha, _rgb_profile_only(icc)


def _rgb_profile_only(icc: bytes | None) -> bytes | None:
    # Bytes 16-19 of an ICC header name its colour space; a grey profile cannot describe RGB output.
    if icc is not None and icc[16:20] != b"RGB ":
        log.info("dropping a %r ICC profile: the pixels are now RGB", icc[16:20])
        return None
    return icc


def _cmyk_to_rgb(image: Image.Image, icc: bytes | None) -> np.ndarray:
    """CMYK -> sRGB through the embedded profile when there is one, else Pillow's naive formula."""
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.createProfile("sRGB")
            image = ImageCms.profileToProfile(image, source, srgb, outputMode="RGB")
        except (OSError, ImageCms.PyCMSError) as err:
            log.warning("CMYK profile unusable (%s); converting without colour management", err)
    return np.asarray(image.convert("RGB"), dtype=np.float32) / np.float32(255.0)
