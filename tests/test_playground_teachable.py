"""The playground's Teachable Machine tab: session, protocol, and the page in a real Chromium.

Browser tests use Debian's Chromium (/usr/bin/chromium) through Playwright, headless, with a
fake webcam; never `playwright install`. They are skipped, with the reason, without it.
"""

import base64
import json
import math
import os
import time

import numpy as np
import pytest

import neuralab as nl
import neuralab.nn.functional as F
from neuralab import nn
from neuralab.demos.teachable_machine import stroke
from neuralab.playground import teachable
from neuralab.playground.protocol import ProtocolError
from neuralab.playground.session import SessionError
from neuralab.playground.teachable import SIZE, TeachableSession, apply, parse, resize, to_input

NAMES = ["vertical", "horizontal", "circle"]


def strokes_session(per_class: int = 10, seed: int = 0) -> TeachableSession:
    rng = np.random.default_rng(seed)
    s = TeachableSession(seed=seed)
    s.add_class()
    for k, name in enumerate(NAMES):
        s.rename_class(k, name)
        s.add_examples(k, [stroke(k, rng) for _ in range(per_class)])
    return s


def train_to_end(s: TeachableSession) -> None:
    s.train()
    while s.playing:
        s.run_for(0.02)


@pytest.fixture(scope="module")
def trained() -> TeachableSession:
    s = strokes_session()
    train_to_end(s)
    return s


# ----------------------------------------------------------------------------- the session


def test_cnn_learns_strokes_and_reports_every_epoch(trained):
    s = trained
    assert not s.playing and s.epoch == 50 and s.updates == 100  # 26 training examples, batch 16
    snap = s.snapshot()
    hist = snap["hist"]
    assert [h[0] for h in hist] == list(range(1, 51)) and snap["histReset"]
    first, last = hist[0], hist[-1]
    assert last[1] < first[1] and first[2] < 0.9 <= last[2]  # training loss falls, accuracy rises
    m = snap["metrics"]
    assert m["train"]["acc"] >= 0.9 and len(m["train"]["confusion"]) == 3
    assert np.trace(m["train"]["confusion"]) == round(m["train"]["acc"] * 27)
    assert len(m["test"]["perClass"]) == 3 and sum(map(sum, m["test"]["confusion"])) == 3
    assert np.array(snap["filters"]).shape == (8, 5, 5)
    rng = np.random.default_rng(99)
    right = sum(s.predict(stroke(k, rng)).argmax() == k for k in range(3) for _ in range(5))
    assert right >= 14
    assert s.snapshot()["hist"] == []  # each record is sent once
    assert s.notices[-1]["level"] == "info" and "Trained 50 epochs: " in s.notices[-1]["message"]
    json.dumps(snap, allow_nan=False)


def test_prediction_and_feature_maps_for_a_probe(trained):
    s = trained
    assert s.snapshot()["prediction"] is None
    s.set_probe(stroke(2, np.random.default_rng(5)))
    p = s.snapshot()["prediction"]
    assert np.argmax(p["probs"]) == 2 and sum(p["probs"]) == pytest.approx(1, abs=1e-3)
    maps = np.frombuffer(base64.b64decode(p["maps"]), np.uint8)
    assert maps.size == 8 * SIZE * SIZE and maps.max() == 255  # each map scaled to its maximum
    s.set_probe(None)
    assert s.snapshot()["prediction"] is None


def test_export_is_a_file_nl_load_rebuilds(trained, tmp_path):
    s = trained
    path = tmp_path / teachable.MODEL_NAME
    path.write_bytes(s.export())
    checkpoint = nl.load(path)
    assert checkpoint["classes"] == NAMES and checkpoint["epoch"] == 50
    assert checkpoint["input"] == {"size": SIZE, "channels": 1, "scale": 255.0}
    model = checkpoint["model"]
    assert isinstance(model, nn.Sequential) and isinstance(model[0], nn.Conv2d)
    image = stroke(1, np.random.default_rng(3))
    model.eval()
    with nl.no_grad():
        out = model(nl.tensor(to_input(image)))
    assert np.allclose(F.softmax(out, 1).numpy()[0], s.predict(image), atol=1e-6)
    assert int(out.argmax()) == 1


