"""Train the convolutional autoencoder to denoise 8×8 digits and print the errors it reaches.

    python examples/train_zoo_autoencoder.py [--epochs 40] [--noise 0.5]

``conv_autoencoder`` sees each training digit with fresh Gaussian pixel noise (std ``noise``,
clipped to [0, 1]) and learns to output the clean digit (MSE). Scored on the held-out digits of the
zoo's 80/20 split (359), each with one fixed noisy copy (seed 1): the mean squared error of the
noisy input and of the denoised output, against the clean digit. Adam with a cosine decay, batches
of 32, seed 0. tests/test_models_vision.py runs the same function and checks the errors that
docs/models/autoencoder.md quotes.
"""

from __future__ import annotations

import argparse
import time

from neuralab.recipes.pixels import add_noise, train_denoiser

__all__ = ["add_noise", "train_denoiser"]


def main() -> None:
    """Command line: prints each epoch, then the noisy and the denoised error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40, help="passes over the training digits")
    parser.add_argument("--noise", type=float, default=0.5, help="std of the pixel noise")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args()
    start = time.process_time()
    model, errors = train_denoiser(args.epochs, args.noise, args.seed, verbose=2)
    noisy, denoised = errors["noisy_mse"], errors["denoised_mse"]
    print(
        f"conv_autoencoder: {model.num_parameters():,} parameters; held-out MSE against the "
        f"clean digits: noisy input {noisy:.4f}, denoised {denoised:.4f} "
        f"({denoised / noisy:.0%} of the noisy input's; {time.process_time() - start:.1f} s CPU)"
    )


if __name__ == "__main__":
    main()
