"""Learning curves: training against validation values per epoch, the picture of overfitting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from neuralab.viz._figure import PathLike, finish, pyplot

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_history"]

# Metrics where smaller is better; for every other metric (accuracy, f1, r2, ...) larger is.
_LOWER_IS_BETTER = ("loss", "mse", "mae", "rmse", "error", "perplexity")


def _records(history: Any) -> tuple[Mapping[str, Sequence[float]], list[int] | None]:
    """The name -> per-epoch values mapping of a History (or of a plain dict), and its epochs."""
    if isinstance(history, Mapping):
        return history, None
    records = getattr(history, "history", None)
    if not isinstance(records, Mapping):
        raise TypeError(
            "plot_history: expected a neuralab.train.History or a dict of per-epoch lists, got "
            f"{type(history).__name__}"
        )
    epochs = getattr(history, "epoch", None)
    return records, list(epochs) if epochs else None


def _lower_is_better(name: str) -> bool:
    return any(word in name.lower() for word in _LOWER_IS_BETTER)


def plot_history(
    history: Any, metrics: str | Sequence[str] = ("loss",), path: PathLike = None
) -> Figure:
    """One panel per metric with its training and ``val_`` curves, marking the best val epoch.

    ``history`` is what ``fit`` returns (a ``History``, whose ``.history`` maps names such as
    'loss', 'val_loss', 'accuracy', 'val_accuracy' to one value per epoch) or such a dict.
    Epochs are counted from 1 on the x axis (a resumed run's History keeps its numbers). The
    epoch with the best validation value (the lowest for losses and errors, the highest
    otherwise) gets a dotted line: where the validation curve turns up while the training one
    keeps falling, the model overfits.
    """
    records, epochs = _records(history)
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names:
        raise ValueError("plot_history: metrics is empty; name at least one, e.g. ('loss',)")
    for name in names:
        if name not in records and f"val_{name}" not in records:
            raise KeyError(
                f"plot_history: no metric {name!r} (nor 'val_{name}') in the history; it has "
                f"{sorted(records)}"
            )
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(
        1, len(names), figsize=(5 * len(names), 3.8), squeeze=False, layout="constrained"
    )
    for ax, name in zip(axes[0], names):
        for key, label in ((name, "train"), (f"val_{name}", "validation")):
            if key not in records:
                continue
            values = np.asarray(records[key], dtype=np.float64)
            aligned = epochs is not None and len(epochs) == len(values)
            x = np.asarray(epochs) + 1 if aligned else np.arange(1, len(values) + 1)
            ax.plot(x, values, marker="o", markersize=3, label=label)
            if key.startswith("val_") and np.isfinite(values).any():
                pick = np.nanargmin if _lower_is_better(name) else np.nanargmax
                best = int(pick(np.where(np.isfinite(values), values, np.nan)))
                ax.axvline(
                    x[best], color="gray", linestyle=":", label=f"best validation (epoch {x[best]})"
                )
        ax.set(title=name, xlabel="epoch", ylabel=name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    return finish(fig, path)
