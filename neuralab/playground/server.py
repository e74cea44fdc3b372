"""The playground's web server: Starlette + uvicorn, one WebSocket and one session per tab.

``GET /`` serves the page and ``/static/`` its files (shipped in the package, no build step).
``/ws`` is the WebSocket: each connection gets its own :class:`Session` (up to
``max_sessions`` at once, counting the Teachable Machine's sockets at ``/ws/teachable``, each
with a :class:`~neuralab.playground.teachable.TeachableSession`) and three tasks on the event
loop:

- *receive*: parse each frame (:func:`protocol.parse`), answer a bad one with an error frame,
  queue a good one (at most :data:`MAX_QUEUED` waiting);
- *run*: apply queued commands and, while playing, train in slices of :data:`TRAIN_SLICE`
  seconds per :data:`FRAME` (the session's ``speed`` caps epochs per second), then mark the view
  stale;
- *send*: send queued frames (errors, notices, files) in order, then **one snapshot built at
  send time**, so a slow client only ever gets the newest state (latest wins) and training never
  waits for the network. Snapshots are numbered (``seq``) and the page acknowledges each one it
  has drawn (``{"cmd": "ack", "seq": n}``); at most :data:`IN_FLIGHT` go unacknowledged, so
  frames never pile up in socket buffers and a hidden tab (no animation frames) costs nothing.

Everything runs on the event loop thread, so a session is never touched concurrently; training
slices are short enough (about 25 ms) to keep every tab responsive.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import threading
import time
import webbrowser
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import FileResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from neuralab.playground import commands, config, protocol, teachable
from neuralab.playground.session import Session

log = logging.getLogger("neuralab.playground")

FRAME = 1 / 30  # seconds between snapshots while training
TRAIN_SLICE = 0.024  # seconds of training per frame at most
MAX_QUEUED = 256  # commands waiting per session
MAX_OUTBOX = 64  # control frames waiting to be sent per session
IN_FLIGHT = 2  # snapshots sent but not yet acknowledged by the page
DEFAULT_PORT = 8765
DEFAULT_MAX_SESSIONS = 8
WS_MAX_SIZE = 4 * protocol.MAX_MESSAGE_BYTES  # uvicorn drops the connection above this

STATIC = resources.files("neuralab.playground") / "static"
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; style-src 'self' 'unsafe-inline'; "
     b"script-src 'self' 'wasm-unsafe-eval'; "  # ONNX Runtime Web compiles its .wasm
     b"img-src 'self' data: blob:; connect-src 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]  # fmt: skip


def _dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), allow_nan=False)


def _hello(max_sessions: int) -> dict[str, Any]:
    """The first frame: the settings' ranges and the server's limits."""
    fields = {
        key: {
            "kind": f.kind,
            "default": f.default,
            "choices": list(f.choices),
            "lo": f.lo,
            "hi": f.hi,
        }
        for key, f in config.FIELDS.items()
    }
    limits = {
        "maxSessions": max_sessions,
        "maxLayers": config.MAX_LAYERS,
        "maxNeurons": config.MAX_NEURONS,
        "maxPoints": config.MAX_POINTS,
        "maxMessageBytes": protocol.MAX_MESSAGE_BYTES,
    }
    return {"type": "hello", "fields": fields, "limits": limits}


class Connection:
    """One tab: its session, its command queue, and what it still has to be sent."""

    make_session: Any = Session
    parse = staticmethod(protocol.parse)
    apply = staticmethod(commands.apply)
    hello = staticmethod(_hello)

    def __init__(self, ws: WebSocket, session: Session | teachable.TeachableSession) -> None:
        self.ws = ws
        self.session = session
        self.commands: asyncio.Queue[dict[str, Any]] = asyncio.Queue(MAX_QUEUED)
        self.outbox: deque[str] = deque()
        self.wake = asyncio.Event()
        self.stale = True  # the page's view is older than the session
        self.sent_config = -1
        self.sent_data = -1
        self.seq = 0  # the last snapshot sent
        self.acked = 0  # the last snapshot the page has drawn

    def post(self, frame: dict[str, Any]) -> None:
        """Queue a control frame (dropped when the page has not read the last MAX_OUTBOX)."""
        if len(self.outbox) < MAX_OUTBOX:
            self.outbox.append(_dumps(frame))
        self.wake.set()

    def touch(self) -> None:
        """Mark the view stale and pass on the session's notices."""
        for notice in self.session.notices:
            self.post(notice)
        self.session.notices.clear()
        self.stale = True
        self.wake.set()

    async def receive(self) -> None:
        """Parse frames until the page goes away; queue commands, answer bad frames."""
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                text = message.get("text")
                cmd = self.parse(text if text is not None else message.get("bytes"))
                if cmd["cmd"] == "ack":
                    self.acked = max(self.acked, min(cmd["seq"], self.seq))
                    self.wake.set()
                else:
                    self.commands.put_nowait(cmd)
            except protocol.ProtocolError as e:
                self.post(e.frame())
            except asyncio.QueueFull:
                self.post({"type": "error", "message": "too many commands queued; slow down"})
            except Exception as e:  # a parser bug must not end the tab's connection
                log.exception("playground message rejected")
                self.post({"type": "error", "message": f"malformed message: {e!r}"})

    def _apply(self, cmd: dict[str, Any]) -> None:
        try:
            reply = self.apply(self.session, cmd)
        except protocol.ProtocolError as e:
            self.post(e.frame())
        except Exception as e:  # a bug must not take the server or the tab down
            log.exception("playground command %s failed", cmd["cmd"])
            self.session.playing = False
            self.post(
                {"type": "error", "cmd": cmd["cmd"], "message": f"{cmd['cmd']} failed: {e!r}"}
            )
        else:
            if reply is not None:
                self.post(reply)
        self.touch()

    async def run(self) -> None:
        """Apply commands; while playing, train a slice per frame and mark the view stale."""
        last = time.perf_counter()
        while True:
            if not self.session.playing:
                self._apply(await self.commands.get())
                last = time.perf_counter()
                continue
            start = time.perf_counter()
            while not self.commands.empty():
                self._apply(self.commands.get_nowait())
            try:
                self.session.run_for(TRAIN_SLICE, start - last)
            except Exception as e:
                log.exception("playground training failed")
                self.session.playing = False
                self.post({"type": "error", "message": f"training failed: {e!r}"})
            last = start
            self.touch()
            remaining = FRAME - (time.perf_counter() - start)
            try:
                self._apply(await asyncio.wait_for(self.commands.get(), max(remaining, 0.001)))
            except TimeoutError:
                pass

    async def send(self) -> None:
        """Send queued frames, then the newest snapshot when the view is stale."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.outbox:
                await self.ws.send_text(self.outbox.popleft())
            if self.stale and self.seq - self.acked < IN_FLIGHT:
                self.stale = False
                await self.ws.send_text(_dumps(self._snapshot()))

    def _snapshot(self) -> dict[str, Any]:
        s = self.session
        snap = s.snapshot()
        self.seq += 1
        snap["seq"] = self.seq
        if s.config_version != self.sent_config:
            snap["config"] = s.config
            self.sent_config = s.config_version
        if s.data_version != self.sent_data:
            snap["data"] = s.data_payload()
            self.sent_data = s.data_version
        return snap


class TeachableConnection(Connection):
    """A Teachable Machine view (``/ws/teachable``): the same loop with its own session type."""

    make_session = teachable.TeachableSession
    parse = staticmethod(teachable.parse)
    apply = staticmethod(teachable.apply)
    hello = staticmethod(teachable.hello)


async def _until_one_ends(part: Any, scope: anyio.CancelScope) -> None:
    """Run one of a connection's tasks; when it ends (or fails), end the other two."""
    try:
        await part()
    except WebSocketDisconnect:
        pass
    except Exception as e:  # the page went away mid-send, or a bug: end only this tab
        log.warning("playground connection ended: %r", e)
    finally:
        scope.cancel()


