"""The playground server over its WebSocket (Starlette's TestClient): frames, errors, sessions."""

import json
import time

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
from starlette.testclient import TestClient  # noqa: E402

from neuralab.playground.protocol import MAX_MESSAGE_BYTES, parse  # noqa: E402
from neuralab.playground.server import create_app  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(max_sessions=4)) as c:
        yield c


def receive(ws, kind, limit=200):
    """The next frame of type ``kind`` (skipping others), acknowledging snapshots as a page does."""
    for _ in range(limit):
        frame = ws.receive_json()
        if frame["type"] == "snap":
            ws.send_json({"cmd": "ack", "seq": frame["seq"]})
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind} frame")


def snapshot_after(ws, msg):
    ws.send_json(msg)
    return receive(ws, "snap")


def test_page_and_static_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "neuralab" in page.text and "main.js" in page.text
    for path in ("/static/js/main.js", "/static/js/network.js", "/static/css/style.css"):
        assert client.get(path).status_code == 200, path
    assert client.get("/static/../session.py").status_code == 404


def test_hello_then_a_snapshot_with_config_and_data(client):
    with client.websocket_connect("/ws") as ws:
        hello = receive(ws, "hello")
        assert (
            hello["limits"]["maxSessions"] == 4
            and hello["fields"]["learningRate"]["default"] == 0.03
        )
        snap = receive(ws, "snap")
        assert snap["epoch"] == 0 and snap["config"]["dataset"] == "circle"
        assert len(snap["data"]["train"]) == 250 and snap["shape"] == [2, 4, 2, 1]
        again = snapshot_after(ws, {"cmd": "snapshot"})
        assert "config" not in again and "data" not in again  # sent once, until they change


BAD = [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"cmd": "fly"}', "unknown command 'fly'"),
    ('{"nocmd": 1}', "unknown command None"),
    ('{"cmd": "config", "config": {"learningRate": 500}}', "learningRate: 500 is out of range"),
    ('{"cmd": "config", "config": {"learningRate": "fast"}}', "expected a number"),
    ('{"cmd": "config", "config": {"networkShape": [4, 99]}}', "1 to 16 neurons"),
    ('{"cmd": "config", "config": {"networkShape": [1,1,1,1,1,1,1,1,1]}}', "at most 8"),
    ('{"cmd": "config", "config": {"activation": "swish"}}', "'swish' is not one of"),
    ('{"cmd": "config", "config": {"warp": 9}}', "warp: unknown setting"),
    ('{"cmd": "config", "config": [1]}', "expected an object of settings"),
    (
        '{"cmd": "config", "config": {"problem": "regression", "loss": "hinge"}}',
        "regression problem uses squared error",
    ),
    ('{"cmd": "config", "config": {"batchSize": 2.5}}', "whole number"),
    ('{"cmd": "config", "config": {"noise": NaN}}', "out of range"),
    ('{"cmd": "step", "unit": "century"}', "'unit' must be 'epoch' or 'batch'"),
    ('{"cmd": "play", "extra": 1}', "unexpected field"),
    ('{"cmd": "edit", "layer": 0, "to": 0, "from": 0}', "missing field 'value'"),
    ('{"cmd": "edit", "layer": 0, "to": 0, "from": 0, "value": 1e9}', "out of range"),
    (
        '{"cmd": "edit", "layer": 1, "to": 3, "from": 0, "value": 1}',
        "layer 1 has weights of shape 2×4",
    ),
    ('{"cmd": "points", "op": "paint"}', "'op' must be"),
    ('{"cmd": "points", "op": "set", "points": [[1, 2]]}', "point 0 must be [x, y, label]"),
    ('{"cmd": "focus", "node": "h9_9"}', "no node 'h9_9'"),
    ('{"cmd": "csv", "text": "a,b\\n"}', "csv: line 1"),
    ('{"cmd": "export", "what": "everything"}', "'what' must be"),
    ('{"cmd": "gd", "x0": 9, "lr": -1, "steps": 3}', "'lr' = -1"),
    ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
]


def test_bad_messages_get_error_frames_and_the_session_goes_on(client):
    with client.websocket_connect("/ws") as ws:
        receive(ws, "snap")
        for text, message in BAD:
            ws.send_text(text)
            error = receive(ws, "error")
            assert message in error["message"], (text[:60], error)
        ws.send_text("x" * (MAX_MESSAGE_BYTES + 1))
        assert "exceeds the limit" in receive(ws, "error")["message"]
        ws.send_bytes(b"\x00\x01")
        assert "binary frames are not accepted" in receive(ws, "error")["message"]
        snap = snapshot_after(ws, {"cmd": "step"})
        assert snap["epoch"] == 1 and "config" not in snap  # no bad message changed a setting


def test_parse_normalises_commands():
    assert parse('{"cmd": "step"}') == {"cmd": "step", "unit": "epoch"}
    assert parse('{"cmd": "config", "config": {"batchSize": 20.0}}')["config"] == {"batchSize": 20}
    edit = parse('{"cmd": "edit", "layer": 2, "to": 0, "from": null, "value": 0.5}')
    assert edit["from"] is None and edit["value"] == 0.5


