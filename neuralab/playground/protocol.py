"""The WebSocket protocol: what a page may send, checked before it reaches a session.

Every client message is one JSON text frame ``{"cmd": NAME, ...fields}``. :func:`parse` returns
it normalised or raises :class:`ProtocolError`, which the server sends back as an error frame
``{"type": "error", "message": ..., "cmd": NAME}``; the session goes on untouched.

========== ================================================= ===============================
cmd        fields                                            effect
========== ================================================= ===============================
config     config: {key: value} (see config.FIELDS)          change settings
play       –                                                 train continuously
pause      –                                                 stop training
step       unit: "epoch" (default) or "batch"                train one epoch / mini-batch
reset      –                                                 new random weights, epoch 0
restart    –                                                 the same initial weights, epoch 0
regenerate –                                                 new data seed, weights kept
edit       layer, to, from (null: the bias), value           set one weight or bias
focus      node: "h<layer>_<i>", "o<i>" or null              stream that node's full map
points     op: add (x, y, label) | erase (x, y, radius) |    edit your own data
           clear | set (points: [[x, y, label], ...])
csv        text: the file's contents                         replace the data by a CSV file
export     what: "model", "script" or "onnx"                 a file frame comes back
gd         x0, lr, steps                                     gradient descent on f(x) = x²
snapshot   –                                                 send a snapshot now
ack        seq: the number of the last snapshot drawn         let the next snapshot come
========== ================================================= ===============================

Server frames: ``hello`` (limits), ``snap`` (see Session.snapshot, plus ``config`` and
``data`` when they changed), ``notice``, ``error``, ``file`` (name, mime, base64 content) and
``gd``. The Teachable Machine tab's commands (:mod:`neuralab.playground.teachable`) go through
the same :func:`parse` with their own table.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from typing import Any

from neuralab.playground.config import MAX_LAYERS, MAX_NEURONS, MAX_POINTS, ConfigError, validate


def file_frame(name: str, mime: str, content: bytes, **extra: Any) -> dict[str, Any]:
    """A ``file`` reply frame: ``content`` as base64 text under ``b64``, then ``extra`` fields."""
    b64 = base64.b64encode(content).decode("ascii")
    return {"type": "file", "name": name, "mime": mime, "b64": b64, **extra}


MAX_MESSAGE_BYTES = 512 * 1024
"""The largest client frame accepted (a CSV upload of MAX_POINTS rows fits easily)."""


class ProtocolError(ValueError):
    """A client message that is not valid; ``cmd`` names its command when known."""

    def __init__(self, message: str, cmd: str | None = None) -> None:
        super().__init__(message)
        self.cmd = cmd

    def frame(self) -> dict[str, Any]:
        """The error frame sent back to the page."""
        return {"type": "error", "message": str(self), "cmd": self.cmd}


def _number(msg: dict, key: str, lo: float, hi: float, integer: bool = False) -> float | int:
    """``msg[key]`` as a number within [lo, hi] (an int when ``integer``)."""
    cmd = msg["cmd"]
    if key not in msg:
        raise ProtocolError(f"{cmd}: missing field '{key}'", cmd)
    value = msg[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError(f"{cmd}: '{key}' must be a number, got {value!r}", cmd)
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ProtocolError(f"{cmd}: '{key}' = {value!r} is out of range [{lo:g}, {hi:g}]", cmd)
    if integer and value != int(value):
        raise ProtocolError(f"{cmd}: '{key}' must be a whole number, got {value!r}", cmd)
    return int(value) if integer else float(value)


def _fields(msg: dict, allowed: set[str]) -> None:
    extra = set(msg) - allowed - {"cmd"}
    if extra:
        raise ProtocolError(f"{msg['cmd']}: unexpected field(s) {sorted(extra)}", msg["cmd"])


def _config(msg: dict) -> dict:
    _fields(msg, {"config"})
    try:
        return {"cmd": "config", "config": validate(msg.get("config"))}
    except ConfigError as e:
        raise ProtocolError(f"config: {e}", "config") from None


def _bare(msg: dict) -> dict:
    _fields(msg, set())
    return {"cmd": msg["cmd"]}


def _step(msg: dict) -> dict:
    _fields(msg, {"unit"})
    unit = msg.get("unit", "epoch")
    if unit not in ("epoch", "batch"):
        raise ProtocolError(f"step: 'unit' must be 'epoch' or 'batch', got {unit!r}", "step")
    return {"cmd": "step", "unit": unit}


def _edit(msg: dict) -> dict:
    _fields(msg, {"layer", "to", "from", "value"})
    source = msg.get("from")
    return {
        "cmd": "edit",
        "layer": _number(msg, "layer", 0, MAX_LAYERS, integer=True),
        "to": _number(msg, "to", 0, MAX_NEURONS - 1, integer=True),
        "from": None if source is None else _number(msg, "from", 0, MAX_NEURONS - 1, True),
        "value": _number(msg, "value", -100, 100),
    }


def _focus(msg: dict) -> dict:
    _fields(msg, {"node"})
    node = msg.get("node")
    if node is not None and (not isinstance(node, str) or len(node) > 16):
        raise ProtocolError("focus: 'node' must be a node id such as 'h0_1' or null", "focus")
    return {"cmd": "focus", "node": node}


def _point_edit(msg: dict, key: str, lo: float, hi: float) -> dict:
    """A ``points`` command at (x, y) with one more number ``key`` in [lo, hi]."""
    _fields(msg, {"op", "x", "y", key})
    return {
        "cmd": "points",
        "op": msg["op"],
        "x": _number(msg, "x", -1e6, 1e6),
        "y": _number(msg, "y", -1e6, 1e6),
        key: _number(msg, key, lo, hi),
    }


def _points(msg: dict) -> dict:
    op = msg.get("op")
    if op == "add":
        return _point_edit(msg, "label", -1e6, 1e6)
    if op == "erase":
        return _point_edit(msg, "radius", 0, 12)
    if op == "clear":
        _fields(msg, {"op"})
        return {"cmd": "points", "op": op}
    if op == "set":
        _fields(msg, {"op", "points"})
        points = msg.get("points")
        if not isinstance(points, list) or len(points) > MAX_POINTS:
            raise ProtocolError(
                f"points: 'points' must be a list of at most {MAX_POINTS}", "points"
            )
        for i, p in enumerate(points):
            ok = isinstance(p, list) and len(p) == 3
            if not ok or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in p
            ):
                raise ProtocolError(f"points: point {i} must be [x, y, label], got {p!r}", "points")
        return {"cmd": "points", "op": op, "points": points}
    raise ProtocolError(f"points: 'op' must be add, erase, clear or set, got {op!r}", "points")


def _csv(msg: dict) -> dict:
    _fields(msg, {"text", "name"})
    if not isinstance(msg.get("text"), str):
        raise ProtocolError("csv: 'text' must be the file's contents as a string", "csv")
    return {"cmd": "csv", "text": msg["text"]}


def _export(msg: dict) -> dict:
    _fields(msg, {"what"})
    what = msg.get("what")
    if what not in ("model", "script", "onnx"):
        raise ProtocolError(
            f"export: 'what' must be 'model', 'script' or 'onnx', got {what!r}", "export"
        )
    return {"cmd": "export", "what": what}


def _ack(msg: dict) -> dict:
    _fields(msg, {"seq"})
    return {"cmd": "ack", "seq": _number(msg, "seq", 0, 2**53, integer=True)}


def _gd(msg: dict) -> dict:
    _fields(msg, {"x0", "lr", "steps"})
    return {
        "cmd": "gd",
        "x0": _number(msg, "x0", -100, 100),
        "lr": _number(msg, "lr", 0, 10),
        "steps": _number(msg, "steps", 1, 500, integer=True),
    }


COMMANDS = {
    "config": _config,
    "play": _bare,
    "pause": _bare,
    "step": _step,
    "reset": _bare,
    "restart": _bare,
    "regenerate": _bare,
    "edit": _edit,
    "focus": _focus,
    "points": _points,
    "csv": _csv,
    "export": _export,
    "gd": _gd,
    "snapshot": _bare,
    "ack": _ack,
}


def parse(
    frame: str | bytes | None, commands: dict[str, Callable[[dict], dict]] | None = None
) -> dict[str, Any]:
    """One client frame as a checked command dict, or a ProtocolError saying what is wrong.

    ``commands`` is the table of known commands (default: the playground's, COMMANDS; the
    Teachable Machine tab passes its own).
    """
    table = COMMANDS if commands is None else commands
    if not isinstance(frame, str):
        raise ProtocolError("binary frames are not accepted: send JSON text")
    # A character takes 1 to 4 bytes: encode only when the text might be too long.
    size = len(frame.encode("utf-8")) if len(frame) * 4 > MAX_MESSAGE_BYTES else len(frame)
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(
            f"message of {size} bytes exceeds the limit of {MAX_MESSAGE_BYTES} bytes"
        )
    try:
        msg = json.loads(frame)
    except (ValueError, RecursionError) as e:
        raise ProtocolError(f"not valid JSON: {e}") from None
    if not isinstance(msg, dict):
        raise ProtocolError(f"expected a JSON object with a 'cmd', got {type(msg).__name__}")
    cmd = msg.get("cmd")
    if not isinstance(cmd, str) or cmd not in table:
        raise ProtocolError(f"unknown command {cmd!r} (known: {', '.join(table)})")
    return table[cmd](msg)
