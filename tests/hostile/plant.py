"""Generators of hostile inputs: each returns a ``setup(ws)`` that plants one in the workspace.

Everything is made at test time from a few bytes or a seeded random array; nothing is checked in.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

Setup = Callable[[Path], object]


def steps(*setups: Setup) -> Setup:
    """Several setups in order."""
    def run(ws: Path) -> None:
        for setup in setups:
            setup(ws)
    return run


def data(name: str, content: bytes | str) -> Setup:
    """A file holding ``content`` (text is written as UTF-8)."""
    def run(ws: Path) -> None:
        path = ws / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return run


def rules(name: str, text: str) -> Setup:
    return data(name, text)


def fifo(name: str) -> Setup:
    def run(ws: Path) -> None:
        os.mkfifo(ws / name)
    return run


def link(name: str, target: str) -> Setup:
    """A symbolic link ``name`` -> ``target`` (relative to the workspace, or absolute)."""
    def run(ws: Path) -> None:
        os.symlink(target, ws / name)
    return run


def hard_link(name: str, target: str) -> Setup:
    def run(ws: Path) -> None:
        os.link(ws / target, ws / name)
    return run


def folder(name: str) -> Setup:
    def run(ws: Path) -> None:
        (ws / name).mkdir(parents=True)
    return run


def noise(name: str, height: int, width: int, *, mode: str = "RGB", seed: int = 1, **save: object) -> Setup:
    """A random image of the given size and mode, saved by suffix."""
    def run(ws: Path) -> None:
        rng = np.random.default_rng(seed)
        channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
        array = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
        image = Image.fromarray(array[..., 0] if channels == 1 else array, mode)
        image.save(ws / name, **save)
    return run


def label_map(name: str, height: int, width: int, *, value: int = 3, mode: str = "L", fmt: str | None = None) -> Setup:
    def run(ws: Path) -> None:
        array = np.full((height, width), value, np.uint16 if mode == "I;16" else np.uint8)
        Image.fromarray(array).save(ws / name, format=fmt)
    return run


def truncated(name: str, fmt: str, *, keep: float = 0.5) -> Setup:
    """A 64x48 noise image in ``fmt`` cut to ``keep`` of its bytes."""
    def run(ws: Path) -> None:
        buffer = io.BytesIO()
        Image.fromarray(np.random.default_rng(2).integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(buffer, fmt)
        blob = buffer.getvalue()
        (ws / name).write_bytes(blob[: int(len(blob) * keep)])
    return run


def png_claiming(name: str, width: int, height: int) -> Setup:
    """A tiny PNG whose header claims ``width`` x ``height`` (a decompression bomb's first line)."""
    def run(ws: Path) -> None:
        (ws / name).write_bytes(_png_with_header(width, height))
    return run


def _png_with_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def png_text_bomb(name: str) -> Setup:
    """A valid 8x8 PNG carrying a zTXt chunk that inflates to 64 MB of text."""
    def run(ws: Path) -> None:
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buffer, "PNG")
        blob = buffer.getvalue()
        body = b"Comment\x00\x00" + zlib.compress(b"A" * (64 << 20), 9)
        text = struct.pack(">I", len(body)) + b"zTXt" + body + struct.pack(">I", zlib.crc32(b"zTXt" + body))
        (ws / name).write_bytes(blob[:33] + text + blob[33:])  # after the 8-byte signature and IHDR
    return run


def corrupt_crc(name: str) -> Setup:
    """A PNG whose image data chunk has its bytes flipped (its CRC no longer matches)."""
    def run(ws: Path) -> None:
        buffer = io.BytesIO()
        Image.fromarray(np.random.default_rng(3).integers(0, 256, (32, 48, 3), dtype=np.uint8)).save(buffer, "PNG")
        blob = bytearray(buffer.getvalue())
        start = blob.index(b"IDAT") + 4
        for offset in range(start + 10, start + 40):
            blob[offset] ^= 0xFF
        (ws / name).write_bytes(bytes(blob))
    return run


def chmod(name: str, mode: int) -> Setup:
    def run(ws: Path) -> None:
        os.chmod(ws / name, mode)
    return run
