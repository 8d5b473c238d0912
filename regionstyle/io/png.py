"""Just enough PNG chunk handling to keep metadata in 16-bit PNGs.

Pillow cannot write 16-bit RGB(A) PNGs, so :mod:`regionstyle.io` encodes those with OpenCV, which
writes no metadata. This module reads the bit depth from the header and splices ``iCCP`` (colour
profile) and ``eXIf`` (camera metadata) chunks in after ``IHDR``, where the PNG specification wants
them (both must come before the image data).
"""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# IHDR always comes first: signature (8) + length (4) + type (4) + 13 data bytes + CRC (4).
_IHDR_END = 8 + 4 + 4 + 13 + 4
_EXIF_PREFIX = b"Exif\x00\x00"  # JPEG's APP1 prefix, which Pillow keeps but the eXIf chunk must not have


def bit_depth(data: bytes) -> int | None:
    """Bits per sample declared in a PNG's IHDR (1, 2, 4, 8 or 16), or None if ``data`` is no PNG."""
    if len(data) < _IHDR_END or not data.startswith(SIGNATURE) or data[12:16] != b"IHDR":
        return None
    return data[24]


def chunk(kind: bytes, payload: bytes) -> bytes:
    """One PNG chunk: length, 4-letter type, payload and the CRC-32 of type + payload."""
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _chunk_types_before_data(png: bytes) -> list[bytes]:
    """Types of the chunks that precede the first IDAT (colour chunks may only appear there)."""
    kinds, pos = [], 8
    while pos + 8 <= len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        if kind == b"IDAT":
            break
        kinds.append(kind)
        pos += 12 + length
    return kinds


def add_metadata(png: bytes, *, exif: bytes | None = None, icc_profile: bytes | None = None) -> bytes:
    """Return ``png`` with an ``iCCP`` and/or ``eXIf`` chunk inserted right after ``IHDR``.

    exif: a TIFF-structured EXIF block, with or without the ``Exif\\0\\0`` prefix Pillow uses.
    icc_profile: raw ICC profile bytes; stored zlib-compressed under the name "ICC profile".
    Raises ValueError if ``png`` does not start with a PNG signature and IHDR, or already carries
    a colour chunk (a second one would contradict the first).
    """
    if bit_depth(png) is None:
        raise ValueError("not a PNG stream (no signature + IHDR)")
    extra = b""
    if icc_profile:
        if {b"iCCP", b"sRGB"} & set(_chunk_types_before_data(png)):
            raise ValueError("PNG already has a colour profile chunk")
        extra += chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc_profile))
    if exif:
        payload = exif[len(_EXIF_PREFIX):] if exif.startswith(_EXIF_PREFIX) else exif
        extra += chunk(b"eXIf", payload)
    return png[:_IHDR_END] + extra + png[_IHDR_END:]
