"""Reading images and label maps: orientation, colour modes, bit depth, metadata, refusals.

Decoding uses Pillow, which validates the whole file and supplies EXIF, the ICC profile and every 8-bit
mode; 16-bit colour PNG/TIFF, which Pillow would squash to 8 bits, take their samples from OpenCV instead.
EXIF orientation is applied here with numpy, the same way for both decoders.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from regionstyle.datatypes import LoadedImage
from regionstyle.errors import BadImage
from regionstyle.io import tiff
from regionstyle.io.inputs import read_input_bytes
from regionstyle.io.pixels import (
    FULL_PRECISION_MODES,
    GREY16_MODES,
    bit_depth,
    decode_16bit,
    from_pillow,
    orient,
    valid_orientation,
)

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
# Pillow names of the formats read_image accepts (multi-picture phone JPEGs open as JPEG, report "MPO").
READ_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "BMP")
_LABEL_MODES = frozenset({"L", "P", "1"}) | GREY16_MODES
_ORIENTATION = 0x0112


def read_image(path: PathLike, *, max_pixels: int = 100_000_000, long_side: int | None = None) -> LoadedImage:
    """Decode a JPEG, PNG, TIFF, WebP or BMP file into float32 RGB in [0, 1], upright.

    Returns pixels (H, W, 3), alpha (H, W) or None, the EXIF block with orientation reset to 1, the
    ICC profile (dropped where it no longer describes the RGB pixels, e.g. a CMYK or grey profile)
    and the source bit depth (16 keeps full precision). Raises BadImage, naming the file, for a
    missing path, a folder, an empty, truncated or non-image file, or one over ``max_pixels``.

    long_side: the caller only needs the photo this large; a JPEG is then decoded at 1/2, 1/4 or 1/8 of its
    size where that keeps its long side at least this long (the decoder scales the DCT: a 12 MP photo for
    a 384 px preview decodes in a tenth of the time). Other formats are decoded whole.
    """
    path = Path(path)
    data = _read_bytes(path)
    with _open(path, data, max_pixels=max_pixels) as image:
        if long_side is not None and image.format == "JPEG":
            scale = max(1, min(8, max(image.size) // long_side))  # draft() picks the scale >= the size asked
            image.draft(image.mode, (-(-image.size[0] // scale), -(-image.size[1] // scale)))
        # Pillow's TIFF loader turns TIFF pixels upright itself and drops the tag: note it before load().
        tiff_tag = image.tag_v2.get(_ORIENTATION, 1) if image.format == "TIFF" else None
        _load(path, image)
        left = _orientation(image.getexif().get(_ORIENTATION, 1))  # the turn Pillow left to us
        stored = left if tiff_tag is None else _orientation(tiff_tag)
        depth = bit_depth(image, data)
        if depth == 16 and image.mode not in FULL_PRECISION_MODES:
            rgb, alpha = decode_16bit(path, data, from_tiff=image.format == "TIFF")  # ignores the tag
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


def _refuse_lossy_labels(path: Path, image: Image.Image) -> None:
    if image.format in ("JPEG", "MPO"):
        raise BadImage(f"{path} is a lossy {image.format}: compression changes class ids at region edges; use PNG")


def _read_bytes(path: Path) -> bytes:
    data = read_input_bytes(path, what="image file", error=BadImage)  # regular files only: no FIFO, no /dev/zero
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
        for tag in tiff.layout_tags() & set(exif):
            del exif[tag]
    if oriented or _ORIENTATION in exif:
        exif[_ORIENTATION] = 1
    return exif.tobytes() if len(exif) else None
