"""What the architecture demos share: a table of layer output shapes, a figure of curves and
training a zoo model on the digits with its one-line report.

The architecture topics train the zoo's models by the recipes of :mod:`neuralab.recipes` (what
``neuralab train --model`` and ``examples/train_zoo_*.py`` run), printing one line per epoch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["layer_shapes", "plot_curves", "train_on_digits_and_report"]


def plot_curves(
    curves: dict[str, list[float]], title: str, ylabel: str, path: Path, log: bool = False
) -> Any:
    """Several named curves against their step (epoch or iteration) on one axis."""
    from neuralab.viz._figure import finish, pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    for name, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=name)
    if log:
        ax.set_yscale("log")
    ax.set(title=title, xlabel="step" if len(next(iter(curves.values()))) > 100 else "epoch")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    return finish(fig, path)


def layer_shapes(layers: Any, x: Any) -> list[tuple[str, tuple[int, ...]]]:
    """Run ``x`` through the named children of a Sequential (no gradients); each child's name
    and its output shape."""
    import neuralab as nl

    shapes = []
    with nl.no_grad():
        for name, layer in layers.named_children():
            x = layer(x)
            shapes.append((name, tuple(x.shape)))
    return shapes


def train_on_digits_and_report(name: str, epochs: int) -> tuple[Any, float]:
    """Train the zoo's ``name`` on the digits (:func:`neuralab.recipes.images.train_on_digits`,
    one line per epoch), print its size and test accuracy; the model and that accuracy."""
    from neuralab.recipes.images import train_on_digits

    model, accuracy = train_on_digits(name, verbose=2, epochs=epochs)
    print(
        f"{name}: {model.num_parameters():,} parameters, test accuracy {accuracy:.1%} "
        "on 359 digits."
    )
    return model, accuracy
