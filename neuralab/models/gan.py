"""Generative adversarial networks (Goodfellow et al., 2014): a generator against a discriminator.

The generator turns noise z ~ N(0, I) into a sample; the discriminator scores how *real* a sample
looks (a logit). Training alternates two steps: :meth:`GAN.d_step` teaches the discriminator to
score real samples 1 and generated ones 0; :meth:`GAN.g_step` teaches the generator to make the
discriminator say 1 for its samples (the "non-saturating" loss -log D(G(z)), whose gradient stays
strong while the generator is still bad). Both use binary cross-entropy on logits.

Builders: :func:`mlp_gan` for points in the plane (the ring of eight Gaussians,
:func:`ring_of_gaussians`) and :func:`digits_gan` for 8×8 digit images.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
from collections.abc import Iterator

import numpy as np

from neuralab import nn
from neuralab.creation import full, randn
from neuralab.models.registry import register_model
from neuralab.nn import functional as F
from neuralab.nn.utils import eval_mode
from neuralab.optim import Adam
from neuralab.optim.lr_scheduler import CosineAnnealingLR
from neuralab.optim.optimizer import Optimizer
from neuralab.tensor import Tensor, no_grad, tensor
from neuralab.train import LearningRateScheduler, StepHistory, Trainer

__all__ = [
    "GAN",
    "digits_gan",
    "mlp_gan",
    "mode_counts",
    "ring_centres",
    "ring_of_gaussians",
    "train_gan",
]


class GAN(nn.Module):
    """A generator (noise of ``latent_dim`` numbers → sample) and a discriminator (sample → logit).

    Train by alternating ``d_step(real_batch, opt_d)`` and ``g_step(batch_size, opt_g)``, each one
    optimizer step on its own network that returns its loss; ``sample(n)`` draws new samples.
    Noise comes from the global generator, so ``nl.manual_seed`` makes training reproducible.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, latent_dim: int) -> None:
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim

    def noise(self, n: int) -> Tensor:
        """``n`` latent vectors z ~ N(0, I), shape (n, latent_dim)."""
        return randn(n, self.latent_dim)

    def forward(self, z: Tensor) -> Tensor:
        """The generator's samples for latent vectors ``z`` (n, latent_dim)."""
        return self.generator(z)

    @eval_mode
    def sample(self, n: int) -> Tensor:
        """``n`` new samples, drawn in eval mode without building a graph."""
        return self.generator(self.noise(n))

    def d_loss(self, real: Tensor) -> Tensor:
        """The discriminator's loss: D(real) against 1, D(G(z)) (no graph into G) against 0."""
        with no_grad():
            fake = self.generator(self.noise(real.shape[0]))
        return _bce(self.discriminator(real), 1.0) + _bce(self.discriminator(fake), 0.0)

    def g_loss(self, batch_size: int) -> Tensor:
        """The generator's loss on ``batch_size`` samples: D(G(z)) against 1, with gradients
        flowing through the discriminator but not into its weights."""
        with _frozen(self.discriminator):
            return _bce(self.discriminator(self.generator(self.noise(batch_size))), 1.0)

    def d_step(self, real: Tensor, opt_d: Optimizer) -> float:
        """One discriminator step: push D(real) towards 1 and D(G(z)) towards 0; its loss."""
        return _descend(self.d_loss(real), opt_d)

    def g_step(self, batch_size: int, opt_g: Optimizer) -> float:
        """One generator step on ``batch_size`` samples: push D(G(z)) towards 1; its loss."""
        return _descend(self.g_loss(batch_size), opt_g)

    def train_step(self, trainer: Trainer, real: Tensor, opt_d: Optimizer, opt_g: Optimizer
                   ) -> dict[str, float]:  # fmt: skip
        """The Trainer's step for a GAN: a discriminator step on ``real``, then a generator
        step on as many samples, each through ``trainer.optimize``; both losses."""
        d_loss = trainer.optimize(self.d_loss(real), opt_d, name="d_loss")
        g_loss = trainer.optimize(self.g_loss(real.shape[0]), opt_g, name="g_loss")
        return {"d_loss": d_loss, "g_loss": g_loss}


