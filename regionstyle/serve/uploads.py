"""Uploads for ``regionstyle serve``: size limits checked before reading, files saved, images decoded to check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request

from regionstyle.errors import RegionStyleError
from regionstyle.serve.app import ServerState


class UserError(Exception):
    """A request the page should explain to the person: ``status`` and one clear message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def read_form(request: Request, state: ServerState) -> Any:
    """The multipart form, refused before it is read when it is larger than the upload limit."""
    limit = state.settings.max_upload_bytes
    length = request.headers.get("content-length")
    if length is None:
        raise UserError("uploads need a Content-Length header", 411)
    if not length.isdigit() or int(length) > limit:
        size = human(int(length)) if length.isdigit() else repr(length)
        raise UserError(f"file too large: {size}; the limit is {human(limit)} (regionstyle serve --max-upload-mb)",
                        413)
    return await request.form(max_files=2, max_fields=10)


async def save_upload(upload: Any, state: ServerState, *, what: str) -> Path:
    if upload is None or isinstance(upload, str) or not getattr(upload, "filename", None):
        raise UserError(f"no {what} file in the upload")
    path = state.upload_path(upload.filename)
    data = await upload.read()
    if len(data) > state.settings.max_upload_bytes:
        raise UserError(f"file too large: the limit is {human(state.settings.max_upload_bytes)}", 413)
    if not data:
        raise UserError(f"the {what} file {upload.filename} is empty")
    path.write_bytes(data)
    return path


def check_image(path: Path, state: ServerState) -> None:
    from regionstyle import io

    try:
        io.read_image(path, max_pixels=state.settings.max_pixels)
    except RegionStyleError:
        path.unlink(missing_ok=True)
        raise


def human(size: int) -> str:
    """Bytes in words: 10 kB, 0.5 MB, 40 MB."""
    if size < 100_000:
        return f"{size / 1000:.3g} kB"
    return f"{size / 1e6:.2g} MB" if size < 10e6 else f"{size / 1e6:.0f} MB"
