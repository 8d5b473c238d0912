"""Make docs/serve_page.png: the `regionstyle serve` page after a preview, taken with headless Chromium.

    python docs/make_serve_screenshot.py --photo ../shared/data/photos/small264_toronto_skyline_cc0.jpg \
        --labels-dir ../shared/data/labels --encoder mobilenet_v2 --encoder-weights WEIGHTS.pt

Needs the serve extra, playwright (pip) and a chromium binary (apt-get install chromium).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", type=Path, required=True)
    parser.add_argument("--labels-dir", type=Path)
    parser.add_argument("--encoder", default="random")
    parser.add_argument("--encoder-weights")
    parser.add_argument("--size", type=int, default=264)
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("-o", "--output", type=Path, default=HERE / "serve_page.png")
    args = parser.parse_args()
    url, server = start_server(args)
    try:
        shoot(url, args)
    finally:
        server.should_exit = True


def start_server(args: argparse.Namespace):
    import uvicorn

    from regionstyle.serve.app import ServeSettings, create_app
    from regionstyle.serve.render import RenderSettings

    render = RenderSettings(size=args.size, iterations=args.iterations, preview_size=args.size,
                            preview_iterations=args.iterations, encoder=args.encoder,
                            encoder_weights=args.encoder_weights, device="cpu")
    app = create_app(ServeSettings(render=render, labels_dir=args.labels_dir))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}/", server


def shoot(url: str, args: argparse.Namespace) -> None:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(600_000)
        page.goto(url)
        page.fill("#photo-path", str(args.photo.resolve()))
        page.click("#open-path")
        page.wait_for_selector('.region[data-class="sky"]')
        page.select_option('.region[data-class="sky"] select.style', "watercolor")
        page.select_option('.region[data-class="building"] select.style', "mosaic")
        page.select_option('.region[data-class="building"] [name="palette"]', "terracotta")
        page.dispatch_event('.region[data-class="building"] [name="palette"]', "change")
        page.click("#preview")
        page.wait_for_function("document.querySelector('#message').textContent.includes('preview done')")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(args.output))
        browser.close()
    image = Image.open(args.output).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(args.output, optimize=True)
    print(f"wrote {args.output} ({args.output.stat().st_size // 1024} kB)")


if __name__ == "__main__":
    main()
