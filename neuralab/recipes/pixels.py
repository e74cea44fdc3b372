"""Zoo models that output images or points: SegNet on scenes, the denoising autoencoder on
digits, and the GANs (the ring of Gaussians, the digits) — the recipes the docs quote."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

import neuralab as nl
from neuralab import models, nn, optim, train
from neuralab.data import SCENE_CLASSES, digits, scenes, train_test_split
from neuralab.models.autoencoder import ConvAutoencoder
from neuralab.models.gan import GAN, mode_counts, ring_centres, ring_of_gaussians, train_gan
from neuralab.models.segnet import SegNet, iou_per_class
from neuralab.nn.utils import eval_mode
from neuralab.train import Callback

__all__ = [
    "RING_STD",
    "SCENE_SIZE",
    "FreshScenes",
    "add_noise",
    "digit_split",
    "held_out_scenes",
    "train_denoiser",
    "train_digits_gan",
    "train_ring_gan",
    "train_segnet_scenes",
]

SCENE_SIZE = 32
RING_STD = 0.05


class FreshScenes:
    """Training data for ``fit`` that never repeats: each pass is ``n`` new scenes, in batches."""

    def __init__(self, n: int, batch_size: int, first_seed: int = 1000) -> None:
        self.n, self.batch_size, self.next_seed = n, batch_size, first_seed

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[nl.Tensor, nl.Tensor]]:
        images, masks = scenes(self.n, SCENE_SIZE, seed=self.next_seed)
        self.next_seed += 1
        for i in range(0, self.n, self.batch_size):
            yield (
                nl.tensor(images[i : i + self.batch_size]),
                nl.tensor(masks[i : i + self.batch_size]),
            )


def held_out_scenes(n: int = 200) -> tuple[nl.Tensor, np.ndarray]:
    """The scenes (seed 1) every SegNet score in the docs is measured on: images, masks."""
    images, masks = scenes(n, SCENE_SIZE, seed=1)
    return nl.tensor(images), masks


def train_segnet_scenes(
    epochs: int = 120,
    scenes_per_epoch: int = 128,
    batch_size: int = 4,
    seed: int = 0,
    verbose: int = 0,
    name: str = "segnet_scenes",
    callbacks: Sequence[Callback] = (),
) -> tuple[SegNet, np.ndarray]:
    """Train SegNet ``name`` on fresh scenes; return it and its IoU of each class
    (``SCENE_CLASSES``) on the 200 held-out ones, whose mean is the mean IoU."""
    nl.manual_seed(seed)
    model = models.get_model(name)
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    data = FreshScenes(scenes_per_epoch, batch_size)
    train.fit(
        model, nn.CrossEntropyLoss(), optimizer, data, epochs=epochs, scheduler=schedule,
        metrics=(), verbose=verbose, callbacks=list(callbacks),
    )  # fmt: skip
    return model, segmentation_iou(model)


def segmentation_iou(model: SegNet) -> np.ndarray:
    """The model's IoU of each scene class on the 200 held-out scenes."""
    images, masks = held_out_scenes()
    return iou_per_class(model.predict(images), masks, len(SCENE_CLASSES))


def add_noise(images: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    """``images`` plus Gaussian noise of ``std``, clipped back to [0, 1] (float32)."""
    noisy = images + std * rng.standard_normal(images.shape, dtype=np.float32)
    return np.clip(noisy, 0.0, 1.0)


def digit_split() -> tuple[np.ndarray, np.ndarray]:
    """The zoo's 80/20 split of the 8×8 digit images (seed 0): training and held-out images."""
    X, _ = digits(layout="image")
    X_train, X_test = train_test_split(X, ratio=0.8, seed=0)
    return X_train, X_test


def denoising_errors(model: ConvAutoencoder, noise: float = 0.5) -> dict[str, float]:
    """Held-out MSE against the clean digits: of the noisy input (one fixed noisy copy, seed 1)
    and of the model's output."""
    _, X_test = digit_split()
    noisy = add_noise(X_test, noise, np.random.default_rng(1))
    denoised = train.predict(model, noisy)
    return {
        "noisy_mse": float(np.mean((noisy - X_test) ** 2)),
        "denoised_mse": float(np.mean((denoised - X_test) ** 2)),
    }


def train_denoiser(
    epochs: int = 40,
    noise: float = 0.5,
    seed: int = 0,
    verbose: int = 0,
    limit: int | None = None,
    callbacks: Sequence[Callback] = (),
) -> tuple[ConvAutoencoder, dict[str, float]]:
    """Train ``conv_autoencoder`` to denoise digits (fresh noise of std ``noise`` every time;
    the first ``limit`` training digits if given); return it and the held-out errors
    ``noisy_mse`` and ``denoised_mse``."""
    nl.manual_seed(seed)
    X_train = digit_split()[0][:limit]
    model = models.get_model("conv_autoencoder")
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    train_data = nl.data.DataLoader(
        nl.data.TensorDataset(X_train, X_train), batch_size=32, shuffle=True,
        transform=lambda x, rng: add_noise(x.numpy(), noise, rng),
    )  # fmt: skip
    train.fit(
        model, nn.MSELoss(), optimizer, train_data, epochs=epochs, scheduler=schedule,
        metrics=(), verbose=verbose, callbacks=list(callbacks),
    )  # fmt: skip
    return model, denoising_errors(model, noise)


def ring_modes(gan: GAN) -> np.ndarray:
    """How many of 1,000 samples lie within 3 std of each of the ring's 8 modes."""
    return mode_counts(gan.sample(1000), ring_centres(), max_distance=3 * RING_STD)


def train_ring_gan(steps: int = 5000, seed: int = 0) -> tuple[GAN, np.ndarray]:
    """Train ``mlp_gan`` on the ring of 8 Gaussians (batches of 512, Adam lr 1e-3); return it
    and the number of its 1,000 samples within 3 std of each mode."""
    nl.manual_seed(seed)
    gan = models.get_model("mlp_gan")
    data = ring_of_gaussians(20_000, std=RING_STD, seed=seed)
    train_gan(gan, data, steps, batch_size=512, seed=seed)
    return gan, ring_modes(gan)


def confident_digits(gan: GAN, classifier: nn.Module) -> dict:
    """How ``classifier`` sees 1,000 samples: ``confident`` (share labelled with probability
    ≥ 0.9) and ``classes`` (how many of those confident ones per digit)."""
    with eval_mode(classifier):
        probs = classifier(gan.sample(1000).reshape(1000, 64)).softmax(dim=-1).numpy()
    confident = probs.max(axis=1) >= 0.9
    return {
        "confident": float(confident.mean()),
        "classes": np.bincount(probs.argmax(axis=1)[confident], minlength=10),
    }


def train_digits_gan(steps: int = 10_000, seed: int = 0) -> tuple[GAN, dict]:
    """Train ``digits_gan`` on the 8×8 digits (batches of 64, Adam lr 3e-3 with a cosine
    decay); return it and how the zoo's MLP digit classifier sees 1,000 of its samples."""
    from neuralab.recipes.images import train_on_digits

    classifier, _ = train_on_digits("mlp")
    nl.manual_seed(seed)
    gan = models.get_model("digits_gan")
    images, _ = digits(layout="image")
    train_gan(gan, images, steps, batch_size=64, lr=3e-3, cosine=True, seed=seed)
    return gan, confident_digits(gan, classifier)
