"""The ``neuralab`` command: one sub-command per job, each with a ``--help`` that teaches it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from neuralab.commands import chat, demo, export, info, playground, train


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per job."""
    parser = _Parser(
        prog="neuralab",
        description=(
            "neuralab: deep learning from first principles on NumPy. Train networks, "
            "evaluate and use them, and run the lecture's demonstrations."
        ),
        epilog="Run 'neuralab COMMAND --help' for the options of a command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    demo.add_arguments(sub)
    train.add_arguments(sub)
    export.add_arguments(sub)
    info.add_arguments(sub)
    playground.add_arguments(sub)
    chat.add_arguments(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``neuralab`` command."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # words after options: part of a prompt (neuralab demo chat --quick "2 + 2?")
        if isinstance(getattr(args, "prompt", None), list) and not any(
            e.startswith("-") for e in extra
        ):
            args.prompt = [*args.prompt, *extra]
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("neuralab: interrupted", file=sys.stderr)
        return 130
    except (ValueError, KeyError, FileNotFoundError, IsADirectoryError, PermissionError) as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"neuralab {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
