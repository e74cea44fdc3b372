"""ResNet: why residual connections let a network go deeper — residual against plain.

Two 20-layer networks with the same convolutions (``models.resnet_cifar(20, residual=...)`` on
the 8×8 digits, without batch normalization so that only the shortcuts differ) start from the
same seed and train with the same plain SGD. The plain one passes its gradient through 19
convolutions and it fades: its first layer gets far less of it, and its loss sits at chance
(ln 10 ≈ 2.30) while the residual one learns. Then the full ``resnet_cifar`` (with batch
normalization) is trained on the digits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neuralab.demos._common import Figures, fmt_table
from neuralab.demos._zoo import plot_curves, train_on_digits_and_report

SUMMARY = "a 20-layer net with and without shortcuts: gradients, losses; then ResNet on digits"


def sgd_losses(residual: bool, steps: int, seed: int = 0) -> tuple[list[float], float]:
    """Per-step training losses of the 20-layer net (SGD, momentum 0.9, lr 0.02, batches of 64)
    and the gradient norm reaching its first convolution at the first step."""
    import neuralab as nl
    from neuralab import models, optim
    from neuralab.data import digits
    from neuralab.nn import functional as F

    nl.manual_seed(seed)
    X, y = digits(layout="image")
    model = models.resnet_cifar(20, in_channels=1, width=8, batch_norm=False, residual=residual)
    optimizer = optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    rng = np.random.default_rng(seed)
    losses, first_grad = [], 0.0
    for step in range(steps):
        batch = rng.choice(len(X), 64, replace=False)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(nl.tensor(X[batch])), nl.tensor(y[batch]))
        loss.backward()
        if step == 0:
            first_grad = float(np.linalg.norm(model.conv1.weight.grad.numpy()))
        optimizer.step()
        losses.append(loss.item())
    return losses, first_grad


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Train the residual and the plain net side by side; then resnet_cifar with batch norm."""

    figures = Figures(out)
    steps = 40 if quick else 150
    print(
        f"resnet_cifar(depth=20, width=8) without batch norm, with and without shortcuts; "
        f"{steps} SGD steps of 64 digits each."
    )
    runs = {name: sgd_losses(name == "residual", steps) for name in ("residual", "plain")}
    rows = [
        [name, f"{grad:.2e}", np.mean(losses[:10]), np.mean(losses[-10:])]
        for name, (losses, grad) in runs.items()
    ]
    print(fmt_table(["net", "first-conv grad (step 1)", "loss, first 10", "loss, last 10"], rows))
    ratio = runs["residual"][1] / runs["plain"][1]
    print(
        f"  the residual net's first layer gets {ratio:.0f}× the plain net's gradient; the plain "
        f"net's loss stays near ln 10 = {np.log(10):.2f}."
    )
    curves = {name: losses for name, (losses, _) in runs.items()}
    figures.save(
        "resnet_residual_vs_plain.png",
        lambda p: plot_curves(
            curves, "20 layers: residual against plain (SGD)", "training loss", p
        ),
    )
    epochs = 2 if quick else 6
    print(f"resnet_cifar (depth 20, width 16, batch norm) on 1,438 digits, {epochs} epochs:")
    model, accuracy = train_on_digits_and_report("resnet_cifar", epochs)
    return {
        "first_grad": {n: g for n, (_, g) in runs.items()},
        "losses": curves,
        "accuracy": accuracy,
        "figures": figures.paths,
    }
