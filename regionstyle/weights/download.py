"""Download one file over HTTP(S) into a cache: resumable, hash-checked, atomic, safe to run twice at once.

Why not ``torch.hub.download_url_to_file``: it writes to a random temporary name and deletes it on any
failure, so a 548 MB VGG19 cut off at 90% starts again from zero. Here the bytes received so far stay in
``<file>.partial`` and the next call asks only for the rest (an HTTP Range request).

Two downloads of the same file (two processes, or two threads) take turns on an OS lock of ``<file>.lock``
(``flock`` / ``msvcrt.locking``): the second waits, then finds the finished file and returns it. A fixed
partial name is what makes resuming across runs possible, and the lock is what makes a fixed name safe;
unique temporary names (huggingface_hub's choice) are safe without a lock but can never resume. The OS drops
the lock when its holder dies, so a crash leaves a resumable partial file, never a stale lock.

The library never prints: progress goes to a callback ``(bytes_done, bytes_total or None)``.
Downloads are refused when ``REGIONSTYLE_OFFLINE`` is set (read at every call, never at import).
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from regionstyle.errors import WeightsUnavailable
from regionstyle.weights.cache import env_flag

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int | None], None]

OFFLINE_VARIABLE = "REGIONSTYLE_OFFLINE"
CHUNK_BYTES = 1 << 16
# A stall limit, not a total one: it bounds the connect and every single read, so a slow but live
# transfer of a large checkpoint is never cut, while a dead server fails within this many seconds.
DEFAULT_TIMEOUT_S = 30.0
# Everything that means "the network let us down" (URLError covers refused connections, DNS failures and
# connect timeouts; TimeoutError a stalled read; HTTPException a garbled or truncated answer).
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError)
# torch.hub's rule for the sha256 prefix in a file name (vgg19-dcbb9e9d.pth -> dcbb9e9d), kept identical.
_HASH_IN_NAME = re.compile(r"-([a-f0-9]*)\.")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-\d+/(\d+|\*)")  # "bytes 100-299/300"; the total may be "*"


def downloads_allowed(*, hugging_face: bool = False) -> bool:
    """Whether a download may start now: not when ``REGIONSTYLE_OFFLINE`` is true (1, true, yes, on).

    ``hugging_face=True`` also honours ``HF_HUB_OFFLINE``: huggingface_hub reads it once at import, so a
    value set later would otherwise be ignored by the client yet still expected by the user.
    """
    names = [OFFLINE_VARIABLE, "HF_HUB_OFFLINE"] if hugging_face else [OFFLINE_VARIABLE]
    return not any(env_flag(name) for name in names)


def hash_prefix_in_name(file_name: str) -> str | None:
    """The leading sha256 hex digits torchvision puts in a checkpoint's name, or None when there are none."""
    match = _HASH_IN_NAME.search(file_name)
    return match.group(1) if match and match.group(1) else None


def torch_hub_destination(url: str) -> Path:
    """Where ``torch.hub.load_state_dict_from_url(url)`` caches ``url``: ``<hub dir>/checkpoints/<name>``.

    Downloading there means torchvision (``vgg19(weights=...)``) and regionstyle find each other's files.
    ``torch.hub.get_dir()`` honours ``TORCH_HOME`` when called, not when imported.
    """
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(url).path)


def download_file(url: str, destination: str | Path, *, sha256: str | None = None,
                  hash_prefix: str | None = None, on_progress: ProgressCallback | None = None,
                  timeout: float = DEFAULT_TIMEOUT_S) -> Path:
    """Fetch ``url`` into ``destination`` unless it is already there; return ``destination``.

    sha256 / hash_prefix: the file's full sha256, or its leading hex digits (torchvision's names carry
        them, see :func:`hash_prefix_in_name`); a mismatch deletes the bytes and raises.
    on_progress: called with ``(bytes_done, bytes_total or None)`` after each block, rising monotonically;
        bytes_done starts at the bytes kept from an earlier attempt (0 when the server cannot resume).
    timeout: seconds the connect or any single read may stall.
    Raises :class:`WeightsUnavailable` when downloads are turned off, the network fails (the partial file
    is kept for the next call) or the hash does not match (nothing is kept).
    """
    destination = Path(destination)
    expected = _expected_hashes(sha256, hash_prefix)
    if destination.is_file():  # a cache hit needs neither the network nor the lock, offline or not
        return destination
    if not downloads_allowed():
        raise WeightsUnavailable(
            f"not downloading {url}: downloads are turned off ({OFFLINE_VARIABLE} is set). Unset "
            f"{OFFLINE_VARIABLE} to allow it, or copy that file to {destination} yourself.")
    partial = destination.with_name(destination.name + ".partial")
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        with _locked(destination.with_name(destination.name + ".lock"), waiting_for=destination):
            if destination.is_file():  # a twin download finished while we waited for the lock
                return destination
            log.info("downloading %s to %s", url, destination)
            _transfer(url, partial, timeout=timeout, on_progress=on_progress)
            _verify(partial, expected, url=url)
            os.replace(partial, destination)  # atomic: readers see no file or the whole, checked file
    except _NETWORK_ERRORS as exc:  # (these are OSErrors too: caught first)
        raise WeightsUnavailable(_network_message(url, destination, partial, exc)) from exc
    except OSError as exc:  # disk full, read-only or not a folder: the cache's fault, not the network's
        raise WeightsUnavailable(
            f"could not write {exc.filename or destination} while downloading {url} ({exc.strerror or exc}). "
            f"Ways out: free some space or make the cache folder {destination.parent} writable (or point "
            f"the cache elsewhere); bytes already received are kept and the next attempt resumes.") from exc
    return destination