def test_resize_and_to_input():
    big = np.zeros((56, 56), np.uint8)
    big[:, 28:] = 255
    small = resize(big)
    assert small.shape == (SIZE, SIZE) and small.dtype == np.uint8
    assert (small[:, :14] == 0).all() and (small[:, 14:] == 255).all()  # area averaging
    assert resize(np.full((8, 20), 200.0)).tolist() == np.full((SIZE, SIZE), 200).tolist()
    x = to_input(big)
    assert x.shape == (1, 1, SIZE, SIZE) and x.dtype == np.float32 and x.max() == 1.0
    with pytest.raises(ValueError, match=r"2-D grayscale image, got shape \(4, 4, 3\)"):
        resize(np.zeros((4, 4, 3)))


def test_class_edits_limits_and_a_stale_model():
    s = strokes_session(per_class=2)
    with pytest.raises(SessionError, match="no class 3"):
        s.add_examples(3, [np.zeros((SIZE, SIZE))])
    s.add_class("empty")
    with pytest.raises(SessionError, match="class 'empty' has no examples"):
        s.train()
    s.remove_class(3)
    s.train()
    s.run_for(0.01)
    s.rename_class(0, "up")  # the model stays
    assert s.model is not None and s.playing
    s.add_class()  # the model no longer fits
    assert s.model is None and not s.playing and s.snapshot()["metrics"] is None
    assert "classes changed" in s.notices[-1]["message"]
    for _ in range(6):
        s.add_class()
    with pytest.raises(SessionError, match="at most 10 classes"):
        s.add_class()
    while len(s.names) > 2:
        s.remove_class(len(s.names) - 1)
    with pytest.raises(SessionError, match="at least 2 classes"):
        s.remove_class(0)
    s.add_examples(0, [np.zeros((SIZE, SIZE), np.uint8)] * 198)
    with pytest.raises(SessionError, match="has 200 examples; 1 more would pass the limit of 200"):
        s.add_examples(0, [np.zeros((SIZE, SIZE))])
    s.clear_class(0)
    assert s.data_payload()["ids"][0] == []


def test_held_out_examples_never_move_and_images_are_sent_once():
    s = strokes_session(per_class=7)
    payload = s.data_payload()
    assert len(payload["images"]) == 21 and s.data_payload()["images"] == {}
    x, y = s._split()["test"]
    assert y.tolist() == [0, 1, 2]  # the 7th example of each class at 15 %
    held = x.copy()
    s.add_examples(0, [stroke(0, np.random.default_rng(1))])
    assert np.array_equal(s._split()["test"][0], held)
    s.remove_example(payload["ids"][1][0])
    assert list(s.data_payload()["images"]) == ["21"]
    with pytest.raises(SessionError, match="no example with id 1000"):
        s.remove_example(1000)
    s.configure({"testPercent": 0})
    assert len(s._split()["test"][1]) == 0


def test_live_settings_and_training_without_examples():
    s = strokes_session(per_class=3)
    s.train()
    s.configure({"learningRate": 0.01, "batchSize": 4})
    assert s.opt.param_groups[0]["lr"] == 0.01 and s.config_version == 1
    s.run_for(0.01)
    assert s.updates >= 1
    for k in range(3):
        s.clear_class(k)
    s.run_for(0.05)  # the epoch under way ends on the old examples, the next finds none
    assert not s.playing and "no training examples" in s.notices[-1]["message"]


# ----------------------------------------------------------------------------- the protocol


def image_b64(image: np.ndarray) -> str:
    return base64.b64encode(image.astype(np.uint8).tobytes()).decode()


