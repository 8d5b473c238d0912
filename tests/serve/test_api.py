"""``regionstyle serve`` through Starlette's TestClient: uploads and their refusals, renders, events, cancel.

The app gets a Session with the tiny random encoder and renders at 48 px; the photo is the bundled sample
scene, whose label map (``scene.labels.png`` beside it) the server finds by itself.
"""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("starlette", reason="the serve extra (starlette) is not installed")
pytest.importorskip("python_multipart", reason="the serve extra (python-multipart) is not installed")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx (test extra)")

from starlette.testclient import TestClient  # noqa: E402

from regionstyle import io as rio  # noqa: E402
from regionstyle import pipeline  # noqa: E402
from regionstyle.config import BY_NAME, STYLE_LOSS_NAMES, make_config  # noqa: E402
from regionstyle.rules import load_ruleset  # noqa: E402
from regionstyle.serve.app import ServeSettings, create_app  # noqa: E402
from regionstyle.serve.render import RenderSettings  # noqa: E402
from regionstyle.session import Session  # noqa: E402
from tests.paths import PROJECT, SAMPLES  # noqa: E402

PHOTO = SAMPLES / "scene.png"
FAST = RenderSettings(size=64, iterations=2, preview_size=48, preview_iterations=2, device="cpu")  # the label map's
# aspect ratio survives these sizes (at 32 px the photo rounds to 32x21, 1.2% off, and is refused)
CHOICES = [{"class": "sky", "style": "watercolor", "strength": 1.0, "color": "style"},
           {"class": "building", "style": "mosaic", "params": {"tile": 8, "palette": "terracotta"},
            "strength": 0.8, "color": "preserve"}]


def make_client(tiny_encoder, tmp_path, **settings) -> TestClient:
    options = {"render": FAST, "workdir": tmp_path / "work", **settings}
    app = create_app(ServeSettings(**options), session=Session(custom_encoder=tiny_encoder))
    return TestClient(app)


@pytest.fixture()
def client(tiny_encoder, tmp_path):
    with make_client(tiny_encoder, tmp_path) as client:
        yield client


def open_scene(client) -> dict:
    response = client.post("/api/photo/path", json={"path": str(PHOTO)})
    assert response.status_code == 200, response.text
    return response.json()


