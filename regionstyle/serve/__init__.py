"""``regionstyle serve``: a local web page for choosing a style per region, previewing and rendering.

- :mod:`~regionstyle.serve.app`: settings, the one-user state (one Session kept between renders), the app;
- :mod:`~regionstyle.serve.routes`: the HTTP API and server-sent progress events;
- :mod:`~regionstyle.serve.jobs`: the render thread, with progress, ETA and cancellation;
- :mod:`~regionstyle.serve.work`: photos, their classes, the style catalogue, the page's choices as rules;
- :mod:`~regionstyle.serve.render`: a render through :func:`regionstyle.files.stylize_file`;
- :mod:`~regionstyle.serve.uploads`: upload limits and checks;
- ``static/``: the page (HTML, CSS, JavaScript; no build step).

Needs the ``serve`` extra (Starlette, uvicorn, python-multipart); importing this package does not import
them, so the message naming the extra can come from :func:`require_extra`.
"""

from __future__ import annotations

from regionstyle.errors import MissingDependency

EXTRA = 'pip install "regionstyle[serve]"'


def require_extra() -> None:
    """Raise MissingDependency naming the extra when the web server's packages are missing."""
    missing = []
    needed = (("starlette", "starlette"), ("uvicorn", "uvicorn"), ("python_multipart", "python-multipart"))
    for module, package in needed:
        try:
            __import__(module)
        except ImportError:
            missing.append(package)
    if missing:
        raise MissingDependency(f"regionstyle serve needs {', '.join(missing)}: {EXTRA}")