def add_msg(cls: int, images: list[np.ndarray]) -> dict:
    h, w = images[0].shape
    return {
        "cmd": "add",
        "class": cls,
        "images": [image_b64(i) for i in images],
        "width": w,
        "height": h,
    }


ADD = '{"cmd": "add", "class": 0, "width": 28, "height": 28, '  # + images (and more) + }
BAD = [
    ('{"cmd": "fly"}', "unknown command 'fly'"),
    ('{"cmd": "classes", "op": "paint"}', "'op' must be add, remove, rename or clear"),
    ('{"cmd": "classes", "op": "rename", "class": 0}', "rename needs a 'name'"),
    ('{"cmd": "classes", "op": "rename", "class": 0, "name": "  "}', "1 to 40 characters"),
    ('{"cmd": "classes", "op": "rename", "class": 0, "name": "a\\u0007"}', "control characters"),
    ('{"cmd": "classes", "op": "remove", "class": 12}', "'class' = 12 is out of range [0, 9]"),
    ('{"cmd": "classes", "op": "remove", "class": 5}', "classes: there is no class 5"),
    ('{"cmd": "classes", "op": "remove", "class": 0}', "at least 2 classes"),
    (ADD + '"images": []}', "1 to 200 images"),
    (ADD + '"images": ["AAAA"]}', "image 0 has 3 bytes, expected 28×28 = 784"),
    (ADD + '"images": ["@@@@"]}', "image 0 is not valid base64"),
    (ADD + '"images": [7]}', "must be base64 text"),
    (ADD.replace("28", "128", 1) + '"images": ["AAAA"]}', "'width' = 128 is out of range [8, 64]"),
    ('{"cmd": "add", "class": 0, "images": ["AAAA"], "width": 28}', "missing field 'height'"),
    (ADD + '"images": ["AAAA"], "x": 1}', "unexpected field"),
    ('{"cmd": "remove", "id": -1}', "'id' = -1 is out of range"),
    ('{"cmd": "remove", "id": 5}', "no example with id 5"),
    ('{"cmd": "settings", "settings": {"epochs": 0}}', "'epochs' = 0 is out of range [1, 1000]"),
    ('{"cmd": "settings", "settings": {"epochs": 2.5}}', "whole number"),
    ('{"cmd": "settings", "settings": {"learningRate": "fast"}}', "must be a number"),
    ('{"cmd": "settings", "settings": {"augment": 1}}', "'augment' must be true or false"),
    ('{"cmd": "settings", "settings": {"warp": 9}}', "unknown setting 'warp'"),
    ('{"cmd": "settings", "settings": [1]}', "expected an object of settings"),
    ('{"cmd": "train"}', "'Class 1', 'Class 2' have no examples"),
    ('{"cmd": "predict", "image": "AAAA", "width": 8, "height": 8}', "has 3 bytes, expected 8×8"),
    ('{"cmd": "export"}', "no trained model yet"),
    ('{"cmd": "stop", "now": true}', "unexpected field"),
]


def test_bad_messages_are_refused_with_their_reason():
    s = TeachableSession(seed=0)
    for text, message in BAD:
        with pytest.raises(ProtocolError) as caught:
            apply(s, parse(text))
        assert message in str(caught.value), (text, str(caught.value))
    assert s.data_version == 0 and s.config_version == 0  # nothing changed


