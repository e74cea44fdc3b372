"""Train the tiny Vision Transformer on scikit-learn's 8×8 digits and print its test accuracy.

    python examples/train_zoo_vit.py [--epochs 40]

``vit_digits``: 2×2 patches (16 tokens and the class token), width 64, 2 pre-norm encoder layers
of 4 heads. 1,797 digits, the zoo's fixed 80/20 split (1,438 train / 359 test,
``train_test_split(seed=0)``), AdamW (weight decay 0.05) with a cosine learning-rate decay,
batches of 64, seed 0. tests/test_models_vision.py runs the same function and checks the accuracy
that docs/models/vit.md quotes.
"""

from __future__ import annotations

import argparse
import time

import neuralab as nl
from neuralab import models, nn, optim, train
from neuralab.data import digits, train_test_split
from neuralab.models.vit import VisionTransformer


def train_vit_digits(
    epochs: int = 40, seed: int = 0, verbose: int = 0
) -> tuple[VisionTransformer, float]:
    """Train ``vit_digits`` on the digits' training part; return it and its test accuracy."""
    nl.manual_seed(seed)
    X, y = digits(layout="image")
    X_train, X_test, y_train, y_test = train_test_split(X, y, ratio=0.8, seed=0)
    model = models.get_model("vit_digits")
    optimizer = optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss = nn.CrossEntropyLoss()
    train.fit(
        model, loss, optimizer, (X_train, y_train), epochs=epochs, val_data=(X_test, y_test),
        scheduler=schedule, batch_size=64, verbose=verbose,
    )  # fmt: skip
    return model, train.evaluate(model, loss, (X_test, y_test))["accuracy"]


def main() -> None:
    """Command line: prints each epoch and the final test accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40, help="passes over the training digits")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args()
    start = time.process_time()
    model, accuracy = train_vit_digits(args.epochs, args.seed, verbose=2)
    print(
        f"vit_digits: {model.num_parameters():,} parameters, test accuracy {accuracy:.2%} on "
        f"359 digits ({time.process_time() - start:.1f} s CPU)"
    )


if __name__ == "__main__":
    main()
