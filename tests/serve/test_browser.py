"""``regionstyle serve`` in a real browser: headless Chromium (the system package) driven by Playwright.

A live uvicorn server on 127.0.0.1 (a thread of this test process, so it can use the tiny random encoder);
the page opens a shared photo by path, finds its label map in ../shared/data/labels, gets two styles
assigned, previews, renders at full size, and the downloads are checked. Skips, with the reason, where
chromium, playwright or ../shared are missing (CI installs them: see .ci/run).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("starlette", reason="the serve extra (starlette) is not installed")
pytest.importorskip("uvicorn", reason="the serve extra (uvicorn) is not installed")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

from regionstyle.serve.app import ServeSettings, create_app  # noqa: E402
from regionstyle.serve.render import RenderSettings  # noqa: E402
from regionstyle.session import Session  # noqa: E402

PHOTO = "small264_toronto_skyline_cc0"  # sky 70%, building 17%, road 7% (kept), ...
SIZE, PREVIEW = 96, 64


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no chromium binary on PATH (apt-get install -y chromium)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def live_url(tiny_encoder, shared_data, tmp_path_factory):
    import uvicorn

    render = RenderSettings(size=SIZE, iterations=3, preview_size=PREVIEW, preview_iterations=2, device="cpu")
    settings = ServeSettings(render=render, workdir=tmp_path_factory.mktemp("serve"),
                             labels_dir=shared_data / "labels")
    app = create_app(settings, session=Session(custom_encoder=tiny_encoder))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start within 20 s"
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def page(live_url):
    binary = chromium_binary()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=binary, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1100, "height": 760}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(live_url)
        yield page
        browser.close()


def choose(page, cls: str, style: str) -> None:
    page.select_option(f'.region[data-class="{cls}"] select.style', style)


def test_choose_styles_preview_render_and_download(page, shared_data, tmp_path):
    import cv2

    photo_path = shared_data / "photos" / f"{PHOTO}.jpg"
    page.fill("#photo-path", str(photo_path))
    page.click("#open-path")
    page.wait_for_selector('.region[data-class="sky"]')
    assert "classes found" in page.inner_text("#message")
    rows = page.eval_on_selector_all(".region", "rows => rows.map(r => r.dataset.class)")
    assert rows[:3] == ["sky", "building", "road"]  # largest share first

    # the overlay is clickable: a point near the top of the picture is sky
    box = page.locator("#overlay").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.08)
    assert page.get_attribute(".region.selected", "data-class") == "sky"

    choose(page, "sky", "watercolor")
    choose(page, "building", "mosaic")
    page.fill('.region[data-class="building"] input[name="tile"]', "8")
    page.dispatch_event('.region[data-class="building"] input[name="tile"]', "change")
    thumb = page.get_attribute('.region[data-class="building"] img.thumb', "src")
    assert "/api/styles/mosaic/thumb.png" in thumb and "tile=8" in thumb
    building = '.region[data-class="building"]'
    page.click(f"{building} details.settings summary")  # the region's own settings, folded by default
    assert page.get_attribute(f'{building} input[name="edge_weight"]', "placeholder") == "10"
    page.fill(f'{building} input[name="edge_weight"]', "30")
    page.dispatch_event(f'{building} input[name="edge_weight"]', "change")
    page.select_option(f'{building} select[name="style_loss"]', "w2")

    page.set_input_files("#painting-file", str(shared_data / "styles" / "vangogh_starry_night.jpg"))
    page.wait_for_selector("#paintings img")
    choose(page, "tower", "painting:1")  # an uploaded painting is a style like the built-ins

    page.click("#preview")
    page.wait_for_function("document.querySelector('#message').textContent.includes('preview done')")
    assert page.inner_text("#result-kind") == "(preview)"
    assert page.is_hidden("#download-layers")
    size = page.evaluate("[document.querySelector('#result-img').naturalWidth, "
                         "document.querySelector('#result-img').naturalHeight]")
    assert max(size) == PREVIEW

    page.click("#render")
    page.wait_for_function("document.querySelector('#message').textContent.includes('render done')")
    assert page.inner_text("#result-kind") == "(full size)"
    assert page.evaluate("document.querySelector('#progress').value") == 1.0
    page.screenshot(path=str(tmp_path / "page.png"))
    files = {}
    for kind in ("image", "layers", "rules"):
        with page.expect_download() as download:
            page.click(f"#download-{kind}")
        files[kind] = tmp_path / download.value.suggested_filename
        download.value.save_as(files[kind])
    assert files["image"].name == f"{PHOTO}.styled.png" and files["layers"].suffix == ".psd"

    out = np.asarray(Image.open(files["image"]).convert("RGB")).astype(np.float64)
    assert out.shape == (SIZE, SIZE, 3)
    original = np.asarray(Image.open(photo_path).convert("RGB"), dtype=np.float32) / 255
    photo = cv2.resize(original, (SIZE, SIZE), interpolation=cv2.INTER_AREA) * 255
    labels = cv2.resize(np.asarray(Image.open(shared_data / "labels" / f"{PHOTO}.png")), (SIZE, SIZE),
                        interpolation=cv2.INTER_NEAREST)
    difference = np.abs(out - photo).mean(axis=2)
    road = cv2.erode((labels == 7).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert difference[labels == 3].mean() > 4 and difference[labels == 2].mean() > 4  # sky, building restyled
    assert road.any() and difference[road].max() <= 1.0  # road (no rule): the photo, to 8-bit rounding
    rules = files["rules"].read_text()
    assert 'classes = ["sky"]' in rules and 'builtin = "mosaic", tile = 8' in rules
    assert 'edge_weight = 30.0\nstyle_loss = "w2"' in rules and rules.count("edge_weight") == 1
    assert 'classes = ["tower"]' in rules and "vangogh_starry_night.jpg" in rules


def test_a_file_that_is_not_an_image_gets_a_clear_message(page, tmp_path):
    bad = tmp_path / "holiday.jpg"
    bad.write_text("not a picture")
    page.set_input_files("#photo-file", str(bad))
    page.wait_for_function("document.querySelector('#message').textContent.includes('holiday.jpg')")
    assert "image" in page.inner_text("#message").lower()
