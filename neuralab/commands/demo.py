"""``neuralab demo``: the lecture's lessons, one topic at a time (see neuralab.demos), or a tour."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

TOUR_LINE = "a short tour of the main topics (about half a minute)"


def _topic_lines() -> list[str]:
    """One line per topic, name and summary, and one for the tour."""
    from neuralab.demos import topics

    entries = {**topics(), "tour": TOUR_LINE}
    return [f"{name:<20}{summary}" for name, summary in entries.items()]


def add_arguments(sub: Any) -> None:
    """Register the demo sub-command."""
    demo = sub.add_parser(
        "demo",
        help="run the lecture's demonstrations: one per topic, or 'tour'",
        description=(
            "Show one lesson of the lecture: print what it demonstrates and write its figures "
            "(PNG) to --out. 'neuralab demo tour' runs the main topics in about half a minute; "
            "'neuralab demo --list' lists the topics."
        ),
        epilog="topics:\n" + "\n".join("  " + line for line in _topic_lines()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("topic", nargs="?", metavar="TOPIC", help="a topic (see --list) or 'tour'")
    demo.add_argument(
        "prompt",
        nargs="*",
        metavar="PROMPT",
        help='for topics that take one: the prompt, e.g. neuralab demo text-to-image "a seven"',
    )
    demo.add_argument(
        "--negative",
        metavar="PROMPT",
        help="for topics that take a prompt: a negative prompt to steer away from",
    )
    demo.add_argument("--list", action="store_true", help="list the topics, one line each")
    demo.add_argument(
        "--out",
        default="runs/demo",
        metavar="DIR",
        help="folder for the figures (default: runs/demo)",
    )
    demo.add_argument("--quick", action="store_true", help="smaller, faster runs (for tests)")
    demo.set_defaults(func=demo_command)


def _prompt_options(args: argparse.Namespace) -> dict[str, str]:
    """``prompt=`` and ``negative=`` for the topic, if given; an error if it takes no prompt."""
    import inspect

    from neuralab import demos

    options = {"prompt": " ".join(args.prompt)} if args.prompt else {}
    if args.negative is not None:
        options["negative"] = args.negative
    takes = [
        name
        for name, module in demos.TOPICS.items()
        if "prompt" in inspect.signature(module.run).parameters
    ]
    if options and args.topic not in takes:
        given = f"{options['prompt']!r}" if "prompt" in options else "--negative"
        raise ValueError(
            f"topic {args.topic!r} takes no prompt (got {given}); topics that do: "
            f"{', '.join(takes) or 'none'}"
        )
    return options


def demo_command(args: argparse.Namespace) -> int:
    """List the topics, run one, or run the tour."""
    from neuralab import demos

    if args.list or args.topic is None:
        print("\n".join(_topic_lines()))
        if not args.list:
            print(
                "\nrun one with 'neuralab demo TOPIC', or all the main ones: 'neuralab demo tour'"
            )
        return 0
    if args.topic != "tour" and args.topic not in demos.TOPICS:
        raise ValueError(
            f"unknown topic {args.topic!r}; choose one of: {', '.join(demos.TOPICS)}, tour "
            "(see 'neuralab demo --list')"
        )
    options = _prompt_options(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a folder for the figures")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(f"--out {out}: cannot create the folder ({e.strerror})") from e
    if args.topic == "tour":
        demos.tour(out, quick=args.quick)
    else:
        print(f"neuralab demo {args.topic}: {demos.TOPICS[args.topic].SUMMARY}\n", flush=True)
        demos.run(args.topic, out, quick=args.quick, **options)
    return 0
