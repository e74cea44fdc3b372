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

import numpy as np

import neuralab as nl
from neuralab import models, nn, optim, train
from neuralab.data import DataLoader, TensorDataset, digits, train_test_split
from neuralab.models.autoencoder import ConvAutoencoder


def add_noise(images: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    """``images`` plus Gaussian noise of ``std``, clipped back to [0, 1] (float32)."""
    noisy = images + std * rng.standard_normal(images.shape, dtype=np.float32)
    return np.clip(noisy, 0.0, 1.0)


def train_denoiser(
    epochs: int = 40, noise: float = 0.5, seed: int = 0, verbose: int = 0
) -> tuple[ConvAutoencoder, dict[str, float]]:
    """Train ``conv_autoencoder`` to denoise digits; return it and the held-out errors
    ``noisy_mse`` (noisy input vs clean) and ``denoised_mse`` (output vs clean)."""
    nl.manual_seed(seed)
    X, _ = digits(layout="image")
    X_train, X_test = train_test_split(X, ratio=0.8, seed=0)
    X_test_noisy = add_noise(X_test, noise, np.random.default_rng(1))
    model = models.get_model("conv_autoencoder")
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    train_data = DataLoader(
        TensorDataset(X_train, X_train), batch_size=32, shuffle=True,
        transform=lambda x, rng: add_noise(x.numpy(), noise, rng),
    )  # fmt: skip
    train.fit(
        model, nn.MSELoss(), optimizer, train_data, epochs=epochs, scheduler=schedule,
        metrics=(), verbose=verbose,
    )  # fmt: skip
    denoised = train.predict(model, X_test_noisy)
    return model, {
        "noisy_mse": float(np.mean((X_test_noisy - X_test) ** 2)),
        "denoised_mse": float(np.mean((denoised - X_test) ** 2)),
    }


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