def test_commands_drive_a_session():
    s = TeachableSession(seed=1)
    rng = np.random.default_rng(1)
    apply(s, parse(json.dumps({"cmd": "classes", "op": "add", "name": " circle "})))
    assert s.names == ["Class 1", "Class 2", "circle"]
    apply(s, parse(json.dumps({"cmd": "classes", "op": "rename", "class": 0, "name": "up"})))
    for k in range(3):
        apply(s, parse(json.dumps(add_msg(k, [stroke(k, rng) for _ in range(3)]))))
    big = np.kron(stroke(0, rng), np.ones((2, 2), np.uint8))  # 56 × 56: resized on arrival
    apply(s, parse(json.dumps(add_msg(0, [big]))))
    assert [len(e) for e in s.examples] == [4, 3, 3]
    apply(s, parse('{"cmd": "remove", "id": 9}'))
    apply(s, parse('{"cmd": "settings", "settings": {"epochs": 3, "augment": false}}'))
    assert s.config["epochs"] == 3 and s.config["augment"] is False
    apply(s, parse('{"cmd": "train"}'))
    apply(s, parse('{"cmd": "stop"}'))
    assert not s.playing and s.model is not None
    apply(
        s,
        parse(
            json.dumps(
                {"cmd": "predict", "image": image_b64(stroke(1, rng)), "width": 28, "height": 28}
            )
        ),
    )
    assert s.probe is not None
    frame = apply(s, parse('{"cmd": "export"}'))
    assert frame["type"] == "file" and frame["name"] == "teachable_model.safetensors"
    assert apply(s, parse('{"cmd": "snapshot"}')) is None


def test_random_messages_never_raise_anything_but_protocol_errors():
    """A small fuzz: random fields and values for every command, applied to one session."""
    rng = np.random.default_rng(0)
    values = [None, True, -1, 0, 1, 2.5, 1e308, "x", "AAAA", [], ["AAAA"], [7], {}, {"epochs": 2}]
    keys = "op class name images width height id settings image seq".split()
    s = TeachableSession(seed=0)
    s.add_examples(0, [np.zeros((SIZE, SIZE))])
    s.add_examples(1, [np.ones((SIZE, SIZE))])
    for _ in range(300):
        msg = {"cmd": str(rng.choice(list(teachable.COMMANDS)))}
        for key in rng.choice(keys, size=rng.integers(0, 4), replace=False):
            msg[str(key)] = values[rng.integers(len(values))]
        try:
            apply(s, parse(json.dumps(msg)))
        except ProtocolError:
            pass
        s.run_for(0.001)
    json.dumps(s.snapshot(), allow_nan=False)


def test_the_teachable_socket_trains_and_exports(tmp_path):
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from neuralab.playground.server import create_app

    def receive(ws, kind):
        for _ in range(500):
            frame = ws.receive_json()
            if frame["type"] == "snap":
                ws.send_json({"cmd": "ack", "seq": frame["seq"]})
            if frame["type"] == kind:
                return frame
        raise AssertionError(f"no {kind} frame")

    rng = np.random.default_rng(2)
    with TestClient(create_app(max_sessions=2)) as client:
        with (
            client.websocket_connect("/ws/teachable") as ws,
            client.websocket_connect("/ws") as net,
        ):
            hello = receive(ws, "hello")
            assert (
                hello["limits"]["maxClasses"] == 10 and hello["settings"]["epochs"]["default"] == 50
            )
            first = receive(ws, "snap")
            assert (
                first["data"]["names"] == ["Class 1", "Class 2"] and first["config"]["epochs"] == 50
            )
            with client.websocket_connect("/ws/teachable") as third:  # both paths share the cap
                assert "too many open sessions (2)" in third.receive_json()["message"]
            ws.send_text('{"cmd": "add", "class": 0}')
            assert "missing field" in receive(ws, "error")["message"]
            for k in range(2):
                ws.send_json(add_msg(k, [stroke(k, rng) for _ in range(6)]))
            ws.send_json({"cmd": "settings", "settings": {"epochs": 20}})
            ws.send_json({"cmd": "train"})
            history, images = [], {}
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                snap = receive(ws, "snap")
                history += snap["hist"]
                images.update(snap.get("data", {}).get("images", {}))
                if snap["trained"] and not snap["playing"]:
                    break
            assert [h[0] for h in history] == list(range(1, 21)) and len(images) == 12
            assert snap["metrics"]["train"]["acc"] >= 0.9
            ws.send_json(
                {"cmd": "predict", "image": image_b64(stroke(1, rng)), "width": 28, "height": 28}
            )
            while (snap := receive(ws, "snap"))["prediction"] is None:
                pass
            assert np.argmax(snap["prediction"]["probs"]) == 1
            ws.send_json({"cmd": "export"})
            path = tmp_path / "model.safetensors"
            path.write_bytes(base64.b64decode(receive(ws, "file")["b64"]))
            assert nl.load(path)["classes"] == ["Class 1", "Class 2"]
            net.send_json({"cmd": "snapshot"})  # the playground's socket is unaffected
            assert receive(net, "snap")["epoch"] == 0
        with client.websocket_connect(
            "/ws/teachable", headers={"origin": "http://evil.example"}
        ) as ws:
            assert "cross-origin" in ws.receive_json()["message"]


