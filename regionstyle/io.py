"""Read and write images faithfully: orientation, colour modes, bit depth, metadata, atomic writes.

Reading decodes with Pillow, which validates the whole file and supplies EXIF, the ICC profile and
every 8-bit mode; 16-bit colour PNG/TIFF, which Pillow would squash to 8 bits, take their samples
from OpenCV instead. EXIF orientation is applied here with numpy, the same way for both decoders.

Writing is atomic (temporary file in the target folder, fsync, ``os.replace``) and refuses to
overwrite any path in ``protect``. What each format keeps:

======  =========  =====  ====  ===  ===============================================
format  bit depth  alpha  EXIF  ICC  notes
======  =========  =====  ====  ===  ===============================================
png     8, 16      yes    yes   yes  16-bit via OpenCV + our own iCCP/eXIf chunks
tiff    8, 16      yes    yes   yes  16-bit written by :mod:`regionstyle._tiff`
jpeg    8          no     yes   yes  alpha composited over white (logged warning)
webp    8          yes    yes   yes  ``quality=100`` means lossless
bmp     8          no     no    no   alpha composited over white; metadata dropped
======  =========  =====  ====  ===  ===============================================
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from regionstyle import _tiff
from regionstyle._encode import (
    ALPHA_FORMATS,
    METADATA_FORMATS,
    SUFFIX_FORMATS,
    check_options,
    checked_pixels,
    encoder,
    output_format,
)
from regionstyle._pixels import (
    FULL_PRECISION_MODES,
    GREY16_MODES,
    bit_depth,
    decode_16bit,
    from_pillow,
    orient,
    to_uint8,
    to_uint16,
    valid_orientation,
)
from regionstyle._safewrite import atomic_write, refuse_protected
from regionstyle.datatypes import LoadedImage
from regionstyle.errors import BadImage, BadInput

__all__ = [
    "SUFFIX_FORMATS", "orient", "read_color_label_map", "read_image", "read_label_map", "to_uint16", "to_uint8",
    "write_image", "write_label_map",
]

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
# Pillow names of the formats read_image accepts (multi-picture phone JPEGs open as JPEG, report "MPO").
READ_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "BMP")
_LABEL_MODES = frozenset({"L", "P", "1"}) | GREY16_MODES
_ORIENTATION = 0x0112


def read_image(path: PathLike, *, max_pixels: int = 100_000_000) -> LoadedImage:
    """Decode a JPEG, PNG, TIFF, WebP or BMP file into float32 RGB in [0, 1], upright.

    Returns pixels (H, W, 3), alpha (H, W) or None, the EXIF block with orientation reset to 1, the
    ICC profile (dropped where it no longer describes the RGB pixels, e.g. a CMYK or grey profile)
    and the source bit depth (16 keeps full precision). Raises BadImage, naming the file, for a
    missing path, a folder, an empty, truncated or non-image file, or one over ``max_pixels``.
    """
    path = Path(path)
    data = _read_bytes(path)
    with _open(path, data, max_pixels=max_pixels) as image:
        # Pillow's TIFF loader turns TIFF pixels upright itself and drops the tag: note it before load().
        tiff_tag = image.tag_v2.get(_ORIENTATION, 1) if image.format == "TIFF" else None
        _load(path, image)
        left = _orientation(image.getexif().get(_ORIENTATION, 1))  # the turn Pillow left to us
        stored = left if tiff_tag is None else _orientation(tiff_tag)
        depth = bit_depth(image, data)
        if depth == 16 and image.mode not in FULL_PRECISION_MODES:
            rgb, alpha = decode_16bit(path, data, tiff=image.format == "TIFF")  # ignores the tag
            icc = image.info.get("icc_profile") or None
            orientation = stored
        else:
            rgb, alpha, icc = from_pillow(path, image)
            orientation = left
        exif = _upright_exif(image, oriented=stored != 1)
    log.debug("read %s: %dx%d, %d-bit, orientation %d", path, rgb.shape[1], rgb.shape[0], depth, orientation)
    return LoadedImage(
        pixels=orient(rgb, orientation),
        alpha=None if alpha is None else orient(alpha, orientation),
        exif=exif,
        icc_profile=icc,
        bit_depth=depth,
        path=path,
    )


def read_label_map(path: PathLike, *, max_pixels: int = 100_000_000) -> np.ndarray:
    """Class ids from an 8/16-bit single-channel or palette image (palette index = id), int32 (H, W).

    Lossless formats only: a JPEG is refused because its compression invents ids along region edges,
    and an RGB map is refused because its colours mean nothing without a legend
    (:func:`read_color_label_map`). EXIF orientation is not applied: label maps carry none.
    """
    path = Path(path)
    with _open(path, _read_bytes(path), max_pixels=max_pixels) as image:
        _load(path, image)
        _refuse_lossy_labels(path, image)
        if image.mode.startswith("RGB"):
            raise BadImage(
                f"{path} is a colour-coded label map (mode {image.mode}): its colours need a legend; "
                f"put a legend beside it ({path.stem}.legend.txt, lines '#RRGGBB class'), or save class ids "
                "as an 8/16-bit greyscale or palette PNG"
            )
        if image.mode not in _LABEL_MODES:
            raise BadImage(f"{path}: a label map must be single-channel greyscale or palette, got mode {image.mode}")
        labels = np.asarray(image).astype(np.int32)
    if labels.size and labels.min() < 0:
        raise BadImage(f"{path}: class ids must be non-negative, found {labels.min()}")
    return labels


def read_color_label_map(
    path: PathLike, legend: Mapping[tuple[int, int, int], int], *, max_pixels: int = 100_000_000
) -> np.ndarray:
    """Class ids, int32 (H, W), from a colour-coded label map and its ``legend`` ((r, g, b) -> id).

    Raises BadImage naming up to five colours of the map that the legend lacks.
    """
    path = Path(path)
    with _open(path, _read_bytes(path), max_pixels=max_pixels) as image:
        _load(path, image)
        _refuse_lossy_labels(path, image)
        rgb = np.asarray(image.convert("RGB")).astype(np.int32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    colours, inverse = np.unique(packed, return_inverse=True)
    ids = {(r << 16) | (g << 8) | b: int(i) for (r, g, b), i in legend.items()}
    missing = [int(c) for c in colours if int(c) not in ids]
    if missing:
        shown = ", ".join(str((c >> 16, (c >> 8) & 255, c & 255)) for c in missing[:5])
        raise BadImage(f"{path}: {len(missing)} colour(s) are not in the legend, e.g. {shown}")
    lookup = np.array([ids[int(c)] for c in colours], dtype=np.int32)
    return lookup[inverse.reshape(packed.shape)]


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


def _refuse_lossy_labels(path: Path, image: Image.Image) -> None:
    if image.format in ("JPEG", "MPO"):
        raise BadImage(f"{path} is a lossy {image.format}: compression changes class ids at region edges; use PNG")


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
    encode = encoder(fmt, rgb, alpha, exif=exif, icc_profile=icc_profile, bit_depth=bit_depth, quality=quality)
    atomic_write(path, encode)
    log.debug("wrote %s (%s, %d-bit)", path, fmt, bit_depth)
    return path


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadImage(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadImage(f"{path} is a folder, not an image file") from None
    except OSError as err:
        raise BadImage(f"cannot read {path}: {err.strerror or err}") from err
    if not data:
        raise BadImage(f"{path} is empty (0 bytes), not an image")
    return data


@contextlib.contextmanager
def _open(path: Path, data: bytes, *, max_pixels: int) -> Iterator[Image.Image]:
    """Open ``data`` with Pillow (header only) and refuse it if it has more than ``max_pixels``."""
    supported = "JPEG, PNG, TIFF, WebP or BMP"
    with warnings.catch_warnings():
        # max_pixels below replaces Pillow's soft limit; its hard limit (DecompressionBombError) stays.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=READ_FORMATS)
        except Image.DecompressionBombError as err:
            raise BadImage(f"{path} refused as a possible decompression bomb: {err}") from None
        except UnidentifiedImageError:
            raise BadImage(f"{path} is not a readable {supported} image") from None
        except (OSError, SyntaxError, ValueError, EOFError) as err:  # the format was known, its header broken
            raise BadImage(f"{path} is truncated or corrupt: {err}") from None
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise BadImage(
                f"{path} has {width}x{height} = {width * height} pixels, more than max_pixels={max_pixels}: "
                "refused as a possible decompression bomb (downscale it or raise max_pixels)"
            )
        yield image


def _load(path: Path, image: Image.Image) -> None:
    """Decode every pixel now, so that a truncated or corrupt file fails here and not later."""
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise BadImage(f"{path} is truncated or corrupt: {err}") from None


def _orientation(value: object) -> int:
    """An EXIF orientation tag's value as a code 1-8; 1 (upright) when it is invalid."""
    if not valid_orientation(value):
        log.warning("ignoring invalid EXIF orientation %r", value)
        return 1
    return value


def _upright_exif(image: Image.Image, *, oriented: bool) -> bytes | None:
    """The EXIF block with orientation 1 (set whenever the file had a turn to undo), or None."""
    exif = image.getexif()
    if image.format == "TIFF":  # a TIFF's first IFD doubles as its EXIF; keep only photo tags
        for tag in _tiff.layout_tags() & set(exif):
            del exif[tag]
    if oriented or _ORIENTATION in exif:
        exif[_ORIENTATION] = 1
    return exif.tobytes() if len(exif) else None
