"""The lecture's lessons as runnable demonstrations, one module per topic.

Each topic module has a one-line ``SUMMARY`` and ``run(out, quick=False) -> dict``: it prints
what it shows, writes its figures (PNG, drawn with :mod:`neuralab.viz`) into the folder ``out``
and returns the numbers it found (and ``"figures"``, the paths written), so tests can check
that the lesson holds. ``quick=True`` runs smaller versions in a few seconds.

::

    from pathlib import Path
    from neuralab import demos

    demos.run("gradient-descent", Path("runs/demo"))["updates"]   # [7.2, 5.76, 4.608]
    demos.tour(Path("runs/demo"))                                  # several topics in a row

The command line is ``neuralab demo TOPIC [--out DIR] [--quick]``, ``neuralab demo tour`` and
``neuralab demo --list``. See docs/demos.md.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import ModuleType
from typing import Any

from neuralab.demos import (
    activations,
    alexnet,
    augmentation,
    autoencoder,
    backprop,
    chat,
    detection,
    game_agent,
    gan,
    gradient_descent,
    lenet,
    losses,
    minibatch,
    neuron,
    nonlinearity,
    overfitting,
    resnet,
    rnn,
    seq2seq,
    teachable_machine,
    text_to_image,
    transformer,
    tuning,
    vanishing_gradient,
)
from neuralab.parallel import single_threaded_blas

__all__ = ["TOPICS", "TOUR", "run", "topics", "tour"]

TOPICS: dict[str, ModuleType] = {
    "gradient-descent": gradient_descent,
    "neuron": neuron,
    "activations": activations,
    "losses": losses,
    "nonlinearity": nonlinearity,
    "backprop": backprop,
    "overfitting": overfitting,
    "augmentation": augmentation,
    "vanishing-gradient": vanishing_gradient,
    "minibatch": minibatch,
    "tuning": tuning,
    "lenet": lenet,
    "alexnet": alexnet,
    "resnet": resnet,
    "rnn": rnn,
    "seq2seq": seq2seq,
    "autoencoder": autoencoder,
    "transformer": transformer,
    "gan": gan,
    "game-agent": game_agent,
    "detection": detection,
    "chat": chat,
    "text-to-image": text_to_image,
    "teachable-machine": teachable_machine,
}
"""Every topic by its command-line name, in the lecture's order."""

TOUR = (
    "gradient-descent",
    "neuron",
    "nonlinearity",
    "overfitting",
    "vanishing-gradient",
    "tuning",
)
"""The topics :func:`tour` runs: the lecture's main line, about half a minute in all."""


def topics() -> dict[str, str]:
    """Each topic's name and its one-line summary."""
    return {name: module.SUMMARY for name, module in TOPICS.items()}


def run(
    topic: str, out: Path | str = "runs/demo", quick: bool = False, **options: Any
) -> dict[str, Any]:
    """Run one topic: print what it shows, write its figures to ``out``, return its numbers.

    ``options`` go to topics that take them, e.g. ``prompt=`` and ``negative=`` for
    text-to-image.
    """
    if topic not in TOPICS:
        raise ValueError(
            f"unknown demo topic {topic!r}; choose one of: {', '.join(TOPICS)} (or 'tour')"
        )
    with single_threaded_blas():  # small matrices: BLAS threads waiting on each other cost more
        return TOPICS[topic].run(Path(out), quick=quick, **options)


def tour(out: Path | str = "runs/demo", quick: bool = False) -> dict[str, dict[str, Any]]:
    """Run the :data:`TOUR` topics one after another, with a progress line before each."""
    results: dict[str, dict[str, Any]] = {}
    start = time.perf_counter()
    for i, name in enumerate(TOUR, start=1):
        print(f"\n[{i}/{len(TOUR)}] {name}: {TOPICS[name].SUMMARY}", flush=True)
        began = time.perf_counter()
        results[name] = run(name, out, quick=quick)
        print(f"[{i}/{len(TOUR)}] {name} done in {time.perf_counter() - began:.1f} s", flush=True)
    figures = sum(len(r["figures"]) for r in results.values())
    print(
        f"\nTour finished in {time.perf_counter() - start:.0f} s; {figures} figures in {out}. "
        f"More topics ({', '.join(n for n in TOPICS if n not in TOUR)}): neuralab demo --list"
    )
    return results
