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

from neuralab.recipes.images import RECIPES, train_on_digits

__all__ = ["RECIPES", "train_on_digits"]


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
