"""Carry out a parsed command on a session (see :mod:`neuralab.playground.protocol`).

:func:`apply` is the one place that maps commands to :class:`Session` methods, so the server and
the tests drive a session the same way. Errors a page can cause come back as
:class:`~neuralab.playground.protocol.ProtocolError`.
"""

from __future__ import annotations

from typing import Any

from neuralab.playground import export
from neuralab.playground.config import ConfigError
from neuralab.playground.data import CSVError, parse_csv
from neuralab.playground.protocol import ProtocolError, file_frame
from neuralab.playground.session import Session, SessionError, descend_parabola

_MIME = {"model": "application/octet-stream", "script": "text/x-python",
         "onnx": "application/octet-stream"}  # fmt: skip


def _file(what: str, session: Session) -> dict[str, Any]:
    """A ``file`` frame holding the exported model or script."""
    if what == "model":
        name, content = export.MODEL_NAME, export.model_file(session)
    elif what == "onnx":
        name, content = export.ONNX_NAME, export.onnx_file(session)
    else:
        name, content = export.SCRIPT_NAME, export.script(session).encode("utf-8")
    return file_frame(name, _MIME[what], content)


def apply(session: Session, cmd: dict[str, Any]) -> dict[str, Any] | None:
    """Run one checked command; return a reply frame (file, gd) or None."""
    name = cmd["cmd"]
    try:
        if name == "config":
            session.configure(cmd["config"])
        elif name == "play":
            session.play()
        elif name == "pause":
            session.playing = False
        elif name == "step":
            session.step(cmd["unit"])
        elif name == "reset":
            session.reset()
        elif name == "restart":
            session.restart()
        elif name == "regenerate":
            session.regenerate()
        elif name == "edit":
            session.edit_weight(cmd["layer"], cmd["to"], cmd["from"], cmd["value"])
        elif name == "focus":
            session.set_focus(cmd["node"])
        elif name == "points":
            session.edit_points(cmd["op"], cmd)
        elif name == "csv":
            c = session.config
            classes = c["classes"] if c["problem"] == "multiclass" else 2
            session.load_csv(parse_csv(cmd["text"], c["problem"], classes))
        elif name == "export":
            return _file(cmd["what"], session)
        elif name == "gd":
            return descend_parabola(cmd["x0"], cmd["lr"], cmd["steps"])
    except (ConfigError, SessionError, CSVError) as e:
        raise ProtocolError(f"{name}: {e}", name) from None
    return None