def test_training_advances_and_loss_falls_then_pause_stops(client):
    with client.websocket_connect("/ws") as ws:
        first = receive(ws, "snap")
        ws.send_json({"cmd": "config", "config": {"speed": 0}})
        ws.send_json({"cmd": "play"})
        deadline = time.monotonic() + 20
        history = []
        while time.monotonic() < deadline:
            snap = receive(ws, "snap")
            history += snap["hist"]
            if snap["loss"]["test"] < 0.1:
                break
        assert snap["loss"]["test"] < 0.1 < first["loss"]["test"]
        assert [h[0] for h in history] == list(range(1, len(history) + 1))  # no epoch record lost
        ws.send_json({"cmd": "pause"})
        while snap["playing"]:
            snap = receive(ws, "snap")
        stopped = snapshot_after(ws, {"cmd": "snapshot"})
        assert stopped["epoch"] == snap["epoch"] and not stopped["playing"]


def test_sessions_are_independent_and_capped(client):
    with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
        receive(a, "snap")
        receive(b, "snap")
        assert (
            snapshot_after(a, {"cmd": "config", "config": {"activation": "relu"}})["config"][
                "activation"
            ]
            == "relu"
        )
        assert snapshot_after(b, {"cmd": "snapshot"})["epoch"] == 0
        b.send_json({"cmd": "snapshot"})
        assert "config" not in receive(b, "snap")  # b's settings did not change
        with client.websocket_connect("/ws") as c, client.websocket_connect("/ws") as d:
            receive(c, "hello")
            receive(d, "hello")
            with client.websocket_connect("/ws") as e:
                error = e.receive_json()
                assert error["type"] == "error" and "too many open sessions (4)" in error["message"]
    for _ in range(3):  # closed sessions free their slots
        with client.websocket_connect("/ws") as ws:
            assert receive(ws, "hello")["type"] == "hello"


def test_many_sessions_one_after_another_leave_nothing_behind(client):
    app = client.app
    for i in range(12):
        with client.websocket_connect("/ws") as ws:
            ws.send_json({"cmd": "config", "config": {"networkShape": [8] * (i % 4)}})
            assert receive(ws, "snap")["type"] == "snap"
    assert app.state.open_sessions() == 0


def test_export_and_gradient_descent_frames(client):
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"cmd": "step"})
        ws.send_json({"cmd": "export", "what": "script"})
        script = receive(ws, "file")
        assert script["name"] == "playground_run.py" and script["mime"] == "text/x-python"
        ws.send_json({"cmd": "export", "what": "model"})
        assert receive(ws, "file")["name"].endswith(".safetensors")
        ws.send_json({"cmd": "gd", "x0": 9, "lr": 0.1, "steps": 3})
        gd = receive(ws, "gd")
        assert gd["xs"] == pytest.approx([9, 7.2, 5.76, 4.608]) and gd["verdict"] == "converges"


def test_divergence_notice_over_the_socket(client):
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"cmd": "config", "config": {"problem": "regression", "learningRate": 10}})
        ws.send_json({"cmd": "play"})
        notice = receive(ws, "notice")
        assert "diverged" in notice["message"]
        snap = snapshot_after(ws, {"cmd": "snapshot"})
        assert not snap["playing"]
        json.dumps(snap, allow_nan=False)


def test_cross_origin_pages_are_refused(client):
    with client.websocket_connect("/ws", headers={"origin": "http://evil.example"}) as ws:
        error = ws.receive_json()
        assert error["type"] == "error" and "cross-origin" in error["message"]


def test_random_messages_never_raise_anything_but_protocol_errors():
    """A small fuzz: random fields and values for every command, applied to one session."""
    import numpy as np

    from neuralab.playground import commands
    from neuralab.playground.protocol import COMMANDS, ProtocolError
    from neuralab.playground.session import Session

    rng = np.random.default_rng(0)
    values = [
        None,
        True,
        -1,
        0,
        1,
        2.5,
        1e308,
        -1e308,
        "x",
        "h0_0",
        "o0",
        [],
        [1, 2],
        [[0, 0, 1]],
        {},
    ]
    keys = "config unit layer to from value node op x y label radius points text what x0 lr steps"
    keys = keys.split() + ["learningRate"]
    session = Session()
    for _ in range(400):
        msg = {"cmd": str(rng.choice(list(COMMANDS)))}
        for key in rng.choice(keys, size=rng.integers(0, 4), replace=False):
            msg[str(key)] = values[rng.integers(len(values))]
        if msg["cmd"] == "config" and rng.random() < 0.5:
            msg["config"] = {"learningRate": values[rng.integers(len(values))]}
        try:
            commands.apply(session, parse(json.dumps(msg)))
        except ProtocolError:
            pass
    json.dumps(session.snapshot(), allow_nan=False)


def test_security_headers_and_trusted_hosts():
    with TestClient(create_app(allowed_hosts=["127.0.0.1"]), base_url="http://127.0.0.1") as local:
        page = local.get("/")
        assert page.status_code == 200
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
    with TestClient(create_app(allowed_hosts=["127.0.0.1"]), base_url="http://evil.example") as far:
        assert far.get("/").status_code == 400  # a DNS-rebinding page's Host is refused


def test_the_playground_command_line():
    import socket

    from neuralab.cli import build_parser, main

    args = build_parser().parse_args(["playground", "--port", "0", "--no-browser"])
    assert (args.host, args.port, args.no_browser, args.max_sessions) == ("127.0.0.1", 0, True, 8)
    assert main(["playground", "--port", "70000"]) == 2
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["playground", "--port", str(port), "--no-browser"]) == 2  # in use: one line