def check_reachable(url: str, *, timeout: float = 10.0) -> None:
    """Raise :class:`WeightsUnavailable` at once when the server of ``url`` cannot be reached.

    For clients that retry on their own before giving up: huggingface_hub 2.4 spends about 23 s in five
    retries on a refused connection. One HEAD request; any HTTP answer, even an error status or a redirect
    (not followed), shows the network works.
    """
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "regionstyle"})
    try:
        urllib.request.build_opener(_NoRedirect).open(request, timeout=timeout).close()
    except urllib.error.HTTPError:
        return
    except _NETWORK_ERRORS as exc:
        raise WeightsUnavailable(f"cannot reach {url} ({_failure(exc)}). Ways out: check the network and run "
                                 f"again; or set {OFFLINE_VARIABLE}=1 to stop trying.") from exc


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib would follow a HEAD's redirect with a GET: a whole checkpoint for a probe


def _expected_hashes(sha256: str | None, hash_prefix: str | None) -> list[str]:
    hashes = [value.lower() for value in (sha256, hash_prefix) if value]
    if any(not re.fullmatch(r"[0-9a-f]{1,64}", value) for value in hashes) or (sha256 and len(sha256) != 64):
        raise ValueError(f"expected a 64-digit hex sha256 and/or a hex prefix; got {sha256!r}, {hash_prefix!r}")
    return hashes


def _transfer(url: str, partial: Path, *, timeout: float, on_progress: ProgressCallback | None) -> None:
    """Append the bytes ``partial`` lacks, or rewrite it whole when the server cannot resume."""
    offset = partial.stat().st_size if partial.is_file() else 0
    try:
        response = _open(url, offset, timeout)
    except urllib.error.HTTPError as exc:
        if exc.code != 416 or offset == 0:
            raise
        exc.close()
        # 416: the server has nothing from `offset` on, so the partial file is complete or belongs to another
        # version of the file. Telling which costs as much as fetching again: start over.
        log.info("server refused to resume %s at byte %d (416); starting over", url, offset)
        offset = 0
        response = _open(url, 0, timeout)
    with response:
        if offset and response.status != 206:
            log.info("server ignored the Range request for %s; starting over", url)
            offset = 0
        elif offset and _range_start(response) != offset:
            partial.unlink()  # so that the next attempt starts clean instead of failing the same way
            raise http.client.HTTPException(f"asked for bytes from {offset}, got Content-Range "
                                            f"{response.headers.get('Content-Range')!r}")
        total = _total_bytes(response, offset)
        done = offset
        with partial.open("ab" if offset else "wb") as out:
            _report(on_progress, done, total)
            while chunk := response.read(CHUNK_BYTES):
                out.write(chunk)
                done += len(chunk)
                _report(on_progress, done, total)
    if total is not None and done < total:
        # http.client reports a connection closed early as a plain end of file: count the bytes ourselves.
        raise ConnectionError(f"connection closed after {done} of {total} bytes")


def _open(url: str, offset: int, timeout: float) -> http.client.HTTPResponse:
    # identity: a compressed body would make byte offsets and Content-Length refer to different things.
    headers = {"Accept-Encoding": "identity", "User-Agent": "regionstyle"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)


def _range_start(response: http.client.HTTPResponse) -> int | None:
    match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
    return int(match.group(1)) if match else None


def _total_bytes(response: http.client.HTTPResponse, offset: int) -> int | None:
    """The whole file's size: from ``Content-Range`` on a 206, else ``offset`` + ``Content-Length``;
    None when the server does not say."""
    match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
    if response.status == 206 and match and match.group(2) != "*":
        return int(match.group(2))
    length = response.headers.get("Content-Length", "")
    return offset + int(length) if length.isdigit() else None


def _report(on_progress: ProgressCallback | None, done: int, total: int | None) -> None:
    if on_progress is not None:
        on_progress(done, total)


def _verify(path: Path, expected: list[str], *, url: str) -> None:
    """Check the sha256 of ``path``; a mismatch deletes it (resuming on bad bytes would only repeat them)."""
    if not expected:
        return
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    got = digest.hexdigest()
    wrong = [value for value in expected if not got.startswith(value)]
    if wrong:
        path.unlink()
        raise WeightsUnavailable(
            f"the file downloaded from {url} failed its hash check (expected sha256 {wrong[0]}"
            f"{'' if len(wrong[0]) == 64 else '...'}, got {got}) and was deleted. The transfer was corrupted "
            f"or the server holds another file; run again to fetch it afresh.")


def _network_message(url: str, destination: Path, partial: Path, exc: BaseException) -> str:
    kept = partial.stat().st_size if partial.is_file() else 0
    resume = f"; {kept} bytes are kept in {partial} and the next attempt resumes from there" if kept else ""
    return (f"could not download {url} to {destination} ({_failure(exc)}){resume}. Ways out: "
            f"check the network and run again; or fetch that URL on another machine and copy the file to "
            f"{destination}; or set {OFFLINE_VARIABLE}=1 to stop trying.")


def _failure(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"the server answered HTTP {exc.code} {exc.reason}"
    # URLError hides the socket error (refused, timed out, name unknown) in .reason
    return f"{type(exc).__name__}: {getattr(exc, 'reason', None) or exc}"


@contextmanager
def _locked(lock_file: Path, *, waiting_for: Path) -> Iterator[None]:
    """Hold an exclusive OS lock on ``lock_file``. The file itself is left in place: unlinking a lock file
    lets a third process lock a fresh inode while the second still holds the old one."""
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd):
            log.info("waiting for another download of %s to finish", waiting_for)
            _lock(fd)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


try:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

except ImportError:  # Windows: lock the first byte of the (empty) lock file
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _lock(fd: int) -> None:
        while True:  # LK_LOCK gives up after about 10 s; a download can take far longer
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError:
                continue

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
