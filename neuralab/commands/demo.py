"""``neuralab demo``: a short end-to-end training run that shows progress and a result."""

from __future__ import annotations

import argparse
from typing import Any


def add_arguments(sub: Any) -> None:
    """Register the demo sub-command."""
    demo = sub.add_parser(
        "demo",
        help="train a small network end to end and print its progress",
        description=(
            "Train a multilayer perceptron on the TensorFlow Playground's circle dataset "
            "(a disc of one class inside a ring of the other) with mini-batch Adam, showing "
            "loss and accuracy as it learns."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    demo.add_argument("--epochs", type=int, default=100, help="passes over the training data")
    demo.add_argument("--hidden", type=int, default=8, help="neurons per hidden layer")
    demo.add_argument("--lr", type=float, default=0.03, help="learning rate")
    demo.add_argument("--batch-size", type=int, default=10, help="examples per mini-batch")
    demo.add_argument("--samples", type=int, default=500, help="points generated in total")
    demo.add_argument("--noise", type=float, default=0.1, help="label noise, 0 to 0.5")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.set_defaults(func=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    """Train a 2-H-H-1 tanh network on circle data; print per-epoch progress and test accuracy."""
    import numpy as np

    import neuralab as nl
    from neuralab import nn, optim, train
    from neuralab.data import circle, train_test_split

    for name in ("epochs", "hidden", "batch_size", "samples"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
    nl.manual_seed(args.seed)
    X, y = circle(n=args.samples, noise=args.noise, seed=args.seed, labels="01")
    X_train, X_test, y_train, y_test = train_test_split(X, y, ratio=0.5, seed=args.seed)
    model = nn.Sequential(
        nn.Linear(2, args.hidden), nn.Tanh(),
        nn.Linear(args.hidden, args.hidden), nn.Tanh(),
        nn.Linear(args.hidden, 1),
    )  # fmt: skip
    print(
        f"neuralab demo: MLP 2-{args.hidden}-{args.hidden}-1 (tanh) on the circle dataset "
        f"({len(X_train)} train / {len(X_test)} test points, noise {args.noise}), "
        f"Adam lr {args.lr}, batch {args.batch_size}"
    )
    loss = nn.BCEWithLogitsLoss()
    history = train.fit(
        model, loss, optim.Adam(model.parameters(), lr=args.lr),
        (X_train, y_train.reshape(-1, 1)), epochs=args.epochs, batch_size=args.batch_size,
        val_data=(X_test, y_test.reshape(-1, 1)), verbose=1,
    )  # fmt: skip
    scores = train.evaluate(model, loss, (X_test, y_test.reshape(-1, 1)))
    print(
        f"after {len(history.epoch)} epochs: test loss {scores['loss']:.4f}, "
        f"test accuracy {scores['accuracy']:.1%} (chance is about {np.mean(y_test > 0.5):.0%})"
    )
    return 0
