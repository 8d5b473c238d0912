"""The HTTP routes of ``regionstyle serve``: JSON in and out, files as downloads, progress as server-sent events.

Errors a user can cause (a file that is not an image, one too large, an unknown style, a rules mistake)
come back as ``{"error": "..."}`` with status 400 / 404 / 409 / 411 / 413, which the page shows as is.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from regionstyle.errors import RegionStyleError
from regionstyle.serve import work
from regionstyle.serve.app import STATIC, ServerState
from regionstyle.serve.render import render
from regionstyle.serve.uploads import UserError, check_image, read_form, save_upload

DOWNLOADS = {"image": "image/png", "layers": "image/vnd.adobe.photoshop", "rules": "application/toml"}
EVENT_INTERVAL = 0.25  # seconds between progress events


def state_of(request: Request) -> ServerState:
    return request.app.state.regionstyle


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html")


async def styles(request: Request) -> Response:
    return JSONResponse({"styles": work.style_catalogue(), "color_modes": list(work.COLOR_MODES),
                         "strength": list(work.STRENGTH_RANGE), "region_settings": work.region_settings()})


async def style_thumbnail(request: Request) -> Response:
    params = {k: _number(v) for k, v in request.query_params.items()}
    png = await run_in_threadpool(work.thumbnail_png, request.path_params["name"], params=params)
    return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=3600"})


async def upload_photo(request: Request) -> Response:
    state = state_of(request)
    form = await read_form(request, state)
    photo_path = await save_upload(form.get("photo"), state, what="photo")
    await run_in_threadpool(check_image, photo_path, state)  # a bad file is refused and removed
    labels = await save_upload(form.get("labels"), state, what="label map") if form.get("labels") else None
    return await _open(state, photo_path, labels)


async def photo_from_path(request: Request) -> Response:
    state = state_of(request)
    body = await _json(request)
    path = Path(str(body.get("path", ""))).expanduser()
    if not path.is_file():
        raise UserError(f"no such file: {path}")
    labels = Path(str(body["labels"])).expanduser() if body.get("labels") else None
    if labels is not None and not labels.is_file():
        raise UserError(f"no such label map: {labels}")
    return await _open(state, path, labels)


async def _open(state: ServerState, path: Path, labels: Path | None) -> Response:
    state.runner.cancel_all()  # renders of the previous photo are no longer wanted
    labels = labels or _find_labels(state, path)

    def load() -> dict[str, Any]:
        photo = work.open_photo(path, labels=labels, max_pixels=state.settings.max_pixels)
        with state.lock:
            found = work.analyse(photo, state.base_rules, session=state.session,
                                 device=state.settings.render.device)
        state.photo = photo
        height, width = photo.loaded.size
        return {"name": path.name, "width": width, "height": height,
                "labels": str(labels) if labels else None, **found}

    return JSONResponse(await run_in_threadpool(load))


def _find_labels(state: ServerState, path: Path) -> Path | None:
    """A label map for ``path``: ``--labels-dir``/STEM.png, else STEM.labels.png beside the photo."""
    candidates = [path.with_name(f"{path.stem}.labels.png")]
    if state.settings.labels_dir is not None:
        candidates.insert(0, Path(state.settings.labels_dir) / f"{path.stem}.png")
    return next((c for c in candidates if c.is_file()), None)


async def photo_image(request: Request) -> Response:
    photo = _photo(state_of(request))
    import cv2

    pixels = photo.loaded.pixels
    scale = min(1.0, 1024 / max(pixels.shape[:2]))
    if scale < 1:
        pixels = cv2.resize(pixels, (round(pixels.shape[1] * scale), round(pixels.shape[0] * scale)),
                            interpolation=cv2.INTER_AREA)
    return Response(await run_in_threadpool(work.png_bytes, pixels), media_type="image/png")


async def photo_regions(request: Request) -> Response:
    photo = _photo(state_of(request))
    return Response(work.png_bytes(photo.index_map), media_type="image/png")


async def upload_painting(request: Request) -> Response:
    state = state_of(request)
    form = await read_form(request, state)
    path = await save_upload(form.get("painting"), state, what="painting")
    await run_in_threadpool(check_image, path, state)
    key = f"{len(state.paintings) + 1}"
    state.paintings[key] = path
    return JSONResponse({"id": f"painting:{key}", "name": path.name.split("_", 1)[-1],
                         "thumbnail": f"/api/paintings/{key}/thumb.png"})


async def painting_thumbnail(request: Request) -> Response:
    path = state_of(request).paintings.get(request.path_params["key"])
    if path is None:
        raise UserError("no such painting", 404)
    return Response(await run_in_threadpool(work.painting_thumbnail_png, path), media_type="image/png")


async def rules_text(request: Request) -> Response:
    state = state_of(request)
    return PlainTextResponse(_rules(state, await _json(request)), media_type="application/toml")


async def start_render(request: Request) -> Response:
    state = state_of(request)
    body = await _json(request)
    text = _rules(state, body)
    preview = bool(body.get("preview", False))
    photo = state.photo
    folder = state.workdir / "renders"

    def job_work(job: Any) -> dict[str, Any]:
        return render(job, photo, text, settings=state.settings.render, preview=preview, session=state.session,
                      lock=state.lock, folder=folder / job.id)

    job = state.runner.submit("preview" if preview else "render", job_work)
    return JSONResponse(job.snapshot(), status_code=202)


def _rules(state: ServerState, body: dict[str, Any]) -> str:
    photo = _photo(state)
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise UserError("choose a style for at least one region first")
    defaults = {k: v for k, v in state.settings.render.config_options(preview=False).items() if k != "device"}
    text = work.choices_to_rules(choices, photo, state.base_rules, paintings=state.paintings, defaults=defaults)
    from regionstyle.rules import load_ruleset

    load_ruleset(text)  # a mistake is reported now, not from the worker thread
    return text


async def job_state(request: Request) -> Response:
    return JSONResponse(_job(request).snapshot())


async def cancel_job(request: Request) -> Response:
    job = _job(request)
    job.cancel()
    return JSONResponse(job.snapshot())


async def job_events(request: Request) -> Response:
    """Server-sent events: one ``progress`` event per interval while the job runs, then its final state."""
    job = _job(request)

    async def stream():
        while True:
            snapshot = job.snapshot()
            final = snapshot["status"] not in ("queued", "running")
            yield f"event: {'end' if final else 'progress'}\ndata: {json.dumps(snapshot)}\n\n"
            if final or await request.is_disconnected():
                return
            await asyncio.sleep(EVENT_INTERVAL)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


async def job_file(request: Request) -> Response:
    job = _job(request)
    kind = request.path_params["kind"]
    path = job.result.get("files", {}).get(kind)
    if job.status != "done" or path is None:
        raise UserError(f"no {kind} file for job {job.id} (status {job.status})", 404)
    return FileResponse(path, media_type=DOWNLOADS.get(kind, "application/octet-stream"), filename=path.name)


# --- helpers --------------------------------------------------------------------------------------------

def _photo(state: ServerState) -> Any:
    if state.photo is None:
        raise UserError("open a photo first", 409)
    return state.photo


def _job(request: Request) -> Any:
    job = state_of(request).runner.jobs.get(request.path_params["job"])
    if job is None:
        raise UserError(f"no job {request.path_params['job']}", 404)
    return job


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise UserError("expected a JSON object in the request body") from None
    if not isinstance(body, dict):
        raise UserError("expected a JSON object in the request body")
    return body


def _number(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


async def user_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status", 400)
    return JSONResponse({"error": str(exc)}, status_code=status)


async def http_error(request: Request, exc: HTTPException) -> Response:
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code)


def _library_errors() -> dict[Any, Any]:
    from maskrules import RuleError

    return {UserError: user_error, RegionStyleError: user_error, RuleError: user_error, HTTPException: http_error}


EXCEPTION_HANDLERS = _library_errors()

ROUTES = [
    Route("/", index),
    Route("/api/styles", styles),
    Route("/api/styles/{name}/thumb.png", style_thumbnail),
    Route("/api/photo", upload_photo, methods=["POST"]),
    Route("/api/photo/path", photo_from_path, methods=["POST"]),
    Route("/api/photo/image.png", photo_image),
    Route("/api/photo/regions.png", photo_regions),
    Route("/api/paintings", upload_painting, methods=["POST"]),
    Route("/api/paintings/{key}/thumb.png", painting_thumbnail),
    Route("/api/rules", rules_text, methods=["POST"]),
    Route("/api/render", start_render, methods=["POST"]),
    Route("/api/jobs/{job}", job_state),
    Route("/api/jobs/{job}/cancel", cancel_job, methods=["POST"]),
    Route("/api/jobs/{job}/events", job_events),
    Route("/api/jobs/{job}/files/{kind}", job_file),
]