# ----------------------------------------------------------------------------- the page

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",  # a test webcam
]  # fmt: skip
browser_only = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing")


@pytest.fixture(scope="module")
def server():
    pytest.importorskip("uvicorn")
    from neuralab.playground.server import BackgroundServer

    with BackgroundServer() as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    """A fresh tab on the Teachable Machine view; fails the test on any page or console error."""
    context = browser.new_context(
        viewport={"width": 1440, "height": 1000}, accept_downloads=True, bypass_csp=True
    )
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("console", lambda m: m.type == "error" and errors.append(m.text))
    tab.goto(f"{server.url}#view=tm")
    tab.wait_for_selector("#tm-conn.live")
    tab.wait_for_selector(".tm-class[data-class='1']")
    yield tab
    context.close()
    assert not errors, errors


def draw(page, selector, kind, i=0):
    """Draw on a pad with the mouse: a vertical line, a horizontal line or a circle."""
    box = page.locator(selector).bounding_box()
    shift = (i % 5 - 2) * 0.06
    if kind == 0:
        points, steps = [(0.5 + shift, 0.2), (0.5 + shift, 0.8)], 6
    elif kind == 1:
        points, steps = [(0.2, 0.5 + shift), (0.8, 0.5 + shift)], 6
    else:
        r = 0.25 + (i % 3) * 0.03
        angles = [2 * math.pi * k / 16 for k in range(17)]
        points, steps = (
            [(0.5 + shift / 2 + r * math.cos(a), 0.5 + r * math.sin(a)) for a in angles],
            1,
        )
    xy = [(box["x"] + u * box["width"], box["y"] + v * box["height"]) for u, v in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=steps)
    page.mouse.up()


def readout(page, chart):
    """The (train, held-out) values a chart's read-out shows."""
    text = page.inner_text(f"#tm-{chart}-readout")  # "epoch 7 · ■ train 0.852 · ■ held out 0.667"
    return [float(part.split()[-1]) for part in text.split("·")[1:]]


