"""A small writer for 16-bit RGB(A) TIFFs that keeps EXIF and the ICC profile.

Pillow has no 16-bit RGB mode and OpenCV's TIFF encoder writes no metadata (and no ExtraSamples tag,
so other readers cannot tell its fourth channel is alpha). A baseline TIFF is simple enough to write
directly: one uncompressed strip of little-endian samples, described by one IFD that Pillow's
``ImageFileDirectory_v2`` serialises (it also writes the EXIF and GPS sub-IFDs).
"""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image, TiffTags
from PIL.TiffImagePlugin import ImageFileDirectory_v2

_HEADER = b"II*\x00" + (8).to_bytes(4, "little")  # little-endian TIFF, first IFD right after
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_STRIP_OFFSETS = 273
_ORIENTATION = 274
# Tags that describe an image's layout: taken from the pixels written, never from the caller's EXIF.
_LAYOUT_TAGS = frozenset({
    254, 255, 256, 257, 258, 259, 262, 273, 277, 278, 279, 284, 292, 293, 317, 320, 322, 323, 324, 325,
    338, 339, 340, 341, 530, 531, 532, 34675,
})


def layout_tags() -> frozenset[int]:
    """TIFF tag ids that describe pixel layout (dimensions, strips, samples ...), not the photo."""
    return _LAYOUT_TAGS


def encode_rgb16(samples: np.ndarray, *, exif: bytes | None = None, icc_profile: bytes | None = None) -> bytes:
    """Encode uint16 (H, W, 3) RGB or (H, W, 4) RGBA samples as a baseline TIFF.

    The fourth channel, when present, is marked as unassociated (straight) alpha. ``exif`` is a
    TIFF-structured EXIF block (as from ``PIL.Image.Exif.tobytes()``); its photo tags go into the IFD,
    its EXIF and GPS sub-IFDs are kept, and its layout tags are ignored.
    """
    height, width, channels = samples.shape
    data = np.ascontiguousarray(samples, dtype="<u2").tobytes()
    ifd = ImageFileDirectory_v2(prefix=b"II")
    if exif:
        _copy_exif(ifd, exif)
    layout: dict[int, object] = {
        256: width, 257: height, 258: (16,) * channels, 259: 1, 262: 2, 277: channels,
        278: height, 279: len(data), 284: 1, _STRIP_OFFSETS: 0,
    }
    for tag, value in layout.items():
        ifd[tag] = value
        ifd.tagtype[tag] = TiffTags.SHORT if tag in (258, 259, 262, 277, 284) else TiffTags.LONG
    if channels == 4:
        ifd[338] = 2
        ifd.tagtype[338] = TiffTags.SHORT
    if icc_profile:
        ifd[34675] = icc_profile
        ifd.tagtype[34675] = TiffTags.UNDEFINED
    # Pillow moves a zero strip offset to just past the IFD and its out-of-line data; check it did.
    head = _HEADER + ifd.tobytes(len(_HEADER))
    if Image.open(io.BytesIO(head + data)).tag_v2[_STRIP_OFFSETS] not in (len(head), (len(head),)):
        raise RuntimeError("Pillow placed the TIFF strip offset unexpectedly; cannot write 16-bit TIFF")
    return head + data


def _copy_exif(ifd: ImageFileDirectory_v2, exif: bytes) -> None:
    """Copy photo tags and the EXIF/GPS sub-IFDs of ``exif`` into ``ifd``."""
    parsed = Image.Exif()
    parsed.load(exif)
    for tag, value in parsed.items():
        if tag not in _LAYOUT_TAGS and tag not in (_EXIF_IFD, _GPS_IFD):
            ifd[tag] = value
    for tag in (_EXIF_IFD, _GPS_IFD):
        sub = parsed.get_ifd(tag)
        if sub:
            ifd[tag] = dict(sub)
            ifd.tagtype[tag] = TiffTags.LONG


def without_orientation(data: bytes) -> bytes:
    """Return a TIFF byte stream whose first IFD says orientation 1 (upright as stored).

    OpenCV's TIFF decoder rotates by the orientation tag even when asked not to, while regionstyle
    applies orientation itself for every format; neutralising the tag keeps the two from compounding.
    Handles classic and BigTIFF, either byte order; returns ``data`` unchanged if it has no such tag.
    """
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or len(data) < 16:
        return data
    big = struct.unpack(order + "H", data[2:4])[0] == 43
    count_fmt, entry_size = ("Q", 20) if big else ("H", 12)
    try:
        (ifd,) = struct.unpack(order + ("Q" if big else "I"), data[8:16] if big else data[4:8])
        (entries,) = struct.unpack_from(order + count_fmt, data, ifd)
        start = ifd + struct.calcsize(count_fmt)
        for index in range(entries):
            pos = start + index * entry_size
            tag, kind = struct.unpack_from(order + "HH", data, pos)
            if tag == _ORIENTATION and kind == TiffTags.SHORT:
                value_at = pos + (12 if big else 8)
                return data[:value_at] + struct.pack(order + "H", 1) + data[value_at + 2 :]
    except struct.error:  # a malformed IFD: leave it to the decoder to complain
        pass
    return data