def _same_origin(ws: WebSocket) -> bool:
    """Whether the page that opened the socket came from this server (no Origin: not a browser)."""
    origin = ws.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == ws.headers.get("host")


class _SecurityHeaders:
    """ASGI middleware: a content security policy and no MIME sniffing on every HTTP response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


def create_app(
    max_sessions: int = DEFAULT_MAX_SESSIONS, allowed_hosts: Sequence[str] | None = None
) -> Starlette:
    """The playground as an ASGI app (pages, static files, the WebSocket).

    ``allowed_hosts`` restricts the Host header (``serve`` passes the loopback names when it
    listens on loopback, so a DNS-rebinding page cannot reach it); None accepts any.
    """
    open_sessions = 0

    async def index(request: Any) -> FileResponse:
        return FileResponse(str(STATIC / "index.html"), headers={"Cache-Control": "no-cache"})

    def endpoint(kind: type[Connection]) -> Callable[[WebSocket], Awaitable[None]]:
        async def socket_endpoint(ws: WebSocket) -> None:
            nonlocal open_sessions
            await ws.accept()
            if not _same_origin(ws):
                await ws.send_text(
                    _dumps({"type": "error", "message": "cross-origin connection refused"})
                )
                await ws.close(1008)
                return
            if open_sessions >= max_sessions:
                message = f"too many open sessions ({max_sessions}); close another playground tab"
                await ws.send_text(_dumps({"type": "error", "message": message}))
                await ws.close(1013)
                return
            open_sessions += 1
            try:
                conn = kind(ws, kind.make_session())
                conn.post(kind.hello(max_sessions))
                async with anyio.create_task_group() as group:
                    for part in (conn.receive, conn.run, conn.send):
                        group.start_soon(_until_one_ends, part, group.cancel_scope)
            finally:
                open_sessions -= 1

        return socket_endpoint

    middleware = [Middleware(_SecurityHeaders)]
    if allowed_hosts is not None:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)))
    app = Starlette(
        routes=[
            Route("/", index),
            WebSocketRoute("/ws", endpoint(Connection)),
            WebSocketRoute("/ws/teachable", endpoint(TeachableConnection)),
            Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
        ],
        middleware=middleware,
    )
    app.state.open_sessions = lambda: open_sessions
    return app


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free port)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as e:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {e.strerror}; try --port 0") from None
    sock.listen(64)
    return sock


def _uvicorn_server(app: Starlette) -> Any:
    import uvicorn

    cfg = uvicorn.Config(
        app,
        ws_per_message_deflate=False,  # compression halves a browser's receive rate
        ws_max_size=WS_MAX_SIZE,
        log_level="warning",
        lifespan="off",
    )
    return uvicorn.Server(cfg)


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def serve(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    open_browser: bool = True,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
) -> None:
    """Run the playground until Ctrl+C; only this machine can connect unless ``host`` says so."""
    sock = _bind(host, port)
    url = _url(sock)
    if host not in LOOPBACK:
        print(f"warning: listening on {host}: other machines can reach the playground")
    print(f"neuralab playground: {url}  (Ctrl+C to stop)", flush=True)
    if open_browser:
        threading.Timer(0.5, webbrowser.open, [url]).start()
    hosts = LOOPBACK if host in LOOPBACK else None
    _uvicorn_server(create_app(max_sessions, hosts)).run(sockets=[sock])


class BackgroundServer:
    """The playground served from a thread, for tests, benchmarks and notebooks.

    ``with BackgroundServer() as server: ... server.url ...`` binds a free loopback port, waits
    until uvicorn accepts connections, and stops it (joining the thread) on exit.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, max_sessions: int = 8) -> None:
        self.sock = _bind(host, port)
        self.url = _url(self.sock)
        self.app = create_app(max_sessions, LOOPBACK if host in LOOPBACK else None)
        self.server = _uvicorn_server(self.app)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the playground server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        with contextlib.suppress(OSError):
            self.sock.close()