def wait(client, job_id: str, *, until=("done", "failed", "cancelled"), timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/api/jobs/{job_id}").json()
        if state["status"] in until:
            return state
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {state['status']} after {timeout} s")


def png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_page_and_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'id="regions"' in page.text and "/static/app.js" in page.text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/app.css").status_code == 200


def test_styles_and_thumbnails(client):
    styles = {s["name"]: s for s in client.get("/api/styles").json()["styles"]}
    assert {"watercolor", "mosaic", "oil"} <= set(styles)
    assert "tile" in styles["mosaic"]["params"] and "seed" not in styles["mosaic"]["params"]
    thumb = client.get("/api/styles/mosaic/thumb.png?tile=8&palette=ocean")
    assert thumb.status_code == 200 and png(thumb.content).shape == (96, 96, 3)
    other = png(client.get("/api/styles/mosaic/thumb.png?tile=8&palette=autumn").content)
    assert not np.array_equal(png(thumb.content), other)  # parameters reach the exemplar
    bad = client.get("/api/styles/watercolr/thumb.png")
    assert bad.status_code == 400 and "did you mean 'watercolor'" in bad.json()["error"]


def test_opening_a_photo_lists_its_classes_and_a_clickable_map(client):
    info = open_scene(client)
    labels = np.asarray(Image.open(SAMPLES / "scene.labels.png"))
    assert (info["width"], info["height"]) == Image.open(PHOTO).size
    assert info["labels"] == str(SAMPLES / "scene.labels.png")
    shares = {c["name"]: c["share"] for c in info["classes"]}
    assert shares["sky"] == pytest.approx((labels == 3).mean(), abs=1e-3)
    assert shares["building"] == pytest.approx((labels == 2).mean(), abs=1e-3)
    assert list(shares.values()) == sorted(shares.values(), reverse=True)
    rows = png(client.get("/api/photo/regions.png").content)[..., 0]
    names = [c["name"] for c in info["classes"]]
    small = np.asarray(Image.fromarray(labels).resize(rows.shape[::-1], Image.NEAREST))
    sky = small == 3
    assert (rows[sky] == names.index("sky")).mean() > 0.98
    assert client.get("/api/photo/image.png").status_code == 200


def test_upload_a_photo_with_its_label_map(client):
    files = {"photo": ("scene.png", PHOTO.read_bytes(), "image/png"),
             "labels": ("scene.labels.png", (SAMPLES / "scene.labels.png").read_bytes(), "image/png")}
    response = client.post("/api/photo", files=files)
    assert response.status_code == 200, response.text
    assert {c["name"] for c in response.json()["classes"]} >= {"sky", "building", "road"}


def test_uploads_that_are_not_images_are_refused(client):
    response = client.post("/api/photo", files={"photo": ("notes.jpg", b"this is not a picture", "image/jpeg")})
    assert response.status_code == 400
    assert "notes.jpg" in response.json()["error"]
    response = client.post("/api/paintings", files={"painting": ("x.png", b"\x89PNG\r\n\x1a\n broken", "image/png")})
    assert response.status_code == 400 and response.json()["error"]
    response = client.post("/api/photo", files={"other": ("a.png", PHOTO.read_bytes(), "image/png")})
    assert response.status_code == 400 and "no photo file" in response.json()["error"]


def test_uploads_over_the_limit_are_refused_before_reading(tiny_encoder, tmp_path):
    with make_client(tiny_encoder, tmp_path, max_upload_bytes=10_000) as client:
        response = client.post("/api/photo", files={"photo": ("scene.png", PHOTO.read_bytes(), "image/png")})
    assert response.status_code == 413
    message = response.json()["error"]
    size = len(PHOTO.read_bytes()) / 1e6
    assert f"too large: {size:.2g} MB" in message and "the limit is 10 kB" in message and "--max-upload-mb" in message
    assert not list((tmp_path / "work").glob("uploads/*"))


def test_images_over_the_pixel_limit_are_refused(tiny_encoder, tmp_path):
    with make_client(tiny_encoder, tmp_path, max_pixels=1000) as client:
        response = client.post("/api/photo/path", json={"path": str(PHOTO)})
    assert response.status_code == 400 and "pixels" in response.json()["error"]


def test_requests_before_a_photo_or_with_bad_choices_explain_themselves(client):
    assert client.post("/api/render", json={"choices": CHOICES}).status_code == 409
    open_scene(client)
    cases = [({"choices": []}, "choose a style"),
             ({"choices": [{"class": "sky", "style": "watercolr"}]}, "unknown style"),
             ({"choices": [{"class": "volcano", "style": "oil"}]}, "not in this photo"),
             ({"choices": [{"class": "sky", "style": "oil", "strength": 50}]}, "strength"),
             ({"choices": [{"class": "sky", "style": "mosaic", "params": {"tile": 9999}}]}, "tile"),
             ({"choices": [{"class": "sky", "style": "oil", "settings": {"min_island": 0.9}}]},
              "min_island for sky: expected a number in [0, 0.5]"),
             ({"choices": [{"class": "sky", "style": "oil", "settings": {"style_loss": "w3"}}]}, "style_loss for sky"),
             ({"choices": [{"class": "sky", "style": "oil", "settings": {"size": 64}}]}, "the page sets only")]
    for body, fragment in cases:
        response = client.post("/api/render", json=body)
        assert response.status_code == 400 and fragment in response.json()["error"], (body, response.text)
    assert client.post("/api/render", content=b"{nope", headers={"content-type": "application/json"}).status_code == 400
    assert client.get("/api/jobs/999").status_code == 404


def test_rules_file_reproduces_the_render(client, tiny_encoder):
    open_scene(client)
    job = client.post("/api/render", json={"choices": CHOICES}).json()
    state = wait(client, job["id"])
    assert state["status"] == "done", state
    assert state["downloads"] == ["image", "layers", "rules"]
    image = png(client.get(f"/api/jobs/{job['id']}/files/image").content)
    assert max(image.shape[:2]) == FAST.size
    rules = client.get(f"/api/jobs/{job['id']}/files/rules").text
    assert '[[rule]]\nclasses = ["building"]' in rules and 'color = "preserve"' in rules
    ruleset = load_ruleset(rules)
    config = make_config(ruleset.defaults, device="cpu")
    again = pipeline.run(rio.read_image(PHOTO), ruleset, config, session=Session(custom_encoder=tiny_encoder))
    assert np.array_equal(np.round(again.image * 255).astype(np.uint8), image)
    photo = np.asarray(Image.open(PHOTO).convert("RGB").resize(image.shape[1::-1], Image.BOX)).astype(int)
    sky = np.asarray(Image.open(SAMPLES / "scene.labels.png").resize(image.shape[1::-1], Image.NEAREST)) == 3
    assert np.abs(image.astype(int) - photo)[sky].mean() > 3  # the sky was restyled


def test_region_settings_come_from_the_schema_and_reach_the_rules_file(client):
    offered = {spec["name"]: spec for spec in client.get("/api/styles").json()["region_settings"]}
    assert set(offered) == {"content_weight", "edge_weight", "style_loss", "feather", "min_island"}
    assert (offered["min_island"]["low"], offered["min_island"]["high"]) == (0.0, 0.5)
    assert offered["edge_weight"]["default"] == BY_NAME["edge_weight"].default
    assert offered["style_loss"]["choices"] == list(STYLE_LOSS_NAMES)
    open_scene(client)
    building = dict(CHOICES[1], settings={"edge_weight": 30, "style_loss": "w2", "min_island": 0.01,
                                          "content_weight": ""})  # empty: the run's default
    job = client.post("/api/render", json={"choices": [CHOICES[0], building]}).json()
    assert wait(client, job["id"])["status"] == "done"
    ruleset = load_ruleset(client.get(f"/api/jobs/{job['id']}/files/rules").text)
    own = {rule.classes: dict(rule.settings) for rule in ruleset.rules}
    assert own[("building",)] == {"color": "preserve", "edge_weight": 30.0, "style_loss": "w2", "min_island": 0.01}
    assert own[("sky",)] == {"color": "style"}


def test_a_photo_opens_with_the_base_rules_own_settings(tiny_encoder, tmp_path):
    base = tmp_path / "base.toml"
    base.write_text('[segmentation]\nclasses = "ade20k"\n\n[[rule]]\nclasses = ["building"]\nstyle = "mosaic"\n'
                    'color = "preserve"\nedge_weight = 25\nfeather = 2\n\n'
                    '[[rule]]\nclasses = ["sky"]\nstyle = "watercolor"\n')
    with make_client(tiny_encoder, tmp_path, base_rules=base) as client:
        initial = open_scene(client)["initial"]
    assert initial["building"] == {"style": "mosaic", "color": "preserve",
                                   "settings": {"edge_weight": 25.0, "feather": 2.0}}
    assert initial["sky"] == {"style": "watercolor", "settings": {}}


def test_a_workdir_kept_from_an_earlier_server_is_reused(tiny_encoder, tmp_path):
    for _ in range(2):  # the second server numbers its jobs from 1 again, in the same folders
        with make_client(tiny_encoder, tmp_path) as client:
            open_scene(client)
            job = client.post("/api/render", json={"choices": CHOICES}).json()
            state = wait(client, job["id"])
            assert state["status"] == "done", state


def test_layers_download_composites_to_the_image(client):
    from psd_tools import PSDImage
    from psd_tools.composite import composite

    open_scene(client)
    job = client.post("/api/render", json={"choices": CHOICES}).json()
    assert wait(client, job["id"])["status"] == "done"
    image = png(client.get(f"/api/jobs/{job['id']}/files/image").content).astype(np.float64)
    response = client.get(f"/api/jobs/{job['id']}/files/layers")
    assert 'filename="scene.styled.psd"' in response.headers["content-disposition"]
    document = PSDImage.open(io.BytesIO(response.content))
    assert [layer.name for layer in document][1:] == ["building \u2014 mosaic, photo colours", "sky \u2014 watercolor"]
    assert np.abs(composite(document)[0] * 255 - image).max() <= 0.5 + 1e-3


def _with_painting(client) -> list[dict]:
    """CHOICES with an uploaded painting on the sky: a render that optimises (built-ins alone are laid in)."""
    return [{**CHOICES[0], "style": _upload_painting(client)}, CHOICES[1]]


def _upload_painting(client) -> str:
    painting = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(painting, format="PNG")
    added = client.post("/api/paintings", files={"painting": ("my painting.png", painting.getvalue(), "image/png")})
    assert added.status_code == 200, added.text
    return added.json()["id"]


def test_one_session_serves_every_render(client):
    choices = [{"class": "sky", "style": _upload_painting(client)}, CHOICES[1]]
    open_scene(client)
    state = client.app.state.regionstyle
    session = state.session
    for count in range(2):
        job = client.post("/api/render", json={"choices": choices, "preview": True}).json()
        assert wait(client, job["id"])["status"] == "done"
        if count == 0:
            targets = dict(session.targets)
    assert state.session is session
    # the painting's target is built once; the mosaic, rendered from this photo's building, keeps none
    assert len(targets) == 1 and session.targets.keys() == targets.keys()
    assert all(session.targets[k] is targets[k] for k in targets)


def test_preview_is_small_and_events_end_with_the_result(client):
    open_scene(client)
    job = client.post("/api/render", json={"choices": CHOICES, "preview": True}).json()
    assert job["kind"] == "preview"
    with client.stream("GET", f"/api/jobs/{job['id']}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = [line for line in stream.iter_lines() if line.startswith(("event:", "data:"))]
    assert events[-2] == "event: end"
    final = json.loads(events[-1][len("data: "):])
    assert final["status"] == "done" and final["downloads"] == ["image"] and final["fraction"] == 1.0
    progress = [json.loads(d[6:]) for e, d in zip(events[::2], events[1::2]) if e == "event: progress"]
    assert all(0 <= p["fraction"] < 1 for p in progress)
    assert max(png(client.get(f"/api/jobs/{job['id']}/files/image").content).shape[:2]) == FAST.preview_size
    assert client.get(f"/api/jobs/{job['id']}/files/layers").status_code == 404


def test_cancel_stops_a_render_and_the_server_goes_on(tiny_encoder, tmp_path):
    slow = RenderSettings(size=96, iterations=5000, preview_size=48, preview_iterations=2, device="cpu")
    with make_client(tiny_encoder, tmp_path, render=slow) as client:
        open_scene(client)
        choices = _with_painting(client)
        job = client.post("/api/render", json={"choices": choices}).json()
        running = wait(client, job["id"], until=("running",))
        deadline = time.monotonic() + 30
        while client.get(f"/api/jobs/{job['id']}").json()["fraction"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # the optimiser has reported at least once: the ETA is known
        assert client.get(f"/api/jobs/{job['id']}").json()["eta"] is not None
        clock = time.monotonic()
        assert client.post(f"/api/jobs/{job['id']}/cancel").status_code == 200
        state = wait(client, job["id"], timeout=20)
        assert state["status"] == "cancelled" and time.monotonic() - clock < 10, (running, state)
        preview = client.post("/api/render", json={"choices": CHOICES, "preview": True}).json()
        assert wait(client, preview["id"])["status"] == "done"


def test_a_new_render_cancels_the_one_before(tiny_encoder, tmp_path):
    slow = RenderSettings(size=96, iterations=5000, preview_size=48, preview_iterations=2, device="cpu")
    with make_client(tiny_encoder, tmp_path, render=slow) as client:
        open_scene(client)
        first = client.post("/api/render", json={"choices": _with_painting(client)}).json()
        wait(client, first["id"], until=("running",))
        second = client.post("/api/render", json={"choices": CHOICES, "preview": True}).json()
        assert wait(client, second["id"])["status"] == "done"
        assert client.get(f"/api/jobs/{first['id']}").json()["status"] == "cancelled"


def test_an_uploaded_painting_is_a_style(client, tmp_path):
    painting_id = _upload_painting(client)
    assert client.get(f"/api/paintings/{painting_id.split(':')[1]}/thumb.png").status_code == 200
    open_scene(client)
    rules = client.post("/api/rules", json={"choices": [{"class": "sky", "style": painting_id}]})
    assert rules.status_code == 200 and "image = " in rules.text and "my_painting.png" in rules.text
    assert load_ruleset(rules.text).rules[0].style.image is not None


# --- the command -------------------------------------------------------------------------------------------

def test_help_imports_no_web_server_or_psd_library():
    import subprocess
    import sys

    code = ("import sys; from regionstyle.cli import main; "
            "bad = [m for m in ('starlette', 'uvicorn', 'psd_tools', 'torch') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_serve_without_the_extra_names_it(monkeypatch):
    import sys

    from click.testing import CliRunner

    from regionstyle.cli import main

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn -> ImportError
    result = CliRunner().invoke(main, ["serve", "--port", "0"])
    assert result.exit_code == 1 and 'pip install "regionstyle[serve]"' in result.output and "uvicorn" in result.output


@pytest.mark.slow
def test_the_serve_command_answers_on_localhost(tmp_path):
    import os
    import signal
    import socket
    import subprocess
    import sys

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    command = [sys.executable, "-c", "from regionstyle.cli import main; main()", "serve", "--port", str(port),
               "--workdir", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline, page = time.monotonic() + 120, None  # imports torch: slow on a busy machine
        while time.monotonic() < deadline and process.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert page is not None and page.status_code == 200 and "regionstyle" in page.text
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=20)[0]
    assert f"http://127.0.0.1:{port}/" in output and process.returncode is not None
