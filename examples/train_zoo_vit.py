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

from neuralab.recipes.images import train_vit_digits

__all__ = ["train_vit_digits"]


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
