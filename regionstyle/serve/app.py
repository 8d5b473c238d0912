"""The Starlette application of ``regionstyle serve``: its settings, its one-user state, and its routes.

One process serves one person on 127.0.0.1: the state (the photo being edited, uploaded paintings, the
render jobs) lives in memory, and ONE :class:`~regionstyle.session.Session` keeps the encoder, the
segmenter and style targets loaded between renders. Renders run on one worker thread
(:mod:`~regionstyle.serve.jobs`); the handlers only read its state.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regionstyle.serve.jobs import JobRunner
from regionstyle.serve.render import RenderSettings

STATIC = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class ServeSettings:
    """What the server accepts and how it renders.

    workdir: where uploads and renders are kept (None = a new temporary folder).
    labels_dir: a folder of label maps, ``<photo stem>.png``, looked up for every photo opened.
    base_rules: a rules file whose [segmentation] is used and whose rules give the page its first choices.
    max_upload_bytes: larger uploads are refused (413); max_pixels: larger images are refused (400).
    """

    render: RenderSettings = RenderSettings()
    workdir: Path | None = None
    labels_dir: Path | None = None
    base_rules: Path | None = None
    max_upload_bytes: int = 40 * 1024 * 1024
    max_pixels: int = 50_000_000


@dataclass
class ServerState:
    """Everything one server instance holds; one per app (tests build several)."""

    settings: ServeSettings
    session: Any
    workdir: Path
    base_rules: Any
    runner: JobRunner = field(default_factory=JobRunner)
    lock: threading.Lock = field(default_factory=threading.Lock)
    photo: Any = None  # regionstyle.serve.work.Photo
    paintings: dict[str, Path] = field(default_factory=dict)
    uploads: int = 0

    def upload_path(self, name: str) -> Path:
        """A fresh path under workdir/uploads for a file the browser called ``name``."""
        self.uploads += 1
        stem, suffix = Path(name).stem, Path(name).suffix.lower()
        folder = self.workdir / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{self.uploads:03d}_{_safe_stem(stem)[:60]}{suffix if suffix.isascii() else ''}"


def _safe_stem(name: str) -> str:
    """Letters, digits, '.', '-' and '_' only: a browser's file name is not trusted as a path."""
    return re.sub(r"[^\w.-]+", "_", name, flags=re.ASCII).strip("._") or "upload"


def create_app(settings: ServeSettings | None = None, *, session: Any = None) -> Any:
    """The Starlette app. ``session``: a :class:`~regionstyle.session.Session` to use (tests inject a tiny
    encoder through ``Session(custom_encoder=...)``); a new one when None."""
    from starlette.applications import Starlette
    from starlette.staticfiles import StaticFiles

    from regionstyle.rules import load_ruleset
    from regionstyle.serve import routes
    from regionstyle.session import Session

    settings = settings or ServeSettings()
    workdir = Path(settings.workdir) if settings.workdir else Path(tempfile.mkdtemp(prefix="regionstyle-serve-"))
    workdir.mkdir(parents=True, exist_ok=True)
    base = load_ruleset(settings.base_rules or "[segmentation]\nclasses = 'ade20k'\n")
    state = ServerState(settings=settings, session=session if session is not None else Session(),
                        workdir=workdir, base_rules=base)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any):
        yield
        state.runner.close()  # a render in flight is cancelled; the thread ends

    app = Starlette(routes=routes.ROUTES, exception_handlers=routes.EXCEPTION_HANDLERS, lifespan=lifespan)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.state.regionstyle = state
    return app


def serve(settings: ServeSettings, *, host: str = "127.0.0.1", port: int = 8000, log_level: str = "warning",
          on_ready: Any = None) -> None:
    """Run the app with uvicorn until interrupted."""
    import uvicorn

    config = uvicorn.Config(create_app(settings), host=host, port=port, log_level=log_level)
    server = uvicorn.Server(config)
    if on_ready is not None:
        on_ready()
    server.run()
