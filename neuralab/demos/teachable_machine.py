"""Teachable Machine, headless: name classes, give examples, train a small CNN, classify a new one.

The playground's Teachable Machine tab (``neuralab playground``, then the "Teachable machine"
tab) does this with your own drawings or webcam frames. This topic runs the same session class
on generated drawings — vertical lines, horizontal lines and circles — so the whole loop is
visible in the terminal: the examples, the training, per-class accuracy, the confusion matrix,
a prediction with confidence bars, and the first layer's learned filters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neuralab.demos._common import Figures, fmt_table

SUMMARY = "the Teachable Machine loop on generated drawings: classes, examples, CNN, prediction"

NAMES = ("vertical", "horizontal", "circle")


def stroke(kind: int, rng: np.random.Generator, size: int = 28, width: float = 2.2) -> np.ndarray:
    """A size × size uint8 drawing, white on black: a vertical line, horizontal line or circle."""
    yy, xx = np.mgrid[:size, :size].astype(np.float32)
    lo, hi = size * 5 / 28, size * 23 / 28
    cx, cy = rng.uniform(size * 10 / 28, size * 18 / 28, 2)
    if kind == 0:
        d = np.where((yy > lo) & (yy < hi), np.abs(xx - cx), 99)
    elif kind == 1:
        d = np.where((xx > lo) & (xx < hi), np.abs(yy - cy), 99)
    else:
        d = np.abs(np.hypot(xx - cx, yy - cy) - rng.uniform(size * 5 / 28, size * 8 / 28))
    return (np.clip(width / 2 + 0.5 - d, 0, 1) * 255).astype(np.uint8)


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Train the Teachable Machine session on generated drawings and classify new ones."""
    import neuralab.viz as viz
    from neuralab.playground.teachable import SIZE, TeachableSession

    rng = np.random.default_rng(0)
    per_class = 8 if quick else 15
    session = TeachableSession(seed=0)
    session.add_class()
    for k, name in enumerate(NAMES):
        session.rename_class(k, name)
        session.add_examples(k, [stroke(k, rng, SIZE) for _ in range(per_class)])
    session.configure({"epochs": 30 if quick else 50})
    print(f"Classes {', '.join(NAMES)}: {per_class} drawn examples each; training a small CNN...")
    session.train()
    while session.playing:
        session.run_for(0.05)
    metrics = session.metrics()
    train, test = metrics["train"], metrics["test"]
    print(f"after {session.epoch} epochs: training accuracy {train['acc']:.0%}", end="")
    if test["acc"] is not None:
        print(f", held-out accuracy {test['acc']:.0%}")
    per_class_rows = [
        [n, f"{a:.0%}" if a is not None else "-"] for n, a in zip(NAMES, train["perClass"])
    ]
    print(fmt_table(["class", "training accuracy"], per_class_rows))
    print("confusion matrix (rows: true class, columns: predicted):")
    print(
        fmt_table(["", *NAMES], [[n, *map(str, row)] for n, row in zip(NAMES, train["confusion"])])
    )
    correct = 0
    for k, name in enumerate(NAMES):
        probs = session.predict(stroke(k, rng, SIZE))
        correct += int(probs.argmax() == k)
        bars = "  ".join(f"{n} {'█' * round(p * 20):<20} {p:.2f}" for n, p in zip(NAMES, probs))
        print(f"a new {name} drawing -> {bars}")
    figures = Figures(out)
    weight = session.model[0].weight.numpy()
    figures.save("teachable_machine_filters.png", lambda p: viz.plot_filters(weight, path=p))
    print("Try it with your own drawings or webcam: neuralab playground, 'Teachable machine' tab.")
    return {
        "train_accuracy": train["acc"],
        "test_accuracy": test["acc"],
        "new_correct": correct,
        "figures": figures.paths,
    }
