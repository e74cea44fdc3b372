"""Train the zoo's GANs and print what they generate.

    python examples/train_zoo_gan.py ring      # 8 Gaussians on a circle: samples per mode
    python examples/train_zoo_gan.py digits    # 8×8 digits: how many a classifier is sure of

``ring``: ``mlp_gan`` learns ``ring_of_gaussians`` (8 modes on a circle of radius 2, std 0.05,
20,000 points) in 5,000 steps of 512 points, Adam lr 1e-3; 1,000 samples are then assigned to their
nearest mode, counting only those within 3 std (0.15) of it. Every mode should get at least 5 %.

``digits``: ``digits_gan`` learns scikit-learn's 1,797 8×8 digits in 10,000 steps of 64 digits,
Adam lr 3e-3 decayed to 0 along a cosine. 1,000 samples are then labelled by the zoo's MLP digit
classifier (``examples/train_zoo_digits.py mlp``: 98.9 % test accuracy); the score is the share it
labels with a confidence (softmax probability) of at least 0.9.

Both: ``train_gan`` alternates one discriminator and one generator step, Adam with DCGAN's betas
(0.5, 0.999), seed 0. tests/test_models_vision.py runs the same functions and checks what
docs/models/gan.md quotes.
"""

from __future__ import annotations

import argparse
import time

from neuralab.recipes.pixels import train_digits_gan, train_ring_gan

__all__ = ["train_digits_gan", "train_ring_gan"]


def main() -> None:
    """Command line: which GAN; prints what its samples score."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", choices=["ring", "digits"])
    parser.add_argument("--steps", type=int, help="alternating steps (default: the recipe's)")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args()
    start = time.process_time()
    kwargs = {"seed": args.seed} | ({"steps": args.steps} if args.steps else {})
    if args.data == "ring":
        gan, counts = train_ring_gan(**kwargs)
        print(
            f"mlp_gan: {gan.num_parameters():,} parameters; of 1,000 samples, within 3 std of "
            f"each of the 8 modes: {counts.tolist()} (fewest {counts.min() / 1000:.1%})"
        )
    else:
        gan, result = train_digits_gan(**kwargs)
        print(
            f"digits_gan: {gan.num_parameters():,} parameters; {result['confident']:.1%} of 1,000 "
            f"samples labelled with confidence >= 0.9, per digit 0-9: {result['classes'].tolist()}"
        )
    print(f"({time.process_time() - start:.1f} s CPU)")


if __name__ == "__main__":
    main()
