"""The playground: watch a network learn in the browser, trained by neuralab.

``neuralab playground`` (or :func:`serve`) starts a local web app with the TensorFlow
Playground's controls and more (loss menu, optimizers, dropout, gradient and unit-health
views, your own data, presets, export). The page is static files in ``static/``; the server
(:mod:`~neuralab.playground.server`, Starlette + uvicorn) keeps one :class:`Session` per tab
and streams snapshots over a WebSocket (:mod:`~neuralab.playground.protocol`).
See docs/playground.md.

The web server needs the ``playground`` extra (starlette, uvicorn, websockets); the session
and protocol modules do not.
"""

from __future__ import annotations

from typing import Any

from neuralab.playground.session import Session

__all__ = ["Session", "serve"]


def serve(**kwargs: Any) -> None:
    """Run the playground server (see :func:`neuralab.playground.server.serve`)."""
    from neuralab.playground.server import serve as run

    run(**kwargs)
