"""The confusion matrix of a classifier: which classes it mistakes for which."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from neuralab.viz._figure import PathLike, finish, pyplot, to_numpy

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_confusion_matrix"]


def _matrix(cm: Any, labels: Sequence[Any] | None) -> tuple[np.ndarray, list[str]]:
    """The (k, k) count matrix and its k tick labels, from a matrix or a (y_true, y_pred) pair."""
    from neuralab.train.metrics import confusion_matrix

    if isinstance(cm, tuple) and len(cm) == 2:
        y_true, y_pred = (to_numpy(v).reshape(-1) for v in cm)
        if labels is None:
            classes = np.union1d(y_true, y_pred)
            names = [str(c.item()) for c in classes]
        else:
            classes = np.arange(len(labels))
            stray = np.setdiff1d(np.union1d(y_true, y_pred), classes)
            if stray.size:
                raise ValueError(
                    f"plot_confusion_matrix: with {len(labels)} labels, y_true and y_pred must "
                    f"hold class indices 0..{len(labels) - 1}, got also {stray[:10].tolist()}"
                )
            names = [str(name) for name in labels]
        return confusion_matrix(y_true, y_pred, labels=classes), names
    matrix = to_numpy(cm)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(
            f"plot_confusion_matrix: expected a square (k, k) matrix or a (y_true, y_pred) pair, "
            f"got shape {matrix.shape}"
        )
    names = [str(i) for i in range(matrix.shape[0])] if labels is None else list(map(str, labels))
    if len(names) != matrix.shape[0]:
        raise ValueError(
            f"plot_confusion_matrix: {len(names)} labels for a {matrix.shape[0]}x"
            f"{matrix.shape[0]} matrix"
        )
    return matrix, names


def plot_confusion_matrix(
    cm: Any,
    labels: Sequence[Any] | None = None,
    path: PathLike = None,
    normalize: bool = False,
) -> Figure:
    """Counts of true class (rows) against predicted class (columns), annotated in each cell.

    ``cm`` is a (k, k) matrix (``neuralab.train.metrics.confusion_matrix``) or a pair
    ``(y_true, y_pred)`` of label arrays. ``labels`` names the classes: with a pair, the labels
    must then be class indices 0..k-1 (e.g. ``labels=MNIST_CLASSES``); without names the
    classes are the values that occur. ``normalize=True`` divides each row by its total, so
    the diagonal shows each class's recall. The title gives the overall accuracy.
    """
    counts, names = _matrix(cm, labels)
    counts = counts.astype(np.float64)
    total = counts.sum()
    accuracy = np.trace(counts) / total if total else float("nan")
    rows = counts.sum(axis=1, keepdims=True)
    shown = (
        np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0) if normalize else counts
    )
    k = counts.shape[0]
    plt = pyplot()
    size = min(3.5 + 0.5 * k, 14)
    fig, ax = plt.subplots(figsize=(size + 1, size), layout="constrained")
    image = ax.imshow(shown, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, label="fraction of the true class" if normalize else "count")
    if k <= 30:
        high = shown.max() / 2 if shown.size else 0
        for (i, j), value in np.ndenumerate(shown):
            text = f"{value:.2f}" if normalize else f"{value:.0f}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize="small",
                color="white" if value > high else "black",
            )
    ticks = np.arange(k)
    slanted = max(map(len, names), default=0) > 3
    ax.set_xticks(ticks, names, rotation=45 if slanted else 0, ha="right" if slanted else "center")
    ax.set_yticks(ticks, names)
    ax.set(
        title=f"Confusion matrix (accuracy {accuracy:.1%})",
        xlabel="predicted class",
        ylabel="true class",
    )
    return finish(fig, path)