@browser_only
def test_teach_three_strokes_train_predict_and_export(page, tmp_path):
    page.click("#tm-add-class")
    page.wait_for_selector(".tm-class[data-class='2']")
    for c, name in enumerate(NAMES):
        page.fill(f".tm-class[data-class='{c}'] .tm-name", name)
        page.press(f".tm-class[data-class='{c}'] .tm-name", "Enter")
    page.wait_for_selector(".tm-add[data-class='2']:has-text('circle')")
    for c in range(3):
        for i in range(10):
            draw(page, "#tm-pad", c, i)
            if c == 2:
                page.keyboard.press("3")  # the class's number key adds the drawing too
            else:
                page.click(f".tm-add[data-class='{c}']")
    page.wait_for_function(
        "[...document.querySelectorAll('.tm-count')].every(e => e.textContent === '10 examples')"
    )
    assert page.locator(".tm-class[data-class='2'] .tm-thumb").count() == 10
    page.click("#tm-train")
    page.wait_for_function(
        "document.querySelector('#tm-progress-text').textContent.startsWith('epoch 50 / 50')",
        timeout=60_000,
    )
    final_train, _ = readout(page, "acc")
    box = page.locator("#tm-acc-chart").bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)  # hover epoch 1
    page.wait_for_function(
        "document.querySelector('#tm-acc-readout').textContent.startsWith('epoch 1 ')"
    )
    first_train, _ = readout(page, "acc")
    assert first_train < 0.9 <= final_train, (first_train, final_train)
    assert float(page.inner_text("#tm-train-acc").rstrip(" %")) >= 90
    assert page.locator("#tm-confusion td").count() == 9
    assert page.locator("#tm-filters canvas").count() == 8

    for kind in (0, 2, 1):
        page.click("#tm-probe-clear")
        draw(page, "#tm-probe", kind, 1)
        page.wait_for_selector(f".tm-bar.top[data-class='{kind}']")
    assert float(page.get_attribute(".tm-bar.top", "data-p")) > 0.5
    assert page.locator("#tm-maps canvas").count() == 8

    with page.expect_download() as info:
        page.click("#tm-export")
    assert info.value.suggested_filename == "teachable_model.safetensors"
    path = tmp_path / "model.safetensors"
    info.value.save_as(path)
    checkpoint = nl.load(path)
    assert checkpoint["classes"] == NAMES
    line = np.zeros((SIZE, SIZE), np.uint8)
    line[5:23, 13:16] = 255  # a vertical stroke about as wide as the pad's
    model = checkpoint["model"].eval()
    with nl.no_grad():
        assert int(model(nl.tensor(to_input(line))).argmax()) == 0

    page.mouse.move(0, 0)
    shot = tmp_path / "teachable.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 30_000


@browser_only
def test_upload_webcam_remove_and_class_menu(page, tmp_path):
    from matplotlib.image import imsave

    files = []
    for i in range(3):
        path = tmp_path / f"dot{i}.png"
        picture = np.zeros((40, 60))
        picture[10 + i : 30, 20:40] = 1
        imsave(path, picture, cmap="gray", vmin=0, vmax=1)
        files.append(str(path))
    page.set_input_files(".tm-class[data-class='1'] input[type=file]", files)
    page.wait_for_selector(".tm-class[data-class='1'] .tm-count:has-text('3 examples')")
    page.click(".tm-class[data-class='1'] .tm-thumb >> nth=0")  # clicking a thumbnail deletes it
    page.wait_for_selector(".tm-class[data-class='1'] .tm-count:has-text('2 examples')")

    page.click(".tm-source[data-for='input'] button[data-source='webcam']")
    page.wait_for_function("document.querySelector('#tm-cam').readyState >= 2")
    hold = page.locator(".tm-add[data-class='0']")
    assert "Hold" in hold.inner_text()
    hold.hover()
    page.mouse.down()
    page.wait_for_selector(".tm-class[data-class='0'] .tm-count:has-text('3 examples')")
    page.mouse.up()
    assert page.locator(".tm-class[data-class='0'] .tm-thumb").count() >= 3

    page.click("#tm-add-class")
    page.wait_for_selector(".tm-class[data-class='2']")
    page.click("#tm-train")
    page.wait_for_selector(".toast.error:has-text(\"class 'Class 3' has no examples\")")
    page.click(".tm-class[data-class='2'] .tm-remove")
    page.wait_for_function("document.querySelectorAll('.tm-class').length === 2")
    assert page.is_hidden(".tm-class .tm-remove")  # two classes is the minimum


@browser_only
def test_the_tab_works_under_the_content_security_policy(browser, server):
    context = browser.new_context()
    tab = context.new_page()
    problems = []
    tab.on("pageerror", lambda e: problems.append(str(e)))
    tab.on("console", lambda m: m.type == "error" and problems.append(m.text))
    tab.goto(server.url)
    tab.click(".tab[data-view='tm']")
    tab.wait_for_selector("#tm-conn.live")
    assert "view=tm" in tab.url and tab.is_hidden("#view-net")
    draw(tab, "#tm-pad", 0)
    tab.click(".tm-add[data-class='0']")
    tab.wait_for_selector(".tm-class[data-class='0'] .tm-thumb")
    context.close()
    assert not problems, problems
