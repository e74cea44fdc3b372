"""Overfitting and its remedies: dropout, L1, L2, elastic net and data augmentation.

A network with thousands of weights learns 50 noisy points (circle data, label noise 0.3) by
heart: its training loss goes to 0 while the validation loss, after an early minimum, climbs.
The same network is trained six times — without regularization, with dropout, with an L1, L2 or
elastic-net penalty, and with data augmentation — and the gap between validation and training
loss measures how much each one overfits. Both losses are measured the same way after every
epoch: on clean inputs, in evaluation mode (dropout off), without the penalty.

Augmentation for 2-D points: every batch sees its points moved by Gaussian noise (σ = 0.5)
with the labels kept, the 2-D analogue of randomly rotating or cropping an image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neuralab.demos._common import Figures, fmt_table

SUMMARY = "train/validation curves: none, dropout, L1, L2, elastic net, augmentation"

JITTER = 0.5


def jitter(x: Any, rng: np.random.Generator) -> np.ndarray:
    """Augment a batch of 2-D points: move each by Gaussian noise of std ``JITTER``."""
    points = x.numpy()
    return points + rng.normal(0.0, JITTER, points.shape).astype(points.dtype)


def _settings() -> dict[str, dict[str, Any]]:
    """The six runs: how each one changes the model, the loss or the data."""
    from neuralab import optim

    return {
        "none": {"what": "plain training"},
        "dropout": {"what": "dropout p = 0.5 after each hidden layer", "dropout": 0.5},
        "L1": {"what": "+ λ‖θ‖₁, λ = 0.003", "penalty": optim.L1(3e-3)},
        "L2": {"what": "+ λ‖θ‖₂², λ = 0.01", "penalty": optim.L2(1e-2)},
        "elastic net": {
            "what": "+ λ[(1−α)‖θ‖₁ + α‖θ‖₂²], λ = 0.01, α = 0.5",
            "penalty": optim.ElasticNet(1e-2, 0.5),
        },
        "augmentation": {"what": f"inputs jittered by N(0, {JITTER}²) each batch", "augment": True},
    }


def _draw(curves: dict[str, dict[str, list[float]]], path: Path) -> Any:
    """A 2×3 grid: training and validation loss per epoch for each run, on shared axes."""
    from neuralab.viz._figure import finish, pyplot

    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(13, 7), sharex=True, sharey=True, layout="constrained")
    for ax, (name, c) in zip(axes.flat, curves.items()):
        epochs = c["epoch"]
        ax.plot(epochs, c["loss"], label="training")
        ax.plot(epochs, c["val_loss"], label="validation")
        gap = c["val_loss"][-1] - c["loss"][-1]
        ax.set_title(f"{name}: final gap {gap:.2f}")
        ax.grid(alpha=0.3)
    top = max(max(c["val_loss"]) for c in curves.values())
    axes[0, 0].set_ylim(0, min(top, 1.5) * 1.05)
    axes[0, 0].legend()
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    for ax in axes[:, 0]:
        ax.set_ylabel("binary cross-entropy")
    fig.suptitle("Overfitting: validation minus training loss, without and with regularization")
    return finish(fig, path)


def _curves(every: int, loss: Any, train_set: tuple, val_set: tuple) -> Any:
    """A callback: loss and accuracy on both sets every ``every`` epochs, measured the same way
    for all runs."""
    from neuralab import train

    class Curves(train.Callback):
        def __init__(self) -> None:
            self.values: dict[str, list[float]] = {}

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            if (epoch + 1) % every:
                return
            self.values.setdefault("epoch", []).append(epoch + 1)
            for prefix, data in (("", train_set), ("val_", val_set)):
                scores = train.evaluate(self.model, loss, data, batch_size=None)
                for key, value in scores.items():
                    self.values.setdefault(prefix + key, []).append(value)

    return Curves()


def _train_variant(setting: dict, width: int, epochs: int, record: Any, loss: Any,
                   train_set: tuple) -> Any:  # fmt: skip
    """Train one variant's MLP (dropout, augmentation, penalty as ``setting`` says); the model."""
    import neuralab as nl
    from neuralab import optim, train
    from neuralab.data import DataLoader, TensorDataset
    from neuralab.models.mlp import MLP

    nl.manual_seed(0)
    model = MLP(2, [width, width], 1, dropout=setting.get("dropout", 0.0))
    loader = DataLoader(
        TensorDataset(*train_set), batch_size=25, shuffle=True,
        transform=jitter if setting.get("augment") else None,
    )  # fmt: skip
    penalties = [setting["penalty"]] if "penalty" in setting else []
    train.fit(
        model, loss, optim.Adam(model.parameters(), lr=0.01), loader, epochs=epochs,
        callbacks=[record], regularizers=penalties, verbose=0,
    )  # fmt: skip
    return model


