"""``neuralab chat``: talk to a miniature GPT trained on questions about a toy world.

The model (:mod:`neuralab.apps.chat`) is loaded from ``--model``; if that file does not exist,
or with ``--train``, one is trained first (about half a minute) and saved there. Questions are
read from standard input one line at a time — typed at a ``you>`` prompt, or piped — and each
answer is printed on its own line of standard output. Everything else (training progress, the
greeting, notes about unknown words) goes to standard error, so piped output is only answers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuralab.commands import DefaultsHelpFormatter

if TYPE_CHECKING:
    import numpy as np

    from neuralab.apps.chat import ChatBot

EXIT_WORDS = frozenset({"exit", "quit"})


def add_arguments(sub: Any) -> None:
    """Register the chat sub-command."""
    from neuralab.apps.chat import DEFAULT_PATH

    cmd = sub.add_parser(
        "chat",
        help="ask a miniature GPT about arithmetic and a toy world of shapes",
        description=(
            "Chat with TinyGPT, a decoder-only transformer trained by neuralab on generated "
            "questions: arithmetic ('what is 3 plus 4?'), comparisons ('which is bigger, 2 or "
            "9?') and facts about a dozen shapes ('what colour is the star?', 'how many cubes "
            "are there?'). Trains and saves a model first if --model does not exist. Reads "
            "questions from standard input (typed or piped) and prints one answer per line; "
            "'exit', 'quit' or end of input stops."
        ),
        epilog="example: echo 'what is 3 plus 4?' | neuralab chat",
        formatter_class=DefaultsHelpFormatter,
    )
    cmd.add_argument("--model", default=str(DEFAULT_PATH), help="model file to load or create")
    cmd.add_argument("--train", action="store_true", help="train a new model even if one exists")
    cmd.add_argument("--steps", type=int, default=1500, help="training steps (with training)")
    cmd.add_argument("--seed", type=int, default=0, help="seed of the world, training, sampling")
    cmd.add_argument(
        "--temperature", type=float, default=0.0,
        help="0 answers with the most likely tokens; above 0 samples, more varied as it grows",
    )  # fmt: skip
    cmd.add_argument(
        "--top-k", type=int, default=None, help="sample only among the k most likely tokens"
    )
    cmd.set_defaults(func=chat_command)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _questions(interactive: bool) -> Iterator[str]:
    """Lines typed at a ``you>`` prompt, or read from a pipe, until end of input."""
    if not interactive:
        yield from sys.stdin
        return
    while True:
        try:
            yield input("you> ")
        except EOFError:
            print(file=sys.stderr)
            return


def chat_command(args: argparse.Namespace) -> int:
    """Load or train the model, then answer questions from standard input."""
    if args.temperature < 0:
        raise ValueError(f"--temperature must be >= 0, got {args.temperature}")
    if args.top_k is not None and args.top_k < 1:
        raise ValueError(f"--top-k must be at least 1, got {args.top_k}")
    if args.steps < 1:
        raise ValueError(f"--steps must be at least 1, got {args.steps}")
    import numpy as np
    from threadpoolctl import threadpool_limits

    from neuralab.apps import chat

    path = Path(args.model)
    if path.is_dir():
        raise ValueError(
            f"--model {path} is a folder; give a file such as {path / 'model.safetensors'}"
        )
    with threadpool_limits(limits=1, user_api="blas"):  # small matrices: threads only cost CPU
        if args.train or not path.exists():
            corpus = chat.make_corpus(args.seed)
            _say(
                f"training TinyGPT on {len(corpus.train)} questions ({args.steps} steps), "
                f"holding out {len(corpus.test)}; saving to {path}"
            )
            bot, _ = chat.train_chat(
                corpus, steps=args.steps, seed=args.seed, eval_every=max(1, args.steps // 5),
                report=_say,
            )  # fmt: skip
            bot.save(path)
        else:
            bot = chat.ChatBot.load(path)
        _greet(bot)
        rng = np.random.default_rng(args.seed)
        for line in _questions(sys.stdin.isatty()):
            question = line.strip()
            if question.lower() in EXIT_WORDS:
                break
            if question:
                print(_answer(bot, question, args, rng), flush=True)
    return 0


def _greet(bot: ChatBot) -> None:
    """Say what the model is and what it can be asked."""
    from neuralab.apps.chat import EXAMPLES, SHAPES

    score = bot.meta.get("test_accuracy")
    scored = f", {score:.0%} right on held-out questions" if score is not None else ""
    _say(
        f"TinyGPT ({bot.model.num_parameters():,} parameters{scored}) knows numbers 0-9 and the "
        f"shapes {', '.join(SHAPES)}.\n"
        f"Ask e.g. {', '.join(map(repr, EXAMPLES))} ('exit' quits)."
    )


def _answer(bot: ChatBot, question: str, args: argparse.Namespace, rng: np.random.Generator) -> str:
    """The bot's answer, after a note on stderr about words it has never seen."""
    from neuralab.apps.chat import normalize

    unknown = bot.tokenizer.unknown(normalize(question))
    if unknown:
        _say(f"(never seen: {', '.join(repr(w) for w in unknown)}; the answer is a guess)")
    try:
        answer = bot.ask(question, args.temperature, args.top_k, rng)
    except ValueError:  # longer than the model's context
        return "(that question is too long for me)"
    return answer or "(no answer)"
