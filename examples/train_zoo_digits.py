"""Train a model of the zoo on scikit-learn's handwritten digits and print its test accuracy.

    python examples/train_zoo_digits.py lenet5        # or mlp, alexnet_small, resnet_cifar

1,797 digits, a fixed 80/20 split (1,438 train / 359 test, ``train_test_split(seed=0)``), Adam
with a cosine learning-rate decay, batches of 32, seed 0. Each model's recipe (input size, builder
arguments, epochs, learning rate) is in RECIPES; tests/test_models_cnn.py runs the same function
and checks the accuracy that docs/models/*.md quote.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from typing import Any

import neuralab as nl
from neuralab import models, nn, optim, train
from neuralab.data import digits, train_test_split


@dataclass(frozen=True)
class Recipe:
    """How one zoo model is trained on digits."""

    kwargs: dict[str, Any] = field(default_factory=dict)
    size: int = 8  # 8 is the native resolution; LeNet-5 and AlexNet get 32×32
    layout: str = "image"
    epochs: int = 10
    lr: float = 2e-3


RECIPES = {
    "mlp": Recipe(
        {"in_features": 64, "width": 128, "depth": 2, "dropout": 0.1, "batch_norm": True},
        layout="flat",
        epochs=20,
    ),
    "lenet5": Recipe(size=32, epochs=20),
    "alexnet_small": Recipe({"in_channels": 1, "width": 8, "dropout": 0.2}, size=32, epochs=15),
    "resnet_cifar": Recipe({"depth": 20, "in_channels": 1, "width": 16}, epochs=6),
}


def train_on_digits(name: str, verbose: int = 0, seed: int = 0) -> tuple[nl.nn.Module, float]:
    """Build zoo model ``name``, train it by its recipe; return it and its test accuracy."""
    recipe = RECIPES[name]
    nl.manual_seed(seed)
    X, y = digits(layout=recipe.layout, size=recipe.size)
    X_train, X_test, y_train, y_test = train_test_split(X, y, ratio=0.8, seed=seed)
    model = models.get_model(name, num_classes=10, **recipe.kwargs)
    optimizer = optim.Adam(model.parameters(), lr=recipe.lr)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=recipe.epochs)
    loss = nn.CrossEntropyLoss()
    train.fit(
        model, loss, optimizer, (X_train, y_train), epochs=recipe.epochs,
        val_data=(X_test, y_test), scheduler=schedule, batch_size=32, verbose=verbose,
    )  # fmt: skip
    return model, train.evaluate(model, loss, (X_test, y_test))["accuracy"]


def main() -> None:
    """Command line: the model's name; prints each epoch and the final test accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=sorted(RECIPES))
    args = parser.parse_args()
    start = time.process_time()
    model, accuracy = train_on_digits(args.model, verbose=2)
    params = sum(p.numel() for p in model.parameters())
    print(
        f"{args.model}: {params:,} parameters, test accuracy {accuracy:.2%} on 359 digits "
        f"({time.process_time() - start:.1f} s CPU)"
    )


if __name__ == "__main__":
    main()
