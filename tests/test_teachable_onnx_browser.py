"""The Teachable Machine tab's model in the page: trained on the server, exported as ONNX, run by
ONNX Runtime Web (shipped in static/vendor/), still classifying after the server stops; and the
playground's Export ONNX button.

Debian's /usr/bin/chromium driven by Playwright, under the page's content security policy.
"""

import os
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
VENDOR = Path(__file__).parent.parent / "neuralab/playground/static/vendor/onnxruntime-web"

if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium", allow_module_level=True)
if not (VENDOR / "ort.wasm.min.mjs").exists():
    pytest.skip("ONNX Runtime Web is not vendored: python tools/vendor_ort_web.py",
                allow_module_level=True)  # fmt: skip
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("uvicorn")

from neuralab.playground.server import BackgroundServer  # noqa: E402
from neuralab.playground.teachable import SIZE, to_input  # noqa: E402


def draw(page, selector, vertical, i):
    """A vertical (class 0) or horizontal (class 1) stroke, shifted a little with ``i``."""
    box = page.locator(selector).bounding_box()
    shift = (i % 5 - 2) * 0.06
    ends = [(0.5 + shift, 0.2), (0.5 + shift, 0.8)] if vertical else [(0.2, 0.5 + shift),
                                                                      (0.8, 0.5 + shift)]  # fmt: skip
    xy = [(box["x"] + u * box["width"], box["y"] + v * box["height"]) for u, v in ends]
    page.mouse.move(*xy[0])
    page.mouse.down()
    page.mouse.move(*xy[1], steps=6)
    page.mouse.up()


def test_model_keeps_classifying_in_the_page_after_the_server_stops(tmp_path):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        problems = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        server = BackgroundServer().__enter__()
        try:
            page.goto(server.url)
            page.wait_for_selector("#conn.live")
            with page.expect_download() as info:  # the playground's network, as ONNX
                page.click("#export-onnx")
            assert info.value.suggested_filename == "playground_model.onnx"
            info.value.save_as(tmp_path / "playground.onnx")
            net = ort.InferenceSession(str(tmp_path / "playground.onnx"))
            width = net.get_inputs()[0].shape[1]
            assert net.run(None, {"features": np.zeros((3, width), np.float32)})[0].shape[0] == 3

            page.click(".tab[data-view='tm']")
            page.wait_for_selector("#tm-conn.live")
            for c in (0, 1):
                for i in range(8):
                    draw(page, "#tm-pad", c == 0, i)
                    page.click(f".tm-add[data-class='{c}']")
            for c in (0, 1):  # (no wait_for_function: it evaluates strings, which CSP forbids)
                page.wait_for_selector(
                    f".tm-class[data-class='{c}'] .tm-count:text-is('8 examples')"
                )
            page.select_option("#tm-epochs", "20")
            page.click("#tm-train")
            page.wait_for_selector("#tm-local[data-ready='true']", timeout=90_000)

            with page.expect_download() as info:
                page.click("#tm-export-onnx")
            assert info.value.suggested_filename == "teachable_model.onnx"
            path = tmp_path / "model.onnx"
            info.value.save_as(path)
            line = np.zeros((SIZE, SIZE), np.uint8)
            line[5:23, 13:16] = 255  # a vertical stroke
            logits = ort.InferenceSession(str(path)).run(None, {"image": to_input(line)})[0]
            assert logits.shape == (1, 2) and int(logits.argmax()) == 0
        finally:
            server.__exit__(None, None, None)

        page.wait_for_selector("#tm-conn.down")
        for vertical, label in ((True, 0), (False, 1), (True, 0)):
            page.click("#tm-probe-clear")
            draw(page, "#tm-probe", vertical, 1)
            page.wait_for_selector(
                f"#tm-bars[data-source='page'] .tm-bar.top[data-class='{label}']"
            )
        assert float(page.get_attribute(".tm-bar.top", "data-p")) > 0.5
        context.close()
        browser.close()
    assert not problems, problems
