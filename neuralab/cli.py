"""The ``neuralab`` command."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence


def _demo(args: argparse.Namespace) -> int:
    """Train a small network on the Playground's circle data and report what it learned."""
    import numpy as np

    import neuralab as nl
    from neuralab import nn, optim
    from neuralab.data import circle

    nl.manual_seed(args.seed)
    X, y = circle(n=args.samples, noise=args.noise, seed=args.seed, labels="01")
    split = len(X) // 2
    X_train, y_train = nl.tensor(X[:split]), nl.tensor(y[:split]).reshape(-1, 1)
    X_test, y_test = nl.tensor(X[split:]), nl.tensor(y[split:]).reshape(-1, 1)
    model = nn.Sequential(
        nn.Linear(2, args.hidden), nn.Tanh(),
        nn.Linear(args.hidden, args.hidden), nn.Tanh(),
        nn.Linear(args.hidden, 1),
    )  # fmt: skip
    opt = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.BCEWithLogitsLoss()

    def accuracy(inputs: nl.Tensor, targets: nl.Tensor) -> float:
        with nl.no_grad():
            return float(((model(inputs).numpy() > 0) == (targets.numpy() > 0.5)).mean())

    print(
        f"neuralab demo: MLP 2-{args.hidden}-{args.hidden}-1 (tanh) on the circle dataset "
        f"({split} train / {len(X) - split} test points, noise {args.noise}), Adam lr {args.lr}"
    )
    start = time.perf_counter()
    batch = args.batch_size
    rng = np.random.default_rng(args.seed)
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(split)
        total = 0.0
        for i in range(0, split, batch):
            idx = order[i : i + batch]
            opt.zero_grad()
            loss = loss_fn(model(X_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        if epoch == 1 or epoch % max(1, args.epochs // 10) == 0 or epoch == args.epochs:
            print(
                f"epoch {epoch:4d}/{args.epochs}  loss {total / split:.4f}  "
                f"train acc {accuracy(X_train, y_train):6.1%}  "
                f"test acc {accuracy(X_test, y_test):6.1%}"
            )
    test_acc = accuracy(X_test, y_test)
    print(f"done in {time.perf_counter() - start:.1f}s: test accuracy {test_acc:.1%}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="neuralab",
        description="neuralab: deep learning from first principles on NumPy.",
        epilog="Run 'neuralab COMMAND --help' for the options of a command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="train a small network end to end and print its progress",
        description=(
            "Train a multilayer perceptron on the TensorFlow Playground's circle dataset "
            "(a disc of one class inside a ring of the other) with mini-batch Adam, printing "
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
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``neuralab`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    for name in ("epochs", "hidden", "batch_size", "samples"):
        if getattr(args, name, 1) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
