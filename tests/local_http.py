"""A real HTTP server on 127.0.0.1 for download tests, never the internet.

It serves byte strings at paths, records every request it receives, and misbehaves on demand:

- ``normal``: honours ``Range: bytes=N-`` (206 with Content-Range; 416 past the end);
- ``ignore_range``: always answers 200 with the whole file;
- ``cut``: sends the headers of the full answer, then only ``cut_after`` bytes, then closes the connection;
- ``wrong_bytes``: serves the file with every byte inverted (same length, different hash);
- ``slow``: sends the body in 8 pieces, 50 ms apart (to make two downloads overlap);
- ``hang``: sends the headers, then nothing until the server stops (or 5 s pass).

A test switches mode between two requests by assigning ``server.mode``, or sets ``server.then`` to the mode
that follows the next GET (a transfer cut once, then served normally to a client that retries by itself).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("normal", "ignore_range", "cut", "wrong_bytes", "slow", "hang")
HANG_LIMIT_S = 5.0  # a hanging answer ends by itself, so a forgotten server never blocks a test run


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Resource:
    """What the server answers at one path: a body with extra headers, or a redirect (status 3xx)."""

    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200


class LocalServer:
    """A ``ThreadingHTTPServer`` on 127.0.0.1 (a free port) in a daemon thread; use :func:`local_server`."""

    def __init__(self) -> None:
        self.files: dict[str, Resource] = {}
        self.requests: list[Seen] = []
        self.mode = "normal"
        self.then: str | None = None
        self.cut_after = 0
        self.release = threading.Event()  # set on stop: hanging answers return at once
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.owner = self

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def serve(self, path: str, body: bytes, *, headers: dict[str, str] | None = None, status: int = 200) -> str:
        """Serve ``body`` at ``path`` (which starts with /); returns its URL."""
        self.files[path] = Resource(body, dict(headers or {}), status)
        return self.root + path

    def gets(self, path: str | None = None) -> list[Seen]:
        return [seen for seen in self.requests if seen.method == "GET" and path in (None, seen.path)]


@contextmanager
def local_server() -> Iterator[LocalServer]:
    """A running :class:`LocalServer`, stopped (and its hanging answers released) on exit."""
    server = LocalServer()
    thread = threading.Thread(target=server.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join(timeout=2)


@contextmanager
def refused_url(path: str = "/file.bin") -> Iterator[str]:
    """A URL on 127.0.0.1 where nothing listens: connecting is refused at once ("no network").

    The port stays bound (but not listening) while the context lasts, so no other process can take it.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}{path}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LocalServer

    def handle_error(self, request, client_address) -> None:
        pass  # a client hanging up mid-answer (timeouts, cut tests) is expected here, not worth a traceback


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format, *args) -> None:  # noqa: A002 (the base class's name)
        pass

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def _answer(self, *, with_body: bool) -> None:
        owner = self.server.owner
        owner.requests.append(Seen(self.command, self.path, dict(self.headers.items())))
        resource = owner.files.get(self.path)
        if resource is None:
            self.send_error(404)
            return
        if 300 <= resource.status < 400:
            self._head(resource.status, 0, resource.headers)
            return
        data = bytes(b ^ 0xFF for b in resource.body) if owner.mode == "wrong_bytes" else resource.body
        start = self._range_start()
        if start is not None and start >= len(data):
            self._head(416, 0, {"Content-Range": f"bytes */{len(data)}"})
            return
        if start is None:
            self._head(200, len(data), resource.headers)
        else:
            self._head(206, len(data) - start,
                       {**resource.headers, "Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})
        if with_body:
            self._body(data[start or 0:], owner)

    def _range_start(self) -> int | None:
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        return int(match.group(1)) if match and self.server.owner.mode != "ignore_range" else None

    def _head(self, status: int, length: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _body(self, data: bytes, owner: LocalServer) -> None:
        if owner.mode == "hang":
            self.wfile.flush()
            owner.release.wait(HANG_LIMIT_S)
        elif owner.mode == "cut":
            self.wfile.write(data[:owner.cut_after])
            self.close_connection = True
        elif owner.mode == "slow":
            step = -(-len(data) // 8)
            for offset in range(0, len(data), step):
                self.wfile.write(data[offset:offset + step])
                self.wfile.flush()
                time.sleep(0.05)
        else:
            self.wfile.write(data)
        if owner.then is not None:
            owner.mode, owner.then = owner.then, None
