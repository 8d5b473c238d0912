"""Writing images and label maps, atomically, never over a protected path.

What each format keeps:

======  =========  =====  ====  ===  ===============================================
format  bit depth  alpha  EXIF  ICC  notes
======  =========  =====  ====  ===  ===============================================
png     8, 16      yes    yes   yes  16-bit via OpenCV + our own iCCP/eXIf chunks
tiff    8, 16      yes    yes   yes  16-bit written by :mod:`regionstyle.io.tiff`
jpeg    8          no     yes   yes  alpha composited over white (logged warning)
webp    8          yes    yes   yes  ``quality=100`` means lossless
bmp     8          no     no    no   alpha composited over white; metadata dropped
======  =========  =====  ====  ===  ===============================================
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

from regionstyle.errors import BadInput
from regionstyle.io.atomic import atomic_write, refuse_protected
from regionstyle.io.encode import (
    ALPHA_FORMATS,
    METADATA_FORMATS,
    check_options,
    checked_pixels,
    image_writer,
    output_format,
)

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]


def write_label_map(path: PathLike, labels: np.ndarray, *, protect: Iterable[PathLike] = ()) -> Path:
    """Write class ids (H, W), integers in 0..65535, as a single-channel PNG or TIFF, atomically.

    8-bit when every id fits in 0..255, else 16-bit; :func:`read_label_map` reads it back exactly.
    Raises BadInput for a lossy or unknown suffix or a protected path, ValueError for bad ids.
    """
    path = Path(path)
    fmt = output_format(path, None)
    if fmt not in ("png", "tiff"):
        raise BadInput(f"cannot write the label map {path} as {fmt.upper()}: use .png or .tif (lossless)")
    ids = np.asarray(labels)
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"labels: expected integer class ids of shape (H, W), got {ids.dtype} {ids.shape}")
    if ids.size and (ids.min() < 0 or ids.max() > 65535):
        raise ValueError(f"labels: ids must be in 0..65535, got {ids.min()}..{ids.max()}")
    image = Image.fromarray(ids.astype(np.uint8 if ids.size == 0 or ids.max() <= 255 else np.uint16))
    refuse_protected(path, protect)
    atomic_write(path, lambda handle: image.save(handle, format=fmt.upper()))
    return path




def write_image(
    path: PathLike,
    pixels: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    exif: bytes | None = None,
    icc_profile: bytes | None = None,
    bit_depth: int = 8,
    quality: int = 95,
    format: str | None = None,
    protect: Iterable[PathLike] = (),
) -> Path:
    """Write float RGB (H, W, 3) in [0, 1] (clipped) atomically and return the path written.

    format: "png", "jpeg", "tiff", "webp" or "bmp"; by default taken from the suffix.
    bit_depth: 8, or 16 for PNG and TIFF. quality: 1-100 for JPEG and WebP (WebP 100 = lossless).
    alpha: float (H, W) in [0, 1]; composited over white for formats without transparency.
    protect: paths that must never be overwritten (the inputs); hitting one raises BadInput.
    A missing parent folder is created. Raises BadInput for bad options or an unwritable path,
    ValueError for arrays of the wrong shape or with NaN/inf.
    """
    path = Path(path)
    fmt = output_format(path, format)
    check_options(fmt, bit_depth=bit_depth, quality=quality)
    rgb, alpha = checked_pixels(pixels, alpha)
    refuse_protected(path, protect)
    if alpha is not None and fmt not in ALPHA_FORMATS:
        log.warning("%s holds no transparency: compositing %s over white", fmt.upper(), path)
        rgb, alpha = rgb * alpha[..., None] + (1.0 - alpha[..., None]), None
    if fmt not in METADATA_FORMATS and (exif or icc_profile):
        log.warning("%s keeps no EXIF or ICC profile: %s is written without them", fmt.upper(), path)
        exif = icc_profile = None
    encode = image_writer(fmt, rgb, alpha, exif=exif, icc_profile=icc_profile, bit_depth=bit_depth, quality=quality)
    atomic_write(path, encode)
    log.debug("wrote %s (%s, %d-bit)", path, fmt, bit_depth)
    return path