def train_gan(
    gan: GAN,
    data: np.ndarray,
    steps: int,
    batch_size: int = 256,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.5, 0.999),
    cosine: bool = False,
    seed: int | None = 0,
    verbose: int = 0,
) -> dict[str, list[float]]:
    """Alternate ``d_step`` and ``g_step`` for ``steps`` steps with Adam (DCGAN's betas), each
    discriminator step on ``batch_size`` real samples drawn from ``data`` (rows, by ``seed``);
    ``cosine`` decays both learning rates to 0 along a cosine. Runs on the
    :class:`~neuralab.train.Trainer` (``verbose`` as in ``fit``). Returns the loss curves."""
    opt_d = Adam(gan.discriminator.parameters(), lr=lr, betas=betas)
    opt_g = Adam(gan.generator.parameters(), lr=lr, betas=betas)
    schedules = [CosineAnnealingLR(opt, T_max=steps) for opt in (opt_d, opt_g)] if cosine else []
    rng = np.random.default_rng(seed)
    reals = (tensor(data[rng.integers(len(data), size=batch_size)]) for _ in itertools.count())
    curves = StepHistory()
    callbacks = [curves, *(LearningRateScheduler(s, interval="batch") for s in schedules)]
    trainer = Trainer(
        gan, train_step=lambda t, real: gan.train_step(t, real, opt_d, opt_g),
        callbacks=callbacks, metrics=(), verbose=verbose, name="train_gan",
    )  # fmt: skip
    trainer.fit(reals, epochs=1 if steps else 0, steps_per_epoch=max(steps, 1))
    return {"d_loss": curves.steps.get("d_loss", []), "g_loss": curves.steps.get("g_loss", [])}


def _descend(loss: Tensor, optimizer: Optimizer) -> float:
    """One optimizer step down ``loss``; its value."""
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def _bce(logits: Tensor, label: float) -> Tensor:
    """Binary cross-entropy of discriminator logits against one label for all: 1 real, 0 fake."""
    return F.binary_cross_entropy_with_logits(logits, full(logits.shape, label))


@contextlib.contextmanager
def _frozen(module: nn.Module) -> Iterator[None]:
    """Gradients flow *through* ``module`` but are not computed for its own parameters."""
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def _mlp(sizes: list[int], hidden: nn.Module, batch_norm: bool = False) -> list[nn.Module]:
    """Linear layers through ``sizes``, each but the last followed by [BatchNorm1d and] a copy of
    the activation module ``hidden``."""
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(n_in, n_out), *([nn.BatchNorm1d(n_out)] if batch_norm else [])]
        layers.append(copy.deepcopy(hidden))
    return [*layers, nn.Linear(sizes[-2], sizes[-1])]


@register_model("mlp_gan", task="generation", data="ring")
def mlp_gan(data_dim: int = 2, latent_dim: int = 8, hidden: int = 128, depth: int = 2) -> GAN:
    """MLP generator (ReLU) and discriminator (LeakyReLU 0.2) for points in ``data_dim`` dims."""
    widths = [hidden] * depth
    generator = nn.Sequential(*_mlp([latent_dim, *widths, data_dim], nn.ReLU()))
    discriminator = nn.Sequential(*_mlp([data_dim, *widths, 1], nn.LeakyReLU(0.2)))
    return GAN(generator, discriminator, latent_dim)


@register_model("digits_gan", task="generation")
def digits_gan(latent_dim: int = 32, hidden: int = 256, image_size: int = 8) -> GAN:
    """MLP GAN for (1, size, size) images in [0, 1]: the generator (batch norm and ReLU, as in
    DCGAN) ends in a sigmoid; the discriminator uses LeakyReLU 0.2."""
    pixels = image_size * image_size
    generator = nn.Sequential(
        *_mlp([latent_dim, hidden // 2, hidden, pixels], nn.ReLU(), batch_norm=True),
        nn.Sigmoid(),
        nn.Unflatten(1, (1, image_size, image_size)),
    )
    discriminator = nn.Sequential(
        nn.Flatten(), *_mlp([pixels, hidden, hidden // 2, 1], nn.LeakyReLU(0.2))
    )
    return GAN(generator, discriminator, latent_dim)


def ring_of_gaussians(
    n: int = 1000, modes: int = 8, radius: float = 2.0, std: float = 0.02, seed: int | None = 0
) -> np.ndarray:
    """``n`` points (n, 2) float32 from ``modes`` equal Gaussians evenly spaced on a circle."""
    rng = np.random.default_rng(seed)
    which = rng.integers(modes, size=n)
    return (ring_centres(modes, radius)[which] + std * rng.standard_normal((n, 2))).astype(
        np.float32
    )


def ring_centres(modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """The ``modes`` centres (modes, 2) of :func:`ring_of_gaussians`, the first at angle 0."""
    angles = 2 * np.pi * np.arange(modes) / modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def mode_counts(
    samples: np.ndarray | Tensor, centres: np.ndarray, max_distance: float
) -> np.ndarray:
    """How many samples lie within ``max_distance`` of each centre (each sample: its nearest)."""
    points = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
    dist = np.linalg.norm(points[:, None, :] - centres[None], axis=2)
    nearest = dist.argmin(axis=1)
    close = dist[np.arange(len(points)), nearest] <= max_distance
    return np.bincount(nearest[close], minlength=len(centres))
