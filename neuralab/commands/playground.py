"""``neuralab playground``: the TensorFlow Playground and more, trained by neuralab."""

from __future__ import annotations

import argparse
from typing import Any

from neuralab.commands import DefaultsHelpFormatter


def add_arguments(sub: Any) -> None:
    """Register the playground sub-command."""
    cmd = sub.add_parser(
        "playground",
        help="start the playground web app: watch a network learn in the browser",
        description=(
            "Start a local web app with the TensorFlow Playground's controls and more (loss "
            "menu, optimizers, dropout, gradient and unit-health views, your own data, lecture "
            "presets, export to a model file and a Python script). Training runs in this "
            "process with neuralab. Only this machine can connect unless --host says otherwise."
        ),
        formatter_class=DefaultsHelpFormatter,
    )
    cmd.add_argument("--host", default="127.0.0.1", help="address to listen on")
    cmd.add_argument("--port", type=int, default=8765, help="port (0: any free port)")
    cmd.add_argument("--no-browser", action="store_true", help="do not open a browser tab on start")
    cmd.add_argument("--max-sessions", type=int, default=8, help="browser tabs served at once")
    cmd.set_defaults(func=playground_command)


def playground_command(args: argparse.Namespace) -> int:
    """Serve the playground until Ctrl+C."""
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be 0 to 65535, got {args.port}")
    if args.max_sessions < 1:
        raise ValueError(f"--max-sessions must be at least 1, got {args.max_sessions}")
    from neuralab.playground import serve

    try:
        serve(
            host=args.host,
            port=args.port,
            open_browser=not args.no_browser,
            max_sessions=args.max_sessions,
        )
    except (OSError, ImportError) as e:  # the port is taken, or the web extra is missing
        raise ValueError(str(e)) from None
    return 0
