"""Generative adversarial networks: a generator turns noise into samples, a discriminator tells
them from real ones, and each trains against the other.

``models.mlp_gan`` learns a ring of eight Gaussians in the plane — a check that it covers every
mode rather than collapsing onto a few — and ``models.digits_gan`` learns to draw 8×8 digits,
judged by the zoo's MLP digit classifier (the share of samples it labels with confidence
≥ 0.9). Both alternate one discriminator and one generator step (``models.gan.train_gan``),
by the recipes of :mod:`neuralab.recipes.pixels`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neuralab.demos._common import Figures

SUMMARY = "GANs learn a ring of Gaussians and draw new 8×8 digits"


def ring(steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train ``mlp_gan`` by :func:`neuralab.recipes.pixels.train_ring_gan`; 1,000 real points,
    1,000 samples and how many samples lie near each mode."""
    from neuralab.models.gan import ring_of_gaussians
    from neuralab.recipes.pixels import RING_STD, train_ring_gan

    gan, counts = train_ring_gan(steps)
    samples = gan.sample(1000).numpy()  # sample() runs in eval mode without a graph
    return ring_of_gaussians(1000, std=RING_STD, seed=1), samples, counts


def digit_samples(steps: int) -> tuple[np.ndarray, dict]:
    """Train ``digits_gan`` by :func:`neuralab.recipes.pixels.train_digits_gan`; 32 samples and
    how the zoo's MLP digit classifier sees 1,000 of them."""
    from neuralab.recipes.pixels import train_digits_gan

    gan, judged = train_digits_gan(steps)
    images = gan.sample(32).numpy()  # sample() runs in eval mode without a graph
    return images, {"confident": judged["confident"], "classes": judged["classes"].tolist()}


def _draw_ring(real: np.ndarray, samples: np.ndarray, path: Path) -> Any:
    """Real points and generated samples on the plane."""
    from neuralab.viz._figure import finish, pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 5), layout="constrained")
    ax.scatter(*real.T, s=4, alpha=0.4, label="real")
    ax.scatter(*samples.T, s=4, alpha=0.4, label="generated")
    ax.set(title="Ring of 8 Gaussians: real against generated", aspect="equal")
    ax.legend()
    return finish(fig, path)


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Train both GANs; print mode coverage and how the classifier judges the drawn digits."""
    from neuralab.viz import plot_images

    figures = Figures(out)
    ring_steps = 300 if quick else 3000
    print(f"mlp_gan on a ring of 8 Gaussians (std 0.05), {ring_steps} steps of 512 points:")
    real, samples, counts = ring(ring_steps)
    print(
        f"  of 1,000 samples, within 3 std of each mode: {counts.tolist()} "
        f"({int((counts > 0).sum())} of 8 modes covered)"
    )
    figures.save("gan_ring.png", lambda p: _draw_ring(real, samples, p))
    steps = 300 if quick else 4000
    print(f"digits_gan on the 8×8 digits, {steps} steps of 64 (after training the MLP judge):")
    images, judged = digit_samples(steps)
    print(
        f"  of 1,000 generated digits the zoo's MLP classifier is sure (p ≥ 0.9) of "
        f"{judged['confident']:.1%}; per digit 0-9: {judged['classes']}"
    )
    figures.save(
        "gan_digits.png",
        lambda p: plot_images(images, ncols=8, path=p, title="Digits drawn by the GAN"),
    )
    return {"ring_counts": counts.tolist(), **judged, "figures": figures.paths}