def _summary(c: dict[str, list[float]]) -> dict[str, float]:
    """A run's final losses, accuracies and gaps, and its best validation loss."""
    return {
        "train_loss": c["loss"][-1], "val_loss": c["val_loss"][-1],
        "train_accuracy": c["accuracy"][-1], "val_accuracy": c["val_accuracy"][-1],
        "loss_gap": c["val_loss"][-1] - c["loss"][-1],
        "accuracy_gap": c["accuracy"][-1] - c["val_accuracy"][-1],
        "best_val_loss": min(c["val_loss"]),
    }  # fmt: skip


def _draw_boundaries(figures: Figures, models: dict, train_set: tuple) -> None:
    """The decision boundaries of the runs without and with L2, over the training points."""
    import neuralab.viz as viz

    for name in ("none", "L2"):
        figures.save(
            f"overfitting_boundary_{name.lower()}.png",
            lambda p, n=name: viz.plot_decision_boundary(
                models[n], *train_set, path=p, title=f"{n}: training points"
            ),
        )


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Train the six variants; print final losses, accuracies and gaps; draw the curves."""
    from neuralab import nn
    from neuralab.data import circle

    figures = Figures(out)
    epochs, width = (120, 48) if quick else (300, 64)
    every = epochs // 60  # epochs between two points of the curves
    train_set = circle(n=50, noise=0.3, seed=1, labels="01")
    val_set = circle(n=500, noise=0.3, seed=101, labels="01")
    clean = circle(n=500, noise=0.0, seed=101, labels="01")[1]  # the same points, true labels
    ceiling = float(np.mean(clean == val_set[1]))
    loss = nn.BCEWithLogitsLoss()
    print(
        f"Circle data with label noise 0.3: {len(train_set[0])} training and {len(val_set[0])} "
        f"validation points, {1 - ceiling:.0%} of the labels flipped near the boundary. MLP "
        f"2-{width}-{width}-1 (ReLU, {(3 + width) * width + width + 1} parameters), Adam lr "
        f"0.01, batch 25, {epochs} epochs."
    )
    results, curves, models, rows = {}, {}, {}, []
    for name, setting in _settings().items():
        record = _curves(every, loss, train_set, val_set)
        models[name] = _train_variant(setting, width, epochs, record, loss, train_set)
        curves[name] = record.values
        r = results[name] = _summary(record.values)
        rows.append([
            name, setting["what"], f"{r['train_loss']:.3f}", f"{r['val_loss']:.3f}",
            f"{r['loss_gap']:.3f}", f"{r['train_accuracy']:.0%}", f"{r['val_accuracy']:.1%}",
        ])  # fmt: skip
    print(fmt_table(["run", "what", "train loss", "val loss", "gap", "train acc", "val acc"], rows))
    base = results["none"]
    smaller = [n for n, r in results.items() if r["loss_gap"] < base["loss_gap"]]
    print(
        f"  without regularization the network fits the noise: training loss "
        f"{base['train_loss']:.3f}, validation loss {base['val_loss']:.3f} (it was "
        f"{base['best_val_loss']:.3f} at its best epoch). The gap shrinks with "
        f"{', '.join(smaller) or 'none of the remedies'}. (Even the true circle scores only "
        f"{ceiling:.1%} on the noisy validation labels.)"
    )
    figures.save("overfitting_curves.png", lambda p: _draw(curves, p))
    _draw_boundaries(figures, models, train_set)
    return {"results": results, "curves": curves, "ceiling": ceiling, "figures": figures.paths}
