"""Decision boundaries: the regions a 2-D classifier assigns to each class, with its data."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from neuralab.nn.module import Module
from neuralab.nn.utils import eval_mode
from neuralab.tensor import tensor
from neuralab.viz._figure import PathLike, finish, pyplot, to_numpy

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_decision_boundary", "predict_scores"]


def _module_outputs(model: Module, X: np.ndarray) -> np.ndarray:
    """``model(X)`` in eval mode without a graph; every module's training flag is restored."""
    dtype = next((p.dtype for p in model.parameters()), np.dtype(np.float32))
    with eval_mode(model):
        return to_numpy(model(tensor(X, dtype=dtype)))


def predict_scores(model: Any, X: Any) -> np.ndarray:
    """What a classifier says about the points ``X``: its scores, probabilities or labels.

    ``model`` is a neuralab Module (called in eval mode on a float Tensor), an estimator with
    ``predict_proba``, ``decision_function`` or ``predict`` (tried in that order, as in
    scikit-learn), or any callable taking the (N, 2) float32 array.
    """
    X = np.asarray(to_numpy(X), dtype=np.float32)
    if isinstance(model, Module):
        return _module_outputs(model, X)
    for method in ("predict_proba", "decision_function", "predict"):
        if hasattr(model, method):
            return to_numpy(getattr(model, method)(X))
    if callable(model):
        return to_numpy(model(X))
    raise TypeError(
        "plot_decision_boundary: model must be a neuralab Module, an estimator with "
        f"predict_proba/decision_function/predict, or a callable; got {type(model).__name__}"
    )


def _are_labels(flat: np.ndarray, classes: np.ndarray) -> bool:
    """True when one output per point is a class label (integers, or floats among > 2 classes)."""
    return bool(np.isin(flat, classes).all()) and (flat.dtype.kind != "f" or classes.size > 2)


def _class_index(out: np.ndarray, classes: np.ndarray, threshold: float) -> np.ndarray:
    """Per-point index into ``classes`` from the model's outputs (scores, probabilities, labels)."""
    k = classes.size
    if out.ndim == 2 and out.shape[1] > 1:
        if out.shape[1] != k:
            raise ValueError(
                f"plot_decision_boundary: the model gives {out.shape[1]} scores per point but y "
                f"holds {k} classes {classes.tolist()}"
            )
        return out.argmax(axis=1)
    flat = out.reshape(out.shape[0])
    if _are_labels(flat, classes):
        return np.searchsorted(classes, flat)
    if k != 2:
        raise ValueError(
            f"plot_decision_boundary: a single score per point separates 2 classes, but y holds "
            f"{k}: {classes.tolist()}"
        )
    return (flat > threshold).astype(np.int64)


def _name(value: np.generic) -> str:
    v = value.item()
    return f"{v:g}" if isinstance(v, int | float) else str(v)


def _grid(X: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """A ``resolution``² mesh over the data's bounding box, padded by a tenth on each side."""
    low, high = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * np.maximum(high - low, 1e-3)
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    return np.meshgrid(xs, ys)


def _shade(
    ax: Any, fig: Figure, grid: tuple, out: np.ndarray, region: np.ndarray, how: dict
) -> None:
    """Fill the plane: a one-score model's output around its threshold, else its class regions."""
    gx, gy = grid
    colors, threshold = how["colors"], how["threshold"]
    from matplotlib.colors import LinearSegmentedColormap, ListedColormap

    if how["one_score"]:  # two classes, or _class_index has raised
        score = out.reshape(gx.shape)
        spread = float(np.max(np.abs(score - threshold))) or 1.0
        cmap = LinearSegmentedColormap.from_list("boundary", [colors[0], "white", colors[1]])
        levels = np.linspace(threshold - spread, threshold + spread, 21)
        shade = ax.contourf(gx, gy, score, levels=levels, cmap=cmap, alpha=0.6)
        fig.colorbar(shade, ax=ax, label="model output")
        if score.min() < threshold < score.max():
            ax.contour(gx, gy, score, levels=[threshold], colors="black", linewidths=1.5)
        return
    steps = np.arange(len(colors) + 1) - 0.5
    ax.contourf(gx, gy, region, levels=steps, cmap=ListedColormap(colors), alpha=0.35)
    if len(colors) > 1:
        ax.contour(gx, gy, region, levels=steps[1:-1], colors="black", linewidths=1)


def _check_points(X: np.ndarray, labels: np.ndarray, y: Any, resolution: int) -> None:
    if X.ndim != 2 or X.shape[1] != 2 or labels.shape[0] != X.shape[0]:
        raise ValueError(
            f"plot_decision_boundary: expected X of shape (N, 2) and y of shape (N,), got "
            f"X {X.shape} and y {to_numpy(y).shape}"
        )
    if resolution < 2:
        raise ValueError(f"plot_decision_boundary: resolution must be >= 2, got {resolution}")


def plot_decision_boundary(
    model: Any | Callable[[np.ndarray], Any],
    X: Any,
    y: Any,
    path: PathLike = None,
    resolution: int = 200,
    threshold: float | None = None,
    title: str = "Decision boundary",
) -> Figure:
    """The classifier's regions over the plane of 2-D data ``X`` (N, 2), with the points ``y``.

    The model (see :func:`predict_scores`) may return one score per point — a logit, margin
    or probability, for 2 classes — or one score per class (argmax, any number of classes),
    or the labels themselves. A single score is split at ``threshold``: by default 0.5 when
    every output lies in [0, 1] (a probability), else 0 (a logit or margin); the score is
    shaded and the boundary drawn as a black line. Classes are the sorted values of ``y``
    (e.g. -1/+1 or 0..k-1); a one-score model's positive side is the larger label.
    """
    X = np.asarray(to_numpy(X), dtype=np.float32)
    labels = to_numpy(y).reshape(-1)
    _check_points(X, labels, y, resolution)
    classes = np.unique(labels)
    gx, gy = _grid(X, resolution)
    out = np.asarray(predict_scores(model, np.stack([gx.ravel(), gy.ravel()], axis=1)))
    if out.ndim == 0 or out.shape[0] != gx.size:
        raise ValueError(
            f"plot_decision_boundary: the model returned shape {out.shape} for {gx.size} points"
        )
    one_score = out.size == gx.size and not _are_labels(out.reshape(-1), classes)
    if threshold is None:
        threshold = 0.5 if one_score and out.min() >= 0 and out.max() <= 1 else 0.0
    region = _class_index(out, classes, threshold).reshape(gx.shape)

    colors = [f"C{i % 10}" for i in range(classes.size)]
    fig, ax = pyplot().subplots(figsize=(6.4, 5.2), layout="constrained")
    how = {"colors": colors, "threshold": threshold, "one_score": one_score}
    _shade(ax, fig, (gx, gy), out, region, how)
    for i, value in enumerate(classes):
        mine = labels == value
        ax.scatter(
            X[mine, 0],
            X[mine, 1],
            s=14,
            color=colors[i],
            edgecolors="black",
            linewidths=0.4,
            label=f"class {_name(value)}",
        )
    accuracy = np.mean(
        classes[_class_index(predict_scores(model, X), classes, threshold)] == labels
    )
    ax.set(title=f"{title} (accuracy {accuracy:.1%})", xlabel="$x_1$", ylabel="$x_2$")
    ax.legend(loc="upper right", fontsize="small")
    return finish(fig, path)
